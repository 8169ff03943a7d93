"""The category map: examples as points coloured by network, each category a labelled region.

``draw_png`` (matplotlib, for papers) and ``draw_html`` (one self-contained SVG page with
tooltips, no network access needed) take the same table: ``x, y, cluster, cluster_label,
group, text``.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#b2df8a", "#fb9a99"]


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (monotone chain), as a closed polygon."""
    pts = sorted(set(map(tuple, np.round(points, 6).tolist())))
    if len(pts) < 3:
        return np.array(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def _regions(table: pd.DataFrame):
    for c, grp in table.groupby("cluster", sort=True):
        pts = grp[["x", "y"]].to_numpy()
        centre = np.median(pts, axis=0)
        # the region covers the core of the category: points within the 85th percentile distance
        d = np.linalg.norm(pts - centre, axis=1)
        core = pts[d <= np.percentile(d, 85)] if len(pts) > 4 else pts
        yield c, grp["cluster_label"].iloc[0], _hull(core), centre, len(grp)


def group_colours(groups: list[str]) -> dict[str, str]:
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(sorted(set(groups)))}


def draw_png(table: pd.DataFrame, path, title: str = "Kategorienkarte") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    plt.rcParams["svg.hashsalt"] = "qda"
    colours = group_colours(table["group"].tolist())
    fig, ax = plt.subplots(figsize=(11, 8), dpi=120)
    for c, label, hull, centre, size in _regions(table):
        if len(hull) >= 3:
            ax.add_patch(Polygon(hull, closed=True, facecolor="#d9d9d9", edgecolor="#8c8c8c", alpha=0.45, lw=1))
        ax.text(centre[0], centre[1], f"{label}\n({size})", ha="center", va="center", fontsize=9, weight="bold",
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#8c8c8c", "alpha": 0.85})
    for g, grp in table.groupby("group", sort=True):
        ax.scatter(grp["x"], grp["y"], s=22, c=colours[g], label=g, alpha=0.85, edgecolors="white", linewidths=0.4)
    ax.legend(title="Netzwerk", loc="best", fontsize=8, title_fontsize=9, frameon=True)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def draw_html(table: pd.DataFrame, path, title: str = "Kategorienkarte") -> None:
    colours = group_colours(table["group"].tolist())
    w, h, pad = 960, 640, 30
    xs, ys = table["x"].to_numpy(), table["y"].to_numpy()
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    sx = (w - 2 * pad) / (x1 - x0 or 1)
    sy = (h - 2 * pad) / (y1 - y0 or 1)

    def px(x, y):
        return pad + (x - x0) * sx, h - pad - (y - y0) * sy

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{html.escape(title)}">']
    for c, label, hull, centre, size in _regions(table):
        if len(hull) >= 3:
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in (px(x, y) for x, y in hull))
            parts.append(f'<polygon class="region" points="{pts}"><title>{html.escape(label)} ({size})</title></polygon>')
    for r in table.itertuples():
        cx, cy = px(r.x, r.y)
        tip = f"{r.group} · {r.cluster_label}\n{r.text}"
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{colours[r.group]}"><title>{html.escape(tip)}</title></circle>')
    for c, label, hull, centre, size in _regions(table):
        cx, cy = px(*centre)
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" class="label">{html.escape(label)} ({size})</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{col}"></i>{html.escape(g)}</span>' for g, col in colours.items())
    page = f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}}
svg{{width:100%;max-width:960px;border:1px solid #ddd;background:#fff}}
.region{{fill:#d9d9d9;fill-opacity:.45;stroke:#8c8c8c}}
.label{{font-size:12px;font-weight:600;text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px}}
circle{{stroke:#fff;stroke-width:.6}} circle:hover{{stroke:#000;stroke-width:1.5}}
.legend span{{margin-right:1rem;font-size:.9rem}} .legend i{{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.3rem;vertical-align:middle}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="legend">{legend}</p>
{''.join(parts)}
<p>Punkte: Beispiele, Farbe: Netzwerk; graue Flächen: Kategorien. Mit der Maus über einen Punkt zeigt das Beispiel.</p>
</body></html>
"""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page)
