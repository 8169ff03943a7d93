"""The report's figures (PNG, matplotlib): shares per dimension, codes × network, shares per
network, co-occurrence.

Colours are safe for colour-blind readers: Okabe–Ito for categories (networks), the viridis
family for heat maps, which also carry their numbers in the cells. The co-occurrence map
leaves its diagonal (a code with itself) out of the colour scale. Figures are written without
a timestamp, so reruns are byte-identical.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
BAR = "#0072B2"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "svg.hashsalt": "qda"})
    return plt


def group_palette(groups: list[str]) -> dict[str, str]:
    """Okabe–Ito colours per group; beyond eight groups, evenly spaced viridis colours."""
    if len(groups) <= len(OKABE_ITO):
        return {g: OKABE_ITO[i] for i, g in enumerate(groups)}
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return {g: matplotlib.colors.to_hex(cmap(i / max(1, len(groups) - 1))) for i, g in enumerate(groups)}


def _save(plt, fig, folder: Path, name: str, caption: str) -> tuple[str, str]:
    """Lays out, writes (without a timestamp, so reruns are byte-identical) and closes a figure."""
    fig.tight_layout()
    fig.savefig(folder / name, metadata={"Software": None})
    plt.close(fig)
    return name, caption


def _slug(text: str) -> str:
    from pipeline.codebook.exchange import _slug as slug

    return slug(re.sub(r"\s+", "_", text))


def _text_colour(rgba) -> str:
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


def _annotate(ax, im, values: np.ndarray, fmt, mask: np.ndarray | None = None) -> None:
    """Writes each cell's number in a colour readable on the cell's colour."""
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if mask is not None and mask[i, j]:
                continue
            v = values[i, j]
            ax.text(j, i, fmt(v), ha="center", va="center", fontsize=6.5, color=_text_colour(im.cmap(im.norm(v))))


def dimension_bars(freq: pd.DataFrame, folder: Path, plt) -> list[tuple[str, str]]:
    """One bar chart per dimension: each code's share of the dimension's mentions."""
    out = []
    for dim, grp in freq.groupby("dimension", sort=False):
        grp = grp.sort_values("share_of_mentions")
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(grp) + 1.2))
        ax.barh(grp["label"], grp["share_of_mentions"] * 100, color=BAR)
        for y, (v, u) in enumerate(zip(grp["share_of_mentions"], grp["units"])):
            ax.text(v * 100 + 0.5, y, f"{v * 100:.0f} % (n={u})", va="center", fontsize=8)
        ax.set_xlabel("Anteil an den Nennungen der Dimension (%)")
        ax.set_title(f"{dim}: Anteile der Nennungen")
        ax.set_xlim(0, min(100, max(5.0, grp["share_of_mentions"].max() * 100 * 1.25)))
        ax.spines[["top", "right"]].set_visible(False)
        out.append(_save(plt, fig, folder, f"anteile_{_slug(dim)}.png", f"{dim}: Anteil jedes Codes an allen Nennungen der Dimension"))
    return out


def group_heatmap(table: pd.DataFrame, labels: dict[str, str], folder: Path, plt) -> tuple[str, str]:
    """Codes × network: share of the units that could carry the code, with the numbers."""
    share_cols = [c for c in table.columns if c.startswith("share_")]
    mat = table.set_index("code")[share_cols].astype(float) * 100
    groups = [c[len("share_"):] or "ohne Angabe" for c in share_cols]
    fig, ax = plt.subplots(figsize=(1.1 * len(groups) + 4, 0.32 * len(mat) + 1.5))
    im = ax.imshow(mat.to_numpy(), cmap="cividis", aspect="auto", vmin=0)
    ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
    ax.set_yticks(range(len(mat)), [labels.get(c, c) for c in mat.index])
    _annotate(ax, im, mat.to_numpy(), lambda v: f"{v:.0f}")
    fig.colorbar(im, ax=ax, label="% der kodierbaren Einheiten")
    ax.set_title("Codes × Netzwerk (Anteil der kodierbaren Einheiten, %)")
    return _save(plt, fig, folder, "codes_x_netzwerk.png", "Anteil der Einheiten je Netzwerk, in denen ein Code vorkommt (%)")


def group_bars(table: pd.DataFrame, labels: dict[str, str], folder: Path, plt) -> tuple[str, str]:
    """Shares per dimension, one bar per network (Okabe–Ito colours)."""
    share_cols = [c for c in table.columns if c.startswith("share_")]
    groups = [c[len("share_"):] for c in share_cols]
    colours = group_palette(groups)
    dims = list(dict.fromkeys(table["dimension"]))
    fig, axes = plt.subplots(len(dims), 1, figsize=(9, 2.6 * len(dims)), squeeze=False)
    wbar = 0.8 / max(1, len(groups))
    for ax, dim in zip(axes[:, 0], dims):
        sub = table[table["dimension"] == dim]
        x = np.arange(len(sub))
        for k, g in enumerate(groups):
            ax.bar(x + k * wbar, sub[f"share_{g}"].astype(float) * 100, width=wbar, label=g or "ohne Angabe", color=colours[g])
        ax.set_xticks(x + 0.4 - wbar / 2, [labels.get(c, c) for c in sub["code"]], rotation=25, ha="right", fontsize=7)
        ax.set_ylabel("% Einheiten")
        ax.set_title(dim)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0, 0].legend(fontsize=7, ncol=min(5, len(groups)), frameon=False)
    return _save(plt, fig, folder, "anteile_nach_netzwerk.png", "Anteile je Dimension, nach Netzwerk (% der kodierbaren Einheiten)")


def cooccurrence_heatmap(co: pd.DataFrame, labels: dict[str, str], folder: Path, plt) -> tuple[str, str] | None:
    """Units with both codes, with the numbers; the diagonal (units with the code) is greyed
    out and not part of the colour scale, so the pairs are visible."""
    keep = [c for c in co.index if co.loc[c, c] > 0]
    if len(keep) < 2:
        return None
    values = co.loc[keep, keep].to_numpy().astype(float)
    diag = np.eye(len(keep), dtype=bool)
    # the diagonal (a code with itself) and empty pairs stay out of the colour scale
    masked = np.ma.masked_array(values, mask=diag | (values == 0))
    import matplotlib
    from matplotlib.patches import Rectangle

    cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="white")
    fig, ax = plt.subplots(figsize=(0.34 * len(keep) + 4.5, 0.34 * len(keep) + 3))
    im = ax.imshow(masked, cmap=cmap, vmin=0, vmax=max(1.0, float(masked.max())))
    lab = [labels.get(c, c) for c in keep]
    ax.set_xticks(range(len(keep)), lab, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(keep)), lab, fontsize=7)
    _annotate(ax, im, values, lambda v: f"{v:.0f}", mask=diag | (values == 0))
    for i in range(len(keep)):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, color="#e0e0e0", zorder=2))
        ax.text(i, i, f"{values[i, i]:.0f}", ha="center", va="center", fontsize=6, color="#555555", style="italic", zorder=3)
    fig.colorbar(im, ax=ax, label="Einheiten mit beiden Codes")
    ax.set_title("Gemeinsames Auftreten von Codes (Einheiten mit beiden Codes)")
    return _save(plt, fig, folder, "kookkurrenz.png",
                 "Wie viele Einheiten zwei Codes zugleich tragen; grau auf der Diagonale: Einheiten mit dem Code (nicht in der Farbskala)")


def draw_figures(run, tables: dict[str, pd.DataFrame], folder: Path, *, hidden_dimensions: set[str] = frozenset()) -> list[tuple[str, str]]:
    """PNG figures of a report; returns ``(file name, caption)`` pairs. Dimensions in
    ``hidden_dimensions`` (almost no data) are left out."""
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    freq = tables["haeufigkeiten"]
    freq = freq[~freq["dimension"].isin(hidden_dimensions)]
    out = dimension_bars(freq, folder, plt)
    gcol = "network" if "nach_network" in tables else ("netzwerk" if "nach_netzwerk" in tables else None)
    if gcol:
        t = tables[f"nach_{gcol}"]
        t = t[~t["dimension"].isin(hidden_dimensions)]
        out.append(group_heatmap(t, run.labels, folder, plt))
        out.append(group_bars(t, run.labels, folder, plt))
    co = tables["kookkurrenz"].set_index("code")
    visible = [c for c in co.index if run.dimensions.get(c, c.split(".")[0]) not in hidden_dimensions]
    fig = cooccurrence_heatmap(co.loc[visible, visible], run.labels, folder, plt)
    if fig:
        out.append(fig)
    from pipeline import runfolder

    cmap = runfolder.path(runfolder.cluster_folder(run.folder), "cluster_map_png")
    if cmap.is_file():
        (folder / "kategorienkarte.png").write_bytes(cmap.read_bytes())
        out.append(("kategorienkarte.png", "Kategorienkarte der Innovationsbeispiele (Farbe: Netzwerk)"))
    return out
