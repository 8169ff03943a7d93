"""The report's review section: when the run folder has ``reviewed.csv``, the accepted share
per code (reviewed precision), how many units were reviewed and, from ``review/curve.csv``, the
learning curve over the review rounds."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from pipeline.review.curve import draw_curve, read_curve
from pipeline.review.decisions import read_reviewed, training_labels

TABLE = "durchsicht"
CURVE_TABLE = "durchsicht_verlauf"
CURVE_FIGURE = "durchsicht_verlauf.png"


def _reviewed(run) -> tuple[pd.DataFrame, dict] | None:
    from pipeline import runfolder

    path = runfolder.path(run.folder, "reviewed")
    if not path.is_file():
        return None
    from pipeline.evaluate import evaluate_reviewed, predictions_from_codings

    labels = training_labels(read_reviewed(path))
    return evaluate_reviewed(labels, predictions_from_codings(run.codings), list(run.codes))


def review_tables(run) -> dict[str, pd.DataFrame]:
    """``{"durchsicht": table}`` for a run with reviewed decisions, else ``{}``; with
    ``"durchsicht_verlauf"`` (``review/curve.csv``) too when the imports recorded their rounds.

    The table has per reviewed code: ``code, label, reviewed, predicted, accepted, rejected,
    missed, accepted_share`` (accepted ÷ reviewed suggestions of the run).
    """
    res = _reviewed(run)
    if res is None:
        return {}
    scores = res[0]
    t = scores[scores["reviewed"] > 0].drop(columns=["recall_reviewed"]).rename(columns={"precision": "accepted_share"})
    t.insert(1, "label", [run.labels.get(c, c) for c in t["code"]])
    t["accepted_share"] = t["accepted_share"].round(4)
    out = {TABLE: t.reset_index(drop=True)}
    curve = read_curve(run.folder)
    if curve is not None:
        out[CURVE_TABLE] = curve
    return out


def _share(x: float) -> str:
    return "–" if x != x else f"{x * 100:.0f} %"


def _curve_figure(curve: pd.DataFrame, fig_dir: Path | None) -> str:
    """The curve drawn into ``fig_dir`` and embedded; nothing without a folder to draw into."""
    if fig_dir is None:
        return ""
    draw_curve(curve, Path(fig_dir) / CURVE_FIGURE)
    data = base64.b64encode((Path(fig_dir) / CURVE_FIGURE).read_bytes()).decode()
    caption = (f"Verlauf der Durchsicht über {len(curve)} Runde(n): durchgesehene Einheiten und Entscheidungen, "
               "Anteil angenommener Kodierungen bisher und je Runde")
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def add_review_section(page: str, run, tables: dict[str, pd.DataFrame], fig_dir: Path | None = None) -> str:
    """``page`` with a "Durchsicht" section before the end of its main part, when
    ``tables`` has the review table; else ``page`` unchanged. With a review history
    (``durchsicht_verlauf``) and ``fig_dir``, the section shows the learning curve, drawn into
    ``fig_dir``."""
    if TABLE not in tables:
        return page
    summary = _reviewed(run)[1]
    head = "".join(f"<th scope=\"col\">{h}</th>" for h in ("Code", "Bezeichnung", "durchgesehene Vorschläge", "angenommen", "abgelehnt",
                                                          "von Prüfenden ergänzt", "Anteil angenommen"))
    body = "".join(
        f"<tr><td>{html.escape(r.code)}</td><td>{html.escape(str(r.label))}</td><td class=\"num\">{r.predicted}</td>"
        f"<td class=\"num\">{r.accepted}</td><td class=\"num\">{r.rejected}</td><td class=\"num\">{r.missed}</td>"
        f"<td class=\"num\">{_share(r.accepted_share)}</td></tr>"
        for r in tables[TABLE].itertuples())
    section = (
        f'<h2 id="durchsicht">Durchsicht der Vorschläge</h2>'
        f'<p>{summary["units"]} Einheiten durchgesehen, {summary["decisions"]} Entscheidungen (<code>reviewed.csv</code>). '
        f'Von {summary["predicted"]} durchgesehenen Kodierungen wurden {summary["accepted"]} angenommen ({_share(summary["precision"])}).</p>'
        f'<p class="note">Der Anteil angenommener Vorschläge je Code ist die Präzision auf den eigenen Daten, soweit durchgesehen. '
        f'Wurde nach Unsicherheit durchgesehen (die knappsten Fälle zuerst), unterschätzt er die Präzision aller Kodierungen. '
        f'„Ergänzt“: Codes, die Prüfende statt eines Vorschlags oder bei einem knapp verworfenen Kandidaten vergeben haben und die der Lauf nicht kodiert hat.</p>'
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
        + (_curve_figure(tables[CURVE_TABLE], fig_dir) if CURVE_TABLE in tables else "")
    )
    at = page.rfind("</main>")
    return page[:at] + section + page[at:] if at >= 0 else page
