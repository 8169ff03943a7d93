"""Coding in partitions: a Dask LocalCluster and large exports read in parts give the same run
folder as one local run; Dask missing or misnamed gives a clear message; progress and --quiet."""

import csv
import io
import random
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.ingest import IngestOptions, StreamedIngest, ingest
from pipeline.progress import bar

ROOT = Path(__file__).resolve().parent.parent
V2 = str(ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml")
SAME_FILES = ("codings.csv", "evidence.csv", "codings_wide.csv", "segments.csv")


def _code(args, out):
    res = CliRunner().invoke(cli, ["code", *args, "--codebook", V2, "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def _same_folders(a: Path, b: Path):
    for name in SAME_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(a / "segments.parquet"), pd.read_parquet(b / "segments.parquet"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QDA_CACHE_DIR", str(tmp_path / "cache"))


def test_qda_code_on_a_local_cluster_writes_what_a_local_run_writes(tmp_path, cache, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr("pipeline.distributed.PARTITION_UNITS", 90)  # several partitions on two workers
    _code([str(ROOT / "corpora" / "beispiel")], tmp_path / "local")
    res = _code([str(ROOT / "corpora" / "beispiel"), "--scheduler", "local:2"], tmp_path / "dask")
    _same_folders(tmp_path / "local", tmp_path / "dask")
    assert len(pd.read_csv(tmp_path / "dask" / "codings.csv")) > 500
    assert '"scheduler": "local:2"' in (tmp_path / "dask" / "run.json").read_text(encoding="utf-8")
    assert "Wrote" in res.output


def test_without_dask_the_message_names_the_install_command(tmp_path, cache, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if not installed
    res = CliRunner().invoke(cli, ["code", str(ROOT / "corpora" / "beispiel"), "--codebook", V2, "--out", str(tmp_path / "o"), "--scheduler", "local:2"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "--scheduler needs Dask" in res.output and "pip install 'qda[dask]'" in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("spec", ["local:0", "local:zwei"])
def test_a_malformed_local_scheduler_is_refused(tmp_path, cache, spec):
    pytest.importorskip("dask.distributed")
    res = CliRunner().invoke(cli, ["code", str(ROOT / "corpora" / "beispiel"), "--codebook", V2, "--out", str(tmp_path / "o"), "--scheduler", spec])
    assert res.exit_code == 1 and f"--scheduler {spec}: expected local:N" in res.output


def test_an_unreachable_scheduler_is_a_clear_message(tmp_path, cache, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr("pipeline.distributed.CONNECT_TIMEOUT", "1s")
    res = CliRunner().invoke(cli, ["code", str(ROOT / "corpora" / "beispiel"), "--codebook", V2, "--out", str(tmp_path / "o"),
                                   "--scheduler", "tcp://127.0.0.1:9"])
    assert res.exit_code == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()


def test_a_failing_worker_is_a_clear_message(tmp_path, cache, monkeypatch):
    pytest.importorskip("dask.distributed")

    def broken(*args, **kwargs):
        raise MemoryError("Arbeitsspeicher voll")

    monkeypatch.setattr("pipeline.distributed._code_part", broken)  # pickled by value to the workers
    res = CliRunner().invoke(cli, ["code", str(ROOT / "corpora" / "beispiel"), "--codebook", V2, "--out", str(tmp_path / "o"),
                                   "--scheduler", "local:1"])
    assert res.exit_code == 1 and "a Dask worker failed to code a partition (MemoryError: Arbeitsspeicher voll)" in res.output
    assert not (tmp_path / "o").exists()


def _survey(path: Path, n: int, *, encoding="utf-8", with_id=True, seed=3):
    """A survey export of ``n`` answers recombined from the example corpus's sentences."""
    seg = ingest([str(ROOT / "corpora" / "beispiel")]).segments
    sentences = [s.strip() for t in seg.loc[seg["flag"] == "", "text"] for s in re.split(r"(?<=[.!?])\s+|\n", t) if len(s.split()) >= 2]
    rng = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow((["Antwort-ID"] if with_id else []) + ["Netzwerk", "Hindernisse"])
    for i in range(n):
        answer = " ".join(rng.sample(sentences, rng.choice([1, 2, 3]))) if i % 17 else "k.A."
        w.writerow(([f"R{i:05d}"] if with_id else []) + [rng.choice(["KERN", "DVNW", "NExT"]), answer])
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
    return path


def test_a_large_export_is_coded_in_parts_with_the_same_output(tmp_path, cache, monkeypatch):
    survey = _survey(tmp_path / "umfrage.csv", 1200)
    args = [str(survey), "--text-column", "Hindernisse"]
    whole = _code(args, tmp_path / "whole")
    monkeypatch.setattr("pipeline.ingest.survey.STREAM_BYTES", 1)  # every CSV counts as large
    monkeypatch.setattr("pipeline.ingest.survey.STREAM_ROWS", 250)
    monkeypatch.setattr("pipeline.distributed.PARTITION_UNITS", 100)
    parts = _code(args, tmp_path / "parts")
    _same_folders(tmp_path / "whole", tmp_path / "parts")
    assert "read in parts" in parts.output and "read in parts" not in whole.output
    n_codings = len(pd.read_csv(tmp_path / "parts" / "codings.csv"))
    assert f"{n_codings} codings" in parts.output and n_codings > 1000


def test_a_large_export_read_in_parts_and_coded_on_a_local_cluster(tmp_path, cache, monkeypatch):
    pytest.importorskip("dask.distributed")
    survey = _survey(tmp_path / "umfrage.csv", 500, seed=5)
    args = [str(survey), "--text-column", "Hindernisse"]
    _code(args, tmp_path / "whole")
    monkeypatch.setattr("pipeline.ingest.survey.STREAM_BYTES", 1)
    monkeypatch.setattr("pipeline.ingest.survey.STREAM_ROWS", 200)
    monkeypatch.setattr("pipeline.distributed.PARTITION_UNITS", 70)  # more partitions than the window of 4
    _code([*args, "--scheduler", "local:2"], tmp_path / "dask")
    _same_folders(tmp_path / "whole", tmp_path / "dask")


def test_train_is_refused_on_an_input_read_in_parts(tmp_path, cache, monkeypatch):
    survey = _survey(tmp_path / "umfrage.csv", 50)
    monkeypatch.setattr("pipeline.ingest.survey.STREAM_BYTES", 1)
    res = CliRunner().invoke(cli, ["code", str(survey), "--codebook", V2, "--out", str(tmp_path / "o"), "--train", "gold.csv"])
    assert res.exit_code == 2 and "--train is not available on an input this large" in res.output


@pytest.mark.parametrize("encoding,with_id", [("utf-8", True), ("cp1252", False), ("utf-8-sig", True)])
def test_reading_in_parts_gives_the_segments_of_reading_whole(tmp_path, encoding, with_id):
    survey = _survey(tmp_path / "umfrage.csv", 700, encoding=encoding, with_id=with_id)
    opts = IngestOptions(text_columns=["Hindernisse"])
    whole = ingest([str(survey)], opts)
    streamed = StreamedIngest([str(survey)], opts, rows=128)
    parts = list(streamed)
    assert [len(p) for p in parts] == [128] * 5 + [60]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole.segments)
    assert streamed.files[0].units == 700 and streamed.files[0].info["encoding"] == whole.files[0].info["encoding"]
    assert streamed.warnings == whole.warnings


def test_an_id_repeated_in_a_later_part_is_refused(tmp_path):
    survey = _survey(tmp_path / "umfrage.csv", 300)
    text = survey.read_text(encoding="utf-8").replace("R00250;", "R00010;")
    survey.write_text(text, encoding="utf-8")
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="the ID 'R00010' occurs more than once"):
        list(StreamedIngest([str(survey)], IngestOptions(text_columns=["Hindernisse"]), rows=100))


def test_ragged_rows_in_a_later_part_name_their_line(tmp_path):
    survey = _survey(tmp_path / "umfrage.csv", 300)
    lines = survey.read_bytes().decode("utf-8").split("\r\n")
    lines[201] += ";überzählig"
    survey.write_bytes("\r\n".join(lines).encode("utf-8"))
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="ragged rows: the header has 3 fields, but line 202 has 4"):
        list(StreamedIngest([str(survey)], IngestOptions(text_columns=["Hindernisse"]), rows=100))


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_drawn_on_a_terminal_only_and_never_when_quiet():
    for stream, quiet, drawn in ((_Tty(), False, True), (_Tty(), True, False), (io.StringIO(), False, False)):
        with bar(10, "parsing", quiet=quiet, stream=stream) as advance:
            advance(4)
            advance(6)
        assert ("parsing" in stream.getvalue()) == drawn


def test_quiet_code_prints_only_where_it_wrote(tmp_path, cache):
    res = _code([str(ROOT / "corpora" / "beispiel", ), "-q"], tmp_path / "q")
    assert res.output.strip().splitlines() == [f"Wrote {tmp_path / 'q'}/codings.csv"]


def test_partitions_cut_between_documents_only():
    from pipeline.distributed import partitions

    seg = pd.DataFrame({"doc_id": ["a"] * 5 + ["b"] * 2 + ["c"] * 7 + ["d"], "text": list("xxxxxxxxxxxxxxx")})
    parts = partitions(seg, 4)
    assert [p["doc_id"].iloc[0] for p in parts] == ["a", "b", "c", "d"]
    assert [len(p) for p in parts] == [5, 2, 7, 1]
    assert pd.concat(parts, ignore_index=True).equals(seg)
    assert [len(p) for p in partitions(seg, 7)] == [7, 7, 1]
    assert [len(p) for p in partitions(seg, 100)] == [15]


def test_qda_ingest_reads_a_large_export_in_parts_with_the_same_output(tmp_path, monkeypatch):
    survey = _survey(tmp_path / "umfrage.csv", 600)
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(survey), "--out", str(tmp_path / "whole")]).exit_code == 0
    monkeypatch.setattr("pipeline.ingest.survey.STREAM_BYTES", 1)
    monkeypatch.setattr("pipeline.ingest.survey.STREAM_ROWS", 111)
    res = runner.invoke(cli, ["ingest", str(survey), "--out", str(tmp_path / "parts")])
    assert res.exit_code == 0 and "600 unit(s) (read in parts)" in res.output
    assert (tmp_path / "whole" / "segments.csv").read_bytes() == (tmp_path / "parts" / "segments.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "whole" / "segments.parquet"), pd.read_parquet(tmp_path / "parts" / "segments.parquet"))
