"""Codebook exchange: REFI-QDA ``.qdc`` (and the codebook inside ``.qdpx``/``.qde``), and
the spreadsheet layouts of MAXQDA, ATLAS.ti and Taguette.

Mayring's fields travel in the REFI ``<Description>`` (and in the spreadsheet memo) in the
layout of :func:`pipeline.codebook.serialize.description_text`, so a round trip through
another tool keeps definitions, anchor examples, coding rules and patterns. In REFI files each
code's description ends with a ``[qda:code]`` data block holding the code's complete YAML data,
and a ``<Set>`` named after the codebook holds a ``[qda:codebook]`` block with the codebook's
own fields (name, version, description, matching settings …): YAML → .qdc → YAML is lossless.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from pipeline.codebook.load import Problem, codebook_from_data
from pipeline.codebook.model import Codebook
from pipeline.codebook.serialize import (
    GUID_NAMESPACE, code_block_data, code_guid, codebook_block_data, data_block, description_text, merge_edited, parse_description, split_blocks,
)
from pipeline.errors import InputError

NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
LAYOUTS = ("maxqda", "atlasti", "taguette", "qda")
MAX_XML_BYTES = 200 * 1024 * 1024


# --- REFI-QDA ---------------------------------------------------------------------------------

def _code_xml(cb: Codebook, code, indent: str) -> list[str]:
    attrs = f'guid="{code_guid(cb.name, code)}" name={quoteattr(code.label or code.id)} isCodable="{"true" if code.codable else "false"}"'
    if code.color and re.fullmatch(r"#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", code.color):
        attrs += f' color="{code.color}"'
    kids = cb.children(code.id)
    desc = description_text(code) + "\n\n" + data_block("code", code_block_data(cb, code))
    lines = [f"{indent}<Code {attrs}>"]
    lines.append(f"{indent}  <Description>{escape(desc)}</Description>")
    for k in kids:
        lines += _code_xml(cb, k, indent + "  ")
    lines.append(f"{indent}</Code>")
    return lines


def codes_xml(cb: Codebook, indent: str = "  ") -> list[str]:
    """The ``<Codes>`` element (shared by .qdc and the project file of .qdpx)."""
    lines = [f"{indent}<Codes>"]
    for code in (c for c in cb.codes.values() if c.parent is None):
        lines += _code_xml(cb, code, indent + "  ")
    lines.append(f"{indent}</Codes>")
    return lines


def codebook_set_xml(cb: Codebook, indent: str = "  ") -> list[str]:
    """The ``<Sets>`` element holding one set named after the codebook, whose description
    carries the codebook's own fields (readable text and a ``[qda:codebook]`` block). The set
    has no members: it exists for its description (Codebook.xsd has no other place for it)."""
    guid = uuid.uuid5(GUID_NAMESPACE, f"{cb.name}\x1fcodebook")
    readable = f"Kodierleitfaden {cb.name}, Version {cb.version}" + (f"\n\n{cb.description}" if cb.description else "")
    desc = readable + "\n\n" + data_block("codebook", codebook_block_data(cb))
    return [f"{indent}<Sets>", f"{indent}  <Set guid=\"{guid}\" name={quoteattr(f'Kodierleitfaden {cb.name} {cb.version} (qda)')}>",
            f"{indent}    <Description>{escape(desc)}</Description>", f"{indent}  </Set>", f"{indent}</Sets>"]


def export_qdc(cb: Codebook) -> str:
    """A REFI-QDA codebook (valid against Codebook.xsd), with the codebook's own fields in a set."""
    origin = f"qda {cb.name} {cb.version}".strip()
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f'<CodeBook xmlns="{NS_CODEBOOK}" origin={quoteattr(origin)}>']
    lines += codes_xml(cb)
    lines += codebook_set_xml(cb)
    lines.append("</CodeBook>")
    return "\n".join(lines) + "\n"


def _read_refi_xml(path: Path) -> bytes:
    """The XML of a .qdc/.qde, or project.qde (or the only .qde) inside a .qdpx zip."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(path, "file not found", "check the path")
    if suffix == ".qdpx" or zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if n.lower().endswith(".qde")]
                if not names:
                    raise InputError(path, "the .qdpx holds no project file (*.qde)", "export the project again from your QDA tool")
                name = "project.qde" if "project.qde" in names else names[0]
                info = z.getinfo(name)
                if info.file_size > MAX_XML_BYTES:
                    raise InputError(path, f"{name} is {info.file_size} bytes unpacked, over the {MAX_XML_BYTES} byte limit", "this does not look like a real project")
                return z.read(name)
        except zipfile.BadZipFile:
            raise InputError(path, "is not a valid .qdpx (zip) file", "export the project again from your QDA tool")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, "file is empty", "export the codebook again")
    return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return text or "code"


def import_refi(path: Path | str, *, name: str | None = None, version: str | None = None) -> tuple[Codebook, list[Problem]]:
    """Reads the codebook of a ``.qdc``, ``.qdpx`` or ``.qde`` into a Codebook.

    A file written by qda is read back from its data blocks, completely (every field of every
    code and of the codebook); a readable field edited in another tool wins over the block.
    Files of other tools: tolerates upper/lower-case GUIDs, an empty ``<Sets/>``, CRLF in
    descriptions, ATLAS.ti's ``Parent::Child`` names (made a hierarchy where the parent exists).
    IDs are made from the names; the vendor GUID is kept so re-export keeps it.

    Args:
        name, version: override the codebook's name and version (default: from the file's
            ``[qda:codebook]`` block, else its name and version "1").

    Raises:
        InputError: not a REFI-QDA file, or XML that cannot be parsed.
    """
    from defusedxml import ElementTree as DET
    from defusedxml.common import DefusedXmlException

    path = Path(path)
    data = _read_refi_xml(path)
    try:
        root = DET.fromstring(data)
    except DefusedXmlException as exc:
        raise InputError(path, f"refused unsafe XML ({type(exc).__name__}: entity or DTD declarations)", "export the codebook again without DTD")
    except Exception as exc:  # ParseError
        raise InputError(path, f"is not valid XML ({exc})", "export the codebook again from your QDA tool")
    if _local(root.tag) not in ("CodeBook", "Project"):
        raise InputError(path, f"is not a REFI-QDA codebook or project (root element <{_local(root.tag)}>)", "use a .qdc, .qdpx or .qde file")
    codes_el = next((el for el in root.iter() if _local(el.tag) == "Codes"), None)
    if codes_el is None:
        raise InputError(path, "contains no <Codes>", "export the codebook again with its codes")
    meta = _codebook_block(root)
    codes = _CodeTree().read(codes_el)
    if not codes:
        raise InputError(path, "contains no codes", "export the codebook again with its codes")
    cb_name = (name or meta.get("name") or root.get("name") or root.get("origin") or path.stem).strip() or path.stem

    def clean(entry: dict) -> dict:
        out = {k: v for k, v in entry.items() if not k.startswith("_") and v not in (None, [])}
        if out.get("guid") and out["guid"] == str(uuid.uuid5(GUID_NAMESPACE, f"{cb_name}\x1f{out['id']}")):
            out.pop("guid")  # the GUID qda would give the code anyway: nothing to keep
        if entry["children"]:
            out["children"] = [clean(c) for c in entry["children"]]
        else:
            out.pop("children", None)
        if not out.get("definition"):
            out.pop("definition", None)
        return out

    data_dict = {"language": "de", **meta, "name": cb_name, "version": version or meta.get("version") or "1", "codes": [clean(c) for c in codes]}
    return codebook_from_data(data_dict, source=str(path), require_definitions=False)


def _codebook_block(root) -> dict:
    """The ``[qda:codebook]`` block of the first set that has one (a qda export), else {}."""
    for el in root.iter():
        if _local(el.tag) != "Set":
            continue
        desc = next((d for d in el if _local(d.tag) == "Description"), None)
        block = split_blocks(desc.text if desc is not None and desc.text else "")[1].get("codebook")
        if isinstance(block, dict):
            return {k: v for k, v in block.items() if k != "codes"}
    return {}


class _CodeTree:
    """Builds the nested code entries of a ``<Codes>`` element (IDs unique, hierarchy from
    nesting and from ATLAS.ti's ``Parent::Child`` names)."""

    def __init__(self):
        self.used: set[str] = set()
        self.by_name: dict[str, dict] = {}
        self.roots: list[dict] = []

    def unique(self, cid: str) -> str:
        base, n = cid, 2
        while cid in self.used:
            cid = f"{base}_{n}"
            n += 1
        self.used.add(cid)
        return cid

    def read(self, codes_el) -> list[dict]:
        self._walk(codes_el, None)
        # ATLAS.ti writes hierarchy into names: "Coke::diet Coke" belongs under "Coke"
        for cname, entry in list(self.by_name.items()):
            if "::" in cname and entry["_parent"] is None and not entry["_own"]:
                parent = self.by_name.get(cname.rsplit("::", 1)[0].strip())
                if parent is not None and parent is not entry:
                    self.roots.remove(entry)
                    self.used.discard(entry["id"])
                    entry["id"] = self.unique(f"{parent['id']}.{_slug(entry['label'])}")
                    entry["_parent"] = parent
                    parent["children"].append(entry)
                    _reparent_ids(entry, self.used)
        return self.roots

    def _walk(self, el, parent: dict | None) -> None:
        for child in el:
            if _local(child.tag) != "Code":
                continue
            cname = (child.get("name") or "").strip() or "Code"
            desc_el = next((d for d in child if _local(d.tag) == "Description"), None)
            readable, blocks = split_blocks(desc_el.text if desc_el is not None and desc_el.text else "")
            block = blocks.get("code")
            if isinstance(block, dict) and block.get("id"):
                entry = self._own_entry(child, cname, block, readable)
            else:
                entry = self._foreign_entry(child, cname, readable, parent)
            entry.update({"guid": (child.get("guid") or "").strip("{}").lower() or None, "_name": cname, "_parent": parent, "children": []})
            (parent["children"] if parent else self.roots).append(entry)
            self.by_name[cname] = entry
            self._walk(child, entry)

    def _own_entry(self, el, cname: str, block: dict, readable: str) -> dict:
        """A code exported by qda: its block, with what another tool may have changed (the
        readable fields, the name, codability, colour) taken over."""
        entry = merge_edited({k: v for k, v in block.items() if k not in ("children", "guid")}, readable)
        entry["id"] = self.unique(str(entry["id"]))
        entry["_own"] = True
        if cname != (entry.get("label") or entry["id"]):
            entry["label"] = cname
        codable = (el.get("isCodable") or "true").strip().lower() != "false"
        if codable != (entry.get("codable", True) is not False):
            entry["codable"] = codable
        color = el.get("color")
        if color and re.fullmatch(r"#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", color) and color.lower() != str(entry.get("color", "")).lower():
            entry["color"] = color
        return entry

    def _foreign_entry(self, el, cname: str, readable: str, parent: dict | None) -> dict:
        """A code from another tool (or an older qda export): fields from the readable layout."""
        parsed = parse_description(readable)
        own = bool(parsed.get("id"))  # an older qda export: the name is the label as written
        slug = parsed.get("id") or ((parent["id"] + "." if parent else "") + _slug(cname.split("::")[-1]))
        entry = {
            "id": self.unique(slug),
            "label": cname if own else (cname.split("::")[-1].strip() if "::" in cname else cname),
            "_own": own,
            "codable": (el.get("isCodable") or "true").strip().lower() != "false",
        }
        for key in ("definition", "anchor_examples", "coding_rules", "include", "exclude"):
            if key in parsed:
                entry[key] = parsed[key]
        if parsed.get("codable") is False:
            entry["codable"] = False
        color = el.get("color")
        if color and re.fullmatch(r"#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", color):
            entry["color"] = color
        return entry


def _reparent_ids(entry: dict, used: set[str]) -> None:
    for child in entry["children"]:
        used.discard(child["id"])
        cid = f"{entry['id']}.{child['id'].rsplit('.', 1)[-1]}"
        while cid in used:
            cid += "_2"
        used.add(cid)
        child["id"] = cid
        _reparent_ids(child, used)


# --- spreadsheets -------------------------------------------------------------------------------

def _label_path(cb: Codebook, code, sep: str) -> str:
    names = []
    c = code
    while c is not None:
        names.append(c.label or c.id)
        c = cb.codes.get(c.parent) if c.parent else None
    return sep.join(reversed(names))


def codebook_table(cb: Codebook, layout: str) -> pd.DataFrame:
    """The codebook as the table a tool imports.

    * maxqda: ``Code`` (levels joined by ``\\``) and ``Memo`` (MAXQDA's "import codes and memos
      from Excel");
    * atlasti: ``Code`` (levels joined by ``::``, as ATLAS.ti names sub-codes), ``Comment``,
      ``Code Groups`` (the dimension);
    * taguette: ``tag`` (the code ID; Taguette's tag path) and ``description``;
    * qda: every field in its own column (lists joined by line breaks, patterns as YAML).
    """
    rows = []
    for code in cb.codes.values():
        # the memo carries ID and label, so a round trip does not depend on path separators
        desc = description_text(code, with_label=True)
        if layout == "maxqda":
            rows.append({"Code": _label_path(cb, code, "\\"), "Memo": desc})
        elif layout == "atlasti":
            dim = cb.codes.get(code.dimension)
            rows.append({"Code": _label_path(cb, code, "::"), "Comment": desc, "Code Groups": dim.label if dim else code.dimension})
        elif layout == "taguette":
            rows.append({"tag": code.id, "description": desc})
        elif layout == "qda":
            rows.append({
                "id": code.id, "parent": code.parent or "", "label": code.label, "codable": code.codable,
                "definition": code.definition, "anchor_examples": "\n".join(code.anchor_examples),
                "coding_rules": "\n".join(code.coding_rules),
                "include": "\n".join(p if isinstance(p, str) else json.dumps(p, ensure_ascii=False) for p in (x.to_yaml() for x in code.include)),
                "exclude": "\n".join(p if isinstance(p, str) else json.dumps(p, ensure_ascii=False) for p in (x.to_yaml() for x in code.exclude)),
            })
        else:
            raise InputError("--layout", f"unknown layout '{layout}'", f"use one of: {', '.join(LAYOUTS)}")
    return pd.DataFrame(rows)


def _pattern_cell(path: Path, text: str, row: int, code: str, column: str):
    """One line of an include/exclude cell: a plain pattern, or a pattern with options as JSON."""
    if not text.strip().startswith("{"):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"the pattern {text.strip()[:60]!r} of code {code!r} is not valid JSON ({exc.msg}, character {exc.pos + 1})",
                         'write options as JSON, e.g. {"regex": "\\bKI\\b"}, or the pattern as plain text', where=f"row {row}, column {column}")


def write_table(cb: Codebook, path: Path, fmt: str, layout: str) -> None:
    frame = codebook_table(cb, layout)
    if fmt == "csv":
        # Taguette reads comma-separated UTF-8; MAXQDA/ATLAS.ti users open CSV in Excel: BOM helps there
        enc = "utf-8" if layout in ("taguette", "qda") else "utf-8-sig"
        frame.to_csv(path, index=False, encoding=enc, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    else:
        # a documented seam (tests/test_lint.py): the one byte-stable workbook writer lives
        # with the run-folder code, above this layer; imported only when a workbook is written
        from pipeline.outputs import write_xlsx

        write_xlsx({"Codebook": frame}, path, typed=False)


def read_table(path: Path, *, name: str | None = None, version: str = "1") -> tuple[Codebook, list[Problem]]:
    """Reads a codebook table in any of the layouts (detected from the header)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "check the path")
    frame = _read_frame(path)
    cols = {c.strip().lower(): c for c in frame.columns}
    if "id" in cols and "definition" in cols:
        codes = _codes_of_qda_layout(path, frame, cols)
    else:
        codes = _codes_of_tool_layout(path, frame, cols)
    data = {"name": name or path.stem, "version": version, "codes": codes}
    return codebook_from_data(data, source=str(path), require_definitions=False)


def _read_frame(path: Path) -> pd.DataFrame:
    """A workbook's first sheet or a CSV file, every cell as text."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            # keep_default_na=False: a code called "NA" or "null" is a name, not a missing value
            return pd.read_excel(path, dtype=str, engine="openpyxl", keep_default_na=False, na_values=[]).fillna("")
        except Exception as exc:
            raise InputError(path, f"is not a readable XLSX workbook ({type(exc).__name__})", "save it again as .xlsx")
    from pipeline.textfiles import decode, sniff_delimiter

    text, _ = decode(path, path.read_bytes())
    return pd.read_csv(io.StringIO(text), dtype=str, sep=sniff_delimiter(text), keep_default_na=False)


def _codes_of_qda_layout(path: Path, frame: pd.DataFrame, cols: dict[str, str]) -> list[dict]:
    """The codes of our own ``qda`` layout: one column per field, codes in file order."""
    codes: dict[str, dict] = {}
    order: list[str] = []
    for row_no, (_, r) in enumerate(frame.iterrows(), start=2):
        cid = r[cols["id"]].strip()
        if not cid:
            continue
        e = {"id": cid, "label": r.get(cols.get("label", ""), "") or cid, "definition": r[cols["definition"]]}
        if "codable" in cols:
            e["codable"] = str(r[cols["codable"]]).strip().lower() not in ("false", "0", "nein", "no")
        for key in ("anchor_examples", "coding_rules"):
            if key in cols and r[cols[key]].strip():
                e[key] = [x for x in r[cols[key]].split("\n") if x.strip()]
        for key in ("include", "exclude"):
            if key in cols and r[cols[key]].strip():
                e[key] = [_pattern_cell(path, x, row_no, cid, cols[key]) for x in r[cols[key]].split("\n") if x.strip()]
        codes[cid] = e
        order.append(cid)
    # a repeated ID stays repeated, so that validation reports it as a duplicate
    return [codes[c] for c in order]


def _tool_columns(path: Path, frame: pd.DataFrame, cols: dict[str, str]) -> tuple[str, str | None, str | None]:
    """``(code column, description column, level separator)`` of a MAXQDA, ATLAS.ti or Taguette
    table; separator None: any of ``\\``, ``::``, ``>``."""
    if "tag" in cols or "name" in cols or "path" in cols:
        return cols.get("tag") or cols.get("name") or cols.get("path"), cols.get("description"), "."
    if "code" in cols:
        return cols["code"], cols.get("memo") or cols.get("comment"), None
    raise InputError(path, f"no code column (looked for 'Code', 'tag', 'id'); columns: {', '.join(map(repr, frame.columns))}", "use a MAXQDA (Code, Memo), ATLAS.ti (Code, Comment) or Taguette (tag, description) layout")


def _codes_of_tool_layout(path: Path, frame: pd.DataFrame, cols: dict[str, str]) -> list[dict]:
    """The codes of a tool's table: a code path per row (levels become parent codes), fields
    from the memo when it is one of ours."""
    key, desc_col, sep = _tool_columns(path, frame, cols)
    by_path: dict[str, dict] = {}
    roots: list[dict] = []
    for _, r in frame.iterrows():
        raw = str(r[key]).strip()
        if not raw:
            continue
        parsed = parse_description(r[desc_col] if desc_col else "")
        if parsed.get("id"):
            # our own export (or a file that kept its memo): ID and label are in the memo
            entry = {"id": parsed["id"], "label": parsed.get("label") or raw, "codable": parsed.get("codable", True), "children": []}
            _copy_fields(parsed, entry)
            roots.append(entry)
            continue
        if sep is None:
            levels = [x.strip() for x in re.split(r"\\|::|>", raw) if x.strip()] or [raw]
        else:
            levels = [x for x in raw.split(sep) if x] or [raw]
        _add_code_path(levels, parsed, by_path, roots)
    # an ID from a memo may nest by dots even if the path did not: rebuild flat and let IDs decide
    flat: list[dict] = []

    def flatten(e):
        kids = e.pop("children", [])
        flat.append(e)
        for k in kids:
            flatten(k)

    for r in roots:
        flatten(r)
    return [{k: v for k, v in e.items() if v not in (None, [], "")} for e in flat]


def _copy_fields(parsed: dict, entry: dict) -> None:
    for k in ("definition", "anchor_examples", "coding_rules", "include", "exclude"):
        if k in parsed:
            entry[k] = parsed[k]


def _add_code_path(levels: list[str], parsed: dict, by_path: dict[str, dict], roots: list[dict]) -> None:
    """Adds the code at the end of ``levels``, creating the codes of the levels above it (not
    codable) that are not there yet."""
    parent = None
    for depth in range(len(levels) - 1):
        p = " / ".join(levels[: depth + 1])
        if p not in by_path:
            pid = (parent["id"] + "." if parent else "") + _slug(levels[depth])
            by_path[p] = {"id": pid, "label": levels[depth], "codable": False, "children": []}
            (parent["children"] if parent else roots).append(by_path[p])
        parent = by_path[p]
    full = " / ".join(levels)
    entry = by_path.get(full) or {"children": []}
    entry.update({"id": (parent["id"] + "." if parent else "") + _slug(levels[-1]), "label": parsed.get("label") or levels[-1], "codable": parsed.get("codable", True)})
    _copy_fields(parsed, entry)
    if full not in by_path:
        by_path[full] = entry
        (parent["children"] if parent else roots).append(entry)
