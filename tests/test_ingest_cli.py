"""`qda ingest` wiring, bad input messages, run record, real third-party transcripts."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, REAL_INPUTS, needs_real_inputs, tree_snapshot, write
from pipeline.cli import cli
from pipeline.ingest import document_texts, ingest


def run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def _bad_inputs(tmp):
    write(tmp / "leer.txt", "  \n")
    (tmp / "binär.txt").write_bytes(b"I: hallo\x00\x81\x9d welt")
    write(tmp / "notes.pdf", "%PDF-1.4")
    write(tmp / "kaputt.docx", "kein zip")
    write(tmp / "ohne_cues.vtt", "WEBVTT\n\nNOTE nur ein Kommentar\n")
    write(tmp / "umfrage.csv", "id;netzwerk;antwort\n1;DVNW;Zeit\n2;KERN;Geld\n")
    write(tmp / "schief.csv", "id;antwort\n1;Zeit\n2;Geld;und Personal\n3;Technik\n")
    return {
        "missing": (["fehlt.txt"], "Error: fehlt.txt: file not found\n  → check the path (relative paths start at the current folder)\n"),
        "unsupported": (["notes.pdf"], "Error: notes.pdf: unsupported file type '.pdf'\n  → supported types: .txt, .md, .markdown, .text, .docx, .vtt, .srt, .csv, .tsv, .xlsx, .xlsm\n"),
        "empty": (["leer.txt"], "Error: leer.txt: file is empty\n  → export the transcript or survey again; an empty file has nothing to code\n"),
        "undecodable": (["binär.txt"], "Error: binär.txt: is not text: undecodable byte 0x81 at byte 9\n  → save the file as UTF-8 text (or pass --encoding if you know its encoding)\n"),
        "missing column": (["umfrage.csv", "--text-column", "antworten"], "Error: umfrage.csv: no column 'antworten' (given with --text-column)\n  → did you mean 'antwort'? the columns there are: 'id', 'netzwerk', 'antwort'\n"),
        "corrupt docx": (["kaputt.docx"], "Error: kaputt.docx: is not a readable Word document (not a .docx package)\n  → open it in Word or LibreOffice and save it again as .docx\n"),
        "vtt without cues": (["ohne_cues.vtt"], "Error: ohne_cues.vtt: contains no cues with text\n  → export the subtitles again; a cue is a time line '00:00:01.000 --> 00:00:04.000' followed by text\n"),
        "ragged csv": (["schief.csv"], "Error: schief.csv: ragged rows: the header has 2 fields, but line 3 has 3 (delimiter ';')\n  → a text answer probably contains the delimiter without quotes; export with quoted text fields\n"),
        "empty glob": (["*.odt"], "Error: *.odt: the pattern matches no file\n  → check the pattern; quote it so the shell does not expand it\n"),
    }


CASES = ["missing", "unsupported", "empty", "undecodable", "missing column", "corrupt docx", "vtt without cues", "ragged csv", "empty glob"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_message_and_leaves_output_untouched(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    args, message = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    write(out / "segments.csv", "earlier run\n")
    before = tree_snapshot(out)
    result = CliRunner().invoke(cli, ["ingest", *args, "--out", "out"])
    assert result.exit_code == 1
    assert result.output == message
    assert "Traceback" not in result.output
    assert tree_snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")] == []


def test_ingest_writes_csv_parquet_and_run_record(tmp_path):
    out = tmp_path / "o"
    result = run(["ingest", str(BEISPIEL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 file(s), 287 document(s), 969 unit(s)" in result.output
    csv = pd.read_csv(out / "segments.csv", keep_default_na=False, dtype=str)
    parquet = pd.read_parquet(out / "segments.parquet")
    assert csv["segment_id"].tolist() == parquet["segment_id"].tolist()
    assert list(csv.columns[:12]) == ["segment_id", "doc_id", "source", "kind", "unit", "speaker", "is_interviewer", "start_char", "end_char", "timestamp", "text", "flag"]
    record = json.loads((out / "run.json").read_text())
    assert record["command"] == "ingest"
    assert set(record["outputs"]) == {"segments.csv", "segments.parquet"}
    assert len(record["inputs"]) == 6 and all(len(h) == 64 for h in record["inputs"].values())
    assert record["packages"]["pandas"] == pd.__version__


def test_same_input_gives_byte_identical_outputs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run(["ingest", str(BEISPIEL), "--out", str(a)])
    run(["ingest", str(BEISPIEL), "--out", str(b)])
    assert (a / "segments.csv").read_bytes() == (b / "segments.csv").read_bytes()
    assert (a / "segments.parquet").read_bytes() == (b / "segments.parquet").read_bytes()


def test_example_corpus_metadata_and_interviewers():
    seg = ingest([str(BEISPIEL)]).segments
    interviews = seg[seg["kind"] == "interview"]
    assert sorted(interviews["network"].unique()) == ["DVNW", "KERN", "KGSt-Agilitaet", "KI-Campus-Polizei", "NExT-WM"]
    per_doc = interviews.groupby("doc_id")["unit"].max()
    assert per_doc.between(15, 40).all()
    # every interview has interviewer and respondent turns
    assert interviews.groupby("doc_id")["is_interviewer"].agg(lambda s: s.any() and not s.all()).all()
    survey = seg[seg["kind"] == "survey"]
    assert survey["doc_id"].nunique() >= 250
    assert set(survey["question"]) == {"hindernisse", "ideen", "innovationsbeispiel"}
    assert (seg["network"] != "").all()


@needs_real_inputs
@pytest.mark.parametrize("name,turns,speakers", [
    ("divekit_nnProf_transkript.md", 65, {"I": 33, "B": 32}),
    ("divekit_nnWMA2_transkript.md", 52, {"I": 26, "B": 24, "P": 2}),
    ("haski_nodegrade_interview1_german.docx", 13, {"I": 4, "S1": 4, "S2": 5}),
])
def test_real_transcripts_turns_and_speakers(name, turns, speakers):
    seg = ingest([str(REAL_INPUTS / name)]).segments
    assert len(seg) == turns
    assert seg["speaker"].value_counts().to_dict() == speakers
    assert seg.loc[seg["speaker"] == "I", "is_interviewer"].all()
    assert not seg.loc[seg["speaker"] != "I", "is_interviewer"].any()
    full = document_texts(seg)
    for row in seg.itertuples():
        assert full[row.doc_id][row.start_char:row.end_char] == row.text
    assert not seg["text"].str.contains(r"\[\d\d:\d\d:\d\d\]|\*\*").any()


@needs_real_inputs
def test_real_wma2_paragraph_units():
    from pipeline.ingest import IngestOptions

    seg = ingest([str(REAL_INPUTS / "divekit_nnWMA2_transkript.md")], IngestOptions(unit="paragraph")).segments
    assert len(seg) == 60
    assert seg["speaker"].value_counts().to_dict() == {"B": 32, "I": 26, "P": 2}


@needs_real_inputs
def test_real_prof_transcript_header_is_not_a_turn():
    seg = ingest([str(REAL_INPUTS / "divekit_nnProf_transkript.md")]).segments
    assert seg["text"].iloc[0].startswith("Okay, alles klar. Super.")
    assert seg["timestamp"].iloc[0] == "00:00:00" and seg["timestamp"].iloc[1] == "00:00:12"


@needs_real_inputs
def test_real_workshop_notes_are_paragraph_units():
    seg = ingest([str(REAL_INPUTS / "divekit_635_workshop_gruppe1.md")]).segments
    assert len(seg) == 35
    assert seg["section"].nunique() == 4
    assert seg["section"].iloc[0] == "Schwerpunkt Interface"


@needs_real_inputs
def test_cli_on_real_inputs_folder(tmp_path):
    result = run(["ingest", str(REAL_INPUTS), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0
    assert "4 file(s), 4 document(s), 165 unit(s), speakers: B, I, P, S1, S2" in result.output
