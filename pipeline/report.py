"""The analysis report: the tables the study published, figures, one HTML file, one workbook.

``build_tables(run)`` computes every table from the run folder's ``segments`` and
``codings`` (never from typed-in numbers); ``write_report(run, out)`` writes ``tables/*.csv``,
``report.xlsx`` (a sheet per table), ``figures/*.png`` and a self-contained ``report.html``.

Denominators, explicit because shares depend on them:

* *share of units*: units with the code ÷ units that could carry it (coded units, i.e. not
  interviewer turns, not empty or placeholder answers, and within the code's dimension where
  a question is scoped to one);
* *share of mentions*: codings of the code ÷ all codings of its dimension (the study's form:
  "knowledge transfer 32 % of the mentioned innovation forms").
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError

GROUP_CANDIDATES = ("network", "netzwerk", "question", "rolle", "role", "kind")


@dataclass
class Run:
    folder: Path
    segments: pd.DataFrame
    codings: pd.DataFrame
    record: dict
    labels: dict[str, str]
    dimensions: dict[str, str]
    codes: list[str]
    clusters: pd.DataFrame | None
    categories: pd.DataFrame | None


def load_run(folder: Path) -> Run:
    """Reads a run folder written by ``qda run`` or ``qda code`` (+ optionally ``qda cluster``).

    Raises:
        InputError: a stage's files are missing; the message names the command to run first.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder", "give the run folder written by 'qda run' or 'qda code'")
    if not (folder / "segments.csv").is_file():
        raise InputError(folder, "has no segments.csv", "run 'qda ingest SOURCE --out DIR' (or 'qda run') first")
    if not (folder / "codings.csv").is_file():
        raise InputError(folder, "has no codings.csv", "run 'qda code SOURCE --codebook FILE --out DIR' (or 'qda run') first")
    seg = pd.read_csv(folder / "segments.csv", dtype=str, keep_default_na=False)
    cod = pd.read_csv(folder / "codings.csv", dtype=str, keep_default_na=False)
    record = {}
    if (folder / "run.json").is_file():
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    codes = record.get("codes") or sorted(set(cod["code"]))
    labels, dims = {}, {}
    cb_path = (record.get("codebook") or {}).get("path")
    if cb_path and Path(cb_path).is_file():
        from pipeline.codebook import load_codebook

        cb, _ = load_codebook(cb_path)
        labels = {c.id: c.label for c in cb.codes.values()}
        dims = {c.id: (cb.codes[c.dimension].label if c.dimension in cb.codes else c.dimension) for c in cb.codes.values()}
    for c in codes:
        labels.setdefault(c, c)
        dims.setdefault(c, c.split(".")[0])
    clusters = pd.read_csv(folder / "cluster" / "clusters.csv", dtype=str, keep_default_na=False) if (folder / "cluster" / "clusters.csv").is_file() else None
    categories = pd.read_csv(folder / "cluster" / "categories.csv", dtype=str, keep_default_na=False) if (folder / "cluster" / "categories.csv").is_file() else None
    return Run(folder, seg, cod, record, labels, dims, codes, clusters, categories)


def _eligible(run: Run) -> pd.DataFrame:
    from pipeline.coding import eligible_units

    code_interviewer = bool((run.record.get("options") or {}).get("code_interviewer"))
    mask = eligible_units(run.segments, code_interviewer=code_interviewer)
    return run.segments[mask]


def _in_scope(units: pd.DataFrame, scopes: list, code: str) -> pd.DataFrame:
    """The units that may carry ``code``: unscoped ones and those scoped to its dimension."""
    dim = code.split(".")[0]
    return units[[sc is None or dim in sc for sc in scopes]]


def group_columns(run: Run) -> list[str]:
    cols = [c for c in GROUP_CANDIDATES if c in run.segments.columns and run.segments[c].replace("", np.nan).nunique() > 1]
    return [c for c in cols if not (c == "netzwerk" and "network" in cols)]


def build_tables(run: Run, *, quotes_per_code: int = 5) -> dict[str, pd.DataFrame]:
    """Every table of the report, computed from segments and codings."""
    from pipeline.coding import scope_of

    units = _eligible(run)
    scopes = scope_of(units)
    cod = run.codings[run.codings["segment_id"].isin(set(units["segment_id"]))]
    doc_of = dict(zip(run.segments["segment_id"], run.segments["doc_id"]))
    tables: dict[str, pd.DataFrame] = {}
    rows = []
    mentions_per_dim = cod["code"].map(lambda c: run.dimensions.get(c, c.split(".")[0])).value_counts().to_dict()
    for code in run.codes:
        scoped = _in_scope(units, scopes, code)
        hits = cod[cod["code"] == code]
        dim = run.dimensions.get(code, code.split(".")[0])
        rows.append({
            "dimension": dim, "code": code, "label": run.labels.get(code, code),
            "units": int(hits["segment_id"].nunique()),
            "documents": int(hits["segment_id"].map(doc_of).nunique()),
            "units_possible": int(len(scoped)),
            "share_of_units": round(hits["segment_id"].nunique() / len(scoped), 4) if len(scoped) else 0.0,
            "share_of_mentions": round(len(hits) / mentions_per_dim[dim], 4) if mentions_per_dim.get(dim) else 0.0,
        })
    tables["haeufigkeiten"] = pd.DataFrame(rows)
    # per group
    coded = cod.merge(units, on="segment_id", how="left")
    for gcol in group_columns(run):
        counts = pd.crosstab(coded["code"], coded[gcol]).reindex(run.codes, fill_value=0)
        base = {}
        for code in run.codes:
            sc = _in_scope(units, scopes, code)
            base[code] = sc[gcol].value_counts()
        shares = counts.astype(float).copy()
        for code in run.codes:
            for g in shares.columns:
                b = base[code].get(g, 0)
                shares.loc[code, g] = round(counts.loc[code, g] / b, 4) if b else 0.0
        t = counts.add_prefix("units_").join(shares.add_prefix("share_"))
        t.insert(0, "label", [run.labels.get(c, c) for c in t.index])
        t.insert(0, "dimension", [run.dimensions.get(c, "") for c in t.index])
        tables[f"nach_{gcol}"] = t.reset_index().rename(columns={"index": "code", "code": "code"})
    # co-occurrence (units with both codes) and Jaccard
    wide = pd.crosstab(cod["segment_id"], cod["code"]).reindex(columns=run.codes, fill_value=0).clip(upper=1)
    m = wide.to_numpy().astype(np.int64)
    co = m.T @ m
    n = np.diag(co)
    union = n[:, None] + n[None, :] - co
    jac = np.divide(co, union, out=np.zeros_like(co, dtype=float), where=union > 0)
    tables["kookkurrenz"] = pd.DataFrame(co, index=run.codes, columns=run.codes).rename_axis("code").reset_index()
    tables["kookkurrenz_jaccard"] = pd.DataFrame(np.round(jac, 4), index=run.codes, columns=run.codes).rename_axis("code").reset_index()
    # quotes: per code the shortest clear rule evidence first, from different documents
    q_rows = []
    seg_text = dict(zip(run.segments["segment_id"], run.segments["text"]))
    src = dict(zip(run.segments["segment_id"], run.segments["source"]))
    for code in run.codes:
        hits = cod[cod["code"] == code].copy()
        if hits.empty:
            continue
        hits["qlen"] = hits["segment_id"].map(lambda s: len(seg_text.get(s, "")))
        hits["qrule"] = (hits["method"] != "rule").astype(int)
        hits["qdoc"] = hits["segment_id"].map(doc_of)
        hits = hits[hits["qlen"] >= 12].sort_values(["qrule", "qlen", "segment_id"]) if (hits["qlen"] >= 12).any() else hits.sort_values(["segment_id"])
        picked, seen_docs = [], set()
        for r in hits.itertuples():
            if r.qdoc in seen_docs and len(hits["qdoc"].unique()) > len(seen_docs):
                continue
            picked.append(r)
            seen_docs.add(r.qdoc)
            if len(picked) == quotes_per_code:
                break
        for r in picked:
            q_rows.append({"code": code, "label": run.labels.get(code, code), "segment_id": r.segment_id, "source": src.get(r.segment_id, ""),
                           "evidence": r.evidence, "method": r.method, "text": seg_text.get(r.segment_id, "")})
    tables["zitate"] = pd.DataFrame(q_rows, columns=["code", "label", "segment_id", "source", "evidence", "method", "text"])
    if run.categories is not None:
        tables["kategorien"] = run.categories
    return tables


# --- figures ---------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "svg.hashsalt": "qda"})
    return plt


def draw_figures(run: Run, tables: dict[str, pd.DataFrame], folder: Path) -> list[tuple[str, str]]:
    """PNG figures; returns ``(file name, caption)`` pairs."""
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    freq = tables["haeufigkeiten"]
    for dim, grp in freq.groupby("dimension", sort=False):
        grp = grp.sort_values("share_of_mentions")
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(grp) + 1.2))
        ax.barh(grp["label"], grp["share_of_mentions"] * 100, color="#4c72b0")
        for y, (v, u) in enumerate(zip(grp["share_of_mentions"], grp["units"])):
            ax.text(v * 100 + 0.5, y, f"{v * 100:.0f} % (n={u})", va="center", fontsize=8)
        ax.set_xlabel("Anteil an den Nennungen der Dimension (%)")
        ax.set_title(f"{dim}: Anteile der Nennungen")
        ax.set_xlim(0, max(5, grp["share_of_mentions"].max() * 100 * 1.3))
        out.append(_save(plt, fig, folder, f"anteile_{_slug(dim)}.png", f"{dim}: Anteil jedes Codes an allen Nennungen der Dimension"))
    gcol = "network" if "nach_network" in tables else ("netzwerk" if "nach_netzwerk" in tables else None)
    if gcol:
        t = tables[f"nach_{gcol}"].set_index("code")
        share_cols = [c for c in t.columns if c.startswith("share_")]
        mat = t[share_cols].astype(float) * 100
        groups = [c[len("share_"):] for c in share_cols]
        labels = [run.labels.get(c, c) for c in mat.index]
        fig, ax = plt.subplots(figsize=(1.1 * len(groups) + 4, 0.32 * len(mat) + 1.5))
        im = ax.imshow(mat.to_numpy(), cmap="Blues", aspect="auto")
        ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        for i in range(mat.shape[0]):
            for j in range(mat.shape[1]):
                v = mat.iat[i, j]
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="white" if v > mat.to_numpy().max() * 0.6 else "black")
        fig.colorbar(im, ax=ax, label="% der Einheiten")
        ax.set_title("Codes × Netzwerk (Anteil der kodierbaren Einheiten, %)")
        out.append(_save(plt, fig, folder, "codes_x_netzwerk.png", "Anteil der Einheiten je Netzwerk, in denen ein Code vorkommt"))
        # shares per dimension faceted by network
        freq_net = t.reset_index()
        dims = list(dict.fromkeys(freq["dimension"]))
        fig, axes = plt.subplots(len(dims), 1, figsize=(9, 2.6 * len(dims)), squeeze=False)
        for ax, dim in zip(axes[:, 0], dims):
            sub = freq_net[freq_net["dimension"] == dim]
            x = np.arange(len(sub))
            wbar = 0.8 / max(1, len(groups))
            for k, g in enumerate(groups):
                ax.bar(x + k * wbar, sub[f"share_{g}"].astype(float) * 100, width=wbar, label=g)
            ax.set_xticks(x + 0.4 - wbar / 2, [run.labels.get(c, c) for c in sub["code"]], rotation=25, ha="right", fontsize=7)
            ax.set_ylabel("% Einheiten")
            ax.set_title(dim)
        axes[0, 0].legend(fontsize=7, ncol=min(5, len(groups)))
        out.append(_save(plt, fig, folder, "anteile_nach_netzwerk.png", "Anteile je Dimension, nach Netzwerk"))
    co = tables["kookkurrenz_jaccard"].set_index("code")
    keep = [c for c in co.index if tables["kookkurrenz"].set_index("code").loc[c, c] > 0]
    if len(keep) >= 2:
        sub = co.loc[keep, keep]
        fig, ax = plt.subplots(figsize=(0.32 * len(keep) + 4, 0.32 * len(keep) + 3))
        im = ax.imshow(sub.to_numpy(), cmap="Purples", vmin=0, vmax=max(0.05, float(np.nanmax(sub.to_numpy() - np.eye(len(keep))))))
        lab = [run.labels.get(c, c) for c in keep]
        ax.set_xticks(range(len(keep)), lab, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(keep)), lab, fontsize=7)
        fig.colorbar(im, ax=ax, label="Jaccard")
        ax.set_title("Gemeinsames Auftreten von Codes (Jaccard)")
        out.append(_save(plt, fig, folder, "kookkurrenz.png", "Wie oft Codes in derselben Einheit vorkommen (Jaccard-Index)"))
    cmap = run.folder / "cluster" / "cluster_map.png"
    if cmap.is_file():
        (folder / "kategorienkarte.png").write_bytes(cmap.read_bytes())
        out.append(("kategorienkarte.png", "Kategorienkarte der Innovationsbeispiele (Farbe: Netzwerk)"))
    return out


def _save(plt, fig, folder: Path, name: str, caption: str) -> tuple[str, str]:
    """Lays out, writes (without a timestamp, so reruns are byte-identical) and closes a figure."""
    fig.tight_layout()
    fig.savefig(folder / name, metadata={"Software": None})
    plt.close(fig)
    return name, caption


def _slug(text: str) -> str:
    import re

    from pipeline.codebook.exchange import _slug as slug

    return slug(re.sub(r"\s+", "_", text))


# --- HTML ---------------------------------------------------------------------------------------

TABLE_TITLES = {
    "haeufigkeiten": "Häufigkeiten je Code",
    "kookkurrenz": "Kookkurrenz (Einheiten mit beiden Codes)",
    "kookkurrenz_jaccard": "Kookkurrenz (Jaccard)",
    "zitate": "Zitate je Code",
    "kategorien": "Kategorien der Innovationsbeispiele",
}


def _title(name: str) -> str:
    if name.startswith("nach_"):
        return f"Codes nach {name[5:]}"
    return TABLE_TITLES.get(name, name)


def _table_html(name: str, df: pd.DataFrame) -> str:
    head = "".join(f'<th scope="col" data-col="{i}">{html.escape(str(c))}</th>' for i, c in enumerate(df.columns))
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                txt = f"{v:.4f}".rstrip("0").rstrip(".") if not np.isnan(v) else ""
                cells.append(f'<td class="num" data-v="{v}">{txt}</td>')
            elif isinstance(v, (int, np.integer)):
                cells.append(f'<td class="num" data-v="{v}">{v}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<section id="t-{name}"><h3>{html.escape(_title(name))}</h3><div class="scroll"><table class="sortable" data-name="{name}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div></section>")


def _quotes_html(run: Run, quotes: pd.DataFrame) -> str:
    parts = []
    for code, grp in quotes.groupby("code", sort=False):
        items = []
        for r in grp.itertuples():
            text, ev = r.text, r.evidence
            i = text.find(ev) if ev and r.method == "rule" else -1
            shown = html.escape(text) if i < 0 else html.escape(text[:i]) + "<mark>" + html.escape(ev) + "</mark>" + html.escape(text[i + len(ev):])
            items.append(f'<li><blockquote>{shown}</blockquote><cite>{html.escape(r.segment_id)} · {html.escape(Path(r.source).name)}'
                         f'{" · Modell" if r.method == "model" else ""}</cite></li>')
        parts.append(f"<details><summary>{html.escape(run.labels.get(code, code))} <code>{html.escape(code)}</code> ({len(grp)})</summary><ul class=\"quotes\">{''.join(items)}</ul></details>")
    return "".join(parts)


SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), i = +th.dataset.col, tbody = table.tBodies[0];
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[i], y = b.cells[i];
      var xv = x.dataset.v !== undefined ? parseFloat(x.dataset.v) : x.textContent;
      var yv = y.dataset.v !== undefined ? parseFloat(y.dataset.v) : y.textContent;
      var c = (typeof xv === 'number' && typeof yv === 'number') ? xv - yv : String(xv).localeCompare(String(yv), 'de');
      return asc ? c : -c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });
});
"""

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d1d1f;line-height:1.45}
header{background:#21416b;color:#fff;padding:1.2rem 2rem}header h1{margin:0 0 .3rem;font-size:1.5rem}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0 0;font-size:.9rem}header dt{opacity:.8}
nav{padding:.6rem 2rem;background:#eef2f7;font-size:.9rem}nav a{margin-right:1rem;color:#21416b}
main{padding:1rem 2rem;max-width:1200px}h2{border-bottom:2px solid #21416b;padding-bottom:.2rem;margin-top:2rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.82rem;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7e2;padding:.25rem .5rem;vertical-align:top}th{background:#f3f6fa;cursor:pointer;position:sticky;top:0}
th[aria-sort=ascending]::after{content:' ▲'}th[aria-sort=descending]::after{content:' ▼'}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #e3e3e3}figcaption{font-size:.85rem;color:#555}
mark{background:#ffe58a}blockquote{margin:.2rem 0;padding-left:.6rem;border-left:3px solid #c7d2e3}cite{font-size:.78rem;color:#666}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}ul.quotes{list-style:none;padding-left:.5rem}
.note{font-size:.85rem;color:#444}
@media print{nav{display:none}header{background:#fff;color:#000}details{display:block}details>*{display:block}th{position:static}}
"""


def render_html(run: Run, tables: dict[str, pd.DataFrame], figures: list[tuple[str, str]], fig_dir: Path, created: str) -> str:
    rec = run.record
    cb = rec.get("codebook") or {}
    nlp = rec.get("nlp") or {}
    seg = run.segments
    corpus = (rec.get("options") or {}).get("folder") or ", ".join((rec.get("options") or {}).get("sources", []) or []) or str(run.folder)
    facts = [
        ("Korpus", corpus),
        ("Dokumente / Einheiten", f"{seg['doc_id'].nunique()} / {len(seg)}"),
        ("Kodierleitfaden", f"{cb.get('name', '?')} {cb.get('version', '')}"),
        ("NLP-Pipeline", f"{nlp.get('name', '?')} {nlp.get('version', '')}"),
        ("Kodierungen", f"{len(run.codings)} ({', '.join(f'{k}: {v}' for k, v in run.codings['method'].value_counts().items())})"),
        ("Erstellt", created),
    ]
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts)
    figs = []
    for name, caption in figures:
        data = base64.b64encode((fig_dir / name).read_bytes()).decode()
        figs.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    order = ["haeufigkeiten"] + [k for k in tables if k.startswith("nach_")] + ["kookkurrenz", "kookkurrenz_jaccard"] + (["kategorien"] if "kategorien" in tables else [])
    table_html = "".join(_table_html(k, tables[k]) for k in order if k in tables)
    nav = '<a href="#ueberblick">Überblick</a><a href="#abbildungen">Abbildungen</a><a href="#tabellen">Tabellen</a><a href="#zitate">Zitate</a>'
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Auswertung – {html.escape(str(cb.get('name', 'qda')))}</title><style>{CSS}</style></head>
<body><header id="ueberblick"><h1>Auswertung der Kodierung</h1><dl>{dl}</dl></header>
<nav>{nav}</nav><main>
<p class="note">Anteil der Einheiten: Einheiten mit dem Code ÷ Einheiten, die ihn tragen konnten (ohne Fragen der Interviewenden,
leere und Platzhalter-Antworten; bei Umfragefragen nur die Dimension, nach der die Frage fragt). Anteil der Nennungen:
Kodierungen des Codes ÷ alle Kodierungen seiner Dimension. Alle Zahlen sind aus <code>codings.csv</code> berechnet.</p>
<h2 id="abbildungen">Abbildungen</h2>{''.join(figs)}
<h2 id="tabellen">Tabellen</h2><p class="note">Spaltenköpfe anklicken zum Sortieren. Dieselben Tabellen liegen als CSV in <code>tables/</code> und als Arbeitsmappe <code>report.xlsx</code>.</p>
{table_html}
<h2 id="zitate">Zitate je Code</h2><p class="note">Die markierte Stelle ist die Fundstelle, an der die Regel angeschlagen hat.</p>
{_quotes_html(run, tables['zitate'])}
</main><script>{SORT_JS}</script></body></html>
"""


def write_report(run: Run, out: Path, *, created: str, quotes_per_code: int = 5) -> dict[str, pd.DataFrame]:
    """Writes tables/, figures/, report.xlsx and report.html into ``out``."""
    from pipeline.outputs import write_csv, write_xlsx
    from pipeline.review.report import add_review_section, review_tables

    tables = build_tables(run, quotes_per_code=quotes_per_code)
    tables.update(review_tables(run))  # reviewed precision, when the run folder has reviewed.csv
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_csv(df, out / "tables" / f"{name}.csv")
    write_xlsx(tables, out / "report.xlsx")
    figures = draw_figures(run, tables, out / "figures")
    page = add_review_section(render_html(run, tables, figures, out / "figures", created), run, tables)
    (out / "report.html").write_text(page, encoding="utf-8")
    return tables
