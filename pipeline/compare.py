"""Comparing two codebook versions on the same units: the diff, the effect on the data, the
agreement between the versions, and (with gold) which version codes better where.

Change is given as counts of units and in percentage points of the units that could carry the
code (never as a relative change, which explodes for rare codes: 1 → 11 units is "+1000 %").
"""

from __future__ import annotations

import html

import pandas as pd

from pipeline.agreement import agreement_table
from pipeline.codebook import diff_codebooks, format_diff
from pipeline.errors import QdaError
from pipeline.evaluate import evaluate, predictions_from_codings
from pipeline.report import CSS, FILTER_JS, SORT_JS, _de, _excerpt, _table_html

CHANGED_COLUMNS = ["segment_id", "code", "change", "evidence", "evidence_start", "evidence_end", "text"]
WHERE = {"both": "beide", "A only": "nur A", "B only": "nur B"}
CHANGE = {"gained": "neu kodiert", "lost": "nicht mehr kodiert"}


def _evidence(codings: pd.DataFrame, unit_start: dict[str, int]) -> dict[tuple[str, str], tuple[str, int, int]]:
    """(unit, code) → evidence and its offsets in the unit's text."""
    out = {}
    for r in codings.itertuples():
        base = unit_start.get(str(r.segment_id), 0)
        out[(str(r.segment_id), str(r.code))] = (str(r.evidence), int(r.start_char) - base, int(r.end_char) - base)
    return out


def _scoped_units(segments: pd.DataFrame, units: list[str]) -> dict[str, int]:
    """Per dimension, how many of ``units`` may carry its codes ("" = unscoped units)."""
    from pipeline.coding import scope_of

    sub = segments[segments["segment_id"].astype(str).isin(set(units))]
    scopes = scope_of(sub)
    counts: dict[str, int] = {"": sum(1 for s in scopes if s is None)}
    for s in scopes:
        for d in s or ():
            counts[d] = counts.get(d, 0) + 1
    return counts


def effect_table(codes, ids_a, ids_b, shared, units, dec_a, dec_b, base: dict[str, int]) -> pd.DataFrame:
    """Per code: units before and after, gained, lost, change in units and in percentage points
    of the units that could carry the code; sorted by the size of the change."""
    rows = []
    for code in codes:
        a = {u for u in units if code in dec_a.get(u, set())}
        b = {u for u in units if code in dec_b.get(u, set())}
        n = base.get("", 0) + base.get(code.split(".")[0], 0)
        share_a, share_b = (len(a) / n, len(b) / n) if n else (0.0, 0.0)
        rows.append({"code": code, "in": "both" if code in shared else ("A only" if code in ids_a else "B only"), "units_a": len(a),
                     "units_b": len(b), "gained": len(b - a), "lost": len(a - b), "change": len(b) - len(a), "units_possible": n,
                     "share_a": round(share_a, 4), "share_b": round(share_b, 4), "change_points": round((share_b - share_a) * 100, 2)})
    effect = pd.DataFrame(rows)
    order = (effect["gained"] + effect["lost"]).sort_values(ascending=False, kind="stable").index
    return effect.reindex(order).reset_index(drop=True)


def compare_runs(segments: pd.DataFrame, cb_a, res_a, cb_b, res_b, *, gold: dict | None = None) -> dict:
    """Everything ``qda compare`` writes, as tables and texts.

    Raises:
        QdaError: the codebooks share no code ID.
    """
    ids_a, ids_b = [c.id for c in cb_a.codable()], [c.id for c in cb_b.codable()]
    shared = [c for c in ids_a if c in ids_b]
    if not shared:
        raise QdaError(f"the codebooks share no code ID ({cb_a.name} {cb_a.version}: {', '.join(ids_a[:5])}…; "
                       f"{cb_b.name} {cb_b.version}: {', '.join(ids_b[:5])}…); compare versions of one codebook")
    codes = shared + [c for c in ids_a if c not in shared] + [c for c in ids_b if c not in shared]
    mask = res_a.coded_mask & res_b.coded_mask
    units = segments["segment_id"].astype(str)[mask].tolist()
    unit_set = set(units)
    dec_a = {u: s for u, s in predictions_from_codings(res_a.codings).items() if u in unit_set}
    dec_b = {u: s for u, s in predictions_from_codings(res_b.codings).items() if u in unit_set}
    text = dict(zip(segments["segment_id"].astype(str), segments["text"].astype(str)))
    unit_start = dict(zip(segments["segment_id"].astype(str), pd.to_numeric(segments["start_char"]).astype(int)))
    ev_a, ev_b = _evidence(res_a.codings, unit_start), _evidence(res_b.codings, unit_start)
    effect = effect_table(codes, ids_a, ids_b, shared, units, dec_a, dec_b, _scoped_units(segments, units))
    changed = []
    for code in codes:
        for change, have, had, ev in (("gained", dec_b, dec_a, ev_b), ("lost", dec_a, dec_b, ev_a)):
            for u in units:
                if code in have.get(u, set()) and code not in had.get(u, set()):
                    e, s, t = ev.get((u, code), ("", -1, -1))
                    changed.append({"segment_id": u, "code": code, "change": change, "evidence": e, "evidence_start": s, "evidence_end": t,
                                    "text": text.get(u, "")})
    label_a, label_b = f"A_{cb_a.version}", f"B_{cb_b.version}"
    agree, overall = agreement_table({label_a: dec_a, label_b: dec_b}, units, shared)
    diff = diff_codebooks(cb_a, cb_b)
    out = {"diff": diff, "diff_text": format_diff(diff), "effect": effect, "changed_units": pd.DataFrame(changed, columns=CHANGED_COLUMNS),
           "agreement": pd.concat([agree, pd.DataFrame([overall]).drop(columns=["coders"])], ignore_index=True), "overall": overall,
           "units": len(units), "shared_codes": shared}
    if gold:
        out.update(_gold(gold, unit_set, dec_a, dec_b, codes, text))
    return out


def _gold(gold: dict, unit_set: set[str], dec_a: dict, dec_b: dict, codes: list[str], text: dict) -> dict:
    gold_units = {u: c for u, c in gold.items() if u in unit_set}
    sa, suma, _ = evaluate(gold_units, dec_a, codes, text)
    sb, sumb, _ = evaluate(gold_units, dec_b, codes, text)
    m = sa[["code", "support", "precision", "recall", "f1"]].merge(sb[["code", "precision", "recall", "f1"]], on="code", suffixes=("_a", "_b"))
    m["winner"] = [("B" if (fb or 0) > (fa or 0) + 1e-9 else "A" if (fa or 0) > (fb or 0) + 1e-9 else "=") if s else "" for fa, fb, s in
                   zip(m["f1_a"].fillna(0), m["f1_b"].fillna(0), m["support"])]
    return {"gold_scores": m.round(4),
            "gold_summary": {"units": len(gold_units), "micro_f1_a": round(suma["micro"]["f1"], 4), "micro_f1_b": round(sumb["micro"]["f1"], 4),
                             "macro_f1_a": round(suma["macro"]["f1"], 4), "macro_f1_b": round(sumb["macro"]["f1"], 4)}}


# --- the page and the workbook ----------------------------------------------------------------

EFFECT_LABELS = {"code": "Code", "label": "Bezeichnung", "in": "in Version", "units_a": "Einheiten A", "units_b": "Einheiten B",
                 "gained": "neu kodiert", "lost": "nicht mehr kodiert", "change": "Änderung (Einheiten)", "units_possible": "kodierbare Einheiten",
                 "share_a": "Anteil A", "share_b": "Anteil B", "change_points": "Änderung (Prozentpunkte)"}
CHANGED_LABELS = {"segment_id": "Einheit", "code": "Code", "change": "Änderung", "evidence": "Fundstelle", "evidence_start": "Fundstelle ab Zeichen",
                  "evidence_end": "Fundstelle bis Zeichen", "text": "Text der Einheit"}
GOLD_LABELS = {"code": "Code", "support": "Einheiten im Gold", "precision_a": "Präzision A", "recall_a": "Recall A", "f1_a": "F1 A",
               "precision_b": "Präzision B", "recall_b": "Recall B", "f1_b": "F1 B", "winner": "besser"}
AGREEMENT_LABELS = {"code": "Code", "units": "Einheiten", "positives": "kodiert (je Version)", "percent_agreement": "Anteil gleicher Entscheidungen",
                    "fleiss_kappa": "Fleiss' κ", "krippendorff_alpha": "Krippendorffs α"}


def comparison_sheets(result: dict, labels: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The comparison's tables with German headings and values, for the workbook."""
    labels = labels or {}
    effect = result["effect"].copy()
    effect.insert(1, "label", effect["code"].map(lambda c: labels.get(c, c)))
    effect["in"] = effect["in"].map(WHERE)
    changed = result["changed_units"].assign(change=result["changed_units"]["change"].map(CHANGE))
    agree = result["agreement"].rename(columns=lambda c: f"Cohens κ {c[6:].replace('_vs_', ' vs. ')}" if c.startswith("kappa_") else c)
    sheets = {"Wirkung": effect.rename(columns=EFFECT_LABELS), "Geänderte Einheiten": changed.rename(columns=CHANGED_LABELS),
              "Übereinstimmung": agree.rename(columns=AGREEMENT_LABELS)}
    if "gold_scores" in result:
        sheets["Goldstandard"] = result["gold_scores"].assign(winner=result["gold_scores"]["winner"].replace({"=": "gleich"})).rename(columns=GOLD_LABELS)
    return sheets


def _signed(x: float, digits: int) -> str:
    """+7,4 / −4,8 / 0 (typographic minus, German decimal comma)."""
    if not x:
        return "0"
    return ("+" if x > 0 else "−") + _de(abs(x), digits)


def _effect_html(result: dict, labels: dict[str, str]) -> str:
    eff = result["effect"]
    moved = eff[(eff["gained"] + eff["lost"]) > 0]
    gained, lost = int(eff["gained"].sum()), int(eff["lost"].sum())
    units_changed = result["changed_units"]["segment_id"].nunique()
    summary = (f"<p><strong>{units_changed} von {result['units']} Einheiten</strong> werden anders kodiert: {gained}-mal kommt ein Code hinzu, "
               f"{lost}-mal fällt einer weg; {len(moved)} von {len(eff)} Codes sind betroffen. Anteile: Einheiten mit dem Code ÷ Einheiten, "
               "die ihn tragen konnten; Änderung in Prozentpunkten.</p>")
    rows = []
    for r in eff.to_dict("records"):
        pts = _signed(r["change_points"], 1)
        cls = ' class="up"' if r["change"] > 0 else ' class="down"' if r["change"] < 0 else ""
        code = html.escape(r["code"])
        cells = [f'<td><a href="#c-{code}">{html.escape(labels.get(r["code"], r["code"]))}</a> <code>{code}</code></td>', f"<td>{WHERE[r['in']]}</td>"]
        cells += [f'<td class="num" data-v="{r[k]}">{txt}</td>' for k, txt in (("units_a", r["units_a"]), ("units_b", r["units_b"]),
                                                                              ("gained", _signed(r["gained"], 0)), ("lost", _signed(-r["lost"], 0)))]
        cells.append(f'<td class="num" data-v="{r["change"]}"{cls}>{_signed(r["change"], 0)}</td>')
        cells += [f'<td class="num" data-v="{r[k]}">{_de(r[k] * 100, 1)} %</td>' for k in ("share_a", "share_b")]
        cells.append(f'<td class="num" data-v="{r["change_points"]}"{cls}>{pts} Pp.</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f'<th scope="col" data-col="{i}">{h}</th>' for i, h in enumerate(
        ["Code", "in Version", "Einheiten A", "Einheiten B", "neu kodiert", "nicht mehr kodiert", "Änderung", "Anteil A", "Anteil B", "Änderung (Prozentpunkte)"]))
    return (summary + f'<div class="scroll"><table class="sortable matrix" data-name="effect"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _changed_html(result: dict, labels: dict[str, str], limit: int = 40) -> str:
    """Changed units per code, gained and lost, each with the evidence marked in its text."""
    ch = result["changed_units"]
    parts = []
    for code in result["effect"]["code"]:
        grp = ch[ch["code"] == code]
        if grp.empty:
            continue
        items = []
        for r in grp.head(limit).itertuples():
            sign = "+" if r.change == "gained" else "−"
            items.append(f'<li class="quote {r.change}"><blockquote>{_excerpt(str(r.text), int(r.evidence_start), int(r.evidence_end))}</blockquote>'
                         f'<cite>{sign} {CHANGE[r.change]} · {html.escape(r.segment_id)}'
                         f'{" · Fundstelle „" + html.escape(str(r.evidence)) + "“" if r.evidence else ""}</cite></li>')
        more = f'<p class="note">… und {len(grp) - limit} weitere in <code>changed_units.csv</code>.</p>' if len(grp) > limit else ""
        n_g, n_l = int((grp["change"] == "gained").sum()), int((grp["change"] == "lost").sum())
        parts.append(f'<details class="code" id="c-{html.escape(code)}"><summary>{html.escape(labels.get(code, code))} <code>{html.escape(code)}</code>'
                     f'<span class="count">+{n_g} / −{n_l}</span></summary><ul class="quotes">{"".join(items)}</ul>{more}</details>')
    return "".join(parts) or '<p class="note">Keine Einheit wird anders kodiert.</p>'


COMPARE_CSS = """
td.up{color:#005a8c;font-weight:600}td.down{color:#b34700;font-weight:600}
li.gained blockquote{border-left-color:#0072B2}li.lost blockquote{border-left-color:#D55E00}
li.lost mark{background:#ffd8c2}pre{white-space:pre-wrap;font-size:.8rem;background:#f7f7f7;padding:.6rem;border:1px solid #e0e0e0}
"""


def comparison_html(result: dict, cb_a, cb_b, created: str) -> str:
    """The comparison page: the effect on the data first, then the changed units with their
    evidence marked, the agreement, the gold scores, and the codebook diff last."""
    labels = {c.id: c.label for c in cb_a.codes.values()} | {c.id: c.label for c in cb_b.codes.values()}
    o = result["overall"]
    facts = [("Version A", f"{cb_a.name} {cb_a.version}"), ("Version B", f"{cb_b.name} {cb_b.version}"), ("Einheiten", result["units"]),
             ("Gleiche Entscheidungen (Einheit × Code)", f"{_de(o['percent_agreement'] * 100, 1)} %"),
             ("Krippendorffs α (alle Codes)", _de(o["krippendorff_alpha"], 3)), ("Erstellt", created)]
    if "gold_summary" in result:
        g = result["gold_summary"]
        facts.insert(5, ("Micro-F1 gegen Gold (A → B)", f"{_de(g['micro_f1_a'], 3)} → {_de(g['micro_f1_b'], 3)} ({g['units']} Einheiten)"))
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts)
    sheets = comparison_sheets(result, labels)
    sections = [("wirkung", "Wirkung auf die Daten", _effect_html(result, labels)),
                ("einheiten", "Geänderte Einheiten", '<p class="note">Je Code die Einheiten, die B neu kodiert (+, Fundstelle von B markiert) '
                 "oder nicht mehr kodiert (−, Fundstelle von A markiert).</p>" + _changed_html(result, labels)),
                ("uebereinstimmung", "Übereinstimmung der Versionen", _table_html("agreement", sheets["Übereinstimmung"], title=""))]
    if "gold_scores" in result:
        sections.append(("gold", "Gegen den Goldstandard", _table_html("gold", sheets["Goldstandard"], title="")))
    sections.append(("leitfaden", "Änderungen am Kodierleitfaden",
                     f'<details><summary>Alle Änderungen anzeigen ({len(result["diff_text"].splitlines())} Zeilen)</summary><pre>{html.escape(result["diff_text"])}</pre></details>'))
    nav = "".join(f'<a href="#{i}">{html.escape(t)}</a>' for i, t, _ in sections)
    body = "".join(f'<h2 id="{i}">{html.escape(t)}</h2>{h}' for i, t, h in sections)
    return f"""<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vergleich {html.escape(cb_a.version)} → {html.escape(cb_b.version)}</title><style>{CSS}{COMPARE_CSS}</style></head>
<body><header><h1>Vergleich zweier Versionen des Kodierleitfadens</h1><dl>{dl}</dl></header>
<nav>{nav}<input type="search" id="filter" placeholder="Filtern: Code, Wort …" aria-label="Tabellen und Einheiten filtern"><span id="filter-status" aria-live="polite"></span></nav>
<main>{body}</main><script>{SORT_JS}{FILTER_JS}</script></body></html>
"""
