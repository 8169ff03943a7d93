"""REFI-QDA projects (``.qdpx``): export a coded run, import real projects.

Export: every document's normalised full text becomes ``sources/<guid>.txt`` (UTF-8), every
coding a ``PlainTextSelection`` with code-point offsets into it, by default over the whole
coding unit (the speaker turn or the answer; ``segments="sentence"`` or ``"evidence"`` for
less). The run is one ``User``; documents are ``Cases`` with their metadata as ``Variables``.
GUIDs are uuid5 of the IDs, so re-exports are byte-identical.

How the run's units travel, so that an import gives back exactly the run's units:

* each ``TextSource``'s ``<Description>`` ends with a ``[qda:units]`` block: the columns and
  rows of the segments table for that document (segment ID, unit number, offsets, speaker,
  interviewer flag, question, …; not the text, which is the source itself);
* each selection is named by its unit's ``segment_id``, and its ``<Description>`` says in
  words which passage fired (evidence, pattern, method, score) and ends with a
  ``[qda:coding]`` block holding the run's coding row.

Import: the codebook, the sources' plain text (BOM removed, CRLF kept as in the file so the
offsets stay right), and the codings per user. Units are the run's units where the
``[qda:units]`` block is there; otherwise blocks separated by blank lines (qda's own layout) or,
in a text without blank lines, lines, with a leading ``Label:`` used by two or more units
taken as the speaker. A selection is mapped to its unit by its name when that is a unit's ID,
else to every unit it overlaps. Missing media files are reported, not fatal. Zip entries are
checked (no paths outside the target, size limits); XML is parsed with ``defusedxml``.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from pipeline.codebook.exchange import codebook_set_xml, codes_xml, import_refi
from pipeline.codebook.serialize import GUID_NAMESPACE, code_guid, data_block, split_blocks
from pipeline.errors import InputError, QdaError

NS = "urn:QDA-XML:project:1.0"
MAX_ENTRY = 200 * 1024 * 1024
MAX_TOTAL = 2 * 1024 * 1024 * 1024
MAX_RATIO = 200  # unpacked ÷ packed: beyond this an entry is treated as a zip bomb
SEGMENT_MODES = ("unit", "sentence", "evidence")
# columns of the segments table that describe a unit (the rest are the document's metadata)
UNIT_COLUMNS = ("segment_id", "doc_id", "source", "kind", "unit", "speaker", "is_interviewer", "start_char", "end_char", "timestamp",
                "text", "flag", "code_scope", "question")
CODING_COLUMNS = ["segment_id", "code", "start_char", "end_char", "evidence", "method", "pattern", "score", "user"]


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(parts)))


def qdpx_path(path: Path | str) -> Path:
    """``path`` with ``.qdpx`` appended when it has another or no extension (``beispiel`` →
    ``beispiel.qdpx``; ``runde.2`` → ``runde.2.qdpx``)."""
    path = Path(path)
    return path if path.suffix.lower() == ".qdpx" else path.with_name(path.name + ".qdpx")


def _split_metadata(segments: pd.DataFrame) -> tuple[list[str], list[str]]:
    """``(document-level metadata columns, unit-level columns)``: a metadata column whose value
    differs between units of one document travels with the units, not as a case variable."""
    meta = [c for c in segments.columns if c not in UNIT_COLUMNS]
    per_doc = segments.groupby("doc_id", sort=False)[meta].nunique(dropna=False) if meta else pd.DataFrame()
    varying = [c for c in meta if (per_doc[c] > 1).any()]
    unit_cols = [c for c in segments.columns if c not in ("doc_id", "text") and (c in UNIT_COLUMNS or c in varying)]
    return [c for c in meta if c not in varying], unit_cols


def _json_value(v):
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _selection_span(row, unit: tuple[int, int], mode: str, sentences) -> tuple[int, int]:
    """The coded span of one coding under ``mode`` (unit / sentence / evidence)."""
    if mode == "unit":
        return unit
    s, e = int(row.start_char), int(row.end_char)
    if mode == "evidence":
        return s, e
    for a, b in sentences(str(row.segment_id)):
        if a <= s < b:
            s = a
        if a < e <= b:
            e = b
    return s, e


def _selection_description(row, mode: str) -> str:
    """Readable note on the coding (evidence, pattern, method, score) and its data block."""
    words = [f"Code: {row.code}"]
    if row.method == "model":
        words.append(f"vom Modell vorgeschlagen (Wahrscheinlichkeit {float(row.score):.2f})")
    else:
        words.append(f"Fundstelle: „{row.evidence}“" + (f" (Muster: {row.pattern})" if row.pattern else ""))
    data = {k: _json_value(getattr(row, k)) for k in ("segment_id", "code", "start_char", "end_char", "evidence", "method", "pattern", "score")}
    data["start_char"], data["end_char"] = int(data["start_char"]), int(data["end_char"])
    return "\n".join(words) + "\n\n" + data_block("coding", data)


def export_project(segments: pd.DataFrame, codings: pd.DataFrame, codebook, path: Path, *, project_name: str, user: str = "qda",
                   segments_mode: str = "unit", sentences=None) -> dict:
    """Writes ``path`` (.qdpx).

    Args:
        segments, codings: the run's tables (offsets as int).
        segments_mode: what a coding marks: ``unit`` (the whole turn or answer, the codebook's
            coding unit), ``sentence`` (the sentences holding the evidence) or ``evidence``.
        sentences: for ``sentence``: a function segment_id → list of (start, end) document
            offsets of the unit's sentences.

    Returns:
        Counts for the summary: sources, codings, codes.

    Raises:
        QdaError: an unknown ``segments_mode``, or ``sentence`` without ``sentences``.
    """
    from pipeline.ingest import document_texts

    if segments_mode not in SEGMENT_MODES or (segments_mode == "sentence" and sentences is None):
        raise QdaError(f"unknown segments mode {segments_mode!r}; use one of {', '.join(SEGMENT_MODES)}")
    texts = document_texts(segments)
    doc_of = dict(zip(segments["segment_id"].astype(str), segments["doc_id"].astype(str)))
    span_of = {str(r.segment_id): (int(r.start_char), int(r.end_char)) for r in segments.itertuples(index=False)}
    user_guid = _guid("user", user)
    doc_cols, unit_cols = _split_metadata(segments)
    doc_meta: dict[str, dict[str, str]] = {}
    for r in segments[["doc_id", *doc_cols]].itertuples(index=False):
        d = doc_meta.setdefault(str(r[0]), {})
        for c, v in zip(doc_cols, r[1:]):
            v = "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            if v and c not in d:
                d[c] = v
    var_guid = {c: _guid("variable", c) for c in doc_cols}
    by_doc: dict[str, list] = {}
    known = codings[codings["code"].astype(str).isin(codebook.codes)]
    for r in known.itertuples(index=False):
        by_doc.setdefault(doc_of.get(str(r.segment_id), ""), []).append(r)
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<Project xmlns="{NS}" name={quoteattr(project_name)} origin="qda" creatingUserGUID="{user_guid}">',
             "  <Users>", f'    <User guid="{user_guid}" name={quoteattr(user)}/>', "  </Users>",
             "  <CodeBook>", *codes_xml(codebook, indent="    "), "  </CodeBook>"]
    if doc_cols:
        lines.append("  <Variables>")
        lines += [f'    <Variable guid="{var_guid[c]}" name={quoteattr(c)} typeOfVariable="Text"/>' for c in doc_cols]
        lines.append("  </Variables>")
    doc_ids = list(dict.fromkeys(segments["doc_id"].astype(str)))
    src_guid = {d: _guid("source", d) for d in doc_ids}
    lines.append("  <Cases>")
    for d in doc_ids:
        lines.append(f'    <Case guid="{_guid("case", d)}" name={quoteattr(d)}>')
        for c, v in doc_meta.get(d, {}).items():
            lines.append(f'      <VariableValue><VariableRef targetGUID="{var_guid[c]}"/><TextValue>{escape(v)}</TextValue></VariableValue>')
        lines.append(f'      <SourceRef targetGUID="{src_guid[d]}"/>')
        lines.append("    </Case>")
    lines.append("  </Cases>")
    lines.append("  <Sources>")
    n_sel = 0
    units_by_doc = {d: g for d, g in segments.groupby(segments["doc_id"].astype(str), sort=False)}
    code_order = {c: i for i, c in enumerate(codebook.codes)}
    for d in doc_ids:
        lines.append(f'    <TextSource guid="{src_guid[d]}" name={quoteattr(d)} plainTextPath="internal://{src_guid[d]}.txt" creatingUser="{user_guid}">')
        units = units_by_doc[d]
        unit_block = {"columns": unit_cols, "rows": [[_json_value(v) for v in row] for row in units[unit_cols].itertuples(index=False)]}
        desc = f"{len(units)} Kodiereinheiten (Sprecherbeiträge bzw. Antworten), von qda exportiert\n\n" + data_block("units", unit_block)
        lines.append(f"      <Description>{escape(desc)}</Description>")
        for r in sorted(by_doc.get(d, []), key=lambda r: (span_of[str(r.segment_id)], code_order[str(r.code)])):
            s, e = _selection_span(r, span_of[str(r.segment_id)], segments_mode, sentences)
            sel = _guid("selection", d, str(r.segment_id), str(r.code))
            lines.append(f'      <PlainTextSelection guid="{sel}" name={quoteattr(str(r.segment_id))} startPosition="{s}" endPosition="{e}" '
                         f'creatingUser="{user_guid}">')
            lines.append(f"        <Description>{escape(_selection_description(r, segments_mode))}</Description>")
            lines.append(f'        <Coding guid="{_guid("coding", sel)}" creatingUser="{user_guid}"><CodeRef targetGUID="{code_guid(codebook.name, codebook.codes[str(r.code)])}"/></Coding>')
            lines.append("      </PlainTextSelection>")
            n_sel += 1
        lines.append("    </TextSource>")
    lines.append("  </Sources>")
    lines += codebook_set_xml(codebook, indent="  ")
    lines.append("</Project>")
    _write_zip(path, "\n".join(lines) + "\n", [(f"sources/{src_guid[d]}.txt", texts[d]) for d in doc_ids])
    return {"sources": len(doc_ids), "codings": n_sel, "codes": len(codebook.codes), "skipped": len(codings) - len(known)}


def _write_zip(path: Path, xml: str, sources: list[tuple[str, str]]) -> None:
    tmp = Path(str(path) + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data in [("project.qde", xml), *sources]:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed: identical runs give identical files
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data.encode("utf-8"))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def sentence_spans(segments: pd.DataFrame, segment_ids: set[str], nlp_name: str | None = None):
    """A function segment_id → the unit's sentences as document offsets, for the units in
    ``segment_ids`` (split by the German pipeline's sentencizer)."""
    from pipeline.nlp import load_nlp

    nlp = load_nlp(nlp_name)
    rows = segments[segments["segment_id"].astype(str).isin(segment_ids)]
    spans: dict[str, list[tuple[int, int]]] = {}
    for r, doc in zip(rows.itertuples(index=False), nlp.pipe(rows["text"].astype(str).tolist())):
        base = int(r.start_char)
        spans[str(r.segment_id)] = [(base + s.start_char, base + s.end_char) for s in doc.sents]
    return lambda sid: spans.get(sid, [])


# --- import -----------------------------------------------------------------------------------

@dataclass
class ImportedProject:
    segments: pd.DataFrame
    codings: pd.DataFrame  # segment_id, code, start_char, end_char, evidence, method, pattern, score, user
    codebook: object
    users: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    selections: int = 0
    codings_in_file: int = 0
    own_units: bool = False  # units came from qda's [qda:units] blocks


def _safe_zip(path: Path) -> zipfile.ZipFile:
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(path, "is not a valid .qdpx (zip) file", "export the project again from your QDA tool")
    total = 0
    for info in z.infolist():
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in Path(name).parts or re.match(r"^[A-Za-z]:", name):
            raise InputError(path, f"zip entry {name!r} points outside the project", "refusing to read it; export the project again")
        total += info.file_size
        if info.file_size > MAX_ENTRY or (info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO and info.file_size > 10 * 1024 * 1024):
            raise InputError(path, f"zip entry {name!r} unpacks to {info.file_size} bytes (a zip bomb?)", "refusing to read it")
    if total > MAX_TOTAL:
        raise InputError(path, f"unpacks to {total} bytes, over the {MAX_TOTAL} byte limit", "refusing to read it")
    return z


def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _description(el) -> str:
    d = next((e for e in el if _local(e) == "Description"), None)
    return d.text or "" if d is not None else ""


_LABEL = re.compile(r"^([^\s:][^\n:]{0,39}):[ \t]+")


def _paragraphs(content: str) -> list[tuple[int, int]]:
    """Units of a text without qda's unit map: blocks separated by blank lines, or lines when
    the text has no blank line between paragraphs."""
    if re.search(r"\n[ \t\r]*\n", content):
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S(?:.|\n(?![ \t\r]*\n))*", content)]
    else:
        spans = [(m.start(), m.end()) for m in re.finditer(r"[^\r\n]+", content) if m.group().strip()]
    return [(s, len(content[:e].rstrip()) if content[s:e].strip() else e) for s, e in spans]


def _fallback_units(doc_id: str, content: str, labels: Counter, source: str) -> list[dict]:
    """Units by position: paragraphs, a ``Label:`` that opens two or more units as the speaker."""
    from pipeline.ingest.transcript import INTERVIEWER_LABELS

    rows = []
    for i, (s, e) in enumerate(_paragraphs(content), 1):
        m = _LABEL.match(content[s:e])
        speaker = ""
        if m and labels[m.group(1)] >= 2:
            speaker = m.group(1)
            s += m.end()
        rows.append({"segment_id": f"{doc_id}:{i}", "doc_id": doc_id, "source": source, "kind": "interview", "unit": i, "speaker": speaker,
                     "is_interviewer": re.sub(r"[\s_]*\d+$", "", speaker) in INTERVIEWER_LABELS, "start_char": s, "end_char": e,
                     "timestamp": "", "text": content[s:e], "flag": ""})
    return rows


def _own_units(doc_id: str, content: str, block: dict) -> list[dict]:
    """The run's units of one document from its ``[qda:units]`` block."""
    rows = []
    for values in block["rows"]:
        r = dict(zip(block["columns"], values))
        s, e = int(r["start_char"]), int(r["end_char"])
        rows.append({**r, "doc_id": doc_id, "text": content[s:e]})
    return rows


def _read_project(path: Path) -> tuple[bytes, dict[str, bytes]]:
    files: dict[str, bytes] = {}
    if not zipfile.is_zipfile(path):
        return path.read_bytes(), files
    z = _safe_zip(path)
    names = [n for n in z.namelist() if n.lower().endswith(".qde")]
    xml = z.read("project.qde" if "project.qde" in names else names[0])
    for n in z.namelist():
        if n.lower().startswith("sources/") and n.lower().endswith(".txt"):
            files[n.split("/", 1)[1].lower()] = z.read(n)
    return xml, files


def _source_text(src, files: dict[str, bytes]) -> str | None:
    inline = next((e for e in src if _local(e) == "PlainTextContent"), None)
    if inline is not None and inline.text:
        return inline.text
    ptp = (src.get("plainTextPath") or "").replace("internal://", "").lower()
    if ptp and ptp in files:
        return files[ptp].decode("utf-8-sig", errors="replace")
    return None


def _case_metadata(root) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Case variables per source GUID, and the variable names in file order."""
    names = {}
    for el in root.iter():
        if _local(el) == "Variable":
            names[(el.get("guid") or "").strip("{}").lower()] = el.get("name") or ""
    by_source: dict[str, dict[str, str]] = {}
    for case in root.iter():
        if _local(case) != "Case":
            continue
        values = {}
        for vv in case:
            if _local(vv) != "VariableValue":
                continue
            ref = next((e for e in vv if _local(e) == "VariableRef"), None)
            val = next((e for e in vv if _local(e) != "VariableRef"), None)
            if ref is not None:
                values[names.get((ref.get("targetGUID") or "").strip("{}").lower(), "")] = (val.text or "") if val is not None else ""
        for ref in case:
            if _local(ref) == "SourceRef":
                by_source.setdefault((ref.get("targetGUID") or "").strip("{}").lower(), {}).update(values)
    return by_source, [n for n in names.values() if n]


class _Codings:
    """Collects the coding rows of one project."""

    def __init__(self, codebook, users: dict[str, str]):
        self.code_by_guid = {str(c.extra.get("guid", "")).lower(): c.id for c in codebook.codes.values()}
        for c in codebook.codes.values():  # our own export: GUIDs qda made itself
            self.code_by_guid.setdefault(code_guid(codebook.name, c).lower(), c.id)
        self.users = users
        self.rows: list[dict] = []
        self.warnings: list[str] = []
        self.selections = 0
        self.codings = 0

    def read_source(self, src, name: str, content: str, units: list[dict]) -> None:
        ids = {str(u["segment_id"]) for u in units}
        for sel in src.iter():
            if _local(sel) != "PlainTextSelection":
                continue
            self.selections += 1
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            block = split_blocks(_description(sel))[1].get("coding")
            own = sel.get("name") if sel.get("name") in ids else None
            for coding in sel:
                ref = next((r for r in coding if _local(r) == "CodeRef"), None) if _local(coding) == "Coding" else None
                if ref is None:
                    continue
                self.codings += 1
                code = self.code_by_guid.get((ref.get("targetGUID") or "").strip("{}").lower())
                user = self.users.get((coding.get("creatingUser") or sel.get("creatingUser") or "").strip("{}").lower(), "unbekannt")
                if code is None:
                    self.warnings.append(f"{name}: a coding refers to an unknown code {ref.get('targetGUID')}")
                    continue
                if own and isinstance(block, dict) and block.get("segment_id") == own:
                    self.rows.append({**{k: block.get(k, "") for k in CODING_COLUMNS[:-1]}, "code": code, "user": user})
                    continue
                targets = [own] if own else [str(u["segment_id"]) for u in units if int(u["start_char"]) < e and s < int(u["end_char"])]
                for sid in targets:
                    self.rows.append({"segment_id": sid, "code": code, "start_char": s, "end_char": e, "evidence": content[s:e][:300],
                                      "method": "import", "pattern": "", "score": 1.0, "user": user})


def import_project(path: Path | str) -> ImportedProject:
    """Reads a real ``.qdpx`` (or a ``.qde`` whose sources are missing: reported).

    Raises:
        InputError: not a project, unsafe zip entries, or no text source with its text.
    """
    from defusedxml import ElementTree as DET

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "check the path")
    codebook, problems = import_refi(path)
    xml, files = _read_project(path)
    root = DET.fromstring(xml)
    users = {(el.get("guid") or "").strip("{}").lower(): el.get("name") or el.get("guid") for el in root.iter() if _local(el) == "User"}
    meta, var_names = _case_metadata(root)
    codings = _Codings(codebook, users)
    codings.warnings += [str(p) for p in problems if p.level == "error"]
    sources, missing = [], []
    for src in (el for el in root.iter() if _local(el) == "TextSource"):
        name = src.get("name") or src.get("guid")
        content = _source_text(src, files)
        if content is None:
            missing.append(name)
        else:
            sources.append((src, name, content))
    labels = Counter(m.group(1) for _, _, content in sources for s, e in _paragraphs(content) if (m := _LABEL.match(content[s:e])))
    seg_rows, own_units = [], True
    for src, name, content in sources:
        doc_id = re.sub(r"\.(docx?|txt|pdf|rtf)$", "", name, flags=re.I)
        block = split_blocks(_description(src))[1].get("units")
        if isinstance(block, dict) and {"columns", "rows"} <= set(block) and {"segment_id", "start_char", "end_char"} <= set(block["columns"]):
            units = _own_units(doc_id, content, block)
        else:
            units, own_units = _fallback_units(doc_id, content, labels, str(path)), False
        doc_meta = meta.get((src.get("guid") or "").strip("{}").lower(), {})
        seg_rows += [{**u, **{v: doc_meta.get(v, "") for v in var_names if v not in u}} for u in units]
        codings.read_source(src, name, content, units)
    if missing:
        codings.warnings.append(f"{len(missing)} source(s) without text in the file (media or missing files), skipped: {', '.join(missing[:5])}")
    if not seg_rows:
        why = f" ({len(missing)} source(s) refer to files that are not in it)" if missing else ""
        raise InputError(path, f"contains no text sources with their text{why}", "export the project with its sources (plain text) included")
    segs = _order_columns(pd.DataFrame(seg_rows))
    cods = pd.DataFrame(codings.rows, columns=CODING_COLUMNS)
    return ImportedProject(segs, cods, codebook, users, codings.warnings, codings.selections, codings.codings, own_units and bool(sources))


def _order_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The segments contract's order (as ``qda ingest`` writes it), then metadata by name."""
    from pipeline.ingest.common import SEGMENT_COLUMNS

    standard = [c for c in SEGMENT_COLUMNS if c in frame.columns]
    rest = sorted(c for c in frame.columns if c not in standard)
    return frame[standard + rest]
