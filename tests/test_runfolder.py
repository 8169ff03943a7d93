"""The files of a run folder (``pipeline/runfolder.py``): their names, typed reading, writing
that keeps today's bytes and never leaves half a file, and one clear message per broken file."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import FOUR_ANSWERS, MINI_CODEBOOK, write
from pipeline import runfolder
from pipeline.cli import cli
from pipeline.errors import InputError

GOLD = "segment_id,codes\n1,huerde.zeit\n2,huerde.fuehrung\n3,methode.schulung\n4,huerde.fuehrung\n"
CSV_TABLES = ("segments", "codings", "codings_wide", "evidence", "candidates")


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    """A run folder as ``qda code --train`` writes it (so with candidates.csv)."""
    base = tmp_path_factory.mktemp("lauf")
    write(base / "umfrage.csv", FOUR_ANSWERS)
    write(base / "gold.csv", GOLD)
    out = base / "lauf"
    r = CliRunner().invoke(cli, ["code", str(base / "umfrage.csv"), "--codebook", str(MINI_CODEBOOK), "--train", str(base / "gold.csv"),
                                 "--out", str(out), "--no-cache"])
    assert r.exit_code == 0, r.output
    return out


def test_path_names_every_file_in_one_place(tmp_path):
    assert runfolder.path(tmp_path, "codings") == tmp_path / "codings.csv"
    assert runfolder.path(tmp_path, "curve") == tmp_path / "review" / "curve.csv"
    assert runfolder.path(runfolder.cluster_folder(tmp_path), "clusters") == tmp_path / "cluster" / "clusters.csv"
    assert runfolder.name_of("review/log.csv") == "review_log"
    with pytest.raises(KeyError, match="no run file 'kodierungen'; known: segments, segments_parquet, codings"):
        runfolder.path(tmp_path, "kodierungen")


def test_a_folder_qda_code_wrote_reads_typed(coded):
    seg = runfolder.read_segments(coded)
    assert {c: str(seg[c].dtype) for c in ("unit", "start_char", "end_char", "is_interviewer")} == {
        "unit": "Int64", "start_char": "Int64", "end_char": "Int64", "is_interviewer": "boolean"}
    assert seg["segment_id"].tolist() == ["1", "2", "3", "4"]  # IDs stay text, never 1.0
    assert pd.api.types.is_string_dtype(seg["segment_id"]) and pd.api.types.is_string_dtype(seg["question"])  # metadata: text
    cod = runfolder.read_codings(coded)
    assert str(cod["start_char"].dtype) == "Int64" and cod["score"].dtype == "float64"
    assert set(cod["code"]) >= {"huerde.zeit"}
    wide = runfolder.read(coded, "codings_wide")
    assert all(str(wide[c].dtype) == "Int64" for c in wide.columns if c != "segment_id")
    cand = runfolder.read_candidates(coded)
    assert str(cand["accepted"].dtype) == "Int64" and cand["threshold"].dtype == "float64"
    assert set(cand["accepted"].dropna()) <= {0, 1}
    assert runfolder.read_record(coded)["command"] == "code"


def test_rewriting_what_was_read_gives_the_same_bytes(coded, tmp_path):
    for name in CSV_TABLES:
        runfolder.write(tmp_path, name, runfolder.read(coded, name))
        assert runfolder.path(tmp_path, name).read_bytes() == runfolder.path(coded, name).read_bytes(), name


def test_a_recode_copies_the_segments_only_when_they_are_what_qda_would_write(coded, tmp_path, monkeypatch):
    from pipeline import outputs

    copied = outputs.unchanged_outputs(coded, ("segments", "segments_parquet"))
    assert set(copied) == {"segments", "segments_parquet"}
    recode = ["code", str(coded), "--codebook", str(MINI_CODEBOOK), "--no-cache"]
    written, write = [], runfolder.write
    monkeypatch.setattr(runfolder, "write", lambda folder, name, frame: written.append(name) or write(folder, name, frame))
    assert CliRunner().invoke(cli, [*recode, "--out", str(tmp_path / "a")]).exit_code == 0
    assert "codings" in written and "segments" not in written and "segments_parquet" not in written
    monkeypatch.setattr(runfolder, "write", write)
    for name in ("segments", "segments_parquet"):
        # the copy has the bytes a fresh write of the table read from the folder has
        runfolder.write(tmp_path / "frisch", name, runfolder.read(coded, "segments_parquet"))
        assert runfolder.path(tmp_path / "a", name).read_bytes() == runfolder.path(tmp_path / "frisch", name).read_bytes()
    # an edited segments.csv no longer has the recorded hash: written again from the parquet
    edited = tmp_path / "bearbeitet"
    CliRunner().invoke(cli, [*recode, "--out", str(edited)])
    runfolder.path(edited, "segments").write_text(runfolder.path(edited, "segments").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert set(outputs.unchanged_outputs(edited, ("segments", "segments_parquet"))) == {"segments_parquet"}
    assert CliRunner().invoke(cli, ["code", str(edited), "--codebook", str(MINI_CODEBOOK), "--no-cache", "--out", str(tmp_path / "b")]).exit_code == 0
    assert runfolder.path(tmp_path / "b", "segments").read_bytes() == runfolder.path(tmp_path / "frisch", "segments").read_bytes()
    # another qda version (or commit, or package versions) wrote it: nothing is copied
    monkeypatch.setattr(outputs, "__version__", "0.0.0-anders")
    assert outputs.unchanged_outputs(coded, ("segments", "segments_parquet")) == {}


def test_a_typed_round_trip_keeps_ints_empty_text_na_and_truth_values(tmp_path):
    frame = pd.DataFrame({
        "segment_id": ["a:1", "a:2", "b:1"], "doc_id": ["a", "a", "b"], "source": ["a.txt", "a.txt", "b.csv"],
        "kind": ["interview", "interview", "survey"], "unit": pd.array([1, 2, 1], dtype="Int64"), "speaker": ["I", "B", ""],
        "is_interviewer": pd.array([True, False, pd.NA], dtype="boolean"),
        "start_char": pd.array([0, 12, pd.NA], dtype="Int64"), "end_char": pd.array([10, 2_000_000_000_123, pd.NA], dtype="Int64"),
        "timestamp": ["", "00:01", ""], "text": ["Grüße", "Straße, \"zitiert\"\nzweite Zeile", "NA"], "flag": ["", "", "leer"],
        "code_scope": ["", "", "huerde"], "rolle": ["NA", "", "Leitung"],
    })
    runfolder.write_segments(tmp_path, frame)
    assert runfolder.path(tmp_path, "segments").read_text(encoding="utf-8").splitlines()[1] == "a:1,a,a.txt,interview,1,I,True,0,10,,Grüße,,,NA"
    back = runfolder.read_segments(tmp_path)
    pd.testing.assert_frame_equal(back, frame.astype({c: "str" for c in frame.columns if frame[c].dtype == object}))
    assert back.loc[2, "text"] == "NA" and back.loc[0, "rolle"] == "NA" and back.loc[1, "rolle"] == ""  # "NA" is text, "" is not NA
    assert back["start_char"].isna().tolist() == [False, False, True]
    assert back.loc[1, "end_char"] == 2_000_000_000_123  # no float on the way
    assert back["is_interviewer"].tolist()[:2] == [True, False] and pd.isna(back.loc[2, "is_interviewer"])
    pd.testing.assert_frame_equal(runfolder.read(tmp_path, "segments_parquet"), frame)


def test_writing_puts_the_schema_columns_first_and_needs_the_required_ones(tmp_path):
    runfolder.write(tmp_path, "evidence", pd.DataFrame({"extra": ["x"], "code": ["huerde.zeit"], "segment_id": ["1"]}))
    assert runfolder.path(tmp_path, "evidence").read_text(encoding="utf-8") == "segment_id,code,extra\n1,huerde.zeit,x\n"
    with pytest.raises(ValueError, match="codings.csv: the frame lacks the column.s. code"):
        runfolder.write(tmp_path, "codings", pd.DataFrame({"segment_id": ["1"]}))


def test_a_failing_writer_leaves_the_old_file(tmp_path, monkeypatch):
    runfolder.write(tmp_path, "codings", pd.DataFrame({"segment_id": ["1"], "code": ["alt"]}))
    before = runfolder.path(tmp_path, "codings").read_bytes()

    def half_then_fail(self, path, **kwargs):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("segment_id,co")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        runfolder.write(tmp_path, "codings", pd.DataFrame({"segment_id": ["1"], "code": ["neu"]}))
    assert runfolder.path(tmp_path, "codings").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codings.csv"]  # no temporary file left


def test_a_missing_file_names_the_stage_to_run(tmp_path):
    with pytest.raises(InputError) as exc:
        runfolder.read_codings(tmp_path)
    assert str(exc.value) == f"{tmp_path}: has no codings.csv\n  → run 'qda code SOURCE --codebook FILE --out DIR' (or 'qda run') first"
    assert runfolder.read_codings(tmp_path, missing_ok=True) is None


def test_a_missing_required_column_names_file_column_and_fix(tmp_path):
    write(tmp_path / "codings.csv", "segment_id,kode,method\n1,huerde.zeit,rule\n")
    with pytest.raises(InputError) as exc:
        runfolder.read_codings(tmp_path)
    assert str(exc.value) == (f"{tmp_path / 'codings.csv'}: has no column code (it has: segment_id, kode, method)\n"
                              "  → codings.csv is written by 'qda code SOURCE --codebook FILE --out DIR'; write it again rather than edit its header")


CODINGS_HEAD = "segment_id,code,start_char,end_char,evidence,method,pattern,score\n1,huerde.zeit,0,4,Zeit,rule,Zeit,1.0\n"


@pytest.mark.parametrize("name, text, message", [
    ("codings", CODINGS_HEAD + "2,huerde.zeit,x,4,Zeit,rule,Zeit,1.0\n", "codings.csv, row 3: start_char 'x' is not a whole number"),
    ("codings", CODINGS_HEAD + "2,huerde.zeit,1.5,4,Zeit,rule,Zeit,1.0\n", "codings.csv, row 3: start_char '1.5' is not a whole number"),
    ("codings", CODINGS_HEAD + "2,huerde.zeit,0,4,Zeit,rule,Zeit,hoch\n", "codings.csv, row 3: score 'hoch' is not a number"),
    ("segments", "segment_id,text,is_interviewer\n1,Hallo,vielleicht\n", "segments.csv, row 2: is_interviewer 'vielleicht' is not a truth value (True or False)"),
    ("codings", "", "codings.csv: file is empty (0 bytes)\n  → write it again with 'qda code ... --out {folder}' (or 'qda run')"),
    ("codings", CODINGS_HEAD + '2,huerde.zeit,0,4,"Zeit,rule\n', "codings.csv, line 3: is not valid CSV (a quote (\") opened there is never closed)"),
    ("reviewed", "segment_id,code,decision\n1,huerde.zeit,accept\n", "reviewed.csv: has no column corrected_code, comment, reviewer, decided_at"),
])
def test_a_broken_file_gets_one_clear_message(tmp_path, name, text, message):
    write(runfolder.path(tmp_path, name), text)
    with pytest.raises(InputError) as exc:
        runfolder.read(tmp_path, name)
    assert message.format(folder=tmp_path) in str(exc.value)
    assert str(exc.value).startswith(str(runfolder.path(tmp_path, name)))


def test_empty_cells_are_na_only_where_the_type_is_not_text(tmp_path):
    write(tmp_path / "codings.csv", "segment_id,code,start_char,end_char,evidence,method,pattern,score,user\n"
                                    "1,huerde.zeit,,,,import,,,NA\n")
    cod = runfolder.read_codings(tmp_path)
    row = cod.iloc[0]
    assert (row["evidence"], row["pattern"], row["user"]) == ("", "", "NA")
    assert pd.isna(row["start_char"]) and pd.isna(row["score"])
