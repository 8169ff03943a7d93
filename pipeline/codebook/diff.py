"""What changed between two codebook versions: codes added, removed, renamed, moved, changed.

A removed and an added code are paired as *renamed* when they share the definition or the
include patterns (a code given a new ID); a renamed code whose parent differs is *moved*.
"""

from __future__ import annotations

from pipeline.codebook.model import Code, Codebook

FIELDS = ("label", "definition", "codable", "lack_counts", "require", "unless", "anchor_examples", "coding_rules", "include", "exclude")


def _value(code: Code, field: str):
    v = getattr(code, field)
    if field in ("include", "exclude"):
        return [p.describe() for p in v]
    if field in ("require", "unless"):
        return v.label() if v is not None else None
    return v


def _field_changes(a: Code, b: Code) -> dict:
    out = {}
    for f in FIELDS:
        va, vb = _value(a, f), _value(b, f)
        if va == vb:
            continue
        if isinstance(va, list):
            out[f] = {"added": [x for x in vb if x not in va], "removed": [x for x in va if x not in vb]}
            if not out[f]["added"] and not out[f]["removed"]:
                out[f] = {"reordered": True}
        else:
            out[f] = {"old": va, "new": vb}
    return out


def diff_codebooks(old: Codebook, new: Codebook) -> dict:
    """A JSON-ready description of every difference between ``old`` and ``new``."""
    settings = {k: {"old": v, "new": new.matching.to_dict()[k]} for k, v in old.matching.to_dict().items() if new.matching.to_dict()[k] != v}
    meta = {k: {"old": getattr(old, k), "new": getattr(new, k)} for k in ("name", "version", "language", "parent_version", "description") if getattr(old, k) != getattr(new, k)}
    only_old = [c for c in old.codes if c not in new.codes]
    only_new = [c for c in new.codes if c not in old.codes]
    renamed, moved = [], []
    for oid in list(only_old):
        a = old.codes[oid]
        for nid in only_new:
            b = new.codes[nid]
            same_def = a.definition and a.definition == b.definition
            same_pat = a.include and [p.label() for p in a.include] == [p.label() for p in b.include]
            same_label = a.label == b.label and a.parent != b.parent
            if same_def or same_pat or same_label:
                entry = {"old": oid, "new": nid, "by": "definition" if same_def else "patterns" if same_pat else "label", "changes": _field_changes(a, b)}
                if (a.parent or "") != (b.parent or ""):
                    entry["old_parent"], entry["new_parent"] = a.parent, b.parent
                    moved.append(entry)
                else:
                    renamed.append(entry)
                only_old.remove(oid)
                only_new.remove(nid)
                break
    cues = _named_lists({k: [p.describe() for p in v] for k, v in old.cues.items()}, {k: [p.describe() for p in v] for k, v in new.cues.items()})
    questions = _named_lists(old.questions, new.questions)
    conditions = _named_lists({k: [v.spec()] for k, v in old.conditions.items()}, {k: [v.spec()] for k, v in new.conditions.items()})
    changed = []
    for cid in old.codes:
        if cid in new.codes:
            ch = _field_changes(old.codes[cid], new.codes[cid])
            if (old.codes[cid].parent or "") != (new.codes[cid].parent or ""):
                ch["parent"] = {"old": old.codes[cid].parent, "new": new.codes[cid].parent}
            if ch:
                changed.append({"id": cid, "changes": ch})
    return {
        "old": {"name": old.name, "version": old.version, "codes": len(old.codes)},
        "new": {"name": new.name, "version": new.version, "codes": len(new.codes)},
        "metadata": meta,
        "matching": settings,
        "cues": cues,
        "questions": questions,
        "conditions": conditions,
        "added": [{"id": c, "label": new.codes[c].label, "parent": new.codes[c].parent} for c in only_new],
        "removed": [{"id": c, "label": old.codes[c].label, "parent": old.codes[c].parent} for c in only_old],
        "renamed": renamed,
        "moved": moved,
        "changed": changed,
    }


def _named_lists(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict:
    """Per name (cue list, question dimension) the entries added and removed."""
    out = {}
    for name in dict.fromkeys([*old, *new]):
        a, b = old.get(name, []), new.get(name, [])
        if a != b:
            out[name] = {"added": [x for x in b if x not in a], "removed": [x for x in a if x not in b]}
    return out


def _fmt_change(field: str, ch: dict) -> list[str]:
    if "old" in ch:
        return [f"    {field}: {ch['old']!r} → {ch['new']!r}"]
    if ch.get("reordered"):
        return [f"    {field}: reordered"]
    lines = [f"    {field}:"]
    lines += [f"      + {x}" for x in ch["added"]]
    lines += [f"      - {x}" for x in ch["removed"]]
    return lines


def format_diff(d: dict) -> str:
    """The diff as readable text (the default output of ``qda codebook diff``)."""
    lines = [f"{d['old']['name']} {d['old']['version']} ({d['old']['codes']} codes) → {d['new']['name']} {d['new']['version']} ({d['new']['codes']} codes)"]
    for k, v in d["metadata"].items():
        lines.append(f"  {k}: {v['old']!r} → {v['new']!r}")
    for k, v in d["matching"].items():
        lines.append(f"  matching.{k}: {v['old']!r} → {v['new']!r}")
    for part in ("cues", "conditions", "questions"):
        for name, ch in d.get(part, {}).items():
            lines.extend(_fmt_change(f"{part}.{name}", ch))

    def section(title: str, items: list, head) -> None:
        if not items:
            return
        lines.append(f"{title} ({len(items)}):")
        for item in items:
            lines.append(head(item))
            for f, ch in item.get("changes", {}).items():
                lines.extend(_fmt_change(f, ch))

    section("Added", d["added"], lambda a: f"  + {a['id']}  {a['label']}")
    section("Removed", d["removed"], lambda a: f"  - {a['id']}  {a['label']}")
    section("Renamed", d["renamed"], lambda r: f"  {r['old']} → {r['new']}  (same {r['by']})")
    section("Moved", d["moved"], lambda r: f"  {r['old']} → {r['new']}  (parent {r['old_parent']} → {r['new_parent']}, same {r['by']})")
    section("Changed", d["changed"], lambda c: f"  ~ {c['id']}")
    if len(lines) == 1:
        lines.append("No differences.")
    return "\n".join(lines) + "\n"
