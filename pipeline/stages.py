"""The stages the commands share, as library functions (no printing, no exits).

``qda code``, ``run``, ``cluster``, ``compare`` and ``agreement`` are thin wrappers over these:
reading sources or an earlier run folder, coding with an optional trained verifier, writing the
coding tables, clustering and writing the map, reading one coder's decisions.
"""

from __future__ import annotations

from pathlib import Path


def run_folder_source(sources) -> Path | None:
    """The run folder when ``sources`` is one (a folder with segments.parquet and no corpus.yaml)."""
    from pipeline import runfolder

    if len(sources) == 1 and Path(sources[0]).is_dir() and runfolder.exists(sources[0], "segments_parquet") \
            and not any((Path(sources[0]) / n).is_file() for n in ("corpus.yaml", "corpus.yml")):
        return Path(sources[0])
    return None


def input_fingerprint(sources) -> dict | None:
    """What a run folder written from ``sources`` belongs to (see
    :func:`pipeline.outputs.fingerprint_files`): the source files' contents, or the fingerprint
    an earlier run folder given as the source records (None if it records none).

    Raises:
        InputError: a source is missing or a glob matches nothing (as ingest would say).
    """
    from pipeline.ingest import expand_sources
    from pipeline.outputs import fingerprint_files, recorded_fingerprint

    sources = [str(s) for s in sources]
    folder = run_folder_source(sources)
    if folder is not None:
        return recorded_fingerprint(folder)
    return fingerprint_files(p for p, _ in expand_sources(sources))


def segments_from(sources, ingest_opts):
    """A previous run folder (with segments.parquet) or raw files to ingest."""
    from pipeline.ingest import IngestResult, ingest as run_ingest

    if run_folder_source(sources) is not None:
        from pipeline import runfolder

        seg = runfolder.read(sources[0], "segments_parquet")
        return IngestResult(seg, [], [runfolder.path(sources[0], "segments_parquet")]), True
    return run_ingest(list(sources), ingest_opts), False


def training_labels(train: str, segments, cb, *, part: str | None = None):
    """``segment_id, code, label, source`` rows from gold files and reviewed decisions (joined with ',').

    A gold file (``segment_id,codes``) fixes every code of its units (1 or 0); a ``reviewed.csv``
    of ``qda review import`` the decided pairs, plus (in its run folder) the run's clear "no"s
    (see :mod:`pipeline.review.training`). Where several speak of a pair, gold wins over a
    reviewer's decision, and a decision over the run's "no".

    Raises:
        InputError / ValidationError: a missing file, units that are not in the coded data,
            unknown codes.
    """
    import pandas as pd

    from pipeline.coding.verifier import gold_labels
    from pipeline.evaluate import check_gold, read_gold
    from pipeline.review import is_reviewed_file
    from pipeline.review.training import reviewed_training_labels

    codes = [c.id for c in cb.codable()]
    units = set(segments["segment_id"].astype(str))
    parts = []
    for path in (p.strip() for p in str(train).split(",") if p.strip()):
        if is_reviewed_file(path):
            lab = reviewed_training_labels(path)
            decided = lab[lab["source"] == "reviewed"]
            check_gold(decided.groupby("segment_id")["code"].apply(set).to_dict(), units, set(codes), path)
            lab = lab[lab["segment_id"].isin(units)]  # the run's "no"s count only on the units being coded
        else:
            gold = read_gold(path, part=part)
            check_gold(gold, units, set(codes), path)
            lab = gold_labels(gold, codes).assign(source="gold")
        parts.append(lab)
    if not parts:
        return pd.DataFrame(columns=["segment_id", "code", "label", "source"])
    labels = pd.concat(parts, ignore_index=True)
    rank = labels["source"].map({"gold": 0, "reviewed": 1, "run": 2})
    labels = labels.iloc[rank.argsort(kind="stable")]
    return labels.drop_duplicates(["segment_id", "code"], keep="first").reset_index(drop=True)


def code_stage(segments, codebook_path, *, nlp_name=None, train_gold=None, train_part=None, model_path=None, threshold=None,
               favour="balanced", code_interviewer=None, workers=1, no_cache=False, scope=None, verifier_embedding="none", progress=None, on_event=None,
               scheduler=None, rules_only=False):
    """Loads the codebook, trains (``train_gold``) or loads (``model_path``, else the codebook's
    companion unless ``rules_only``, see :func:`load_coder`) the verifier and
    codes the segments (in partitions on a Dask cluster when ``scheduler`` is given, see
    :mod:`pipeline.distributed`). Returns ``(codebook, model or None, CodingResult)``.

    Raises:
        InputError / ValidationError: a missing or foreign model file, an invalid codebook, a
            gold file that does not fit the segments.
    """
    from pipeline.coding import code_segments

    cb, model = load_coder(segments, codebook_path, nlp_name=nlp_name, train_gold=train_gold, train_part=train_part, model_path=model_path,
                           no_cache=no_cache, verifier_embedding=verifier_embedding, on_event=on_event, rules_only=rules_only)
    if scheduler:
        from functools import partial

        from pipeline.distributed import code_partitioned

        code_segments = partial(code_partitioned, scheduler=scheduler)
    result = code_segments(segments, cb, nlp_name=nlp_name, code_interviewer=code_interviewer, model=model, threshold=threshold,
                           favour=favour, scope=scope, use_cache=not no_cache, workers=workers, progress=progress)
    return cb, model, result


def companion_model_path(codebook_path) -> Path:
    """Where a codebook's companion verifier lives: next to it, ``NAME.verifier.npz``."""
    path = Path(codebook_path)
    return path.with_name(f"{path.stem}.verifier.npz")


def load_companion(codebook_path, cb, on_event=None):
    """The verifier shipped next to the codebook (:func:`companion_model_path`), or None when
    there is none or it was trained for another state of the codebook (then ``on_event`` hears
    why the rules code alone). A companion that is damaged or changed is an error, as any model
    file: silently coding without it would change the results unnoticed.

    Raises:
        InputError: the companion file is not an intact qda model file.
    """
    from pipeline.coding.modelfile import fits_codebook, load_model, read_model_file

    path = companion_model_path(codebook_path)
    if not path.is_file():
        return None
    contents = read_model_file(path)
    if not fits_codebook(contents[1], cb):
        trained_for = contents[1].get("codebook", {})
        if on_event:
            on_event(f"note: {path.name} was trained for another state of this codebook ('{trained_for.get('name')}' {trained_for.get('version')}); "
                     "the rules code alone. Retrain it (qda code --train, then copy the run's model.npz there; for the reference codebook: "
                     "scripts/train_companion.py), or delete it")
        return None
    model = load_model(path, cb, contents=contents)
    model.file_["companion"] = True
    if on_event:
        on_event(f"verifier: {path.name} (trained for this codebook on {model.n_train_} hand-coded units) decides the rules' suggestions; "
                 "--rules-only codes without it")
    return model


def load_coder(segments, codebook_path, *, nlp_name=None, train_gold=None, train_part=None, model_path=None, no_cache=False,
               verifier_embedding="none", on_event=None, rules_only=False):
    """The codebook and the verifier: trained on ``train_gold`` over ``segments``, or loaded
    from ``model_path``, or else the codebook's companion (:func:`load_companion`) unless
    ``rules_only``. Returns ``(codebook, model or None)``.

    Raises:
        InputError / ValidationError: as :func:`code_stage`.
    """
    from pipeline.codebook import load_codebook

    cb, _ = load_codebook(codebook_path)
    model = None
    if model_path is not None:
        from pipeline.coding.modelfile import load_model

        model = load_model(model_path, cb)
    elif train_gold:
        from pipeline.coding.verifier import train_verifier

        labels = training_labels(train_gold, segments, cb, part=train_part)
        if on_event:
            on_event(f"training the verifier on {labels['segment_id'].nunique()} labelled units (+ the codebook's anchor examples)")
        model = train_verifier(segments, labels, cb, embedding=verifier_embedding, nlp_name=nlp_name, use_cache=not no_cache)
    elif not rules_only:
        model = load_companion(codebook_path, cb, on_event)
    return cb, model


def write_coding_outputs(tmp: Path, result, model) -> None:
    from pipeline import runfolder

    runfolder.write(tmp, "codings", result.codings)
    runfolder.write(tmp, "codings_wide", result.wide)
    runfolder.write(tmp, "evidence", result.evidence)
    if result.candidates is not None:
        runfolder.write(tmp, "candidates", result.candidates)
    if model is not None:
        from pipeline.coding.modelfile import save_model

        save_model(model, runfolder.path(tmp, "model"))


def coding_record(cb, result, model) -> dict:
    return {
        "codebook": {"name": cb.name, "version": cb.version, "path": cb.source, "sha256": cb.sha256, "matching": cb.matching.to_dict()},
        "codes": [c.id for c in cb.codable()],
        "nlp": result.parse.pipeline,
        "parse": {"units": result.parse.units, "parsed": result.parse.parsed, "from_cache": result.parse.cached,
                  "codes_from_hit_cache": result.parse.codes_from_cache},
        "model": {**result.model_info, "file": model.file_} if getattr(model, "file_", None) and result.model_info else result.model_info,
    }


def _category_table(res, clusters, group_column: str | None):
    """categories.csv: the cluster table, shares per group and in ``examples`` three confident
    examples, then up to three uncertain ones marked ``unsicher:`` (``unsicher (sonst: X):``
    when the second opinions chose X)."""
    import numpy as np
    import pandas as pd

    cats = res.clusters.copy()
    if group_column:
        tab = pd.crosstab(clusters["cluster"], clusters[group_column], normalize="index").round(3)
        for g in tab.columns:
            cats[f"share_{g}"] = cats["cluster"].map(tab[g]).fillna(0.0)
    order = clusters.sort_values(["score", "segment_id"], ascending=[False, True])
    sure, unsure = order[~order["uncertain"]], order[order["uncertain"]]
    # one column (the report shows the table at page width): the uncertain ones marked, with
    # the category the second opinions chose instead when there is one
    alt = unsure["alternative"].fillna("").astype(str) if "alternative" in unsure else pd.Series("", index=unsure.index)
    marked = np.where(alt != "", "unsicher (sonst: " + alt + "): ", "unsicher: ") + unsure["text"].astype(str)
    marked = pd.Series(marked, index=unsure.index)
    cats["examples"] = [" | ".join([*sure.loc[sure["cluster"] == c, "text"].head(3),
                                    *marked[unsure["cluster"] == c].head(3)]) for c in cats["cluster"]]
    return cats


def cluster_stage(selected, tmp: Path, *, categories, embedding, seed, n_clusters, min_cluster_size, group_column, keep_theme,
                  labels_column=None, uncertain_margin=None, second_opinions="auto", gold_column=None, stability=0, on_event=None):
    """Clusters the selected units and writes clusters.csv, categories.csv, the maps and
    summary.json into ``tmp``. Returns ``(summary, categories)``.

    ``clusters.csv`` has ``segment_id, cluster, cluster_label, score, margin``, in guided runs
    ``agree`` (how many second opinions chose the same category) and ``alternative`` (what they
    chose instead), then ``uncertain``, every
    other column of ``selected`` (metadata, gold columns) and ``text``.

    Raises:
        QdaError: see :func:`pipeline.cluster.cluster_units`.
    """
    import json

    import pandas as pd

    from pipeline import runfolder
    from pipeline.cluster import cluster_units, compare_with_gold
    from pipeline.cluster import stability as run_stability
    from pipeline.cluster.map import draw_html, draw_png

    groups = selected[group_column].astype(str).tolist() if group_column in selected.columns else None
    kwargs = {"groups": groups, "remove_theme": not keep_theme, "embedding": embedding, "n_clusters": n_clusters,
              "min_cluster_size": min_cluster_size, "categories": categories or None, "uncertain_margin": uncertain_margin,
              "second_opinions": second_opinions, "labels": selected[labels_column].astype(str).tolist() if labels_column else None}
    texts = selected["text"].astype(str).tolist()
    res = cluster_units(texts, seed=seed, on_event=on_event, **kwargs)
    a = res.assignments
    meta_cols = [c for c in selected.columns if c not in {"segment_id", "text", "start_char", "end_char", "unit", "flag", "is_interviewer", "code_scope"}]
    guided = bool(a["guided"].any())
    columns = ["cluster", "cluster_label", "score", "margin", *(["agree", "alternative"] if guided else []), "uncertain"]
    clusters = pd.concat([selected[["segment_id"]].reset_index(drop=True), a[columns],
                          selected[meta_cols + ["text"]].reset_index(drop=True)], axis=1)
    cats = _category_table(res, clusters, group_column if groups else None)
    summary = {"units": len(texts), "clusters": int((cats["size"] > 0).sum()), "uncertain": int(a["uncertain"].sum()),
               "uncertain_per_category": dict(zip(cats["label"], cats["uncertain"].astype(int).tolist())),
               "other": int(a["other"].sum()), **res.params}
    tmp.mkdir(parents=True, exist_ok=True)
    runfolder.write(tmp, "clusters", clusters)
    # the count is in summary.json; one column less keeps the report's table within the page
    runfolder.write(tmp, "categories", cats.drop(columns=["uncertain"]))
    mp = pd.DataFrame({"x": res.coords[:, 0], "y": res.coords[:, 1], "cluster": a["cluster"], "cluster_label": a["cluster_label"],
                       "group": groups if groups else ["alle"] * len(texts), "text": texts, "uncertain": a["uncertain"],
                       "alternative": a["alternative"]})
    draw_png(mp, runfolder.path(tmp, "cluster_map_png"))
    draw_html(mp, runfolder.path(tmp, "cluster_map_html"))
    if gold_column:
        scores, table = compare_with_gold(a["cluster"].tolist(), selected[gold_column].astype(str).tolist())
        summary["gold"] = {"column": gold_column, **scores}
        table.to_csv(runfolder.path(tmp, "gold_contingency"), encoding="utf-8", lineterminator="\n")  # with its index: the clusters
    if stability:
        if on_event:
            on_event(f"stability: {stability} reruns with seeds {seed}..{seed + stability - 1}")
        st_sum, st_units = run_stability(texts, runs=stability, seed=seed, **kwargs)
        summary["stability"] = st_sum
        runfolder.write(tmp, "stability", pd.concat([selected[["segment_id"]].reset_index(drop=True), st_units, a[["cluster"]]], axis=1))
    runfolder.path(tmp, "cluster_summary").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary, cats


def network_column(columns) -> str:
    """The column holding the network (English or German name); ``network`` if there is none."""
    return next((c for c in columns if str(c).strip().lower() in ("network", "netzwerk")), "network")


def cluster_selection(segments, codings):
    """Which units the main job clusters: answers to the question scoped to innovation forms,
    else units coded with an innovation form."""
    import pandas as pd

    from pipeline.coding import eligible_units

    units = segments[eligible_units(segments, code_interviewer=False)]
    if "code_scope" in units:
        sel = units[units["code_scope"].fillna("").str.split(";").map(lambda s: "innovationsform" in s)]
        if len(sel) >= 10:
            return sel, "answers to the question on innovation examples"
    ids = set(codings.loc[codings["code"].str.startswith("innovationsform."), "segment_id"])
    sel = units[units["segment_id"].isin(ids)]
    return (sel, "units coded with an innovation form") if len(sel) >= 10 else (pd.DataFrame(), "")


def read_coder(path: Path):
    """``(decisions, units)`` of one coder's file or run folder.

    Raises:
        InputError: a missing, empty or damaged file or table.
    """
    from pipeline import runfolder
    from pipeline.coding import eligible_units
    from pipeline.errors import InputError
    from pipeline.evaluate import predictions_from_codings, read_gold

    if path.is_dir():
        cod = runfolder.read_codings(path, fix="give a run folder of 'qda code', a codings.csv or a gold file")
        seg = runfolder.read_segments(path)
        units = set(seg.loc[eligible_units(seg, code_interviewer=False), "segment_id"])
        return predictions_from_codings(cod), units
    if not path.is_file():
        raise InputError(path, "file not found", "check the path")
    head = path.read_text(encoding="utf-8-sig", errors="replace").split("\n", 1)[0].lower()
    if "method" in head and "code" in head:
        cod = runfolder.read_file(path, "codings")
        seg = runfolder.read_segments(path.parent, missing_ok=True)
        units = set(seg["segment_id"]) if seg is not None else set(cod["segment_id"])
        return predictions_from_codings(cod), units
    gold = read_gold(path)
    return gold, set(gold)
