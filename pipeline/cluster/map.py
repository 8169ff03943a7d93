"""The category map: examples as points coloured by network, each category a labelled region.

``draw_png`` (matplotlib, for papers) and ``draw_html`` (one self-contained SVG page with
tooltips, no network access needed) take the same table: ``x, y, cluster, cluster_label,
group, text`` and optionally ``uncertain``: uncertain examples are drawn as hollow rings in
their group's colour, the others as filled dots; the tooltip of an uncertain one names the
``alternative`` category of the second opinions, when the table has one.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#b2df8a", "#fb9a99"]


def _regions(table: pd.DataFrame):
    """Per category: label, an ellipse around its core (centre, radii) and its size.

    The core is the 80 % of its points nearest the median, so a few stray points do not
    stretch a category across the map."""
    span = max(float(np.ptp(table["x"])), float(np.ptp(table["y"])), 1e-6)
    for c, grp in table.groupby("cluster", sort=True):
        pts = grp[["x", "y"]].to_numpy()
        centre = np.median(pts, axis=0)
        d = np.linalg.norm(pts - centre, axis=1)
        core = pts[d <= np.percentile(d, 80)] if len(pts) > 4 else pts
        radii = np.maximum(np.abs(core - centre).max(axis=0) * 1.25, span * 0.04)
        yield c, _wrap(grp["cluster_label"].iloc[0]), centre, radii, len(grp)


def _wrap(label: str, width: int = 26) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, width)) or label


def _uncertain(table: pd.DataFrame) -> np.ndarray:
    """The ``uncertain`` column as booleans (all False when there is none)."""
    if "uncertain" not in table:
        return np.zeros(len(table), dtype=bool)
    return table["uncertain"].astype(str).str.lower().isin(["true", "1"]).to_numpy()


def group_colours(groups: list[str]) -> dict[str, str]:
    """A fixed colour per group, in sorted order (the same groups always get the same colours)."""
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(sorted(set(groups)))}


def draw_png(table: pd.DataFrame, path, title: str = "Kategorienkarte") -> None:
    """Writes the category map as a PNG (matplotlib, no timestamps: same table, same bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse

    plt.rcParams["svg.hashsalt"] = "qda"
    colours = group_colours(table["group"].tolist())
    fig, ax = plt.subplots(figsize=(11, 9), dpi=120)
    ax.set_aspect("equal")
    for c, label, centre, radii, size in _regions(table):
        ax.add_patch(Ellipse(centre, 2 * radii[0], 2 * radii[1], facecolor="#d9d9d9", edgecolor="#8c8c8c", alpha=0.45, lw=1))
        ax.text(centre[0], centre[1] + radii[1] * 1.05, f"{label} ({size})", ha="center", va="bottom", fontsize=8.5, weight="bold",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#8c8c8c", "alpha": 0.9})
    unsure = _uncertain(table)
    for g, grp in table.groupby("group", sort=True):
        u = unsure[table.index.get_indexer(grp.index)]
        sure = grp[~u]
        ax.scatter(sure["x"], sure["y"], s=22, c=colours[g], label=g, alpha=0.85, edgecolors="white", linewidths=0.4)
        ax.scatter(grp["x"][u], grp["y"][u], s=26, facecolors="white", edgecolors=colours[g], linewidths=1.3)
    if unsure.any():
        ax.scatter([], [], s=26, facecolors="white", edgecolors="#555555", linewidths=1.3, label=f"unsicher ({int(unsure.sum())})")
    ax.legend(title="Netzwerk", loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=9, frameon=True)
    ax.margins(0.12)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)


def draw_html(table: pd.DataFrame, path, title: str = "Kategorienkarte") -> None:
    """Writes the category map as one self-contained HTML page (inline SVG, tooltips)."""
    colours = group_colours(table["group"].tolist())
    w, h, pad, padx = 960, 640, 30, 100  # room at the sides for labels centred above regions
    xs, ys = table["x"].to_numpy(), table["y"].to_numpy()
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    sx = (w - 2 * padx) / (x1 - x0 or 1)
    sy = (h - 2 * pad) / (y1 - y0 or 1)
    sx = sy = min(sx, sy)  # equal scales: regions are round

    def px(x, y):
        return padx + (x - x0) * sx, h - pad - (y - y0) * sy

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{html.escape(title)}">']
    regions = list(_regions(table))
    for c, label, centre, radii, size in regions:
        cx, cy = px(*centre)
        parts.append(f'<ellipse class="region" cx="{cx:.1f}" cy="{cy:.1f}" rx="{radii[0] * sx:.1f}" ry="{radii[1] * sy:.1f}">'
                     f'<title>{html.escape(label)} ({size})</title></ellipse>')
    for r, unsure in zip(table.itertuples(), _uncertain(table)):
        cx, cy = px(r.x, r.y)
        alt = str(getattr(r, "alternative", "") or "")
        tip = f"{r.group} · {r.cluster_label}{' (unsicher' + (', sonst: ' + alt if alt else '') + ')' if unsure else ''}\n{r.text}"
        # inline style: the page's circle rule would otherwise paint the ring white
        paint = f'class="uncertain" style="fill:#fff;stroke:{colours[r.group]}"' if unsure else f'fill="{colours[r.group]}"'
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" {paint}><title>{html.escape(tip)}</title></circle>')
    for c, label, centre, radii, size in regions:
        cx, cy = px(centre[0], centre[1] + radii[1] * 1.05)
        lines = label.split("\n")
        lines[-1] += f" ({size})"
        spans = "".join(f'<tspan x="{cx:.1f}" dy="{0 if i == 0 else 14}">{html.escape(t)}</tspan>' for i, t in enumerate(lines))
        parts.append(f'<text x="{cx:.1f}" y="{cy - 14 * (len(lines) - 1) - 4:.1f}" class="label">{spans}</text>')
    parts.append("</svg>")
    n_unsure = int(_uncertain(table).sum())
    uncertain_note = f"hohle Ringe: unsicher zugeordnet ({n_unsure}). " if n_unsure else ""
    legend = "".join(f'<span><i style="background:{col}"></i>{html.escape(g)}</span>' for g, col in colours.items())
    page = f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}}
svg{{width:100%;max-width:960px;border:1px solid #ddd;background:#fff}}
.region{{fill:#d9d9d9;fill-opacity:.45;stroke:#8c8c8c}}
.label{{font-size:12px;font-weight:600;text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px}}
circle{{stroke:#fff;stroke-width:.6}} circle.uncertain{{stroke-width:1.8;stroke-dasharray:2 1.5}} circle:hover{{stroke:#000;stroke-width:1.5}}
.legend span{{margin-right:1rem;font-size:.9rem}} .legend i{{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.3rem;vertical-align:middle}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="legend">{legend}</p>
{''.join(parts)}
<p>Punkte: Beispiele, Farbe: Netzwerk; graue Flächen: Kategorien; {uncertain_note}Mit der Maus über einen Punkt zeigt das Beispiel.</p>
</body></html>
"""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page)
