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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError

GROUP_CANDIDATES = ("network", "netzwerk", "question", "rolle", "role", "kind")
SPARSE_MIN_UNITS = 10  # a dimension with fewer coded units is left out of figures and group tables


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
    from pipeline import runfolder

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder", "give the run folder written by 'qda run' or 'qda code'")
    for name in ("segments", "codings"):
        if not runfolder.exists(folder, name):
            raise runfolder.missing_file(folder, name)
    seg, cod = runfolder.read_segments(folder), runfolder.read_codings(folder)
    record = coding_record(runfolder.read_record(folder) or {})
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
    clusters = runfolder.read(runfolder.cluster_folder(folder), "clusters", missing_ok=True)
    categories = runfolder.read(runfolder.cluster_folder(folder), "categories", missing_ok=True)
    return Run(folder, seg, cod, record, labels, dims, codes, clusters, categories)


def coding_record(record: dict) -> dict:
    """The run record with what the coding stage recorded (codebook, NLP pipeline, codes,
    corpus options) taken from the earlier stages when a later command (``qda report``)
    wrote the record on top."""
    out = dict(record)
    stages = [st for st in (record.get("stages") or {}).values() if isinstance(st, dict)]
    for key in ("codebook", "nlp", "codes", "model"):
        if not out.get(key):
            out[key] = next((st[key] for st in reversed(stages) if st.get(key)), out.get(key))
    opts = out.get("options") or {}
    if not (opts.get("folder") or opts.get("sources")):
        out["options"] = next((st["options"] for st in reversed(stages) if (st.get("options") or {}).get("folder") or (st.get("options") or {}).get("sources")), opts)
    return out


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


def network_of(run: Run) -> str | None:
    """The segments column holding the network, if any."""
    return next((c for c in run.segments.columns if c.strip().lower() in ("network", "netzwerk")), None)


def hidden_dimensions(freq: pd.DataFrame, *, min_units: int = SPARSE_MIN_UNITS) -> dict[str, int]:
    """Dimensions with almost no data (fewer than ``min_units`` coded units over all their
    codes): their shares would be noise, so figures and group tables leave them out."""
    per_dim = freq.groupby("dimension", sort=False)["units"].sum()
    return {d: int(n) for d, n in per_dim.items() if n < min_units}


def build_tables(run: Run, *, quotes_per_code: int = 5) -> dict[str, pd.DataFrame]:
    """Every table of the report, computed from segments and codings (machine-readable column
    names; :func:`display_table` gives the German headings)."""
    from pipeline.coding import scope_of

    units = _eligible(run)
    scopes = scope_of(units)
    cod = run.codings[run.codings["segment_id"].isin(set(units["segment_id"]))]
    tables: dict[str, pd.DataFrame] = {"haeufigkeiten": _frequencies(run, units, scopes, cod), "kodierungen": codings_table(run),
                                       "codes_x_dokumente": document_matrix(run, units, cod)}
    for gcol in group_columns(run):
        tables[f"nach_{gcol}"] = _by_group(run, units, scopes, cod, gcol)
    tables["kookkurrenz"], tables["kookkurrenz_jaccard"] = _cooccurrence(run, cod)
    tables["zitate"] = quotes_table(run, cod, quotes_per_code)
    if run.categories is not None:
        tables["kategorien"] = run.categories
    return tables


def _frequencies(run: Run, units: pd.DataFrame, scopes: list, cod: pd.DataFrame) -> pd.DataFrame:
    doc_of = dict(zip(run.segments["segment_id"], run.segments["doc_id"]))
    mentions_per_dim = cod["code"].map(lambda c: run.dimensions.get(c, c.split(".")[0])).value_counts().to_dict()
    rows = []
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
    return pd.DataFrame(rows)


def _by_group(run: Run, units: pd.DataFrame, scopes: list, cod: pd.DataFrame, gcol: str) -> pd.DataFrame:
    """Units with each code per group value, and their share of the group's units that could
    carry the code."""
    coded = cod.merge(units, on="segment_id", how="left")
    counts = pd.crosstab(coded["code"], coded[gcol]).reindex(run.codes, fill_value=0)
    shares = counts.astype(float).copy()
    for code in run.codes:
        base = _in_scope(units, scopes, code)[gcol].value_counts()
        for g in shares.columns:
            b = base.get(g, 0)
            shares.loc[code, g] = round(counts.loc[code, g] / b, 4) if b else 0.0
    t = counts.add_prefix("units_").join(shares.add_prefix("share_"))
    t.insert(0, "label", [run.labels.get(c, c) for c in t.index])
    t.insert(0, "dimension", [run.dimensions.get(c, "") for c in t.index])
    return t.rename_axis("code").reset_index()


def _cooccurrence(run: Run, cod: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units with both codes (diagonal: units with the code) and the Jaccard index."""
    wide = pd.crosstab(cod["segment_id"], cod["code"]).reindex(columns=run.codes, fill_value=0).clip(upper=1)
    m = wide.to_numpy().astype(np.int64)
    co = m.T @ m
    n = np.diag(co)
    union = n[:, None] + n[None, :] - co
    jac = np.divide(co, union, out=np.zeros_like(co, dtype=float), where=union > 0)
    return (pd.DataFrame(co, index=run.codes, columns=run.codes).rename_axis("code").reset_index(),
            pd.DataFrame(np.round(jac, 4), index=run.codes, columns=run.codes).rename_axis("code").reset_index())


def _meta_columns(run: Run) -> list[str]:
    from pipeline.ingest.common import SEGMENT_COLUMNS

    return [c for c in run.segments.columns if c not in SEGMENT_COLUMNS and c not in ("code_scope", "question")]


def _unit_label(frame: pd.DataFrame) -> pd.Series:
    """Speaker of an interview turn, question of a survey answer."""
    speaker = frame["speaker"].fillna("").astype(str) if "speaker" in frame else pd.Series("", index=frame.index)
    if "question" not in frame:
        return speaker
    question = frame["question"].fillna("").astype(str)
    return question.where((frame["kind"] == "survey") & (question != ""), speaker)


def codings_table(run: Run) -> pd.DataFrame:
    """One row per coding with its unit and context: document, speaker or question, the
    unit's text, the evidence, code, method, score and the unit's metadata."""
    seg = run.segments.drop(columns=[c for c in ("start_char", "end_char") if c in run.segments.columns])
    c = run.codings.merge(seg, on="segment_id", how="left")
    out = pd.DataFrame({
        "doc_id": c["doc_id"], "segment_id": c["segment_id"], "kind": c["kind"], "speaker_or_question": _unit_label(c),
        "code": c["code"], "label": c["code"].map(lambda x: run.labels.get(x, x)), "dimension": c["code"].map(lambda x: run.dimensions.get(x, "")),
        "method": c["method"], "score": pd.to_numeric(c["score"], errors="coerce"), "pattern": c["pattern"], "evidence": c["evidence"],
        "text": c["text"],
    })
    for col in _meta_columns(run):
        out[col] = c[col].values
    return out


def document_matrix(run: Run, units: pd.DataFrame, cod: pd.DataFrame) -> pd.DataFrame:
    """Documents × codes (MAXQDA's code matrix, one row per document so it filters well):
    per document its source, kind, network, codable units, and per code the units with it."""
    doc_of = dict(zip(run.segments["segment_id"], run.segments["doc_id"]))
    grp = units.groupby("doc_id", sort=False)
    base = pd.DataFrame({"doc_id": list(grp.groups), "source": grp["source"].first().map(lambda s: Path(str(s)).name).values,
                         "kind": grp["kind"].first().values})
    net = network_of(run)
    if net:
        base["network"] = grp[net].first().values
    base["units"] = grp.size().values
    counts = pd.crosstab(cod["segment_id"].map(doc_of), cod["code"]).reindex(index=base["doc_id"], columns=run.codes, fill_value=0)
    base["coded_units"] = base["doc_id"].map(cod.groupby(cod["segment_id"].map(doc_of))["segment_id"].nunique()).fillna(0).astype(int).values
    return pd.concat([base.reset_index(drop=True), counts.reset_index(drop=True)], axis=1)


# --- quotes ---------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return " ".join(str(text).lower().split())


def _length_penalty(n: int) -> float:
    """0 for a quote of 60–400 characters, growing for shorter (less context) and longer."""
    return (60 - n) / 60 if n < 60 else (n - 400) / 2000 if n > 400 else 0.0


def pick_quotes(cands: pd.DataFrame, n: int) -> pd.DataFrame:
    """Up to ``n`` quotes chosen for variety: distinct texts, then spread over kinds of source
    (interview, survey), networks and documents; rule evidence before model suggestions and
    quotes of readable length first. Deterministic (ties by unit order)."""
    cands = cands.assign(_key=cands["text"].map(_fold)).drop_duplicates("_key")
    rows = list(cands.itertuples(index=False))
    used: dict[str, set] = {"kind": set(), "network": set(), "doc_id": set()}
    picked = []
    while rows and len(picked) < n:
        def score(item):
            i, r = item
            fresh = tuple(getattr(r, k) not in used[k] for k in ("kind", "network", "doc_id"))
            return (*fresh, r.method == "rule", -_length_penalty(len(r.text)), -i)

        i, best = max(enumerate(rows), key=score)
        picked.append(best)
        for k in used:
            used[k].add(getattr(best, k))
        rows.pop(i)
    return pd.DataFrame(picked, columns=cands.columns).drop(columns="_key")


def quotes_table(run: Run, cod: pd.DataFrame, per_code: int) -> pd.DataFrame:
    """Quotes per code (see :func:`pick_quotes`) with their document, speaker or question,
    network, the evidence and its offsets in the unit's text, and the code's true count."""
    cols = ["code", "label", "units", "segment_id", "doc_id", "kind", "speaker_or_question", "network", "source", "evidence",
            "evidence_start", "evidence_end", "method", "text"]
    seg = run.segments.rename(columns={"start_char": "unit_start"}).drop(columns=["end_char"], errors="ignore")
    c = cod.merge(seg, on="segment_id", how="left")
    if c.empty:
        return pd.DataFrame(columns=cols)
    net = network_of(run)
    start = pd.to_numeric(c["start_char"]) - pd.to_numeric(c["unit_start"])
    c = c.assign(speaker_or_question=_unit_label(c), network=c[net].astype(str) if net else "",
                 evidence_start=start, evidence_end=start + (pd.to_numeric(c["end_char"]) - pd.to_numeric(c["start_char"])))
    c = c[c["text"].astype(str).str.strip().str.len() >= 12]
    parts = []
    for code in run.codes:
        hits = c[c["code"] == code]
        if hits.empty:
            continue
        q = pick_quotes(hits, per_code)
        parts.append(q.assign(label=run.labels.get(code, code), units=int(cod.loc[cod["code"] == code, "segment_id"].nunique())))
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


# --- German headings and values for the workbook and the page ----------------------------------

COLUMN_LABELS = {
    "dimension": "Dimension", "code": "Code", "label": "Bezeichnung", "units": "Einheiten", "documents": "Dokumente",
    "units_possible": "kodierbare Einheiten", "share_of_units": "Anteil an den Einheiten", "share_of_mentions": "Anteil an den Nennungen",
    "doc_id": "Dokument", "segment_id": "Einheit", "kind": "Art", "speaker_or_question": "Sprecher:in bzw. Frage", "method": "Methode",
    "score": "Wert (Regel 1, Modell: Wahrscheinlichkeit)", "pattern": "Suchmuster", "evidence": "Fundstelle", "text": "Text der Einheit",
    "source": "Quelle", "network": "Netzwerk", "netzwerk": "Netzwerk", "question": "Frage", "rolle": "Rolle", "role": "Rolle",
    "coded_units": "Einheiten mit Code", "evidence_start": "Fundstelle ab Zeichen", "evidence_end": "Fundstelle bis Zeichen",
    "cluster": "Nr.", "top_terms": "typische Begriffe", "size": "Beispiele (Anzahl)", "guided": "gesteuert", "examples": "Beispiele",
    # the review section (pipeline.review.report)
    "reviewed": "durchgesehene Einheiten", "predicted": "durchgesehene Vorschläge", "accepted": "angenommen", "rejected": "abgelehnt",
    "missed": "von Prüfenden ergänzt", "accepted_share": "Anteil angenommen",
    "round": "Runde", "imported_at": "importiert", "file": "Datei", "new": "neu entschieden", "changed": "geändert",
    "decisions": "Entscheidungen", "reviewed_codings": "durchgesehene Kodierungen", "round_codings": "davon in der Runde",
    "round_accepted": "in der Runde angenommen",
}
GROUP_LABELS = {"network": "Netzwerk", "netzwerk": "Netzwerk", "question": "Frage", "rolle": "Rolle", "role": "Rolle", "kind": "Art der Quelle"}
VALUE_LABELS = {"kind": {"interview": "Interview", "survey": "Umfrage"}, "method": {"rule": "Regel", "model": "Modell", "import": "Import"}}
TABLE_TITLES = {
    "haeufigkeiten": "Häufigkeiten je Code",
    "kodierungen": "Kodierungen",
    "codes_x_dokumente": "Dokumente × Codes",
    "kookkurrenz": "Kookkurrenz (Einheiten mit beiden Codes)",
    "kookkurrenz_jaccard": "Kookkurrenz (Jaccard)",
    "zitate": "Zitate je Code",
    "kategorien": "Kategorien der Innovationsbeispiele",
}


def _title(name: str) -> str:
    if name.startswith("nach_"):
        return f"Codes nach {GROUP_LABELS.get(name[5:], name[5:])}"
    return TABLE_TITLES.get(name, name)


EMPTY_GROUP = {"question": "ohne Frage (z. B. Interviews)"}


def _group_value(value: str, gcol: str = "") -> str:
    """A group's value as shown: German for known values, a word for the empty one."""
    return VALUE_LABELS.get(gcol, {}).get(value, value) or EMPTY_GROUP.get(gcol, "ohne Angabe")


def column_label(col: str, gcol: str = "") -> str:
    """German heading of a table column (``units_DVNW`` → ``Einheiten: DVNW``)."""
    if col in COLUMN_LABELS:
        return COLUMN_LABELS[col]
    for prefix, word in (("units_", "Einheiten"), ("share_", "Anteil")):
        if col.startswith(prefix):
            return f"{word}: {_group_value(col[len(prefix):], gcol)}"
    return col


def display_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A table as people read it: German headings and values (Interview, Regel …)."""
    gcol = name[5:] if name.startswith("nach_") else "network"
    out = df.copy()
    for col, values in VALUE_LABELS.items():
        if col in out.columns:
            out[col] = out[col].map(lambda v, values=values: values.get(v, v))
    return out.rename(columns={c: column_label(c, gcol) for c in out.columns})


SHEET_NAMES = {"haeufigkeiten": "Häufigkeiten", "kodierungen": "Kodierungen", "codes_x_dokumente": "Dokumente × Codes",
               "kookkurrenz": "Kookkurrenz", "kookkurrenz_jaccard": "Kookkurrenz Jaccard", "zitate": "Zitate", "kategorien": "Kategorien",
               "durchsicht": "Durchsicht", "durchsicht_verlauf": "Durchsicht Verlauf"}


def sheet_name(name: str) -> str:
    """The workbook sheet of a table (German, at most 31 characters)."""
    if name.startswith("nach_"):
        return f"nach {GROUP_LABELS.get(name[5:], name[5:])}"[:31]
    return SHEET_NAMES.get(name, name)[:31]


# --- HTML ---------------------------------------------------------------------------------------

def _is_percent(header: str) -> bool:
    return str(header).startswith("Anteil") or "%" in str(header)


def _de(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def _cell(v, header: str) -> str:
    """One table cell: numbers right-aligned with their raw value for sorting, shares as
    per cent, German decimal commas, truth values as ja/nein."""
    if isinstance(v, (bool, np.bool_)):
        return f"<td>{'ja' if v else 'nein'}</td>"
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return '<td class="num" data-v=""></td>'
        txt = f"{_de(v * 100, 1)} %" if _is_percent(header) else _de(v, 4).rstrip("0").rstrip(",")
        return f'<td class="num" data-v="{v}">{txt}</td>'
    if isinstance(v, (int, np.integer)):
        return f'<td class="num" data-v="{v}">{v}</td>'
    text = str(v)
    return f'<td class="long">{html.escape(text)}</td>' if len(text) > 80 else f"<td>{html.escape(text)}</td>"


def _table_html(name: str, df: pd.DataFrame, *, title: str | None = None, note: str = "", cls: str = "") -> str:
    """A sortable table (click a heading) with sticky headings, in its own section."""
    head = "".join(f'<th scope="col" data-col="{i}">{html.escape(str(c))}</th>' for i, c in enumerate(df.columns))
    body = "".join("<tr>" + "".join(_cell(v, h) for v, h in zip(row, df.columns)) + "</tr>" for row in df.itertuples(index=False))
    note_html = f'<p class="note">{note}</p>' if note else ""
    title = _title(name) if title is None else title
    heading = f"<h3>{html.escape(title)}</h3>" if title else ""
    return (f'<section id="t-{name}">{heading}{note_html}<div class="scroll">'
            f'<table class="sortable {cls}" data-name="{name}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>')


def _group_table_html(name: str, t: pd.DataFrame, gcol: str) -> str:
    """Codes by group: per group the share of the group's units with the code and the count."""
    groups = [c[len("share_"):] for c in t.columns if c.startswith("share_")]
    head = ['<th scope="col" data-col="0">Code</th>'] + [f'<th scope="col" data-col="{i}">{html.escape(_group_value(g, gcol))}</th>'
                                                          for i, g in enumerate(groups, 1)]
    rows = []
    for _, r in t.iterrows():
        cells = [f'<td><span class="lab">{html.escape(str(r["label"]))}</span> <code>{html.escape(str(r["code"]))}</code></td>']
        for g in groups:
            share, units = float(r[f"share_{g}"]), int(r[f"units_{g}"])
            cells.append(f'<td class="num" data-v="{share}">{_de(share * 100, 1)} % <small>({units})</small></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<section id="t-{name}"><h3>{html.escape(_title(name))}</h3><p class="note">Anteil der Einheiten der Gruppe, die den Code tragen '
            f'konnten; in Klammern die Zahl der Einheiten.</p><div class="scroll"><table class="sortable matrix" data-name="{name}">'
            f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>')


def matrix_columns(doc_matrix: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The code × document matrix for the page: one column per interview (or other document
    with speakers) and one per survey file (its respondents together). Rows: codes; values:
    units with the code. The last row holds each column's codable units."""
    key = np.where(doc_matrix["kind"] == "survey", "Umfrage: " + doc_matrix["source"].astype(str), doc_matrix["doc_id"].astype(str))
    grouped = doc_matrix.groupby(key, sort=False)[["units", *codes]].sum()
    return grouped.T


def _matrix_html(run: Run, doc_matrix: pd.DataFrame) -> str:
    """Codes × documents as a table whose cells are shaded by the share of the column's units."""
    m = matrix_columns(doc_matrix, run.codes)
    units = m.loc["units"]
    shares = m.drop(index="units").div(units.replace(0, np.nan), axis=1).fillna(0.0)
    top = float(shares.to_numpy().max()) or 1.0
    head = '<th scope="col" data-col="0">Code</th>' + "".join(
        f'<th scope="col" data-col="{i}">{html.escape(c).replace("_", "_<wbr>")} <small>({int(units[c])} Einheiten)</small></th>'
        for i, c in enumerate(m.columns, 1))
    rows = []
    for code in run.codes:
        cells = [f'<td><span class="lab">{html.escape(run.labels.get(code, code))}</span> <code>{html.escape(code)}</code></td>']
        for c in m.columns:
            n, share = int(m.loc[code, c]), float(shares.loc[code, c])
            a = share / top
            style = f' style="background:rgba(0,114,178,{0.06 + 0.8 * a:.2f});color:{"#fff" if a > 0.55 else "#111"}"' if n else ""
            cells.append(f'<td class="num" data-v="{n}"{style} title="{n} von {int(units[c])} Einheiten ({_de(share * 100, 1)} %)">{n or ""}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="sortable matrix" data-name="matrix"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _excerpt(text: str, start: int, end: int, width: int = 420) -> str:
    """The quote as HTML: the evidence marked; a long unit cut to ``width`` characters around it."""
    ok = 0 <= start < end <= len(text)
    if len(text) > width:
        centre = (start + end) // 2 if ok else 0
        a = max(0, min(centre - width // 2, len(text) - width))
        a = text.rfind(" ", 0, a) + 1 if a else 0
        b = text.find(" ", a + width)
        b = len(text) if b < 0 else b
    else:
        a, b = 0, len(text)
    pre, post = ("… " if a else ""), (" …" if b < len(text) else "")
    if not ok or start < a or end > b:
        return pre + html.escape(text[a:b]) + post
    return pre + html.escape(text[a:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>" + html.escape(text[end:b]) + post


def _quote_source(r) -> str:
    kind = VALUE_LABELS["kind"].get(r.kind, r.kind)
    parts = [f"{kind} {r.doc_id}"]
    if r.speaker_or_question:
        parts.append(("Frage: " if r.kind == "survey" else "Sprecher:in ") + str(r.speaker_or_question))
    if r.network:
        parts.append(f"Netzwerk {r.network}")
    if r.method == "model":
        parts.append("vom Modell vorgeschlagen")
    return " · ".join(html.escape(p) for p in parts)


def _quotes_html(run: Run, quotes: pd.DataFrame) -> str:
    parts = []
    for code, grp in quotes.groupby("code", sort=False):
        items = []
        for r in grp.itertuples():
            s, e = (int(r.evidence_start), int(r.evidence_end)) if r.method != "model" else (-1, -1)
            items.append(f'<li class="quote"><blockquote>{_excerpt(str(r.text), s, e)}</blockquote><cite>{_quote_source(r)}</cite></li>')
        n = int(grp["units"].iloc[0])
        parts.append(f'<details class="code"><summary>{html.escape(run.labels.get(code, code))} <code>{html.escape(code)}</code> '
                     f'<span class="count">{n} {"Einheit" if n == 1 else "Einheiten"} · {len(grp)} {"Zitat" if len(grp) == 1 else "Zitate"}</span>'
                     f'</summary><ul class="quotes">{"".join(items)}</ul></details>')
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
      var xv = x.dataset.v !== undefined && x.dataset.v !== '' ? parseFloat(x.dataset.v) : x.textContent;
      var yv = y.dataset.v !== undefined && y.dataset.v !== '' ? parseFloat(y.dataset.v) : y.textContent;
      var c = (typeof xv === 'number' && typeof yv === 'number') ? xv - yv : String(xv).localeCompare(String(yv), 'de');
      return asc ? c : -c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });
});
"""

FILTER_JS = """
(function () {
  var box = document.getElementById('filter'), status = document.getElementById('filter-status');
  if (!box) { return; }
  function fold(s) { return s.toLowerCase().replace(/ß/g, 'ss').normalize('NFD').replace(/[\\u0300-\\u036f]/g, ''); }
  function text(el) { if (el.dataset.f === undefined) { el.dataset.f = fold(el.textContent); } return el.dataset.f; }
  function apply() {
    var words = fold(box.value).split(/\\s+/).filter(Boolean), shown = 0, total = 0;
    function hit(el) { var t = text(el); return words.every(function (w) { return t.indexOf(w) >= 0; }); }
    document.querySelectorAll('table.sortable tbody tr').forEach(function (tr) {
      var ok = hit(tr); tr.hidden = !ok; total++; if (ok) { shown++; }
    });
    document.querySelectorAll('details.code').forEach(function (d) {
      var all = words.length && hit(d.querySelector('summary')), any = false;
      d.querySelectorAll('li.quote').forEach(function (li) {
        var ok = !words.length || all || hit(li); li.hidden = !ok; total++; if (ok) { shown++; any = true; }
      });
      d.hidden = words.length > 0 && !any;
      if (words.length && any) { d.open = true; }
    });
    status.textContent = words.length ? shown + ' von ' + total + ' Zeilen und Zitaten passen' : '';
  }
  box.addEventListener('input', apply);
})();
"""

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d1d1f;line-height:1.45}
header{background:#21416b;color:#fff;padding:1.2rem 2rem}header h1{margin:0 0 .3rem;font-size:1.5rem}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0 0;font-size:.9rem}header dt{opacity:.8}
nav{padding:.5rem 2rem;background:#eef2f7;font-size:.9rem;position:sticky;top:0;z-index:5;display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center}
nav a{color:#21416b}nav input{margin-left:auto;padding:.25rem .5rem;min-width:18rem;border:1px solid #9aa7b8;border-radius:4px;font:inherit}
#filter-status{font-size:.8rem;color:#444}
main{padding:1rem 2rem;max-width:1400px}h2{border-bottom:2px solid #21416b;padding-bottom:.2rem;margin-top:2rem;scroll-margin-top:3rem}
h3{scroll-margin-top:3rem}section{margin-bottom:1.2rem}
.scroll{overflow:auto;max-height:80vh;border:1px solid #d0d7e2;margin:.4rem 0 .8rem}
table{border-collapse:separate;border-spacing:0;font-size:.82rem;width:100%}
th,td{border-right:1px solid #d0d7e2;border-bottom:1px solid #d0d7e2;padding:.25rem .45rem;vertical-align:top;overflow-wrap:break-word;hyphens:auto}
thead th{background:#f3f6fa;cursor:pointer;position:sticky;top:0;z-index:2;text-align:left;font-weight:600}
table.matrix tbody td:first-child{position:sticky;left:0;background:#fff;z-index:1;min-width:14rem}
table.matrix thead th:first-child{position:sticky;left:0;z-index:3}
table.small td,table.small th{font-size:.74rem;padding:.15rem .3rem}td.diag{background:#e6e6e6;color:#666;font-style:italic}
td.long{min-width:12rem;overflow-wrap:anywhere}td small,th small{color:inherit;opacity:.75;font-weight:normal}
th[aria-sort=ascending]::after{content:' ▲'}th[aria-sort=descending]::after{content:' ▼'}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #e3e3e3}figcaption{font-size:.85rem;color:#555}
mark{background:#ffe58a}blockquote{margin:.2rem 0;padding-left:.6rem;border-left:3px solid #c7d2e3}cite{font-size:.78rem;color:#555;font-style:normal}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}summary .count{font-weight:normal;color:#555;margin-left:.4rem}
ul.quotes{list-style:none;padding-left:.5rem}li.quote{margin-bottom:.5rem}
.note{font-size:.85rem;color:#444}.hidden-dims{background:#fff7e0;border-left:3px solid #E69F00;padding:.4rem .7rem}
@media print{nav{display:none}header{background:#fff;color:#000}details{display:block}details>*{display:block}th{position:static}.scroll{max-height:none;overflow:visible}}
"""


def _hidden_note(hidden: dict[str, int]) -> str:
    if not hidden:
        return ""
    items = ", ".join(f"{html.escape(d)} ({n} {'kodierte Einheit' if n == 1 else 'kodierte Einheiten'})" for d, n in hidden.items())
    return (f'<p class="note hidden-dims">Nicht in den Abbildungen und Gruppentabellen, weil fast keine Daten vorliegen: {items}. '
            f"Anteile aus so wenigen Einheiten wären Zufall; ihre Zahlen stehen in der Häufigkeitstabelle und in <code>report.xlsx</code>.</p>")


def _figures_html(figures: list[tuple[str, str]], fig_dir: Path) -> str:
    out = []
    for name, caption in figures:
        data = base64.b64encode((fig_dir / name).read_bytes()).decode()
        out.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    return "".join(out)


def _decider(model: dict | None) -> str:
    """Who decided the codings: the rules alone, or a verifier (which one)."""
    if not model:
        return "nur die Regeln des Kodierleitfadens"
    file = model.get("file") or {}
    if file.get("companion"):
        return f"Regeln schlagen vor, das Prüfmodell des Kodierleitfadens entscheidet ({Path(file['path']).name})"
    if file:
        return f"Regeln schlagen vor, ein Prüfmodell entscheidet ({Path(file['path']).name})"
    return "Regeln schlagen vor, ein in diesem Lauf trainiertes Prüfmodell entscheidet"


def _facts(run: Run, created: str) -> str:
    rec = run.record
    cb = rec.get("codebook") or {}
    nlp = rec.get("nlp") or {}
    seg = run.segments
    corpus = (rec.get("options") or {}).get("folder") or ", ".join((rec.get("options") or {}).get("sources", []) or []) or str(run.folder)
    methods = ", ".join(f"{VALUE_LABELS['method'].get(k, k)}: {v}" for k, v in run.codings["method"].value_counts().items())
    facts = [
        ("Korpus", corpus),
        ("Dokumente / Einheiten", f"{seg['doc_id'].nunique()} / {len(seg)}"),
        ("Kodierleitfaden", f"{cb.get('name', '?')} {cb.get('version', '')}"),
        ("NLP-Pipeline", f"{nlp.get('name', '?')} {nlp.get('version', '')}"),
        ("Entscheidung", _decider(rec.get("model"))),
        ("Kodierungen", f"{len(run.codings)} ({methods})" if methods else "0"),
        ("Erstellt", created),
    ]
    return "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts)


def _empty_note(run: Run) -> str:
    """A run in which no unit got a code says so first (and why that can be), instead of empty tables."""
    if len(run.codings):
        return ""
    return ('<p class="note warn"><strong>In diesem Lauf wurde keine Einheit kodiert</strong> (no unit was coded): keine Regel des '
            "Kodierleitfadens traf zu. Passt der Kodierleitfaden zum Material (Sprache, Thema)? Sind die Einheiten leer oder Fragen der "
            "Interviewenden (<code>--code-interviewer</code>)? Die Tabellen unten sind deshalb leer.</p>\n")


def render_html(run: Run, tables: dict[str, pd.DataFrame], figures: list[tuple[str, str]], fig_dir: Path, created: str, *,
                extra_sections: list[tuple[str, str, str]] = ()) -> str:
    """The self-contained report page. ``extra_sections``: ``(id, title, html)`` added before
    the quotes (and linked in the navigation)."""
    cb = run.record.get("codebook") or {}
    hidden = hidden_dimensions(tables["haeufigkeiten"])
    freq = display_table("haeufigkeiten", tables["haeufigkeiten"])
    groups = "".join(_group_table_html(k, t[~t["dimension"].isin(hidden)], k[5:]) for k, t in tables.items() if k.startswith("nach_"))
    cats = ""
    if "kategorien" in tables:
        cats = _table_html("kategorien", display_table("kategorien", tables["kategorien"]))
    extra = "".join(f'<h2 id="{html.escape(i)}">{html.escape(t)}</h2>{h}' for i, t, h in extra_sections)
    nav = "".join(f'<a href="#{i}">{t}</a>' for i, t in [("ueberblick", "Überblick"), ("haeufigkeiten", "Häufigkeiten"), ("matrix", "Codes × Dokumente"),
                                                          ("abbildungen", "Abbildungen"), ("tabellen", "Tabellen"), *[(i, t) for i, t, _ in extra_sections],
                                                          ("zitate", "Zitate"), *([("durchsicht", "Durchsicht")] if "durchsicht" in tables else [])])
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Auswertung – {html.escape(str(cb.get('name', 'qda')))}</title><style>{CSS}</style></head>
<body><header id="ueberblick"><h1>Auswertung der Kodierung</h1><dl>{_facts(run, created)}</dl></header>
<nav>{nav}<input type="search" id="filter" placeholder="Filtern: Code, Netzwerk, Wort …" aria-label="Tabellen und Zitate filtern"><span id="filter-status" aria-live="polite"></span></nav><main>
<p class="note">Anteil an den Einheiten: Einheiten mit dem Code ÷ Einheiten, die ihn tragen konnten (ohne Fragen der Interviewenden,
leere und Platzhalter-Antworten; bei Umfragefragen nur die Dimension, nach der die Frage fragt). Anteil an den Nennungen:
Kodierungen des Codes ÷ alle Kodierungen seiner Dimension. Alle Zahlen sind aus <code>codings.csv</code> berechnet; jede Kodierung
mit ihrem Kontext steht auf dem Blatt „Kodierungen“ von <code>report.xlsx</code>.</p>
{_empty_note(run)}{_hidden_note(hidden)}
<h2 id="haeufigkeiten">Häufigkeiten je Code</h2>{_table_html("haeufigkeiten", freq, title="")}
<h2 id="matrix">Codes × Dokumente</h2><p class="note">Einheiten mit dem Code je Interview und je Umfrage (alle Befragten zusammen); die Farbe zeigt
den Anteil an den Einheiten der Spalte. Je Dokument einzeln: Blatt „Dokumente × Codes“ in <code>report.xlsx</code>.</p>{_matrix_html(run, tables["codes_x_dokumente"])}
<h2 id="abbildungen">Abbildungen</h2>{_figures_html(figures, fig_dir)}
<h2 id="tabellen">Tabellen</h2><p class="note">Spaltenköpfe anklicken zum Sortieren; das Feld oben filtert alle Tabellen und Zitate.
Dieselben Tabellen liegen als CSV in <code>tables/</code> und als Arbeitsmappe <code>report.xlsx</code>, dort auch die
Kookkurrenz (Einheiten mit beiden Codes und Jaccard-Index) als Tabelle.</p>
{groups}{cats}
{extra}
<h2 id="zitate">Zitate je Code</h2><p class="note">Je Code bis zu {max([len(g) for _, g in tables["zitate"].groupby("code")] or [0])} Zitate mit verschiedenen Texten,
über Interviews und Umfrage, Netzwerke und Dokumente verteilt; daneben die Zahl aller Einheiten mit dem Code. Markiert ist die Fundstelle, an der die Regel angeschlagen hat.</p>
{_quotes_html(run, tables["zitate"])}
</main><script>{SORT_JS}{FILTER_JS}</script></body></html>
"""


def write_report(run: Run, out: Path, *, created: str, quotes_per_code: int = 5) -> dict[str, pd.DataFrame]:
    """Writes tables/, figures/, report.xlsx and report.html into ``out``."""
    from pipeline.figures import draw_figures
    from pipeline.outputs import write_csv, write_xlsx
    from pipeline.review.report import add_review_section, review_tables

    tables = build_tables(run, quotes_per_code=quotes_per_code)
    tables.update(review_tables(run))  # reviewed precision, when the run folder has reviewed.csv
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_csv(df, out / "tables" / f"{name}.csv")
    write_xlsx({sheet_name(k): display_table(k, df) for k, df in tables.items()}, out / "report.xlsx")
    figures = draw_figures(run, tables, out / "figures", hidden_dimensions=set(hidden_dimensions(tables["haeufigkeiten"])))
    page = add_review_section(render_html(run, tables, figures, out / "figures", created), run, tables, out / "figures")
    (out / "report.html").write_text(page, encoding="utf-8")
    return tables
