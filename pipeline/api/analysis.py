"""Analysing coded runs: ``evaluate``, ``cluster``, ``compare``, ``agreement`` and ``report``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.api.base import (
    Line,
    OnEvent,
    Result,
    now_text,
    run_folder_fingerprint,
    sources_fingerprint,
    writing,
)
from pipeline.errors import UsageError
from pipeline.options import ClusterOptions, corpus_keys, default, option_sources

GUIDED_OPTIONS = ("--categories", "--guide-codebook", "--labels")


@dataclass
class Written(Result):
    """What a command wrote (``path``: the folder or the main file) and its summary."""

    path: Path | None
    summary: dict = field(default_factory=dict)


def _share(x) -> str:
    """A score for a table, 7 wide; "–" where it is undefined (a code never predicted has no
    precision), not "nan"."""
    return f"{x:>7.2f}" if x == x else f"{'–':>7}"


def evaluate(gold: str, run_dir: Path, *, part: str | None = None, split: Path | None = None, method: str | None = None) -> Written:
    """Scores the codings of ``run_dir`` against hand-coded ``gold`` (files joined with ',').

    Writes ``run_dir/evaluation/``: scores.csv (precision, recall, F1, kappa per code),
    summary.json, confusions.csv and run.json. With a reviewed.csv of ``qda review import`` as
    ``gold`` it scores only the reviewed pairs, into ``run_dir/evaluation/reviewed/``.

    Raises:
        UsageError: ``part`` with reviewed decisions.
        InputError / ValidationError: a missing run table, a gold file that does not fit.
    """
    from pipeline.errors import InputError
    from pipeline.evaluate import check_gold, predictions_from_codings, read_gold
    from pipeline.evaluate import evaluate as score
    from pipeline.outputs import (
        read_run_record,
        staged_output,
        write_csv,
        write_run_record,
    )
    from pipeline.review import is_reviewed_file
    from pipeline.tablefiles import read_run_table

    method = default("method", method)
    for name in ("codings.csv", "segments.csv"):
        if not (run_dir / name).is_file():
            raise InputError(run_dir / name, "not found", "run 'qda code ... --out DIR' first and pass that DIR to --codings")
    codings, segments = read_run_table(run_dir, "codings.csv"), read_run_table(run_dir, "segments.csv")
    record = read_run_record(run_dir) or {}
    codes = record.get("codes") or sorted(set(codings["code"]))
    if is_reviewed_file(gold):
        return _evaluate_reviewed(gold, run_dir, codings, segments, codes, part, method)
    g = read_gold(gold, part=part, split=split)
    check_gold(g, set(segments["segment_id"]), set(codes), gold)
    pred = predictions_from_codings(codings, None if method == "all" else {method})
    scores, summary, conf = score(g, pred, codes, dict(zip(segments["segment_id"], segments["text"])))
    summary.update({"gold": gold, "part": part, "method": method, "codebook": record.get("codebook", {}).get("version")})
    with staged_output(run_dir / "evaluation") as tmp:
        write_csv(scores.round(4), tmp / "scores.csv")
        write_csv(conf, tmp / "confusions.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
        write_run_record(tmp, command="evaluate", options={"gold": gold, "codings": str(run_dir), "part": part, "method": method},
                         inputs=[Path(p) for p in gold.split(",")] + [run_dir / "codings.csv"])
    shown = scores[scores["support"] + scores["predicted"] > 0]
    lines = [Line(f"{summary['units']} gold units{' (' + part + ')' if part else ''}, method {method}"),
             Line(f"{'code':34}{'supp':>5}{'pred':>5}{'prec':>7}{'rec':>7}{'F1':>7}{'kappa':>7}")]
    lines += [Line(f"{r.code:34}{r.support:>5}{r.predicted:>5}{_share(r.precision)}{_share(r.recall)}{_share(r.f1)}{_share(r.kappa)}") for r in shown.itertuples()]
    m, M = summary["micro"], summary["macro"]
    lines += [Line(f"{'micro':34}{'':>10}{_share(m['precision'])}{_share(m['recall'])}{_share(m['f1'])}"),
              Line(f"{'macro':34}{'':>10}{M['precision']:>7.2f}{M['recall']:>7.2f}{M['f1']:>7.2f}{M['kappa']:>7.2f}"),
              Line(f"Wrote {run_dir}/evaluation/")]
    return Written(run_dir / "evaluation", summary, lines=lines)


def _evaluate_reviewed(gold, run_dir, codings, segments, codes, part, method) -> Written:
    """``evaluate`` against reviewed decisions: only the (unit, code) pairs someone decided."""
    from pipeline.evaluate import (
        check_gold,
        evaluate_reviewed,
        predictions_from_codings,
    )
    from pipeline.outputs import staged_output, write_csv, write_run_record
    from pipeline.review import labels_from_file

    if part:
        raise UsageError("--part splits gold files; reviewed decisions have no split (drop --part)")
    labels = labels_from_file(gold)
    as_gold = labels.groupby("segment_id")["code"].apply(set).to_dict()
    check_gold(as_gold, set(segments["segment_id"]), set(codes), gold)
    pred = predictions_from_codings(codings, None if method == "all" else {method})
    scores, summary = evaluate_reviewed(labels, pred, codes)
    summary.update({"reviewed": gold, "method": method})
    with staged_output(run_dir / "evaluation" / "reviewed") as tmp:
        write_csv(scores.round(4), tmp / "scores.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
        write_run_record(tmp, command="evaluate", options={"gold": gold, "codings": str(run_dir), "method": method},
                         inputs=[Path(gold), run_dir / "codings.csv"])
    lines = [Line(f"{summary['decisions']} reviewed decision(s) on {summary['units']} unit(s), method {method}; only reviewed pairs are scored"),
             Line(f"{'code':34}{'rev':>5}{'pred':>5}{'acc':>5}{'rej':>5}{'miss':>5}{'prec':>7}")]
    lines += [Line(f"{r.code:34}{r.reviewed:>5}{r.predicted:>5}{r.accepted:>5}{r.rejected:>5}{r.missed:>5}{_share(r.precision)}")
              for r in scores[scores["reviewed"] > 0].itertuples()]
    lines += [Line(f"{'all':34}{summary['decisions']:>5}{summary['predicted']:>5}{summary['accepted']:>5}{summary['rejected']:>5}"
                   f"{summary['missed']:>5}{_share(summary['precision'])}"),
              Line(f"Wrote {run_dir}/evaluation/reviewed/")]
    return Written(run_dir / "evaluation" / "reviewed", summary, lines=lines)


def _ingest_with(sources, ingest_opts, columns):
    """Ingests ``sources``; with ``--meta-column`` the ``columns`` (gold, labels) are kept too.

    A column that is not in the survey (it may come with ``--join``) is not asked for."""
    import dataclasses

    from pipeline.errors import InputError
    from pipeline.stages import segments_from

    extra = [c for c in columns if c and c not in ingest_opts.meta_columns and c not in ingest_opts.text_columns]
    if ingest_opts.meta_columns and extra:
        try:
            return segments_from(sources, dataclasses.replace(ingest_opts, meta_columns=[*ingest_opts.meta_columns, *extra]))
        except InputError:
            pass  # not a survey column: the --join files must bring it, checked after the join
    return segments_from(sources, ingest_opts)


def _join(seg, join_files):
    """Adds the columns of each ``--join`` CSV by segment_id (missing values as "")."""
    from pipeline.tablefiles import read_table_file

    for jf in join_files:
        extra = read_table_file(jf, what="--join file", fix="a --join file needs segment_id and the columns to add", required=("segment_id",))
        extra = extra.drop_duplicates("segment_id")
        seg = seg.merge(extra, on="segment_id", how="left", suffixes=("", "_joined"))
        for c in extra.columns:
            if c != "segment_id":
                seg[c] = seg[c].fillna("")
    return seg


def _clusterable(seg, where, codings, sources):
    """The units ``--where`` selects, without flagged answers and interviewer turns."""
    from pipeline.cluster import apply_where, parse_where
    from pipeline.errors import InputError

    selected = apply_where(seg, parse_where(list(where)), codings)
    if "flag" in selected:
        selected = selected[selected["flag"].fillna("") == ""]
    if "is_interviewer" in selected:
        selected = selected[~selected["is_interviewer"].astype(str).str.lower().isin(["true", "1"])]
    if selected.empty:
        raise InputError(", ".join(sources), "the --where filter selects no unit with text", "check the column and pattern (e.g. --where question=innovationsbeispiel)")
    return selected


def _cluster_lines(summary, cats, gold_column, stability) -> list[Line]:
    """The categories, the uncertain count, k, silhouette, gold scores and stability."""
    extra = f"; {summary['other']} far from every category" if summary["other"] else ""
    lines = [Line(f"{summary['clusters']} categories; {summary['uncertain']} example(s) flagged uncertain{extra}")]
    if summary.get("method") == "unguided" and summary.get("k_criterion") != "given":
        lines.append(Line(f"k = {summary['k']} chosen by {summary['k_criterion']}"))
    if summary.get("silhouette") is not None:
        lines.append(Line(f"silhouette (cosine, theme removed): {summary['silhouette']:.3f}"))
    lines += [Line(f"  [{r.cluster}] {r.label}  ({r.size}, {r.uncertain} uncertain) — {r.top_terms}") for r in cats.itertuples()]
    if gold_column:
        g = summary["gold"]
        lines.append(Line(f"against '{gold_column}': ARI {g['ari']:.3f}, NMI {g['nmi']:.3f} ({g['units']} units, {g['gold_categories']} categories)"))
    if stability:
        st = summary["stability"]
        lines.append(Line(f"stability over {st['runs']} seeds: ARI mean {st['ari_mean']:.3f} (min {st['ari_min']:.3f}); {st['units_changing']} unit(s) change category"))
    return lines


def cluster(sources, out_dir: Path, options: ClusterOptions | None = None, ingest_options=None, *, on_event: OnEvent | None = None,
            force: bool = False, origins: dict | None = None) -> Written:
    """Clusters the units of ``sources`` (raw files or a run folder) that ``options.where``
    selects into overarching categories: guided (categories, a guide codebook's dimension, hand
    labels) or unguided.

    Writes into ``out_dir``: clusters.csv, categories.csv, cluster_map.png, cluster_map.html,
    summary.json (gold_contingency.csv, stability.csv when asked) and run.json.

    Raises:
        UsageError: ``n_clusters`` with a guided clustering.
        InputError / ValidationError / QdaError: a source or file is missing or invalid, a
            column is not there, the selection is empty, an embedder is unknown or missing.
    """
    from pipeline.cluster import categories_from_codebook, read_categories
    from pipeline.errors import InputError
    from pipeline.ingest import IngestOptions
    from pipeline.outputs import staged_output, write_run_record
    from pipeline.stages import cluster_stage, network_column
    from pipeline.tablefiles import read_run_table

    sources, o, ingest_options = list(sources), options or ClusterOptions(), ingest_options or IngestOptions()
    emit = (lambda m: on_event(Line(f"  · {m}"))) if on_event else None
    with writing(out_dir, lambda: sources_fingerprint(sources), force=force) as notes:
        guided_by = [n for n, v in zip(GUIDED_OPTIONS, (o.categories, o.guide_codebook, o.labels)) if v]
        if o.n_clusters is not None and guided_by:
            raise UsageError(f"--n-clusters has no meaning with {guided_by[0]}: the categories fix their number. "
                             f"Drop --n-clusters, or drop {guided_by[0]} for unguided clustering.")
        guided_only = [n for n, v in (("--second-opinions", o.second_opinions), ("--uncertain-margin", o.uncertain_margin)) if v is not None]
        if guided_only and not guided_by:
            raise UsageError(f"{guided_only[0]} only applies when examples are assigned to given categories: add --categories, "
                             f"--guide-codebook or --labels, or drop {guided_only[0]}")
        ing, reused = _ingest_with(sources, ingest_options, [o.gold_column, o.labels])
        codings = None
        if reused and (Path(sources[0]) / "codings.csv").is_file():
            codings = read_run_table(sources[0], "codings.csv")
        selected = _clusterable(_join(ing.segments, o.join), o.where, codings, sources)
        for col, opt in ((o.labels, "--labels"), (o.gold_column, "--gold-column")):
            if col and col not in selected.columns:
                raise InputError(", ".join(sources), f"no column '{col}' (given with {opt})", f"columns: {', '.join(selected.columns)}; add one with --join FILE")
        categories = []
        if o.categories:
            categories += read_categories(o.categories)
        guide_dimension = default("guide_dimension", o.guide_dimension)
        if o.guide_codebook:
            from pipeline.codebook import load_codebook

            cb, _ = load_codebook(o.guide_codebook)
            categories += categories_from_codebook(cb, guide_dimension)
        emb_name = f"st:{o.embedding_model}" if o.embedding_model else default("embedding", o.embedding)
        group_column = o.group_column if o.group_column is not None else network_column(selected.columns)
        seed, margin, stability = default("seed", o.seed), o.uncertain_margin, default("stability", o.stability)
        second = default("second_opinions", o.second_opinions)
        opts = {"sources": sources, "where": list(o.where), "join": [str(j) for j in o.join], "embedding": emb_name, "seed": seed,
                "n_clusters": o.n_clusters, "min_cluster_size": o.min_cluster_size, "group_column": group_column, "keep_theme": o.keep_theme,
                "categories": str(o.categories) if o.categories else None, "guide_codebook": str(o.guide_codebook) if o.guide_codebook else None,
                "guide_dimension": guide_dimension if o.guide_codebook else None, "labels": o.labels, "uncertain_margin": margin,
                "second_opinions": second, "gold_column": o.gold_column, "stability": stability}
        raw = {**vars(o), "embedding": o.embedding or o.embedding_model, "guide_dimension": o.guide_dimension if o.guide_codebook else None}
        theme = group_column in selected.columns and not o.keep_theme
        mode = "guided by " + ", ".join(guided_by) if guided_by else "unguided"
        head = Line(f"clustering {len(selected)} unit(s), {mode} ({emb_name} embeddings{', theme ' + group_column + ' removed' if theme else ''})")
        lines = [head] if on_event is None else []
        slow = _slow_embedding_note(emb_name, selected)
        if on_event:
            on_event(head)
            if slow:
                on_event(slow)
        elif slow:
            lines.append(slow)
        with staged_output(out_dir) as tmp:
            summary, cats = cluster_stage(selected, tmp, categories=categories, embedding=emb_name, seed=seed, n_clusters=o.n_clusters,
                                          min_cluster_size=o.min_cluster_size, group_column=group_column, keep_theme=o.keep_theme,
                                          labels_column=o.labels, uncertain_margin=margin, second_opinions=second, gold_column=o.gold_column,
                                          stability=stability, on_event=emit)
            inputs = [*ing.inputs, *o.join, *([o.categories] if o.categories else []), *([o.guide_codebook] if o.guide_codebook else [])]
            sources_of = option_sources(opts, raw, corpus=corpus_keys(sources), origins=origins)
            write_run_record(tmp, command="cluster", options=opts, inputs=inputs, extra={"summary": summary, "option_sources": sources_of})
    lines += _cluster_lines(summary, cats, o.gold_column, stability) + [Line(f"Wrote {out_dir}/clusters.csv and cluster_map.png")]
    return Written(out_dir, summary, lines=lines, notes=notes)


E5_TEXTS_PER_SECOND = 50  # bench/bench_embed.py on the 2-core machine of the README; USE: ~13x as many
E5_NOTE_FROM = 5000  # distinct texts from which the wait is worth a line


def _slow_embedding_note(emb_name: str, selected) -> Line | None:
    """A line before a long e5 embedding (tens of thousands of different answers): how long,
    and the faster choice. Texts embedded before are kept in the cache and cost nothing."""
    if emb_name != "e5":
        return None
    n = int(selected["text"].astype(str).nunique()) if "text" in selected else 0
    if n < E5_NOTE_FROM:
        return None
    minutes = n / E5_TEXTS_PER_SECOND / 60
    return Line(f"  · e5 embeds about {E5_TEXTS_PER_SECOND} texts per second on two cores: {n:,} different texts take about "
                f"{minutes:.0f} min the first time; --embedding use is about 13 times faster (and weaker at placing examples in categories)", "note")


def compare(codebook_a: Path, codebook_b: Path, sources, out_dir: Path, *, gold: str | None = None, part: str | None = None,
            nlp: str | None = None, ingest_options=None, force: bool = False) -> Written:
    """Codes the units of ``sources`` with two codebook versions and compares them: diff,
    effect per code, agreement between the versions, scores against ``gold``. Both are coded by
    their rules alone (no companion verifier): the effect shown is the codebooks' own.

    Writes into ``out_dir``: diff.txt, diff.json, effect.csv, changed_units.csv,
    agreement.csv, gold_scores.csv (with ``gold``), comparison.xlsx, comparison.html, run.json.

    Raises:
        InputError / ValidationError: a source, codebook or gold file is missing or invalid.
    """
    from pipeline.api.corpus import code_segments
    from pipeline.compare import compare_runs, comparison_html, comparison_sheets
    from pipeline.evaluate import read_gold
    from pipeline.ingest import IngestOptions
    from pipeline.options import CodingOptions
    from pipeline.outputs import staged_output, write_csv, write_run_record, write_xlsx
    from pipeline.stages import segments_from

    sources = list(sources)
    with writing(out_dir, lambda: sources_fingerprint(sources), force=force) as notes:
        ing, _ = segments_from(sources, ingest_options or IngestOptions())
        cb_a, _, res_a = code_segments(ing.segments, codebook_a, CodingOptions(nlp=nlp, rules_only=True))
        cb_b, _, res_b = code_segments(ing.segments, codebook_b, CodingOptions(nlp=nlp, rules_only=True))
        g = None
        if gold:
            g = read_gold(gold, part=part)
            unknown = sorted(set(g) - set(ing.segments["segment_id"].astype(str)))
            if unknown:
                from pipeline.errors import ValidationError

                raise ValidationError(gold, [("segment_id", f"{len(unknown)} unit(s) not in the data: {', '.join(unknown[:10])}")], title="does not fit the coded data")
        result = compare_runs(ing.segments, cb_a, res_a, cb_b, res_b, gold=g)
        tables = {"effect": result["effect"], "changed_units": result["changed_units"], "agreement": result["agreement"]}
        if "gold_scores" in result:
            tables["gold_scores"] = result["gold_scores"]
        with staged_output(out_dir) as tmp:
            (tmp / "diff.txt").write_text(result["diff_text"], encoding="utf-8")
            (tmp / "diff.json").write_text(json.dumps(result["diff"], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            for name, df in tables.items():
                write_csv(df, tmp / f"{name}.csv")
            labels = {c.id: c.label for c in cb_a.codes.values()} | {c.id: c.label for c in cb_b.codes.values()}
            write_xlsx(comparison_sheets(result, labels), tmp / "comparison.xlsx")
            (tmp / "comparison.html").write_text(comparison_html(result, cb_a, cb_b, now_text()), encoding="utf-8")
            write_run_record(tmp, command="compare", options={"codebook_a": str(codebook_a), "codebook_b": str(codebook_b), "sources": sources,
                                                              "gold": gold, "part": part, "nlp": nlp},
                             inputs=[*ing.inputs, codebook_a, codebook_b], extra={"overall": dict(result["overall"]), "gold": result.get("gold_summary")})
    o = result["overall"]
    lines = [Line(f"{cb_a.name} {cb_a.version} → {cb_b.version}: {result['units']} units, {len(result['shared_codes'])} shared codes"),
             Line(f"  agreement between the versions: {o['percent_agreement'] * 100:.1f} % of unit×code decisions, "
                  f"Cohen's kappa {o[[k for k in o if k.startswith('kappa_')][0]]:.3f}, Krippendorff's alpha {o['krippendorff_alpha']:.3f}"),
             Line("  largest changes: " + "; ".join(f"{r.code} {r.change:+d}" for r in result["effect"].head(5).itertuples()))]
    if "gold_summary" in result:
        gs = result["gold_summary"]
        lines.append(Line(f"  against gold ({gs['units']} units): micro-F1 {gs['micro_f1_a']:.3f} → {gs['micro_f1_b']:.3f}, macro-F1 {gs['macro_f1_a']:.3f} → {gs['macro_f1_b']:.3f}"))
    return Written(out_dir, dict(o), lines=[*lines, Line(f"Wrote {out_dir}/comparison.html")], notes=notes)


def agreement(codings, *, names=(), out_dir: Path | None = None, force: bool = False) -> Written:
    """Agreement between two or more coders per code and overall, at unit level: percent
    agreement, Fleiss' kappa, Krippendorff's alpha. Each of ``codings`` is a gold-style file, a
    codings.csv, a run folder or a REFI-QDA project (each of its users a coder).

    Writes (with ``out_dir``) agreement.csv, summary.json and run.json.

    Raises:
        UsageError: fewer than two files (and no project), ``names`` not one per file.
        QdaError / InputError: fewer than two coders found, no shared unit, an unreadable file.
    """
    from pipeline.agreement import agreement_table
    from pipeline.errors import InputError, QdaError
    from pipeline.outputs import staged_output, write_csv, write_run_record
    from pipeline.stages import read_coder

    codings, names = list(codings), list(names)
    with writing(out_dir, force=force) as notes:
        if len(codings) < 2 and not any(Path(c).suffix.lower() in (".qdpx", ".qde") for c in codings):
            raise UsageError(f"agreement needs at least two coders' files (or a REFI-QDA project coded by several users); got {', '.join(codings)}")
        if names and len(names) != len(codings):
            raise UsageError(f"--name was given {len(names)} time(s) for {len(codings)} file(s); give one name per file")
        decisions, unit_sets = {}, []
        for i, src in enumerate(codings):
            name = names[i] if names else Path(src).stem if not Path(src).is_dir() else Path(src).name
            if Path(src).suffix.lower() in (".qdpx", ".qde"):
                # a REFI-QDA project: every user who coded is a coder of their own
                from pipeline.evaluate import predictions_from_codings
                from pipeline.refi import import_project

                imp = import_project(Path(src))
                units = set(imp.segments["segment_id"])
                for user, grp in imp.codings.groupby("user", sort=True):
                    decisions[f"{name}:{user}"] = predictions_from_codings(grp.assign(method="import"))
                    unit_sets.append(units)
                continue
            dec, units = read_coder(Path(src))
            if name in decisions:
                name = f"{name}_{i + 1}"
            decisions[name] = dec
            unit_sets.append(units)
        if len(decisions) < 2:
            raise QdaError(f"found {len(decisions)} coder(s) in {', '.join(codings)}; agreement needs at least two")
        units = sorted(set.intersection(*unit_sets))
        if not units:
            raise InputError(", ".join(codings), "the coders share no unit", "check that all files code the same corpus (same segment IDs)")
        codes = sorted({c for d in decisions.values() for cs in d.values() for c in cs})
        table, overall = agreement_table(decisions, units, codes)
        lines = [Line(f"{len(decisions)} coders ({', '.join(decisions)}), {len(units)} shared units, {len(codes)} codes. "
                      "Units: speaker turns / survey answers as segmented by qda ingest; each coder's yes/no per code and unit."),
                 Line(f"{'code':34}{'agree':>7}{'fleiss':>8}{'alpha':>8}")]
        lines += [Line(f"{r.code:34}{r.percent_agreement:>7.2f}{r.fleiss_kappa:>8.3f}{r.krippendorff_alpha:>8.3f}") for r in table.itertuples()]
        lines.append(Line(f"{'(all codes)':34}{overall['percent_agreement']:>7.2f}{overall['fleiss_kappa']:>8.3f}{overall['krippendorff_alpha']:>8.3f}"))
        if out_dir:
            with staged_output(out_dir) as tmp:
                write_csv(table, tmp / "agreement.csv")
                (tmp / "summary.json").write_text(json.dumps(overall, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
                write_run_record(tmp, command="agreement", options={"codings": codings, "names": names}, inputs=[Path(c) for c in codings if Path(c).is_file()])
            lines.append(Line(f"Wrote {out_dir}/agreement.csv"))
    return Written(out_dir, overall, lines=lines, notes=notes)


def report(run_dir: Path, *, out_dir: Path | None = None, quotes: int | None = None, force: bool = False) -> Written:
    """Writes the analysis report of ``run_dir`` into ``out_dir`` (default: the run folder):
    report.html, tables (CSV and Excel), figures, and run.json (keeping what the coding stage
    recorded, so that ``export`` and a later report still find the codebook).

    Raises:
        InputError: the run folder is missing, damaged, or ``out_dir`` cannot be written.
    """
    from pipeline.outputs import staged_output, write_run_record
    from pipeline.report import load_run, write_report

    quotes = default("quotes", quotes)
    with writing(out_dir or run_dir, lambda: run_folder_fingerprint(run_dir), force=force) as notes:
        run = load_run(run_dir)
        out_dir = out_dir or run_dir
        with staged_output(out_dir) as tmp:
            write_report(run, tmp, created=now_text(), quotes_per_code=quotes)
            # carry what the coding stage recorded, so that 'qda export' and a later report still find the codebook
            carried = {k: run.record[k] for k in ("codebook", "nlp", "codes") if run.record.get(k)}
            write_run_record(tmp, command="report", options={"run_dir": str(run_dir), "quotes": quotes},
                             inputs=[run_dir / "segments.csv", run_dir / "codings.csv"], extra=carried, previous=run.record)
    return Written(out_dir, lines=[Line(f"Report: {out_dir / 'report.html'}")], notes=notes)


