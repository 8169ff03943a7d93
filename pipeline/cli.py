"""The ``qda`` command line: thin Click commands over the library face :mod:`pipeline.api`.

Each command parses its options, calls one function of :mod:`pipeline.api` and prints the
result's lines. Library errors (:class:`pipeline.errors.QdaError`) become one message and exit
status 1 (options that do not fit together: the usage and status 2), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import api
from pipeline.cli_options import (
    QdaGroup, RegistryChoice, checked_yaml, cluster_options, coding_options, echo_line, echo_quiet, force_option, ingest_options, origins,
    out_dir_option, path_option, show,
)
from pipeline.options import DEFAULTS


@click.group(cls=QdaGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="qda", prog_name="qda")
def cli():
    """qda: offline qualitative analysis of German interviews and surveys.

    \b
    Start with the example:   qda run
    Your own folder:          qda run interviews/ --codebook codebooks/innovationsnetzwerke-v3.yaml
    """


@cli.command()
@force_option
@click.argument("sources", nargs=-1, required=True)
@path_option("--out", "out_dir", required=True, file_okay=False, help="Folder to write segments.csv, segments.parquet and run.json into.")
@ingest_options
def ingest(sources, out_dir, ingest_opts, force):
    """Read transcripts and survey exports into coding units.

    SOURCES are files, folders (a corpus.yaml there is used) or glob patterns. Writes
    OUT/segments.csv, OUT/segments.parquet and OUT/run.json.

    \b
    Example:
      qda ingest corpora/beispiel --out outputs/beispiel-ingest
      qda ingest umfrage.csv --text-column hindernisse --id-column id --out outputs/umfrage
    """
    show(api.ingest(sources, out_dir, ingest_opts, force=force, origins=origins()))


@cli.group()
def codebook():
    """Validate, show, compare and exchange codebooks (Kodierleitfäden).

    \b
    Example:
      qda codebook validate codebooks/innovationsnetzwerke-v3.yaml
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
      qda codebook validate codebooks/innovationsnetzwerke-v3.yaml
    """
    show(api.validate_codebook(file, anchors=not no_anchors))


@codebook.command(name="show")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "markdown"]), default="table", show_default=True)
@path_option("--out", "out_file", dir_okay=False, help="Write to a file instead of the terminal.")
def show_cmd(file, fmt, out_file):
    """Show the code tree with definitions, or write a printable Kodierleitfaden.

    \b
    Example:
      qda codebook show codebooks/innovationsnetzwerke-v3.yaml
      qda codebook show codebooks/innovationsnetzwerke-v3.yaml --format markdown --out leitfaden.md
    """
    show(api.show_codebook(file, fmt=fmt, out_file=out_file))


@codebook.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@path_option("--out", "out_file", dir_okay=False, help="Write to a file instead of the terminal.")
def diff(old, new, fmt, out_file):
    """List what changed from codebook OLD to NEW: codes added, removed, renamed, moved,
    and the fields and patterns of changed codes.

    \b
    Example:
      qda codebook diff codebooks/innovationsnetzwerke-v2.yaml codebooks/innovationsnetzwerke-v3.yaml
    """
    show(api.diff_codebooks(old, new, fmt=fmt, out_file=out_file))


@codebook.command(name="export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["qdc", "csv", "xlsx"]), required=True, help="REFI-QDA codebook or a spreadsheet.")
@click.option("--layout", type=click.Choice(["maxqda", "atlasti", "taguette", "qda"]), help="Spreadsheet columns. Default: taguette for csv, maxqda for xlsx.")
@path_option("--out", "out_file", required=True, dir_okay=False, help="The file to write (.qdc, .csv or .xlsx).")
def export_codebook(file, fmt, layout, out_file):
    """Export a codebook for MAXQDA, ATLAS.ti, NVivo, QualCoder or Taguette.

    \b
    Example:
      qda codebook export codebooks/innovationsnetzwerke-v3.yaml --format qdc --out v3.qdc
      qda codebook export codebooks/innovationsnetzwerke-v3.yaml --format xlsx --layout maxqda --out v3.xlsx
    """
    show(api.export_codebook(file, out_file, fmt=fmt, layout=layout))


@codebook.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@path_option("--out", "out_file", required=True, dir_okay=False, help="The YAML codebook to write.")
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
    show(api.import_codebook(file, out_file, name=name, version=version))


@cli.command(name="code")
@force_option
@click.argument("sources", nargs=-1, required=True)
@path_option("--codebook", "codebook_path", help="The YAML codebook. Default: the newest reference codebook in codebooks/.")
@out_dir_option
@coding_options
@click.option("--scheduler", metavar="ADDRESS", help="Code on a Dask cluster: a scheduler address (tcp://host:8786) or local:N for N local worker processes. Needs the dask extra.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary (errors and warnings still go to stderr).")
@ingest_options
def code_cmd(sources, codebook_path, out_dir, coding, scheduler, quiet, ingest_opts, force):
    """Code units with a codebook: the rules propose with evidence, a trained verifier decides.

    SOURCES are raw files/folders (as for ingest) or an earlier run folder. Writes
    segments.csv, codings.csv (one row per code per unit, with evidence and score),
    codings_wide.csv (0/1 per code), evidence.csv (every rule hit), candidates.csv (what the
    verifier considered, for review), run.json, and model.npz (the verifier that decided).

    The verifier is the one trained with --train, given with --model, or else the codebook's
    companion (NAME.verifier.npz next to NAME.yaml, used only if it was trained for exactly
    this codebook); --rules-only codes with the rules alone.

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
    from pipeline.progress import bar

    show(api.code(sources, codebook_path, out_dir, coding, ingest_opts, scheduler=scheduler, quiet=quiet, bar=bar, on_event=echo_line,
                  force=force, origins=origins()))


@cli.command(name="evaluate")
@click.option("--gold", required=True, metavar="GOLD", help="Gold file(s): CSV/XLSX segment_id,codes (several joined with ',').")
@path_option("--codings", "run_dir", required=True, file_okay=False, help="A folder written by 'qda code'.")
@click.option("--part", help="Score only this part (e.g. test) of the split.")
@path_option("--split", dir_okay=False, help="segment_id,part file. Default: split.csv next to the gold.")
@click.option("--method", type=click.Choice(["all", "rule", "model"]), default=DEFAULTS["method"], show_default=True, help="Score only codings of one method.")
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
    show(api.evaluate(gold, run_dir, part=part, split=split, method=method))


@cli.group()
def review():
    """Review suggested codings (hardest first) and import the reviewers' decisions.

    \b
    Example:
      qda review export outputs/kodiert --out review.xlsx
      qda review import outputs/kodiert review.xlsx
    """


@review.command(name="export")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@path_option("--out", "out_file", required=True, dir_okay=False, help="File to write: .xlsx, .html or .csv.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "html", "csv"]), help="Default: from the extension of --out.")
@click.option("--order", type=click.Choice(["uncertainty", "code", "document"]), default=DEFAULTS["order"], show_default=True, help="Closest to the verifier's threshold first (rules-only runs: by code), by code, or by document.")
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
    show(api.review_export(run_dir, out_file, fmt=fmt, order=order, limit=limit))


@review.command(name="import")
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
    show(api.review_import(run_dir, decisions, reviewer=reviewer))


@cli.command(name="cluster")
@force_option
@click.argument("sources", nargs=-1, required=True)
@out_dir_option
@cluster_options
@ingest_options
def cluster_cmd(sources, out_dir, cluster_opts, ingest_opts, force):
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
    show(api.cluster(sources, out_dir, cluster_opts, ingest_opts, on_event=echo_line, force=force, origins=origins()))


@cli.command(name="compare")
@force_option
@click.argument("codebook_a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("codebook_b", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("sources", nargs=-1, required=True)
@out_dir_option
@click.option("--gold", metavar="GOLD", help="Gold file(s) (segment_id,codes; several joined with ','): which version codes better where.")
@click.option("--part", help="Score only this part of the gold's split (e.g. test).")
@click.option("--nlp", "nlp", metavar="NAME_OR_PATH", help="German pipeline (see qda code).")
@ingest_options
def compare_cmd(codebook_a, codebook_b, sources, out_dir, gold, part, nlp, ingest_opts, force):
    """Compare two codebook versions on the same units: diff, effect, agreement, gold scores.

    Writes diff.txt, diff.json, effect.csv, changed_units.csv, agreement.csv, gold_scores.csv
    (with --gold), comparison.xlsx and comparison.html.

    \b
    Example:
      qda compare codebooks/innovationsnetzwerke-v2.yaml codebooks/innovationsnetzwerke-v3.yaml corpora/beispiel \\
          --gold corpora/beispiel/gold/umfrage_gold.csv,corpora/beispiel/gold/interviews_gold.csv --out outputs/vergleich
    """
    show(api.compare(codebook_a, codebook_b, sources, out_dir, gold=gold, part=part, nlp=nlp, ingest_options=ingest_opts, force=force))


@cli.command(name="agreement")
@force_option
@click.argument("codings", nargs=-1, required=True)
@path_option("--out", "out_dir", file_okay=False, help="Also write agreement.csv and summary.json here.")
@click.option("--name", "names", multiple=True, help="Coder names, in the order of CODINGS (default: file names).")
def agreement_cmd(codings, out_dir, names, force):
    """Agreement between two or more coders: percent agreement, Cohen's kappa (pairs), Fleiss'
    kappa and Krippendorff's alpha (all), per code and overall, at unit level.

    Each CODINGS is a gold-style file (segment_id,codes), a codings.csv, a run folder, or a
    REFI-QDA project (.qdpx) whose users each count as a coder. Units are those every coder
    coded (gold files list their units, run folders their coded units, projects their paragraphs).

    \b
    Example:
      qda agreement kodiererin_a.csv kodierer_b.csv outputs/kodiert
    """
    show(api.agreement(codings, names=names, out_dir=out_dir, force=force))


@cli.command(name="export")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["qdpx"]), default="qdpx", show_default=True)
@path_option("--out", "out_file", required=True, dir_okay=False, help="The .qdpx file to write ('.qdpx' is added when the name has no such extension).")
@click.option("--user", default=DEFAULTS["user"], show_default=True, help="Coder name in the project.")
@click.option("--segments", "segments", type=click.Choice(["unit", "sentence", "evidence"]), default=DEFAULTS["segments"], show_default=True, help="What a coding marks: the whole coding unit (turn or answer), the sentence(s) with the evidence, or only the evidence. "
                   "The evidence is always in the coding's comment.")
def export_cmd(run_dir, fmt, out_file, user, segments):
    """Export a coded run as a REFI-QDA project for MAXQDA, ATLAS.ti, NVivo, QualCoder.

    Each coding marks its whole unit by default and names the unit (segment_id); the passage
    that fired is in the coding's comment. 'qda import' of the file gives back the run's units
    and codings, so 'qda agreement RUN_DIR FILE.qdpx' is 1.0 for an unchanged file.

    \b
    Example:
      qda export outputs/beispiel-2.0 --format qdpx --out beispiel.qdpx
      qda export outputs/beispiel-2.0 --segments sentence --out beispiel-saetze.qdpx
    """
    show(api.export_project(run_dir, out_file, user=user, segments=segments))


@cli.command(name="import")
@force_option
@click.argument("project", type=click.Path(dir_okay=False, path_type=Path))
@out_dir_option
def import_cmd(project, out_dir, force):
    """Import a REFI-QDA project (.qdpx/.qde): segments, codebook, codings per coder.

    Writes segments.csv, codings.csv (with the coder in 'user'), codebook.yaml and one gold file
    per coder (gold_<user>.csv), usable with evaluate, agreement and code --train.

    \b
    Example:
      qda import projekt.qdpx --out outputs/aus-nvivo
    """
    show(api.import_project(project, out_dir, force=force))


@cli.command(name="report")
@force_option
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@path_option("--out", "out_dir", file_okay=False, help="Default: the run folder itself.")
@click.option("--quotes", default=DEFAULTS["quotes"], show_default=True, type=click.IntRange(1, 50), help="Quotes per code.")
def report_cmd(run_dir, out_dir, quotes, force):
    """Write the analysis report of a run folder: tables (CSV + Excel), figures, report.html.

    \b
    Example:
      qda report outputs/beispiel-2.0
    """
    show(api.report(run_dir, out_dir=out_dir, quotes=quotes, force=force))


@cli.command(name="run")
@force_option
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@path_option("--codebook", "codebook", help="Default: the newest reference codebook in codebooks/.")
@path_option("--out", "out_dir", file_okay=False, help="Run folder. Default: outputs/<corpus>-<codebook version>/.")
@path_option("--categories", "categories", dir_okay=False, callback=checked_yaml, help="Categories to steer the clustering (default: FOLDER/kategorien.yaml if present).")
@click.option("--no-cluster", is_flag=True, help="Skip the clustering stage.")
@click.option("--seed", default=DEFAULTS["seed"], show_default=True, help="Seed of the clustering.")
@click.option("--embedding", default=DEFAULTS["embedding"], show_default=True, type=RegistryChoice("embedder", "pipeline.embed"),
              help="Sentence embeddings of the clustering (see qda cluster).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no stage lines; only warnings, the run folder and the report's path.")
@coding_options
@ingest_options
def run_cmd(folder, codebook, out_dir, categories, no_cluster, seed, embedding, quiet, coding, ingest_opts, force):
    """The main job: ingest → code → cluster → report, on FOLDER (default: the example corpus).

    \b
    Example:
      qda run
      qda run meine_interviews/ --codebook codebooks/innovationsnetzwerke-v3.yaml --out outputs/runde2
    """
    from pipeline.progress import bar

    show(api.run_pipeline(folder, codebook=codebook, out_dir=out_dir, categories=categories, cluster=not no_cluster, seed=seed, embedding=embedding,
                          coding=coding, ingest_options=ingest_opts, bar=None if quiet else bar, on_event=echo_quiet if quiet else echo_line,
                          force=force, origins=origins()))


def main() -> None:  # the 'qda' entry point; 'python -m pipeline' runs it through __main__.py
    cli(prog_name="qda")
