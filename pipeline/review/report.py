"""The report's review section: when the run folder has ``reviewed.csv``, the accepted share
per code (reviewed precision) and how many units were reviewed."""

from __future__ import annotations

import html

import pandas as pd

from pipeline.review.decisions import read_reviewed, training_labels

TABLE = "durchsicht"


def _reviewed(run) -> tuple[pd.DataFrame, dict] | None:
    path = run.folder / "reviewed.csv"
    if not path.is_file():
        return None
    from pipeline.evaluate import evaluate_reviewed, predictions_from_codings

    labels = training_labels(read_reviewed(path))
    return evaluate_reviewed(labels, predictions_from_codings(run.codings), list(run.codes))


def review_tables(run) -> dict[str, pd.DataFrame]:
    """``{"durchsicht": table}`` for a run with reviewed decisions, else ``{}``.

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
    return {TABLE: t.reset_index(drop=True)}


def _share(x: float) -> str:
    return "–" if x != x else f"{x * 100:.0f} %"


def add_review_section(page: str, run, tables: dict[str, pd.DataFrame]) -> str:
    """``page`` with a "Durchsicht" section before the end of its main part, when
    ``tables`` has the review table; else ``page`` unchanged."""
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
    )
    at = page.rfind("</main>")
    return page[:at] + section + page[at:] if at >= 0 else page
