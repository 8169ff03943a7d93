"""WebVTT and SRT from speech recognition, read leniently.

Speech-recognition exports split one speaker's turn over many cues; consecutive cues of the
same speaker merge into one turn. Speakers come from WebVTT voice tags (``<v Sprecher 1>``)
or a ``Sprecher 1:`` / ``[Sprecher 1]`` prefix in the cue text. What cannot be read (a stray
line, a cue without a time line) is skipped with a warning, never silently.
"""

from __future__ import annotations

import html
import re

from pipeline.errors import InputError
from pipeline.ingest.common import Unit, squash
from pipeline.ingest.transcript import is_interviewer_label, normalise_timestamp

_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_CUE_TIME = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s+.*)?$")
_TIME_PARTS = re.compile(r"(?:(\d+):)?(\d+):(\d+)[.,](\d+)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d{1,2}:\d{2}[^>]*>")
# [SPEAKER_00]: text | [Sprecher 1] text | SPEAKER_00: text | Frau Meier: text
_PREFIX = re.compile(r"^\s*(?:\[(?P<b>[^\]]{1,30})\]\s*:?|(?P<p>[A-ZÄÖÜ][\wÄÖÜäöüß.\-]*(?: [\wÄÖÜäöüß.\-]+){0,2}?)\s*:)\s*(?P<rest>.*)$", re.S)
_SPEAKERISH = re.compile(r"^(Sprecher(?:in)?|Speaker|SPEAKER|Teilnehmer(?:in)?|Person|S|I|B|Interviewer(?:in)?|Befragte[r]?)[\s_]*\d*$|^[A-ZÄÖÜ][a-zäöüß]+(?: [A-ZÄÖÜ][a-zäöüß]+)?$")


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks as ``(line number of their first line, lines)``."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for no, line in enumerate(text.split("\n"), 1):
        if line.strip():
            if not current:
                blocks.append((no, current))
            current.append(line)
        elif current:
            current = []
    return blocks


def _seconds(stamp: str, cue: int, line: int, source: str) -> float:
    """``01:02:03,500`` → seconds; minutes or seconds of 60 and more are refused."""
    hours, minutes, secs, frac = _TIME_PARTS.fullmatch(stamp.strip()).groups()
    if int(minutes) >= 60 or int(secs) >= 60:
        raise InputError(
            source, f"impossible time {stamp.strip()!r} (minutes and seconds run from 00 to 59)",
            "correct the time line in the subtitle file or export it again", where=f"cue {cue}, line {line}",
        )
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + int(frac) / 10 ** len(frac)


def _check_times(match: re.Match, cue: int, line: int, source: str) -> None:
    start = _seconds(match.group("start"), cue, line, source)
    end = _seconds(match.group("end"), cue, line, source)
    if end < start:
        raise InputError(
            source, f"the cue ends ({match.group('end')}) before it starts ({match.group('start')})",
            "correct the time line in the subtitle file or export it again", where=f"cue {cue}, line {line}",
        )


def _cues(text: str, source: str = "") -> tuple[list[tuple[str, str]], list[str]]:
    """Returns ``(cues, warnings)``; a cue is ``(start_time, text)``.

    Raises:
        InputError: a time line with an impossible time or ending before it starts.
    """
    cues: list[tuple[str, str]] = []
    warnings: list[str] = []
    cue_no = 0
    for bno, (first_line, lines) in enumerate(_blocks(text), 1):
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
        cue_no += 1
        number = lines[t_idx - 1].strip() if t_idx and lines[t_idx - 1].strip().isdigit() else str(cue_no)
        timing = _CUE_TIME.match(lines[t_idx])
        _check_times(timing, int(number), first_line + t_idx, source)
        start = timing.group("start")
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


def parse_subtitles(
    text: str, *, interviewer: frozenset[str] | set[str] = frozenset(), source: str = "",
) -> tuple[list[Unit], list[str]]:
    """Parses WebVTT or SRT text into speaker turns.

    Args:
        text: the normalised subtitle text.
        interviewer: labels to treat as the interviewer.
        source: the file name, for error messages.

    Returns:
        ``(units, warnings)``. Without any speaker information each cue is one unit.

    Raises:
        InputError: a cue's time is impossible (minute 75, end before start); names the cue.
    """
    cues, warnings = _cues(text, source)
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
        units.append(Unit(text=" ".join(texts), speaker=speaker, timestamp=ts, is_interviewer=is_interviewer_label(speaker, interviewer)))
    return units, warnings
