"""The three dev transcripts (Word table export, diarized SRT, MAXQDA text export) segment
exactly as the dev gold's turns: same unit numbers, speakers, and text starts.

Reads only the columns ``file, turn, speaker, text_start`` of the gold file, never ``codes``.
"""

import pandas as pd
import pytest

from conftest import ROOT
from pipeline.ingest import ingest

# ../shared/dev next to the repository; a git worktree under wt/ has it one level further up
_CANDIDATES = [ROOT.parent / "shared" / "dev", ROOT.parent.parent / "shared" / "dev"]
DEV = next((p for p in _CANDIDATES if (p / "interviews_dev_gold.csv").is_file()), _CANDIDATES[0])
needs_dev = pytest.mark.skipif(not (DEV / "interviews_dev_gold.csv").is_file(), reason=f"dev set not present at {_CANDIDATES[0]}")
FILES = ["interview_polizei_tabelle.docx", "gruppeninterview_kommune_whisper.srt", "interview_wissensmanagement.txt"]


@pytest.fixture(scope="module")
def dev():
    gold = pd.read_csv(DEV / "interviews_dev_gold.csv", usecols=["file", "turn", "speaker", "text_start"], dtype=str, keep_default_na=False)
    result = ingest([str(DEV / "interviews")])
    return gold, result


@needs_dev
@pytest.mark.parametrize("name", FILES)
def test_dev_transcript_units_match_the_gold_turns(dev, name):
    gold, result = dev
    stem = name.rsplit(".", 1)[0]
    expected = gold[gold["file"] == name]
    assert len(expected) > 0
    got = result.segments[result.segments["doc_id"] == stem].set_index("segment_id")
    assert len(got) == len(expected)
    for row in expected.itertuples():
        unit = got.loc[f"{stem}:{row.turn}"]
        assert unit["speaker"] == row.speaker, f"{stem}:{row.turn}"
        assert unit["text"].startswith(row.text_start), f"{stem}:{row.turn}: {unit['text'][:60]!r}"


@needs_dev
def test_dev_transcripts_readers_and_interviewers(dev):
    _, result = dev
    by_name = {f.path.rsplit("/", 1)[-1]: f for f in result.files}
    assert by_name["interview_polizei_tabelle.docx"].reader == "transcript-table (docx)"
    assert by_name["interview_polizei_tabelle.docx"].info["columns"] == {"speaker": "Sprecher", "text": "Text", "time": "Zeit"}
    srt = by_name["gruppeninterview_kommune_whisper.srt"]
    assert srt.info["interviewer_guessed"]["speaker"] == "SPEAKER_00"
    assert srt.info["interviewer"] == ["SPEAKER_00"]
    assert by_name["interview_wissensmanagement.txt"].info["end_lines_skipped"] == 1
    seg = result.segments
    assert not seg["text"].str.contains("Ende des Transkripts").any()
    assert not seg["text"].str.startswith(":").any()
    interviewers = seg[seg["is_interviewer"]].groupby("doc_id")["speaker"].unique().map(list).to_dict()
    assert interviewers == {
        "gruppeninterview_kommune_whisper": ["SPEAKER_00"],
        "interview_polizei_tabelle": ["Interviewer"],
        "interview_wissensmanagement": ["Interviewerin"],
    }


@needs_dev
def test_interviewer_option_overrides_the_guess():
    from pipeline.ingest import IngestOptions

    result = ingest([str(DEV / "interviews" / "gruppeninterview_kommune_whisper.srt")], IngestOptions(interviewer=["SPEAKER_01"]))
    seg = result.segments
    assert seg.loc[seg["is_interviewer"], "speaker"].unique().tolist() == ["SPEAKER_01"]
    assert "interviewer_guessed" not in result.files[0].info
