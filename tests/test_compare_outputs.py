"""scripts/compare_outputs.py: the check that refactorings change no output must itself be able to fail."""
import importlib.util
import json
import zipfile

from conftest import ROOT

spec = importlib.util.spec_from_file_location("compare_outputs", ROOT / "scripts" / "compare_outputs.py")
co = importlib.util.module_from_spec(spec)
spec.loader.exec_module(co)


def _snapshot(folder, *, created, codings, member, commit="abc"):
    (folder / "code").mkdir(parents=True)
    run = {"command": "code", "created": created, "git_commit": commit, "outputs": {str(folder / "code" / "codings.csv"): "x"},
           "stages": {"code": {"created": created, "argv": ["qda", str(folder)]}}}
    (folder / "code" / "run.json").write_text(json.dumps(run), encoding="utf-8")
    (folder / "code" / "codings.csv").write_text(codings, encoding="utf-8")
    with zipfile.ZipFile(folder / "report.xlsx", "w") as z:
        z.writestr(zipfile.ZipInfo("sheet.xml", (2020, 1, 1, 0, 0, 0)), member.replace("{out}", str(folder.resolve())))


def test_equal_snapshots_in_different_folders_compare_identical(tmp_path):
    _snapshot(tmp_path / "a", created="2026-01-01", codings="u1,huerde.zeit\n", member="Laufordner {out}/code")
    _snapshot(tmp_path / "b", created="2026-12-02", codings="u1,huerde.zeit\n", member="Laufordner {out}/code", commit="def")
    assert co.compare(tmp_path / "a", tmp_path / "b") == []


def test_a_changed_byte_a_missing_file_and_a_changed_zip_member_are_found(tmp_path):
    _snapshot(tmp_path / "a", created="x", codings="u1,huerde.zeit\n", member="Laufordner {out}/code")
    _snapshot(tmp_path / "b", created="x", codings="u1,huerde.kultur\n", member="Laufordner {out}/kodiert")
    (tmp_path / "a" / "evaluate.stdout").write_text("exit 0\n", encoding="utf-8")
    assert co.compare(tmp_path / "a", tmp_path / "b") == [
        f"only in {tmp_path / 'a'}: evaluate.stdout", "differs: code/codings.csv", "differs: report.xlsx"]


def test_a_run_json_field_other_than_the_moment_counts(tmp_path):
    _snapshot(tmp_path / "a", created="x", codings="", member="")
    _snapshot(tmp_path / "b", created="x", codings="", member="")
    run = json.loads((tmp_path / "b" / "code" / "run.json").read_text())
    run["stages"]["code"]["options"] = {"unit": "paragraph"}
    (tmp_path / "b" / "code" / "run.json").write_text(json.dumps(run), encoding="utf-8")
    assert co.compare(tmp_path / "a", tmp_path / "b") == ["differs: code/run.json"]
