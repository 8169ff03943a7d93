"""A run folder: written whole or not at all, cleaned up when stopped, and owned by one set of
inputs (``pipeline/outputs.py``: ``staged_output``, ``prepare_output``, the input fingerprint
and the stale parts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FOUR_ANSWERS, MINI_CODEBOOK, tree_snapshot, write
from pipeline.cli import cli
from pipeline.errors import InputError, Terminated
from pipeline.outputs import COMPUTED_FROM, check_output, output_scope, prepare_output, staged_output, stale_entries

OTHER = "id;hindernisse\n1;Zu wenig Personal im Bürgeramt.\n2;Die Technik ist veraltet und keiner kümmert sich.\n"
GOLD = "segment_id,codes\n1,huerde.zeit\n2,huerde.fuehrung\n3,methode.schulung\n4,huerde.fuehrung\n"


def qda(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="qda")
    assert "Traceback" not in result.output
    return result


def staging_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "umfrage.csv", FOUR_ANSWERS)
    write(tmp_path / "andere.csv", OTHER)
    write(tmp_path / "gold.csv", GOLD)
    (tmp_path / "cb.yaml").write_text(MINI_CODEBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


# --- staging: nothing half-written, whatever stops the command ----------------------------------

def test_an_exception_leaves_the_target_untouched_and_no_staging_folder(tmp_path):
    write(tmp_path / "lauf" / "codings.csv", "alt\n")
    before = tree_snapshot(tmp_path / "lauf")
    with pytest.raises(ZeroDivisionError):
        with staged_output(tmp_path / "lauf") as tmp:
            (tmp / "codings.csv").write_text("neu\n")
            1 / 0
    assert tree_snapshot(tmp_path / "lauf") == before
    assert staging_folders(tmp_path) == []


def test_sigterm_while_staging_removes_the_staging_folder(tmp_path):
    with pytest.raises(Terminated) as caught:
        with staged_output(tmp_path / "lauf") as tmp:
            (tmp / "segments.csv").write_text("halb geschrieben\n")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
    assert caught.value.signum == signal.SIGTERM
    assert not (tmp_path / "lauf").exists()
    assert staging_folders(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(signal.getsignal(signal.SIGTERM))


class _SignalInFinalizer:
    """Raises SIGTERM from ``__del__``: the handler's exception is swallowed there ("Exception
    ignored in ..."), as when the signal lands in importlib's module-lock clean-up."""

    def __del__(self):
        signal.raise_signal(signal.SIGTERM)


def test_a_sigterm_whose_exception_is_swallowed_still_stops_before_the_move(tmp_path, capsys):
    write(tmp_path / "lauf" / "codings.csv", "alt\n")
    before = tree_snapshot(tmp_path / "lauf")
    with pytest.raises(Terminated) as caught:
        with staged_output(tmp_path / "lauf") as tmp:
            (tmp / "codings.csv").write_text("neu\n")
            _SignalInFinalizer()  # dropped at once; the exception from __del__ never reaches us
            (tmp / "segments.csv").write_text("die Arbeit ging weiter\n")
    assert caught.value.signum == signal.SIGTERM
    assert tree_snapshot(tmp_path / "lauf") == before, "nothing is moved in after a stop signal"
    assert staging_folders(tmp_path) == []
    assert "Traceback" not in capsys.readouterr().err


def test_a_swallowed_sigterm_is_forgotten_when_the_next_command_starts(tmp_path):
    with pytest.raises(Terminated):
        with staged_output(tmp_path / "eins"):
            _SignalInFinalizer()
    with staged_output(tmp_path / "zwei") as tmp:
        (tmp / "codings.csv").write_text("neu\n")
    assert (tmp_path / "zwei" / "codings.csv").read_text() == "neu\n"


def test_a_prepared_staging_folder_is_removed_when_the_work_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with output_scope():
            staging = prepare_output(tmp_path / "neu" / "lauf")
            assert staging.is_dir() and staging.parent == tmp_path / "neu"
            raise RuntimeError("Abbruch beim Kodieren")
    assert not (tmp_path / "neu").exists(), "the folders made for the staging folder are removed too"


def _survey(n: int) -> str:
    starts = ["Ehrlich gesagt fehlt mir die Zeit", "Unser Chef blockt das ab", "Die Kolleg:innen ziehen nicht mit",
              "Es gibt keine Schulung dazu", "Die Amtsleitung bremst jede Idee", "Der Kalender ist immer voll"]
    ends = ["weil die Fallzahlen steigen.", "obwohl alle das Netzwerk gut finden.", "und die Technik hakt auch noch.",
            "bei uns im Bürgeramt.", "seit der Umstellung auf die E-Akte.", "was echt frustrierend ist."]
    rows = [f"{i};{starts[i % 6]}, {ends[(i // 6) % 6]} Antwort Nr. {i} aus der Runde {i % 17}." for i in range(1, n + 1)]
    return "id;hindernisse\n" + "\n".join(rows) + "\n"


def test_sigterm_during_qda_code_leaves_no_staging_folder_and_no_output(tmp_path):
    write(tmp_path / "gross.csv", _survey(6000))
    env = {**os.environ, "QDA_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "code", "gross.csv", "--codebook", str(MINI_CODEBOOK), "--out", "out", "--no-cache"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not staging_folders(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert staging_folders(tmp_path), "the staging folder is made before the work starts"
        time.sleep(0.5)  # now in the middle of reading and coding
        assert proc.poll() is None, "the run must still be going when it is stopped"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Stopped by SIGTERM: no output is left half-written" in stderr
    assert "Traceback" not in stderr
    assert staging_folders(tmp_path) == []
    assert not (tmp_path / "out").exists()


# --- --out checked before the work ------------------------------------------------------------

def test_check_output_refuses_the_broken_paths(tmp_path):
    write(tmp_path / "datei", "x")
    os.symlink(tmp_path / "fehlt", tmp_path / "lose")
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    (tmp_path / "ordner").mkdir()
    for path, folder, problem in [(tmp_path / "datei" / "out", True, "is a file, not a folder"),
                                  (tmp_path / "lose", True, "is a symbolic link to"),
                                  (tmp_path / "a" / "out", True, r"leads back to itself \(a loop\)"),
                                  (tmp_path / "ordner", False, "is a folder")]:
        with pytest.raises(InputError, match=problem):
            check_output(path, folder=folder)
    assert check_output(tmp_path / "neu" / "tief" / "out") == (tmp_path / "neu" / "tief" / "out").resolve()
    assert not (tmp_path / "neu").exists(), "checking creates nothing"


# --- one run folder, one set of inputs ------------------------------------------------------------

def test_the_run_record_holds_the_input_fingerprint(project):
    assert qda("code", "umfrage.csv", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache").exit_code == 0
    fp = json.loads((project / "lauf" / "run.json").read_text())["input_fingerprint"]
    assert list(fp["files"]) == ["umfrage.csv"] and len(fp["sha256"]) == 64
    # a stage reading the run folder keeps it; so does an ingest of the same file elsewhere
    assert qda("report", "lauf").exit_code == 0
    assert json.loads((project / "lauf" / "run.json").read_text())["input_fingerprint"] == fp
    assert qda("ingest", str(project / "umfrage.csv"), "--out", "nur-ingest").exit_code == 0
    assert json.loads((project / "nur-ingest" / "run.json").read_text())["input_fingerprint"]["sha256"] == fp["sha256"]


def test_recoding_the_same_inputs_removes_what_was_computed_from_the_old_codings(project):
    assert qda("code", "umfrage.csv", "--codebook", "cb.yaml", "--train", "gold.csv", "--out", "lauf", "--no-cache").exit_code == 0
    assert qda("evaluate", "--gold", "gold.csv", "--codings", "lauf").exit_code == 0
    assert qda("report", "lauf").exit_code == 0
    write(project / "lauf" / "reviewed.csv", "von Hand\n")
    derived = ["candidates.csv", "model.npz", "evaluation/", "tables/", "figures/", "report.xlsx", "report.html"]
    present = [n for n in derived if (project / "lauf" / n.rstrip("/")).exists()]
    assert {"candidates.csv", "model.npz", "evaluation/", "tables/", "report.xlsx", "report.html"} <= set(present)
    r = qda("code", "lauf", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache")
    assert r.exit_code == 0, r.output
    assert f"removed what was computed from the earlier output: {', '.join(present)}" in r.output
    left = {p.name for p in (project / "lauf").iterdir()}
    assert left == {"segments.csv", "segments.parquet", "codings.csv", "codings_wide.csv", "evidence.csv", "run.json", "reviewed.csv"}
    record = json.loads((project / "lauf" / "run.json").read_text())
    assert record["removed_stale"] == present
    assert (project / "lauf" / "reviewed.csv").read_text() == "von Hand\n", "reviewers' decisions are not derived output"


def test_other_inputs_are_refused_and_force_replaces_the_folder_whole(project):
    assert qda("code", "umfrage.csv", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache").exit_code == 0
    assert qda("report", "lauf").exit_code == 0
    write(project / "lauf" / "reviewed.csv", "von Hand\n")
    before = tree_snapshot(project / "lauf")
    r = qda("code", "andere.csv", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache")
    assert r.exit_code == 1
    assert r.output == ("Error: lauf: holds a run over other inputs (it was made from umfrage.csv; this command reads andere.csv)\n"
                        "  → write to a new folder with --out, or add --force to replace lauf whole\n")
    assert tree_snapshot(project / "lauf") == before
    r = qda("code", "andere.csv", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache", "--force")
    assert r.exit_code == 0, r.output
    assert "replaced lauf whole (--force)" in r.output
    assert {p.name for p in (project / "lauf").iterdir()} == {"segments.csv", "segments.parquet", "codings.csv", "codings_wide.csv", "evidence.csv", "run.json"}
    assert list(json.loads((project / "lauf" / "run.json").read_text())["input_fingerprint"]["files"]) == ["andere.csv"]
    assert staging_folders(project) == []


def test_importing_review_decisions_removes_the_report_that_showed_the_old_ones(project):
    from pipeline.review import load_review_run

    assert qda("code", "umfrage.csv", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache").exit_code == 0
    assert qda("report", "lauf").exit_code == 0
    doc = {"run": load_review_run(project / "lauf").fingerprint,
           "decisions": [{"segment_id": "1", "code": "huerde.zeit", "decision": "accept"}]}
    write(project / "d.json", json.dumps(doc))
    r = qda("review", "import", "lauf", "d.json")
    assert r.exit_code == 0, r.output
    assert "removed what was computed from the earlier output: tables/" in r.output and "report.html" in r.output
    assert not (project / "lauf" / "report.html").exists()
    assert (project / "lauf" / "reviewed.csv").is_file() and (project / "lauf" / "codings.csv").is_file()
    assert qda("report", "lauf").exit_code == 0, "the report is written again, with the review"


def test_a_changed_input_file_is_named(project):
    assert qda("ingest", "umfrage.csv", "--out", "lauf").exit_code == 0
    write(project / "umfrage.csv", FOUR_ANSWERS.replace("bis Ostern", "bis Pfingsten"))
    r = qda("ingest", "umfrage.csv", "--out", "lauf")
    assert r.exit_code == 1
    assert "lauf: holds a run over other inputs (umfrage.csv changed since it was written)" in r.output


def test_run_and_code_into_their_own_folder_work_as_before(project):
    write(project / "korpus" / "umfrage.csv", FOUR_ANSWERS)
    for _ in range(2):
        r = qda("run", "korpus", "--codebook", "cb.yaml", "--out", "lauf", "--no-cluster", "--no-cache")
        assert r.exit_code == 0, r.output
        assert (project / "lauf" / "report.html").is_file()
    first = tree_snapshot(project / "lauf")
    assert qda("code", "korpus", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache").exit_code == 0
    assert not (project / "lauf" / "report.html").exists(), "the report of the earlier codings is stale"
    assert tree_snapshot(project / "lauf")["codings.csv"] == first["codings.csv"]
    assert qda("report", "lauf").exit_code == 0
    assert staging_folders(project) == []


def test_stale_entries_follow_the_parts_table(tmp_path):
    for name in ("segments.csv", "codings.csv", "model.npz", "report.html", "cluster/clusters.csv", "evaluation/scores.csv", "reviewed.csv"):
        write(tmp_path / name, "x\n")
    assert stale_entries({"report.html", "tables/a.csv", "run.json"}, tmp_path) == []
    assert stale_entries({"codings.csv", "run.json"}, tmp_path) == ["model.npz", "cluster/", "evaluation/", "report.html"]
    assert stale_entries({"segments.csv", "segments.parquet", "run.json"}, tmp_path) == ["codings.csv", "model.npz", "cluster/", "evaluation/", "report.html"]
    assert stale_entries({"reviewed.csv", "review/log.csv"}, tmp_path) == ["report.html"]
    assert "review" not in COMPUTED_FROM, "reviewers' decisions are never removed as stale"


# --- a run that codes nothing ---------------------------------------------------------------

NOTHING = "id;hindernisse\n1;Alles bestens, danke der Nachfrage.\n2;Das Wetter war schön am Montag.\n"


def test_a_run_where_no_unit_is_coded_says_so(project):
    write(project / "nichts" / "umfrage.csv", NOTHING)
    r = qda("code", "nichts", "--codebook", "cb.yaml", "--out", "k", "--no-cache")
    assert r.exit_code == 0, r.output
    assert "no unit was coded: no pattern of the codebook matched; check that it is the right codebook for these texts" in r.output
    assert (project / "k" / "codings.csv").read_text().splitlines() == ["segment_id,code,start_char,end_char,evidence,method,pattern,score"]
    r = qda("report", "k")
    assert r.exit_code == 0, r.output
    r = qda("run", "nichts", "--codebook", "cb.yaml", "--out", "l", "--no-cache")
    assert r.exit_code == 0, r.output
    assert "no unit was coded" in r.output and (project / "l" / "report.html").is_file()


def test_the_report_of_a_run_without_codings_says_so(project):
    write(project / "nichts" / "umfrage.csv", NOTHING)
    assert qda("run", "nichts", "--codebook", "cb.yaml", "--out", "l", "--no-cache").exit_code == 0
    assert "no unit was coded" in (project / "l" / "report.html").read_text(encoding="utf-8")


# --- texts longer than the NLP pipeline takes at once -------------------------------------------

def test_a_turn_longer_than_the_nlp_max_length_is_coded(project):
    turn = "Ehrlich gesagt fehlt mir die Zeit für das Netzwerk, der Kalender ist voll. " * 14_000  # 1.05 M characters
    write(project / "lang.txt", f"I: Was hindert Sie?\nB: {turn}\n")
    r = qda("code", "lang.txt", "--codebook", "cb.yaml", "--out", "k", "--no-cache")
    assert r.exit_code == 0, r.output
    assert "huerde.zeit" in (project / "k" / "codings.csv").read_text()
