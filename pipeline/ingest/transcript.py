"""Speaker-turn transcripts as transcription tools write them (plain text, Markdown, Word).

Handles ``I:``/``B:``, ``Interviewer:``/``Befragte:``, names with a colon, several
interviewees (``S1:``, ``S2:``), Markdown bold labels (``**I [00:01:02]**``, ``**B:**``), a
speaker legend (``I = Interviewer, B = Befragte``), YAML front matter, header lines before the
first turn, f4/f5 timestamps (``#00:03:12-5#``) and bracketed ones (``[00:01:02]``).

Which ``Name:`` prefixes are speakers is decided over the whole file, because a single line
such as ``Datum: 17.05.2021`` or ``Beispiel: ...`` looks like a turn but is not one: a label is a
speaker when it is in the legend, is a usual transcript label (I, B, S1, Interviewer, ...),
carries a timestamp, or opens at least two turns.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pipeline.ingest.common import Unit, squash

TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,-]\d{1,3})?"
_TS_ANY = re.compile(rf"#{TS}#|\[{TS}\]|\({TS}\)|(?<![\d:]){TS}(?![\d:])")
_TS_LEAD = re.compile(rf"^\s*(?:#{TS}#|\[{TS}\]|\({TS}\)|{TS})\s*")
_TS_VALUE = re.compile(TS)

# **I [00:01:02]** text | **B: [00:28:01]** text | **Interviewer:** text | **I**: text
_BOLD = re.compile(
    rf"^\*\*(?P<label>[^*\[\]():#]{{1,40}}?)\s*:?\s*(?P<ts>(?:\[{TS}\]|\({TS}\)|#{TS}#))?\s*:?\s*\*\*\s*:?\s*(?P<rest>.*)$"
)
# I: text | Frau Meier: text | S1 [00:01:02]: text | B (00:03): text
_PLAIN = re.compile(
    rf"^(?P<label>[A-ZÄÖÜ][\wÄÖÜäöüß.\-/]*(?: [\wÄÖÜäöüß.\-/]+){{0,3}}?)\s*(?P<ts>\[{TS}\]|\({TS}\)|#{TS}#)?\s*:\s*(?P<rest>.*)$"
)
# "--- Ende des Transkripts ---", "[Ende der Aufnahme]", "#ENDE#", "End of transcript"
_DECOR = r"[-–—=*#_~\[\](){}<>|.:\s]*"
END_MARKER = re.compile(
    rf"^{_DECOR}(?:ende|end)(?:\s+(?:des|der|vom|of(?:\s+the)?))?"
    r"(?:\s+(?:transkript(?:s|es|ion)?|interviews?|aufnahme|aufzeichnung|gesprächs?|transcript(?:ion)?|recording|audio))?"
    rf"{_DECOR}$",
    re.I,
)
_HEADING = re.compile(r"^\s*(#{1,6}\s+\S|-{3,}\s*$|\*{3,}\s*$|_{3,}\s*$)")
_BOLD_ONLY = re.compile(r"^\s*\*\*[^*]+\*\*\s*:?\s*$")

# Labels transcription guides use; matched case-sensitively after stripping digits.
_KNOWN = {
    "I", "B", "IN", "IP", "IV", "INT", "Int", "S", "P", "T", "TN", "M", "A", "R", "E",
    "Interviewer", "Interviewerin", "Interviewende", "Interviewender", "Interviewte", "Interviewter",
    "Befragte", "Befragter", "Befragende", "Befragender", "Moderator", "Moderatorin", "Moderation",
    "Sprecher", "Sprecherin", "Speaker", "Teilnehmer", "Teilnehmerin", "Teilnehmende",
    "Person", "Experte", "Expertin", "Frage", "Antwort",
}
INTERVIEWER_LABELS = {
    "I", "IN", "IV", "INT", "Int", "Interviewer", "Interviewerin", "Interviewende", "Interviewender",
    "Moderator", "Moderatorin", "Moderation", "Frage",
}  # IN: "Interviewer:in" in German transcription guides (next to IP, the interviewee)
_INTERVIEWER_WORDS = re.compile(r"^(inter(?!viewt)|moderat|frag)", re.I)


def is_interviewer_label(label: str, interviewer=frozenset(), roles: dict[str, str] | None = None) -> bool:
    """Is ``label`` the interviewer: named with ``--interviewer``, described so in the legend
    (``I = Interviewerin``), or a usual interviewer label (``I``, ``Interviewer``, ``Moderation``)?"""
    if label in interviewer:
        return True
    roles = roles or {}
    desc = roles.get(label) or roles.get(_base(label))
    if desc is not None:
        return bool(_INTERVIEWER_WORDS.match(desc))
    return label in INTERVIEWER_LABELS or _base(label) in INTERVIEWER_LABELS


def _base(label: str) -> str:
    return re.sub(r"[\s_]*\d+$", "", label).strip()


def _looks_like_name(label: str) -> bool:
    """``Frau Meier``, ``Sprecher 2``, ``Dr. Kunz`` yes; ``Das heißt`` (a sentence opener) no."""
    words = label.split()
    return len(words) <= 3 and all(w[0].isupper() or w[0].isdigit() for w in words)


def is_known_label(label: str) -> bool:
    return _base(label) in _KNOWN or label in _KNOWN


def parse_legend(line: str) -> dict[str, str] | None:
    """``I = Interviewer, B = Befragte`` → ``{"I": "Interviewer", "B": "Befragte"}``, else None."""
    body = line.strip().strip("()[]").strip()
    body = re.sub(r"^(legende|sprecher(?:innen)?|speakers?)\s*:\s*", "", body, flags=re.I)
    parts = [p.strip() for p in re.split(r"[;,]|\s{2,}", body) if p.strip()]
    if len(parts) < 2:
        return None
    legend = {}
    for part in parts:
        m = re.match(r"^([A-ZÄÖÜ][\wÄÖÜäöüß]{0,14})\s*[:=]\s*([^:=]{1,40})$", part)
        if not m or len(m.group(2).split()) > 4:
            return None
        legend[m.group(1)] = m.group(2).strip()
    return legend


def extract_timestamp(text: str) -> tuple[str, str]:
    """Removes every timestamp from ``text``; returns ``(text, first timestamp normalised)``."""
    first = ""
    m = _TS_ANY.search(text)
    if m:
        first = normalise_timestamp(m.group(0))
        text = _TS_ANY.sub(" ", text)
    return text, first


def normalise_timestamp(raw: str) -> str:
    """``#00:03:12-5#`` → ``00:03:12.5``; ``[01:02]`` → ``00:01:02``."""
    m = _TS_VALUE.search(raw)
    if not m:
        return ""
    value = m.group(0)
    frac = ""
    fm = re.search(r"[.,-](\d{1,3})$", value)
    if fm:
        frac = "." + fm.group(1)
        value = value[: fm.start()]
    parts = value.split(":")
    while len(parts) < 3:
        parts.insert(0, "0")
    return ":".join(f"{int(p):02d}" for p in parts) + frac


@dataclass
class _Candidate:
    line_no: int
    label: str
    rest: str
    has_ts: bool
    bold: bool


def _candidate(line: str, line_no: int) -> _Candidate | None:
    """Does ``line`` open with a speaker label? (before the file-wide decision)."""
    stripped = _TS_LEAD.sub("", line, count=1) if not line.lstrip().startswith("**") else line.strip()
    lead_ts = stripped != line.strip()
    m = _BOLD.match(stripped)
    if m:
        label = m.group("label").strip().rstrip(":").strip()
        rest = m.group("rest").strip()
        if not rest and not m.group("ts"):
            return None  # a bold heading such as **Schwerpunkt Interface:**
        if len(label.split()) > 4:
            return None
        return _Candidate(line_no, label, rest, bool(m.group("ts")) or lead_ts, True)
    m = _PLAIN.match(stripped)
    if m:
        label = m.group("label").strip()
        if label.lower().startswith(("http", "www")):
            return None
        return _Candidate(line_no, label, m.group("rest").strip(), bool(m.group("ts")) or lead_ts, False)
    return None


@dataclass
class TranscriptParse:
    units: list[Unit]
    speakers: list[str]
    legend: dict[str, str]
    skipped_header: int
    paragraphs: int
    skipped_trailer: int = 0


def strip_front_matter(text: str) -> str:
    """Drops a YAML front-matter block (``---`` … ``---``) at the top of a Markdown file."""
    if text.lstrip("\n").startswith("---\n"):
        body = text.lstrip("\n")
        end = re.search(r"\n(---|\.\.\.)\s*\n", body[4:])
        if end:
            return body[4 + end.end():]
    return text


def parse_transcript(
    text: str,
    *,
    unit: str = "turn",
    interviewer: set[str] | frozenset[str] = frozenset(),
) -> TranscriptParse | None:
    """Parses a speaker-turn transcript.

    Args:
        text: the normalised text (LF line ends).
        unit: ``"turn"`` merges consecutive paragraphs of one speaker into one turn (a turn
            lasts until someone else speaks); ``"paragraph"`` keeps each labelled paragraph.
        interviewer: labels to treat as the interviewer, on top of the usual ones and the legend.

    Returns:
        The parse, or None when no speaker turns are found (the file is free text).
    """
    lines = strip_front_matter(text).split("\n")
    legend, legend_lines, candidates = _scan(lines)
    counts = Counter(c.label for c in candidates.values())
    legend_prefixes = set(legend)

    def accepted(c: _Candidate) -> bool:
        return (
            c.label in legend
            or _base(c.label) in legend_prefixes
            or is_known_label(c.label)
            or c.label in interviewer
            or c.has_ts
            or (counts[c.label] >= 2 and _looks_like_name(c.label))
        )

    turn_starts = {i: c for i, c in candidates.items() if accepted(c)}
    turns, skipped_header, skipped_trailer = _collect_turns(lines, turn_starts, legend_lines)
    if not turns:
        return None
    paragraphs = len(turns)
    if unit == "turn":
        turns = _merge_turns(turns)
    units = []
    for label, body, ts in turns:
        content = squash("\n".join(_strip_md(b) for b in body))
        units.append(Unit(text=content, speaker=label, timestamp=ts, is_interviewer=is_interviewer_label(label, interviewer, legend)))
    speakers = sorted({u.speaker for u in units})
    return TranscriptParse(units, speakers, legend, skipped_header, paragraphs, skipped_trailer)


def _scan(lines: list[str]) -> tuple[dict[str, str], set[int], dict[int, _Candidate]]:
    """The speaker legend (and its lines) and every line that opens with a possible label."""
    legend: dict[str, str] = {}
    legend_lines: set[int] = set()
    candidates: dict[int, _Candidate] = {}
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        lg = parse_legend(line)
        if lg:
            legend.update(lg)
            legend_lines.add(i)
            continue
        c = _candidate(line, i)
        if c:
            candidates[i] = c
    return legend, legend_lines, candidates


def _collect_turns(lines: list[str], turn_starts: dict[int, _Candidate], legend_lines: set[int]):
    """Labelled paragraphs with the unlabelled lines below them.

    Returns:
        ``(turns, header lines skipped, trailer lines skipped)``; a turn is
        ``(label, lines, timestamp)``. Lines before the first turn are header; an end marker
        and the lines after it (until the next turn) are trailer.
    """
    turns: list[tuple[str, list[str], str]] = []
    skipped_header = skipped_trailer = 0
    closed = False  # after an end marker, lines without a speaker are trailer, not speech
    for i, line in enumerate(lines):
        if i in legend_lines or not line.strip():
            continue
        c = turn_starts.get(i)
        if c:
            closed = False
            body, ts = extract_timestamp(c.rest)
            if not ts:
                _, ts = extract_timestamp(line)
            turns.append((c.label, [body], ts))
        elif not turns:
            skipped_header += 1
        elif closed or END_MARKER.match(line):
            closed = True
            skipped_trailer += 1
        elif not _HEADING.match(line):
            body, ts = extract_timestamp(line)
            turns[-1][1].append(body)
            if not turns[-1][2] and ts:
                turns[-1] = (turns[-1][0], turns[-1][1], ts)
    return turns, skipped_header, skipped_trailer


def _merge_turns(turns: list[tuple[str, list[str], str]]) -> list[tuple[str, list[str], str]]:
    """Consecutive paragraphs of one speaker → one turn (a turn lasts until someone else speaks)."""
    merged: list[tuple[str, list[str], str]] = []
    for label, body, ts in turns:
        if merged and merged[-1][0] == label:
            merged[-1][1].extend(["", *body])
        else:
            merged.append((label, list(body), ts))
    return merged


def _strip_md(line: str) -> str:
    """Leaves text, not Markdown: no emphasis markers or list bullets around a turn's words."""
    line = re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", line) if re.match(r"^\s*(?:[-*+]|\d+\.)\s+\S", line) else line
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)


def parse_free_text(text: str) -> list[Unit]:
    """A document without speakers (workshop notes, idea cards): one unit per paragraph.

    A heading (Markdown ``#`` or a bold-only line) is not a unit; it goes into the ``section``
    column of the paragraphs below it.
    """
    units: list[Unit] = []
    section = ""
    for block in re.split(r"\n\s*\n", strip_front_matter(text)):
        block = block.strip()
        if not block:
            continue
        first = block.split("\n", 1)[0]
        if _HEADING.match(first) or _BOLD_ONLY.match(first):
            section = re.sub(r"^#+\s*|\*\*|:\s*$", "", first).strip().rstrip(":")
            block = block.split("\n", 1)[1].strip() if "\n" in block else ""
            if not block:
                continue
        content = squash("\n".join(_strip_md(b) for b in block.split("\n")))
        if content:
            units.append(Unit(text=content, meta={"section": section}))
    return units
