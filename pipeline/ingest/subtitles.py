"""WebVTT and SRT from speech recognition, read leniently.

Speech-recognition exports split one speaker's turn over many cues; consecutive cues of the
same speaker merge into one turn. Speakers come from WebVTT voice tags (``<v Sprecher 1>``)
or a ``Sprecher 1:`` / ``[Sprecher 1]`` prefix in the cue text. What cannot be read (a stray
line, a cue without a time line) is skipped with a warning, never silently.
"""

from __future__ import annotations

import html
import re

from pipeline.ingest.common import Unit, squash
from pipeline.ingest.transcript import INTERVIEWER_LABELS, _base, normalise_timestamp

_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_CUE_TIME = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s+.*)?$")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d{1,2}:\d{2}[^>]*>")
_PREFIX = re.compile(r"^\s*(?:\[(?P<b>[^\]]{1,30})\]|(?P<p>[A-ZÄÖÜ][\wÄÖÜäöüß.\-]*(?: [\wÄÖÜäöüß.\-]+){0,2}?)\s*:)\s*(?P<rest>.*)$", re.S)
_SPEAKERISH = re.compile(r"^(Sprecher(?:in)?|Speaker|SPEAKER|Teilnehmer(?:in)?|Person|S|I|B|Interviewer(?:in)?|Befragte[r]?)[\s_]*\d*$|^[A-ZÄÖÜ][a-zäöüß]+(?: [A-ZÄÖÜ][a-zäöüß]+)?$")


def _cues(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Returns ``(cues, warnings)``; a cue is ``(start_time, text)``."""
    cues: list[tuple[str, str]] = []
    warnings: list[str] = []
    blocks = re.split(r"\n\s*\n", text)
    for bno, block in enumerate(blocks, 1):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        head = lines[0].strip()
        if head.startswith("WEBVTT") or head.startswith(("NOTE", "STYLE", "REGION")):
            continue
        t_idx = next((i for i, ln in enumerate(lines) if _CUE_TIME.match(ln)), None)
        if t_idx is None:
            warnings.append(f"block {bno} has no time line ('00:00:01.000 --> 00:00:04.000'); skipped: {head[:40]!r}")
            continue
        before = lines[:t_idx]
        stray = [ln for ln in before if not re.fullmatch(r"\s*\d+\s*", ln)]
        if stray:
            warnings.append(f"block {bno}: stray line(s) before the time line skipped: {stray[0][:40]!r}")
        start = _CUE_TIME.match(lines[t_idx]).group("start")
        body = "\n".join(lines[t_idx + 1:])
        if body.strip():
            cues.append((start, body))
    return cues, warnings


def _speaker_of(body: str) -> tuple[str, str]:
    m = _VOICE.search(body)
    if m:
        speaker = m.group(1).strip()
        return speaker, _clean(body)
    clean = _clean(body)
    m = _PREFIX.match(clean)
    if m:
        label = (m.group("b") or m.group("p") or "").strip()
        if _SPEAKERISH.match(label):
            return label, m.group("rest")
    return "", clean


def _clean(body: str) -> str:
    return html.unescape(_TAG.sub("", body))


def parse_subtitles(text: str, *, interviewer: frozenset[str] | set[str] = frozenset()) -> tuple[list[Unit], list[str]]:
    """Parses WebVTT or SRT text into speaker turns.

    Returns:
        ``(units, warnings)``. Without any speaker information each cue is one unit.
    """
    cues, warnings = _cues(text)
    turns: list[list] = []  # [speaker, [texts], timestamp]
    any_speaker = False
    for start, body in cues:
        speaker, content = _speaker_of(body)
        content = squash(content.replace("\n", " "))
        if not content:
            continue
        any_speaker = any_speaker or bool(speaker)
        if turns and speaker and turns[-1][0] == speaker:
            turns[-1][1].append(content)
        elif turns and not speaker and any_speaker:
            # a cue without a tag continues the running speaker's turn
            turns[-1][1].append(content)
        else:
            turns.append([speaker, [content], normalise_timestamp(start.replace(",", "."))])
    if not any_speaker and turns:
        warnings.append("no speaker labels found; each cue is one unit")
    units = []
    for speaker, texts, ts in turns:
        is_int = speaker in interviewer or speaker in INTERVIEWER_LABELS or _base(speaker) in INTERVIEWER_LABELS
        units.append(Unit(text=" ".join(texts), speaker=speaker, timestamp=ts, is_interviewer=is_int))
    return units, warnings
