"""The review's history in a run folder: ``review/curve.csv``, one row per import that changed
something, and its figure for the report.

A row holds what the reviewed decisions said about the run's codings after that import, as it
was then (a later re-coding into the same folder does not rewrite the history):

* ``round``, ``imported_at``, ``file``: which import;
* ``new``, ``changed``: decisions the import added or changed;
* ``units``, ``decisions``: reviewed units and decisions so far;
* ``reviewed_codings``, ``accepted``, ``accepted_share``: codings of the run decided so far, how many
  were accepted, and their share (the reviewed precision);
* ``round_codings``, ``round_accepted``: the same for this import's decisions alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import runfolder
from pipeline.errors import InputError
from pipeline.review.decisions import training_labels

CURVE = Path(runfolder.FILES["curve"].file)
CURVE_COLUMNS = list(runfolder.FILES["curve"].columns)


def _scored(labels: pd.DataFrame, run) -> dict:
    from pipeline.evaluate import evaluate_reviewed, predictions_from_codings

    return evaluate_reviewed(labels, predictions_from_codings(run.codings), run.code_ids)[1]


def curve_row(run, reviewed: pd.DataFrame, log: pd.DataFrame, *, now: str, source: Path | str) -> pd.DataFrame:
    """The row an import appends to ``review/curve.csv``.

    Args:
        run: the :class:`pipeline.review.run.ReviewRun` imported into.
        reviewed: ``reviewed.csv`` after the import.
        log: the import's new and changed decisions (its rows of ``review/log.csv``).
        now: the import's time; ``source``: the decisions file.
    """
    previous = read_curve(run.folder)
    total = _scored(training_labels(reviewed), run)
    this = _scored(training_labels(log), run) if len(log) else {"predicted": 0, "accepted": 0}
    row = {"round": 1 if previous is None or previous.empty else int(previous["round"].astype(int).max()) + 1,
           "imported_at": now, "file": Path(source).name,
           "new": int((log["change"] == "new").sum()), "changed": int((log["change"] == "changed").sum()),
           "units": total["units"], "decisions": total["decisions"], "reviewed_codings": total["predicted"], "accepted": total["accepted"],
           "accepted_share": round(total["precision"], 4) if total["predicted"] else float("nan"),
           "round_codings": this["predicted"], "round_accepted": this["accepted"]}
    return pd.DataFrame([row], columns=CURVE_COLUMNS)


def read_curve(folder: Path | str) -> pd.DataFrame | None:
    """``review/curve.csv`` of a run folder, or None when there is none (or it is unreadable:
    the report then leaves the figure out rather than fail)."""
    try:
        frame = runfolder.read(folder, "curve", missing_ok=True)
    except InputError:
        return None
    return frame if frame is not None and len(frame) else None


def append_curve(folder: Path | str, row: pd.DataFrame) -> pd.DataFrame:
    """The curve of ``folder`` with ``row`` appended (not written here)."""
    old = read_curve(folder)
    return row if old is None else pd.concat([old[CURVE_COLUMNS], row], ignore_index=True)


def draw_curve(curve: pd.DataFrame, path: Path) -> None:
    """The review's learning curve: reviewed units and decisions per round (left), accepted
    share of the reviewed codings so far and of each round's (right). German labels,
    Okabe–Ito colours; written without a timestamp, so reruns are byte-identical."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = curve["round"].astype(int).tolist()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.plot(x, curve["units"], color="#0072B2", marker="o", label="Einheiten")
    left.plot(x, curve["decisions"], color="#E69F00", marker="s", ls="--", label="Entscheidungen")
    left.set_xlabel("Durchsichtsrunde (Import)")
    left.set_ylabel("Anzahl bisher")
    left.set_ylim(bottom=0)
    left.set_title("Durchgesehen")
    left.legend(fontsize=8)
    so_far = curve["accepted_share"].astype(float) * 100
    per_round = [a / c * 100 if c else float("nan") for a, c in zip(curve["round_accepted"], curve["round_codings"])]
    right.plot(x, so_far, color="#009E73", marker="o", label="bisher insgesamt")
    right.plot(x, per_round, color="#D55E00", marker="^", ls=":", label="in dieser Runde")
    right.set_ylim(0, 105)
    right.set_xlabel("Durchsichtsrunde (Import)")
    right.set_ylabel("angenommene Kodierungen (%)")
    right.set_title("Anteil angenommener Vorschläge")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_xticks(x)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
