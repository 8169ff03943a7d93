"""Showing a codebook: a terminal table of the tree, or a printable Kodierleitfaden."""

from __future__ import annotations

import shutil
import textwrap

from pipeline.codebook.model import Codebook


def format_table(cb: Codebook, width: int | None = None) -> str:
    """The code tree with labels, pattern counts and definitions, one code per block."""
    width = width or min(shutil.get_terminal_size((110, 20)).columns, 140)
    lines = [f"{cb.name} — Version {cb.version}" + (f" (parent {cb.parent_version})" if cb.parent_version else ""), ""]
    id_w = max(len("  " * c.depth + c.id) for c in cb.codes.values()) + 2
    head = f"{'ID'.ljust(id_w)}{'Label'.ljust(34)}{'Muster':>7}  Definition"
    lines.append(head)
    lines.append("─" * min(width, len(head) + 40))
    def_w = max(30, width - id_w - 34 - 9)
    for c in cb.codes.values():
        ident = ("  " * c.depth + c.id).ljust(id_w)
        label = (c.label if c.codable else f"[{c.label}]")[:33].ljust(34)
        pats = f"{len(c.include)}/{len(c.exclude)}" if c.codable else ""
        wrapped = textwrap.wrap(c.definition or "–", def_w) or ["–"]
        lines.append(f"{ident}{label}{pats:>7}  {wrapped[0]}")
        for more in wrapped[1:]:
            lines.append(" " * (id_w + 34 + 9) + more)
    lines += ["", "[Label] = Kategorie ohne eigene Kodierung; Muster = einschließend/ausschließend"]
    conds = [(c.id, "require", c.require) for c in cb.codes.values() if c.require] + [(c.id, "unless", c.unless) for c in cb.codes.values() if c.unless]
    if cb.conditions or conds:
        lines += ["", "Kontextbedingungen:"]
        lines += [f"  {name}: {cond.spec()}" for name, cond in cb.conditions.items()]
        lines += [f"  {cid} {kind} {cond.label()}" for cid, kind, cond in conds]
        n_pat = sum(1 for c in cb.codes.values() for p in c.include if p.require is not None or p.unless is not None)
        if n_pat:
            lines.append(f"  (dazu {n_pat} Suchmuster mit eigener Bedingung; --format markdown zeigt sie)")
    return "\n".join(lines) + "\n"


def format_markdown(cb: Codebook) -> str:
    """A Kodierleitfaden in Markdown: per category definition, anchor examples, coding rules
    and search patterns, ready to print or convert with pandoc."""
    m = cb.matching
    out = [f"# Kodierleitfaden: {cb.name}", "", f"**Version:** {cb.version}" + (f" (überarbeitet aus {cb.parent_version})" if cb.parent_version else "") + "  ", f"**Sprache:** {cb.language}", ""]
    if cb.description:
        out += [cb.description, ""]
    out += [
        "**Abgleich:** " + ("Grundformen (Lemmata)" if m.match == "lemma" else "Wortformen")
        + (", Groß-/Kleinschreibung beachtet" if m.case_sensitive else ", ohne Beachtung der Groß-/Kleinschreibung")
        + (", auch in Komposita" if m.compounds else "")
        + (f", Verneinungen im Abstand von {m.negation_window} Wörtern werden nicht kodiert" if m.negation_window else "")
        + (", ein Tippfehler in langen Wörtern wird toleriert" if m.typos else "")
        + (f", höchstens {m.max_codes} Codes je Einheit" if m.max_codes else "") + ".",
        "",
    ]
    if cb.conditions:
        out += ["**Kontextbedingungen** (ein Treffer zählt nur mit/ohne diesen Kontext):", ""]
        out += [f"- `{name}`: {cond.spec()}" for name, cond in cb.conditions.items()]
        out.append("")
    if cb.cues:
        out += ["**Hinweislisten:**", ""]
        out += [f"- `{name}`: " + ", ".join(p.label() for p in pats) for name, pats in cb.cues.items()]
        out.append("")
    for code in cb.codes.values():
        level = "#" * min(2 + code.depth, 5)
        out.append(f"{level} {code.label} (`{code.id}`)")
        out.append("")
        if not code.codable:
            out += ["*Oberkategorie, wird nicht selbst kodiert.*", ""]
        if code.definition:
            out += [f"**Definition:** {code.definition}", ""]
        if code.anchor_examples:
            out.append("**Ankerbeispiele:**")
            out += [f"> „{a}“" + "\n" for a in code.anchor_examples]
        if code.coding_rules:
            out.append("**Kodierregeln:**")
            out += [f"- {r}" for r in code.coding_rules]
            out.append("")
        for kind, cond in (("Nur mit", code.require), ("Nicht bei", code.unless)):
            if cond is not None:
                out += [f"**{kind}:** `{cond.label()}`", ""]
        if code.include:
            out.append("**Suchmuster:** " + ", ".join(f"`{p.describe()}`" for p in code.include))
            if code.exclude:
                out.append("")
                out.append("**Ausgenommen:** " + ", ".join(f"`{p.label()}`" for p in code.exclude))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
