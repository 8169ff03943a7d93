"""Writing a codebook back to YAML, the Mayring text layout used in REFI-QDA descriptions and
spreadsheet memos (readable for people, re-parseable by :func:`parse_description`), and the
namespaced data blocks that carry everything qda-specific through other tools.

A data block is one line ``[qda:KIND] {json}`` at the end of a REFI ``<Description>``. The JSON
is the object's own data as the YAML codebook writes it (:func:`codebook_to_data`), so every
field of a code or a codebook, including fields added later, travels without a per-field
mapping. Other tools show the line as part of the memo and keep it.
"""

from __future__ import annotations

import json
import re
import uuid

import yaml

from pipeline.codebook.model import QUESTION_REGEX, Code, Codebook, Pattern

GUID_NAMESPACE = uuid.UUID("6f1c1f3e-6a53-5d0b-9a3c-71646120636f")  # fixed: GUIDs stay stable

_HEADERS = {
    "Code-ID": "id",
    "Bezeichnung": "label",
    "Kodierbar": "codable",
    "Definition": "definition",
    "Ankerbeispiele": "anchor_examples",
    "Kodierregeln": "coding_rules",
    "Suchmuster": "patterns",
}


def code_guid(codebook_name: str, code: Code) -> str:
    """The REFI-QDA GUID of a code: kept from an import, else uuid5 of codebook name and code ID,
    so re-exporting a revised codebook keeps an unchanged code's GUID."""
    if code.extra.get("guid"):
        return str(code.extra["guid"])
    return str(uuid.uuid5(GUID_NAMESPACE, f"{codebook_name}\x1f{code.id}"))


def _pattern_line(p, sign: str) -> str:
    y = p.to_yaml() if isinstance(p, Pattern) else p
    return f"{sign} {y if isinstance(y, str) else json.dumps(y, ensure_ascii=False)}"


def description_text(code: Code, *, with_label: bool = False) -> str:
    """The Mayring fields as a plain-text block (German headings)."""
    return description_from_data(code_to_data(Codebook("", ""), code, nested=False), with_label=with_label)


def description_from_data(d: dict, *, with_label: bool = False) -> str:
    """:func:`description_text` from a code's YAML data (patterns in their YAML form)."""
    head = [f"Code-ID: {d['id']}"]
    if with_label:
        head.append(f"Bezeichnung: {d.get('label', '')}")
    if d.get("codable") is False:
        head.append("Kodierbar: nein (Kategorie)")
    parts = ["\n".join(head)]
    if d.get("definition"):
        parts.append(f"Definition: {d['definition']}")
    if d.get("anchor_examples"):
        parts.append("Ankerbeispiele:\n" + "\n".join(f"- „{a}“" for a in d["anchor_examples"]))
    if d.get("coding_rules"):
        parts.append("Kodierregeln:\n" + "\n".join(f"- {r}" for r in d["coding_rules"]))
    if d.get("include") or d.get("exclude"):
        lines = [_pattern_line(p, "+") for p in d.get("include", [])] + [_pattern_line(p, "-") for p in d.get("exclude", [])]
        parts.append("Suchmuster (+ einschließen, - ausschließen):\n" + "\n".join(lines))
    return "\n\n".join(parts)


def parse_description(text: str) -> dict:
    """Reads :func:`description_text`'s layout back; other text becomes the definition.

    Returns a dict with any of id, definition, anchor_examples, coding_rules, include, exclude
    (patterns in their YAML form).
    """
    text, _ = split_blocks(text)
    if not text:
        return {}
    if not re.search(r"^(Code-ID|Bezeichnung|Kodierbar|Definition|Ankerbeispiele|Kodierregeln|Suchmuster)\b.*:", text, re.M):
        return {"definition": " ".join(text.split())}
    out: dict = {}
    current = None
    for line in text.split("\n"):
        m = re.match(r"^(Code-ID|Bezeichnung|Kodierbar|Definition|Ankerbeispiele|Kodierregeln|Suchmuster)[^:\n]*:\s*(.*)$", line)
        if m:
            current = _HEADERS[m.group(1)]
            rest = m.group(2).strip()
            if current in ("id", "definition", "label"):
                out[current] = rest
            elif current == "codable":
                out["codable"] = not rest.lower().startswith(("nein", "no", "false"))
            continue
        if current == "definition" and line.strip():
            out["definition"] = (out.get("definition", "") + " " + line.strip()).strip()
        elif current in ("anchor_examples", "coding_rules") and line.startswith("- "):
            item = line[2:].strip()
            if current == "anchor_examples":
                item = item.removeprefix("„").removesuffix("“")
            out.setdefault(current, []).append(item)
        elif current == "patterns" and line[:2] in ("+ ", "- "):
            raw = line[2:].strip()
            value = json.loads(raw) if raw.startswith("{") else raw
            out.setdefault("include" if line[0] == "+" else "exclude", []).append(value)
    return out


def code_to_data(cb: Codebook, code: Code, *, nested: bool = True) -> dict:
    """The YAML structure of one code (with its children when ``nested``)."""
    d: dict = {"id": code.id, "label": code.label}
    if not code.codable:
        d["codable"] = False
    if code.definition:
        d["definition"] = code.definition
    if code.anchor_examples:
        d["anchor_examples"] = list(code.anchor_examples)
    if code.coding_rules:
        d["coding_rules"] = list(code.coding_rules)
    if code.lack_counts:
        d["lack_counts"] = True
    if code.require is not None:
        d["require"] = code.require.to_yaml()
    if code.unless is not None:
        d["unless"] = code.unless.to_yaml()
    if code.include:
        d["include"] = [p.to_yaml() for p in code.include]
    if code.exclude:
        d["exclude"] = [p.to_yaml() for p in code.exclude]
    if code.color:
        d["color"] = code.color
    if code.extra.get("guid"):
        d["guid"] = code.extra["guid"]
    kids = cb.children(code.id)
    if kids and nested:
        d["children"] = [code_to_data(cb, k) for k in kids]
    return d


def codebook_to_data(cb: Codebook, *, nested: bool = True) -> dict:
    """The YAML structure of a codebook (codes nested under their parents)."""
    data: dict = {"name": cb.name, "version": cb.version, "language": cb.language}
    if cb.parent_version:
        data["parent_version"] = cb.parent_version
    if cb.description:
        data["description"] = cb.description
    data["matching"] = cb.matching.to_dict()
    if cb.cues:
        data["cues"] = {name: [p.to_yaml() for p in pats] for name, pats in cb.cues.items()}
    if cb.conditions:
        data["conditions"] = {name: c.to_yaml(named=False) for name, c in cb.conditions.items()}
    if cb.questions:
        data["questions"] = {dim: [{"regex": w[len(QUESTION_REGEX):]} if w.startswith(QUESTION_REGEX) else w for w in words]
                             for dim, words in cb.questions.items()}
    roots = [c for c in cb.codes.values() if c.parent is None] if nested else list(cb.codes.values())
    data["codes"] = [code_to_data(cb, c, nested=nested) for c in roots]
    return data


# --- data blocks in REFI descriptions ------------------------------------------------------------

_BLOCK_RE = re.compile(r"^\[qda:([a-z]+)\][ \t]*(.*?)[ \t]*$", re.M)


def data_block(kind: str, data) -> str:
    """One line ``[qda:KIND] {json}`` carrying ``data`` (key order kept, no ASCII escaping)."""
    return f"[qda:{kind}] " + json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def split_blocks(text: str) -> tuple[str, dict]:
    """Separates a description into its readable text and its data blocks.

    Returns:
        ``(readable text, {kind: data})``. A block whose JSON no longer parses (edited by
        hand in another tool) is dropped from both, so the readable text decides.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    blocks: dict = {}
    for m in _BLOCK_RE.finditer(text):
        try:
            blocks[m.group(1)] = json.loads(m.group(2))
        except ValueError:
            continue
    return _BLOCK_RE.sub("", text).strip(), blocks


def code_block_data(cb: Codebook, code: Code) -> dict:
    """What the ``[qda:code]`` block of a code carries: its YAML data without children (the
    REFI tree nests them) and without the GUID (the REFI attribute holds it)."""
    data = code_to_data(cb, code, nested=False)
    data.pop("guid", None)
    return data


def codebook_block_data(cb: Codebook) -> dict:
    """What the ``[qda:codebook]`` block carries: every codebook field except the codes."""
    data = codebook_to_data(cb)
    data.pop("codes")
    return data


# fields of the readable layout, compared with the block to notice edits made in another tool
READABLE_FIELDS = ("definition", "anchor_examples", "coding_rules", "include", "exclude")


def merge_edited(block: dict, readable: str) -> dict:
    """The code's data from its block, with the readable fields that someone edited in another
    tool taken from the readable text: the text a person sees wins over the hidden copy.

    Edits are found by comparing the readable text with the one the block would render, field
    by field after parsing both, so a value the readable layout cannot show exactly (a line
    break inside an anchor example) is not mistaken for an edit.
    """
    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))

    expected = description_from_data(block)
    if norm(readable) in (norm(expected), norm(description_from_data(block, with_label=True))):
        return dict(block)
    now, then = parse_description(readable), parse_description(expected)
    out = dict(block)
    for key in READABLE_FIELDS:
        if now.get(key) != then.get(key):
            if now.get(key):
                out[key] = now[key]
            else:
                out.pop(key, None)
    return out


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_codebook(cb: Codebook) -> str:
    """YAML text of a codebook, stable for identical codebooks."""
    return yaml.dump(codebook_to_data(cb), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)
