"""The ``qda`` command line: thin Click commands over the library.

Each command parses its options, calls one library function, writes its folder through
:func:`pipeline.outputs.staged_output` and prints a short summary. Library errors
(:class:`pipeline.errors.QdaError`) become one message and exit status 1, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from pipeline.errors import QdaError


class QdaGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QdaError as exc:
            click.secho(f"Error: {exc}", err=True, fg="red")
            ctx.exit(1)


@click.group(cls=QdaGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="qda", prog_name="qda")
def cli():
    """qda: offline qualitative analysis of German interviews and surveys.

    \b
    Start with the example:   qda run
    Your own folder:          qda run interviews/ --codebook codebooks/innovationsnetzwerke-v2.yaml
    """


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
    @functools.wraps(func)
    def wrapper(*args, text_columns, id_column, meta_columns, question_column, encoding, interviewer, unit, meta_pairs, **kwargs):
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
        )
        return func(*args, ingest_opts=opts, **kwargs)

    return wrapper


def _echo_ingest_summary(result) -> None:
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
    for w in result.warnings:
        click.secho(f"  warning: {w}", fg="yellow", err=True)


@cli.command()
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
    from pipeline.outputs import staged_output, write_csv, write_parquet, write_run_record

    result = run_ingest(list(sources), ingest_opts)
    with staged_output(out_dir) as tmp:
        write_csv(result.segments, tmp / "segments.csv")
        write_parquet(result.segments, tmp / "segments.parquet")
        write_run_record(tmp, command="ingest", options={"sources": list(sources), **vars(ingest_opts)}, inputs=result.inputs)
    _echo_ingest_summary(result)
    click.echo(f"Wrote {out_dir}/segments.csv")


def main() -> None:
    cli(prog_name="qda")


if __name__ == "__main__":
    main()
