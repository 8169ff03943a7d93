"""Comparing two codebook versions on the same units: the diff, the effect on the data, the
agreement between the versions, and (with gold) which version codes better where."""

from __future__ import annotations

import html

import pandas as pd

from pipeline.agreement import agreement_table
from pipeline.codebook import diff_codebooks, format_diff
from pipeline.errors import QdaError
from pipeline.evaluate import evaluate, predictions_from_codings
from pipeline.report import CSS, SORT_JS, _table_html


def compare_runs(segments: pd.DataFrame, cb_a, res_a, cb_b, res_b, *, gold: dict | None = None) -> dict:
    """Everything ``qda compare`` writes, as tables and texts."""
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
    ev_a = {(r.segment_id, r.code): r.evidence for r in res_a.codings.itertuples()}
    ev_b = {(r.segment_id, r.code): r.evidence for r in res_b.codings.itertuples()}
    eff, changed = [], []
    for code in codes:
        a = {u for u in units if code in dec_a.get(u, set())}
        b = {u for u in units if code in dec_b.get(u, set())}
        eff.append({"code": code, "in": "both" if code in shared else ("A only" if code in ids_a else "B only"), "units_a": len(a), "units_b": len(b),
                    "gained": len(b - a), "lost": len(a - b), "change": len(b) - len(a),
                    "change_pct": round((len(b) - len(a)) / len(a), 4) if a else None})
        for u in sorted(b - a):
            changed.append({"segment_id": u, "code": code, "change": "gained", "evidence": ev_b.get((u, code), ""), "text": text.get(u, "")})
        for u in sorted(a - b):
            changed.append({"segment_id": u, "code": code, "change": "lost", "evidence": ev_a.get((u, code), ""), "text": text.get(u, "")})
    effect = pd.DataFrame(eff)
    effect = effect.reindex(effect["change"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)
    label_a, label_b = f"A_{cb_a.version}", f"B_{cb_b.version}"
    agree, overall = agreement_table({label_a: dec_a, label_b: dec_b}, units, shared)
    out = {"diff": diff_codebooks(cb_a, cb_b), "diff_text": format_diff(diff_codebooks(cb_a, cb_b)), "effect": effect,
           "changed_units": pd.DataFrame(changed, columns=["segment_id", "code", "change", "evidence", "text"]),
           "agreement": pd.concat([agree, pd.DataFrame([overall]).drop(columns=["coders"])], ignore_index=True), "overall": overall,
           "units": len(units), "shared_codes": shared}
    if gold:
        gold_units = {u: c for u, c in gold.items() if u in unit_set}
        sa, suma, _ = evaluate(gold_units, dec_a, codes, text)
        sb, sumb, _ = evaluate(gold_units, dec_b, codes, text)
        m = sa[["code", "support", "precision", "recall", "f1"]].merge(sb[["code", "precision", "recall", "f1"]], on="code", suffixes=("_a", "_b"))
        m["winner"] = [("B" if (fb or 0) > (fa or 0) + 1e-9 else "A" if (fa or 0) > (fb or 0) + 1e-9 else "=") if s else "" for fa, fb, s in
                       zip(m["f1_a"].fillna(0), m["f1_b"].fillna(0), m["support"])]
        out["gold_scores"] = m.round(4)
        out["gold_summary"] = {"units": len(gold_units), "micro_f1_a": round(suma["micro"]["f1"], 4), "micro_f1_b": round(sumb["micro"]["f1"], 4),
                               "macro_f1_a": round(suma["macro"]["f1"], 4), "macro_f1_b": round(sumb["macro"]["f1"], 4)}
    return out


def comparison_html(result: dict, cb_a, cb_b, created: str) -> str:
    o = result["overall"]
    facts = [("Version A", f"{cb_a.name} {cb_a.version}"), ("Version B", f"{cb_b.name} {cb_b.version}"), ("Einheiten", result["units"]),
             ("Übereinstimmung", f"{o['percent_agreement'] * 100:.1f} %"), ("Krippendorffs α (alle Codes)", o["krippendorff_alpha"]), ("Erstellt", created)]
    if "gold_summary" in result:
        g = result["gold_summary"]
        facts.insert(5, ("Micro-F1 gegen Gold (A → B)", f"{g['micro_f1_a']:.3f} → {g['micro_f1_b']:.3f} ({g['units']} Einheiten)"))
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts)
    sections = [("Wirkung auf die Daten", _table_html("effect", result["effect"])),
                ("Übereinstimmung der Versionen", _table_html("agreement", result["agreement"]))]
    if "gold_scores" in result:
        sections.append(("Gegen den Goldstandard", _table_html("gold", result["gold_scores"])))
    sections.append(("Geänderte Einheiten", _table_html("changed", result["changed_units"].head(500))))
    body = "".join(f"<h2>{html.escape(t)}</h2>{h}" for t, h in sections)
    return f"""<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vergleich {html.escape(cb_a.version)} → {html.escape(cb_b.version)}</title><style>{CSS}</style></head>
<body><header><h1>Vergleich zweier Versionen des Kodierleitfadens</h1><dl>{dl}</dl></header><main>
<h2>Änderungen am Kodierleitfaden</h2><pre>{html.escape(result['diff_text'])}</pre>{body}</main><script>{SORT_JS}</script></body></html>
"""
