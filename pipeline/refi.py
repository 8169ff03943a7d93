"""REFI-QDA projects (``.qdpx``): export a coded run, import real projects.

Export: every document's normalised full text becomes ``sources/<guid>.txt`` (UTF-8), every
coding a ``PlainTextSelection`` with code-point offsets into it, the coder a ``User`` (rule
codings and model codings as two users), documents ``Cases`` with their metadata as
``Variables``. GUIDs are uuid5 of the IDs, so re-exports are stable.

Import: the codebook, the sources' plain text (BOM removed, CRLF kept as in the file so the
offsets stay right), and the codings per user. Units are the sources' paragraphs; a unit gets
a user's code when one of the user's selections with that code overlaps it. Missing media
files are reported, not fatal. Zip entries are checked (no paths outside the target, size
limits); XML is parsed with ``defusedxml``.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from pipeline.codebook.exchange import codes_xml, import_refi
from pipeline.codebook.serialize import GUID_NAMESPACE, code_guid
from pipeline.errors import InputError

NS = "urn:QDA-XML:project:1.0"
MAX_ENTRY = 200 * 1024 * 1024
MAX_TOTAL = 2 * 1024 * 1024 * 1024
MAX_RATIO = 200  # unpacked ÷ packed: beyond this an entry is treated as a zip bomb


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(parts)))


def export_project(segments: pd.DataFrame, codings: pd.DataFrame, codebook, path: Path, *, project_name: str, user: str = "qda") -> dict:
    """Writes ``path`` (.qdpx). Returns counts for the summary."""
    from pipeline.ingest import document_texts

    texts = document_texts(segments)
    doc_of = dict(zip(segments["segment_id"].astype(str), segments["doc_id"].astype(str)))
    users = {"rule": (_guid("user", user, "rule"), f"{user} (Regeln)"), "model": (_guid("user", user, "model"), f"{user} (Modell)")}
    meta_cols = [c for c in segments.columns if c not in {"segment_id", "doc_id", "source", "kind", "unit", "speaker", "is_interviewer", "start_char",
                                                           "end_char", "timestamp", "text", "flag", "code_scope", "question"}]
    doc_meta: dict[str, dict[str, str]] = {}
    for r in segments.itertuples(index=False):
        d = doc_meta.setdefault(str(r.doc_id), {})
        for c in meta_cols:
            v = str(getattr(r, c) or "")
            if v and c not in d:
                d[c] = v
    var_guid = {c: _guid("variable", c) for c in meta_cols}
    by_doc: dict[str, list] = {}
    for r in codings.itertuples(index=False):
        by_doc.setdefault(doc_of.get(str(r.segment_id), ""), []).append(r)
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<Project xmlns="{NS}" name={quoteattr(project_name)} origin="qda" creatingUserGUID="{users["rule"][0]}">',
             "  <Users>"]
    lines += [f'    <User guid="{g}" name={quoteattr(n)}/>' for g, n in users.values()]
    lines.append("  </Users>")
    lines.append("  <CodeBook>")
    lines += codes_xml(codebook, indent="    ")
    lines.append("  </CodeBook>")
    if meta_cols:
        lines.append("  <Variables>")
        lines += [f'    <Variable guid="{var_guid[c]}" name={quoteattr(c)} typeOfVariable="Text"/>' for c in meta_cols]
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
    for d in doc_ids:
        lines.append(f'    <TextSource guid="{src_guid[d]}" name={quoteattr(d)} plainTextPath="internal://{src_guid[d]}.txt" creatingUser="{users["rule"][0]}">')
        for r in sorted(by_doc.get(d, []), key=lambda r: (int(r.start_char), int(r.end_char), str(r.code))):
            ug = users.get(str(r.method), users["rule"])[0]
            sel = _guid("selection", d, str(r.segment_id), str(r.code))
            code = codebook.codes.get(str(r.code))
            if code is None:
                continue
            lines.append(f'      <PlainTextSelection guid="{sel}" name={quoteattr(str(r.evidence)[:60])} startPosition="{int(r.start_char)}" '
                         f'endPosition="{int(r.end_char)}" creatingUser="{ug}">')
            lines.append(f'        <Coding guid="{_guid("coding", sel)}" creatingUser="{ug}"><CodeRef targetGUID="{code_guid(codebook.name, code)}"/></Coding>')
            lines.append("      </PlainTextSelection>")
            n_sel += 1
        lines.append("    </TextSource>")
    lines.append("  </Sources>")
    lines.append("</Project>")
    xml = "\n".join(lines) + "\n"
    tmp = Path(str(path) + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in [("project.qde", xml)] + [(f"sources/{src_guid[d]}.txt", texts[d]) for d in doc_ids]:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed: identical runs give identical files
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data.encode("utf-8"))
    tmp.replace(path)
    return {"sources": len(doc_ids), "codings": n_sel, "codes": len(codebook.codes)}


@dataclass
class ImportedProject:
    segments: pd.DataFrame
    codings: pd.DataFrame  # segment_id, code, start_char, end_char, evidence, method, pattern, score, user
    codebook: object
    users: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    selections: int = 0
    codings_in_file: int = 0


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


def import_project(path: Path | str) -> ImportedProject:
    """Reads a real ``.qdpx`` (or a ``.qde`` whose sources are missing: reported)."""
    from defusedxml import ElementTree as DET

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "check the path")
    codebook, problems = import_refi(path)
    warnings = [str(p) for p in problems if p.level == "error"]
    files: dict[str, bytes] = {}
    if zipfile.is_zipfile(path):
        z = _safe_zip(path)
        names = [n for n in z.namelist() if n.lower().endswith(".qde")]
        xml = z.read("project.qde" if "project.qde" in names else names[0])
        for n in z.namelist():
            if n.lower().startswith("sources/") and n.lower().endswith(".txt"):
                files[n.split("/", 1)[1].lower()] = z.read(n)
    else:
        xml = path.read_bytes()
    root = DET.fromstring(xml)

    def local(el):
        return el.tag.rsplit("}", 1)[-1]

    users = {}
    for el in root.iter():
        if local(el) == "User":
            users[(el.get("guid") or "").strip("{}").lower()] = el.get("name") or el.get("guid")
    code_by_guid = {str(c.extra.get("guid", "")).lower(): c.id for c in codebook.codes.values()}
    seg_rows, cod_rows = [], []
    n_sel = 0
    n_codings = 0
    missing = []
    for src in root.iter():
        if local(src) != "TextSource":
            continue
        name = src.get("name") or src.get("guid")
        ptp = (src.get("plainTextPath") or "").replace("internal://", "")
        content = None
        inline = next((e for e in src if local(e) == "PlainTextContent"), None)
        if inline is not None and inline.text:
            content = inline.text
        elif ptp and ptp.lower() in files:
            raw = files[ptp.lower()]
            content = raw.decode("utf-8-sig", errors="replace")
        if content is None:
            missing.append(name)
            continue
        doc_id = re.sub(r"\.(docx?|txt|pdf|rtf)$", "", name, flags=re.I)
        # units: paragraphs (non-empty lines), with their code-point offsets in the source
        units = [(m.start(), m.end()) for m in re.finditer(r"[^\r\n]+", content) if m.group().strip()]
        for i, (s, e) in enumerate(units, 1):
            seg_rows.append({"segment_id": f"{doc_id}:{i}", "doc_id": doc_id, "source": str(path), "kind": "interview", "unit": i, "speaker": "",
                             "is_interviewer": False, "start_char": s, "end_char": e, "timestamp": "", "text": content[s:e], "flag": ""})
        for sel in src.iter():
            if local(sel) != "PlainTextSelection":
                continue
            n_sel += 1
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            for coding in sel:
                if local(coding) != "Coding":
                    continue
                ref = next((r for r in coding if local(r) == "CodeRef"), None)
                if ref is None:
                    continue
                n_codings += 1
                code = code_by_guid.get((ref.get("targetGUID") or "").strip("{}").lower())
                user = users.get((coding.get("creatingUser") or sel.get("creatingUser") or "").strip("{}").lower(), "unbekannt")
                if code is None:
                    warnings.append(f"{name}: a coding refers to an unknown code {ref.get('targetGUID')}")
                    continue
                for i, (us, ue) in enumerate(units, 1):
                    if us < e and s < ue:
                        cod_rows.append({"segment_id": f"{doc_id}:{i}", "code": code, "start_char": s, "end_char": e, "evidence": content[s:e][:300],
                                         "method": "import", "pattern": "", "score": 1.0, "user": user})
    if missing:
        warnings.append(f"{len(missing)} source(s) without text in the file (media or missing files), skipped: {', '.join(missing[:5])}")
    if not seg_rows:
        why = f" ({len(missing)} source(s) refer to files that are not in it)" if missing else ""
        raise InputError(path, f"contains no text sources with their text{why}", "export the project with its sources (plain text) included")
    segs = pd.DataFrame(seg_rows)
    cods = pd.DataFrame(cod_rows, columns=["segment_id", "code", "start_char", "end_char", "evidence", "method", "pattern", "score", "user"])
    return ImportedProject(segs, cods, codebook, users, warnings, n_sel, n_codings)
