"""Reading and coding a corpus: ``ingest``, ``code`` and the main job ``run_pipeline``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.api.base import (
    Line,
    OnEvent,
    Result,
    default_corpus,
    emitter,
    newest_codebook,
    no_bar,
    note,
    now_text,
    sources_fingerprint,
    warning,
    writing,
)
from pipeline.errors import UsageError
from pipeline.options import (
    CodingOptions,
    corpus_keys,
    default,
    ingest_record,
    option_sources,
)


@dataclass
class IngestRun(Result):
    """What :func:`ingest` wrote: ``units`` rows of segments.csv from ``files`` files."""

    out_dir: Path
    files: int
    units: int


@dataclass
class CodingRun(Result):
    """What :func:`code` or :func:`run_pipeline` wrote into ``out_dir``, with the codebook and
    the coding summary (see :func:`pipeline.coding.summarise`)."""

    out_dir: Path
    codebook: object
    summary: dict


def ingest_lines(result) -> list[Line]:
    """The summary of an ingest: files, documents, units and speakers, each file, warnings."""
    from pipeline.ingest import file_notes

    seg = result.segments
    docs = seg["doc_id"].nunique()
    speakers = sorted({s for f in result.files for s in f.speakers})
    lines = [Line(f"{len(result.files)} file(s), {docs} document(s), {len(seg)} unit(s), speakers: {', '.join(speakers) or '–'}")]
    for f in result.files:
        extra = ""
        if f.info.get("text_columns"):
            extra = f"  columns: {', '.join(f.info['text_columns'])}"
        flagged = seg[(seg["source"] == f.path) & (seg["flag"] != "")]
        if len(flagged):
            extra += f"  ({len(flagged)} empty/placeholder answers flagged)"
        lines.append(Line(f"  {f.path}: {f.reader}, {f.documents} doc(s), {f.units} unit(s), speakers {'/'.join(f.speakers) or '–'}{extra}"))
        lines += [Line(f"    {n}") for n in file_notes(f)]
    return lines + [warning(f"  warning: {w}") for w in result.warnings]


def coding_lines(cb, result) -> tuple[dict, list[Line]]:
    """The coding summary (see :func:`pipeline.coding.summarise`) and its lines."""
    from pipeline.coding import summarise

    s = summarise(result, cb)
    dims = ", ".join(f"{d} {n}" for d, n in s["per_dimension"].items())
    lines = [Line(f"{s['units']} units, {s['eligible_units']} coded by the rules/model (others: interviewer, empty or placeholder), "
                  f"{s['coded_units']} with at least one code, {s['codings']} codings"),
             Line(f"  codings per dimension: {dims or '–'};  by method: {', '.join(f'{k} {v}' for k, v in s['by_method'].items()) or '–'}"),
             Line(f"  parsed {s['parsed']} new unit text(s), {s['from_cache']} from the cache ({result.parse.pipeline['name']} {result.parse.pipeline['version']}); "
                  f"rule hits of {s['codes_from_cache']} of {len(cb.codable())} codes from the cache")]
    if not s["coded_units"]:
        why = ("none of them is to be coded (interviewer turns, empty or placeholder answers)" if not s["eligible_units"]
               else "no pattern of the codebook matched; check that it is the right codebook for these texts")
        lines.append(note(f"  no unit was coded: {why}"))
    return s, lines


def parse_warnings(stats) -> list[Line]:
    return [warning(f"  warning: {w}") for w in getattr(stats, "warnings", None) or []]


def code_segments(segments, codebook_path, coding: CodingOptions, *, bar=None, on_event: OnEvent | None = None, scheduler=None):
    """:func:`pipeline.stages.code_stage` with a progress bar from ``bar`` (see
    :func:`pipeline.progress.bar`) and its messages to ``on_event``. Returns
    ``(codebook, model or None, CodingResult)``."""
    from pipeline.stages import code_stage

    event = (lambda m: on_event(Line(f"  {m}"))) if on_event else None
    with (bar or no_bar)(int(len(segments)), "parsing") as advance:
        return code_stage(segments, codebook_path, progress=advance, on_event=event, scheduler=scheduler, **coding.stage_kwargs())


def ingest(sources, out_dir: Path, options=None, *, force: bool = False, origins: dict | None = None) -> IngestRun:
    """Reads ``sources`` (files, folders with or without corpus.yaml, globs) into coding units.

    Writes ``out_dir/segments.csv``, ``segments.parquet`` and ``run.json``. Survey exports too
    large for memory are read and written in parts.

    Raises:
        InputError / ValidationError: a source is missing, unreadable or its corpus.yaml invalid;
            ``out_dir`` cannot be written or holds a run over other inputs.
    """
    from pipeline import runfolder
    from pipeline.ingest import IngestOptions, StreamedIngest, needs_streaming
    from pipeline.ingest import ingest as run_ingest
    from pipeline.outputs import (
        staged_output,
        write_run_record,
    )

    sources, options = list(sources), options or IngestOptions()
    with writing(out_dir, lambda: sources_fingerprint(sources), force=force) as notes:
        opts = {"sources": sources, **ingest_record(options)}
        if needs_streaming(sources):  # a large export: read and written in parts, bounded memory
            from pipeline.distributed import AppendedTable

            result = StreamedIngest(sources, options)
            with staged_output(out_dir) as tmp:
                table = AppendedTable(tmp / "segments.csv", tmp / "segments.parquet")
                try:
                    for frame in result:
                        table.append(frame)
                finally:
                    table.close()
                write_run_record(tmp, command="ingest", options=opts, inputs=result.inputs,
                                 extra={"ingest": result.record(), "option_sources": _sources_of(opts, vars(options), sources, origins)})
            lines = [Line(f"{len(result.files)} file(s), {table.rows} unit(s) (read in parts)")]
            lines += [warning(f"  warning: {w}") for w in result.warnings]
            units = table.rows
        else:
            result = run_ingest(sources, options)
            with staged_output(out_dir) as tmp:
                runfolder.write_segments(tmp, result.segments)
                write_run_record(tmp, command="ingest", options=opts, inputs=result.inputs,
                                 extra={"ingest": result.record(), "option_sources": _sources_of(opts, vars(options), sources, origins)})
            lines, units = ingest_lines(result), len(result.segments)
    return IngestRun(out_dir, len(result.files), units, lines=[*lines, Line(f"Wrote {out_dir}/segments.csv")], notes=notes)


def _sources_of(opts: dict, raw: dict, sources, origins) -> dict:
    return option_sources(opts, raw, corpus=corpus_keys(sources), origins=origins)


def code(sources, codebook_path: Path | None, out_dir: Path, coding: CodingOptions | None = None, ingest_options=None, *, scheduler: str | None = None,
         quiet: bool = False, bar=None, on_event: OnEvent | None = None, force: bool = False, origins: dict | None = None) -> CodingRun:
    """Codes the units of ``sources`` (raw files as for :func:`ingest`, or an earlier run folder)
    with the codebook (None: the newest reference codebook, as for :func:`run_pipeline`),
    optionally decided by a verifier trained (``coding.train``) or loaded (``coding.model``).

    Writes into ``out_dir``: segments.csv/.parquet, codings.csv, codings_wide.csv, evidence.csv,
    candidates.csv (with a verifier), model.npz (when training) and run.json. Survey exports too
    large for memory are read, coded and written in parts. ``quiet``: the result's lines hold
    only warnings and the closing line.

    Raises:
        UsageError: ``coding.train`` on an input that is read in parts.
        InputError / ValidationError: a source, the codebook, a gold or model file is missing or
            invalid; ``out_dir`` cannot be written or holds a run over other inputs.
    """
    from pipeline import runfolder
    from pipeline.ingest import IngestOptions, needs_streaming
    from pipeline.outputs import (
        staged_output,
        unchanged_outputs,
        write_run_record,
    )
    from pipeline.stages import coding_record, segments_from, write_coding_outputs

    sources, coding, ingest_options = list(sources), coding or CodingOptions(), ingest_options or IngestOptions()
    codebook_path = codebook_path or newest_codebook()  # as 'qda run' does
    with writing(out_dir, lambda: sources_fingerprint(sources), force=force) as notes:
        opts = {"sources": sources, "codebook": str(codebook_path), **coding.record(), "scheduler": scheduler}
        raw = {**vars(ingest_options), **coding.raw()}  # the coding option scope, not the ingest options' (None)
        run_folder = len(sources) == 1 and (Path(sources[0]) / "segments.parquet").is_file()
        if not run_folder and needs_streaming(sources):
            if coding.train:
                raise UsageError("--train is not available on an input this large (it is read in parts); train on a sample and pass --model")
            opts = {**opts, **ingest_record(ingest_options), "scope": coding.scope}
            cb, summary, lines = _code_streamed(sources, ingest_options, codebook_path, out_dir, coding, opts, quiet=quiet, bar=bar,
                                                scheduler=scheduler, option_sources=_sources_of(opts, raw, sources, origins), on_event=None if quiet else on_event)
        else:
            ing, reused = segments_from(sources, ingest_options)
            cb, model, result = code_segments(ing.segments, codebook_path, coding, bar=None if quiet else bar,
                                              on_event=None if quiet else on_event, scheduler=scheduler)
            if not reused:
                opts.update({**ingest_record(ingest_options), "scope": coding.scope})
            # a run folder's segments are copied when they are byte for byte what we would write
            copies = unchanged_outputs(sources[0], runfolder.SEGMENT_TABLES) if reused else None
            with staged_output(out_dir) as tmp:
                runfolder.write_segments(tmp, ing.segments, copies=copies)
                write_coding_outputs(tmp, result, model)
                write_run_record(tmp, command="code", options=opts, inputs=[*ing.inputs, Path(codebook_path)],
                                 extra={**coding_record(cb, result, model), "option_sources": _sources_of(opts, raw, sources, origins)})
            summary, summary_lines = coding_lines(cb, result)
            lines = parse_warnings(result.parse)
            if not quiet:
                lines += ([] if reused else ingest_lines(ing)) + summary_lines
    return CodingRun(out_dir, cb, summary, lines=[*lines, Line(f"Wrote {out_dir}/codings.csv")], notes=notes)


def _code_streamed(sources, ingest_options, codebook_path, out_dir, coding: CodingOptions, opts, *, quiet, bar, scheduler, option_sources,
                   on_event=None):
    """``code`` on a large survey export: read, code and write in parts (bounded memory)."""
    from pipeline.distributed import code_stream
    from pipeline.ingest import StreamedIngest
    from pipeline.outputs import staged_output, write_run_record
    from pipeline.stages import coding_record, load_coder

    cb, model = load_coder(None, codebook_path, model_path=coding.model, rules_only=coding.rules_only, on_event=on_event)
    streamed = StreamedIngest(list(sources), ingest_options)
    with staged_output(out_dir) as tmp, (bar if bar and not quiet else no_bar)(None, "coding") as advance:
        summary = code_stream(streamed, cb, tmp, model=model, scheduler=scheduler, progress=advance, nlp_name=coding.nlp, scope=coding.scope,
                              code_interviewer=coding.code_interviewer, threshold=coding.threshold, favour=default("favour", coding.favour),
                              use_cache=not coding.no_cache,
                              workers=default("workers", coding.workers))
        if model is not None:
            from pipeline.coding.modelfile import MODEL_NAME, save_model

            save_model(model, tmp / MODEL_NAME)
        write_run_record(tmp, command="code", options=opts, inputs=[*streamed.inputs, Path(codebook_path)],
                         extra={**coding_record(cb, summary, model), "read_in_parts": True, "option_sources": option_sources})
    lines = [warning(f"  warning: {w}") for w in streamed.warnings] + parse_warnings(summary.parse)
    s = summary.as_dict()
    if not quiet:
        lines += [Line(f"{s['units']} units (read in parts), {s['eligible_units']} coded by the rules/model, {s['coded_units']} with at least one code, {s['codings']} codings"),
                  Line(f"  codings per dimension: {', '.join(f'{d} {n}' for d, n in s['per_dimension'].items()) or '–'}"),
                  Line(f"  parsed {s['parsed']} new unit text(s), {s['from_cache']} from the cache")]
    return cb, s, lines


def run_pipeline(folder: Path | None = None, *, codebook: Path | None = None, out_dir: Path | None = None, categories: Path | None = None,
                 cluster: bool = True, seed: int | None = None, embedding: str | None = None, coding: CodingOptions | None = None,
                 ingest_options=None, bar=None, on_event: OnEvent | None = None, force: bool = False, origins: dict | None = None) -> CodingRun:
    """The main job: ingest → code → cluster → report on ``folder`` (default: the example
    corpus) with ``codebook`` (default: the newest reference codebook in codebooks/).

    Writes the run folder ``out_dir`` (default: ``outputs/<corpus>-<codebook version>/``): the
    files of :func:`code`, ``cluster/`` (unless ``cluster`` is False or there are fewer than
    10 innovation examples; steered by ``categories``, default FOLDER/kategorien.yaml if
    present; ``embedding`` as for ``qda cluster``), the report (report.html, tables, figures)
    and run.json. Each stage's summary goes to ``on_event`` as it is done.

    Raises:
        InputError / ValidationError: as :func:`code`; the categories file is invalid.
    """
    from pipeline import runfolder
    from pipeline.codebook import load_codebook
    from pipeline.ingest import IngestOptions
    from pipeline.ingest import ingest as run_ingest
    from pipeline.outputs import (
        prepare_output,
        staged_output,
        write_run_record,
    )
    from pipeline.report import load_run, write_report
    from pipeline.stages import coding_record, write_coding_outputs

    emit, coding, ingest_options = emitter(on_event), coding or CodingOptions(), ingest_options or IngestOptions()
    raw = {**vars(ingest_options), "folder": folder, "codebook": codebook, "categories": categories, "seed": seed, "cluster": not cluster,
           "embedding": embedding, **coding.raw()}
    folder, codebook_path = folder or default_corpus(), codebook or newest_codebook()
    with writing(force=force) as notes:
        cb, _ = load_codebook(codebook_path)
        out_dir = out_dir or Path("outputs") / f"{Path(folder).resolve().name}-{cb.version}"
        prepare_output(out_dir, fingerprint=sources_fingerprint([str(folder)]))
        emit(Line(f"[1/4] ingest {folder}"))
        result = run_ingest([str(folder)], ingest_options)
        for line in ingest_lines(result):
            emit(line)
        emit(Line(f"[2/4] code with {cb.name} {cb.version} ({codebook_path})"))
        cb, model, coded = code_segments(result.segments, codebook_path, coding, bar=bar, on_event=emit)
        summary, summary_lines = coding_lines(cb, coded)
        for line in summary_lines:
            emit(line)
        if categories is None and Path(folder).is_dir() and (Path(folder) / "kategorien.yaml").is_file():
            categories = Path(folder) / "kategorien.yaml"
        with staged_output(out_dir) as tmp:
            runfolder.write_segments(tmp, result.segments)
            write_coding_outputs(tmp, coded, model)
            if cluster:
                cluster_summary = _cluster_in_run(result.segments, coded.codings, tmp / "cluster", categories=categories, seed=seed,
                                                  embedding=embedding, emit=emit)
            else:
                cluster_summary = None
                emit(Line("[3/4] cluster: skipped (--no-cluster)"))
            opts = {"folder": str(folder), "codebook": str(codebook_path), **coding.record(code_interviewer=False),
                    "categories": str(categories) if categories else None, "seed": default("seed", seed), "cluster": cluster,
                    "embedding": default("embedding", embedding), **ingest_record(ingest_options), "scope": coding.scope}
            extra = {**coding_record(cb, coded, model), "cluster": cluster_summary,
                     "option_sources": option_sources(opts, raw, corpus=corpus_keys([folder]), origins=origins)}
            # the report reads the run record (codebook, pipeline); it is rewritten afterwards so that
            # its output hashes cover the report files too
            write_run_record(tmp, command="run", options=opts, inputs=[*result.inputs, Path(codebook_path)], extra=extra)
            emit(Line("[4/4] report"))
            write_report(load_run(tmp), tmp, created=now_text())
            write_run_record(tmp, command="run", options=opts, inputs=[*result.inputs, Path(codebook_path)], extra=extra)
    return CodingRun(out_dir, cb, summary, lines=[Line(f"Run folder: {out_dir}"), Line(f"Report: {out_dir / 'report.html'}")], notes=notes)


def _cluster_in_run(segments, codings, cluster_dir: Path, *, categories, seed, embedding, emit) -> dict | None:
    """Stage 3 of :func:`run_pipeline`: the innovation examples into ``cluster_dir``, steered by
    ``categories`` when given. Returns the cluster summary, None when there are too few examples."""
    from pipeline.cluster import read_categories
    from pipeline.stages import cluster_selection, cluster_stage, network_column

    selected, what = cluster_selection(segments, codings)
    if selected.empty:
        emit(Line("[3/4] cluster: skipped (fewer than 10 innovation examples)"))
        return None
    emit(Line(f"[3/4] cluster {len(selected)} {what}" + (f", steered by {categories}" if categories else "")))
    summary, cats = cluster_stage(selected, cluster_dir, categories=read_categories(categories) if categories else [],
                                  embedding=default("embedding", embedding), seed=default("seed", seed), n_clusters=None,
                                  min_cluster_size=None, group_column=network_column(selected.columns), keep_theme=False,
                                  on_event=lambda m: emit(Line(f"  · {m}")))
    emit(Line(f"  {len(cats)} categories: " + "; ".join(f"{r.label} ({r.size})" for r in cats.itertuples())))
    return summary
