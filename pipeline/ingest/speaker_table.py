"""Transcripts as tables: one row per utterance with a speaker column and a text column.

Transcription services and speech-recognition tools export interviews as a table
``Zeit | Sprecher | Text`` (Word), or as CSV/XLSX with ``start, speaker, text``. A row with an
empty speaker cell continues the previous speaker's turn; consecutive rows of one speaker form
one turn (with ``unit="turn"``). Columns are found by their header (German and English names);
a Word table without a header row is recognised by its content (a column of timestamps, a
column of few short repeating labels, a column of long text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.ingest.common import Unit, squash
from pipeline.ingest.transcript import normalise_timestamp

SPEAKER_HEADERS = {
    "sprecher", "sprecherin", "sprechende", "sprechender", "speaker", "speakerlabel", "speakername",
    "person", "teilnehmer", "teilnehmerin", "teilnehmende", "wer", "redner", "rednerin",
    "participant", "name",
}
TEXT_HEADERS = {
    "text", "transkript", "transkription", "äußerung", "äusserung", "aussage", "inhalt", "beitrag",
    "redebeitrag", "wortlaut", "gesprochenertext", "transcript", "transcription", "utterance",
    "content", "words", "sentence", "satz",
}
TIME_HEADERS = {
    "zeit", "zeitmarke", "zeitstempel", "zeitcode", "zeitpunkt", "timecode", "time", "timestamp",
    "start", "starttime", "startzeit", "beginn", "anfang", "von", "begin", "tc", "in",
}
_TIME_CELL = re.compile(r"^\s*[\[(#]?\s*(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,-]\d{1,3})?\s*[\])#]?\s*$|^\s*\d+(?:[.,]\d+)?\s*$")


@dataclass(frozen=True)
class TableLayout:
    """Column positions of a speaker table; ``header`` says whether row 0 holds column names."""

    speaker: int
    text: int
    time: int | None
    header: bool

    def names(self, header_row: list[str]) -> dict[str, str]:
        """The columns used, by role, for the ingest summary and the run record."""
        if not self.header:
            return {"speaker": f"column {self.speaker + 1}", "text": f"column {self.text + 1}"} | (
                {"time": f"column {self.time + 1}"} if self.time is not None else {}
            )
        out = {"speaker": header_row[self.speaker], "text": header_row[self.text]}
        if self.time is not None:
            out["time"] = header_row[self.time]
        return out


def header_key(name: str) -> str:
    """``Sprecher:in`` → ``sprecherin``; ``Zeit (hh:mm:ss)`` → ``zeit``; ``start_time`` → ``starttime``."""
    name = re.split(r"[(\[]", str(name), maxsplit=1)[0]
    return re.sub(r"[^a-zäöüß0-9]", "", name.lower())


def layout_from_header(header: list[str]) -> TableLayout | None:
    """Finds the speaker, text and (optional) time columns by name, or None."""
    keys = [header_key(h) for h in header]

    def first(names: set[str]) -> int | None:
        return next((i for i, k in enumerate(keys) if k in names), None)

    speaker, text, time = first(SPEAKER_HEADERS), first(TEXT_HEADERS), first(TIME_HEADERS)
    if speaker is None or text is None or speaker == text:
        return None
    return TableLayout(speaker, text, time if time not in (speaker, text) else None, header=True)


def layout_from_content(rows: list[list[str]]) -> TableLayout | None:
    """A header-less table: a column of short repeating labels next to a column of long text.

    Returns None unless the table has at least three rows and two to four columns, one of
    whose cells are mostly speaker-like labels (at most 40 characters and 4 words, at most
    half as many distinct labels as filled cells).
    """
    width = max((len(r) for r in rows), default=0)
    if len(rows) < 3 or not 2 <= width <= 4:
        return None
    columns = [[r[i].strip() if i < len(r) else "" for r in rows] for i in range(width)]
    time = next((i for i, col in enumerate(columns) if _share(col, lambda c: bool(_TIME_CELL.match(c))) >= 0.8), None)
    candidates = [i for i in range(width) if i != time]
    speaker = next((i for i in candidates if _is_label_column(columns[i])), None)
    if speaker is None:
        return None
    rest = [i for i in candidates if i != speaker]
    if not rest:
        return None
    text = max(rest, key=lambda i: sum(len(c) for c in columns[i]))
    return TableLayout(speaker, text, time, header=False)


def _share(cells: list[str], test) -> float:
    filled = [c for c in cells if c]
    return sum(map(test, filled)) / len(filled) if filled else 0.0


def _is_label_column(cells: list[str]) -> bool:
    filled = [c.rstrip(":").strip() for c in cells if c]
    if len(filled) < 2:
        return False
    short = _share(filled, lambda c: len(c) <= 40 and len(c.split()) <= 4 and not _TIME_CELL.match(c))
    return short >= 0.9 and len(set(filled)) <= len(filled) / 2


def table_units(rows: list[list[str]], layout: TableLayout, *, unit: str = "turn") -> tuple[list[Unit], dict]:
    """Turns the rows of a speaker table into turns.

    Args:
        rows: the table's rows as cell texts, the header row included when ``layout.header``.
        layout: where speaker, text and time are.
        unit: ``"turn"`` merges consecutive rows of one speaker; ``"paragraph"`` keeps each
            labelled row (continuation rows without a speaker still join the row above).

    Returns:
        ``(units, info)``: units without interviewer marks; ``info`` counts the rows that were
        continuations, empty, or before the first labelled row.
    """
    header = [c.strip() for c in rows[0]] if layout.header and rows else None
    body = rows[1:] if layout.header else rows
    turns: list[list] = []  # [speaker, [texts], timestamp]
    counts = {"rows": 0, "continuation_rows": 0, "empty_rows": 0, "rows_before_first_speaker": 0}
    for row in body:
        cells = [str(c) for c in row]
        if header is not None and [c.strip() for c in cells] == header:
            continue  # a table continued over pages repeats its header row
        counts["rows"] += 1
        speaker = _cell(cells, layout.speaker).strip().rstrip(":").strip()
        text = squash(_cell(cells, layout.text))
        stamp = _stamp(_cell(cells, layout.time))
        if not text:
            counts["empty_rows"] += 1
            continue
        if not speaker:
            if not turns:
                counts["rows_before_first_speaker"] += 1
                continue
            counts["continuation_rows"] += 1
            turns[-1][1].append(text)
        elif unit == "turn" and turns and turns[-1][0] == speaker:
            turns[-1][1].append(text)
        else:
            turns.append([speaker, [text], stamp])
    units = [Unit(text="\n".join(texts), speaker=speaker, timestamp=stamp) for speaker, texts, stamp in turns]
    return units, {k: v for k, v in counts.items() if v}


def _stamp(cell: str) -> str:
    """``00:01:02`` / ``[01:02]`` as hh:mm:ss; a plain number (speech-recognition CSVs) as seconds."""
    cell = cell.strip()
    if re.fullmatch(r"\d+(?:[.,]\d+)?", cell):
        seconds = float(cell.replace(",", "."))
        whole = int(seconds)
        frac = f"{seconds - whole:.3f}"[1:].rstrip("0").rstrip(".")
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}{frac}"
    return normalise_timestamp(cell) if cell else ""


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""
