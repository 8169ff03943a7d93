"""What the ``qda`` commands share: the command classes that turn library errors into messages,
the option groups (ingest, coding), option types, and printing a result.

Options with a default in :data:`pipeline.options.DEFAULTS` show it in ``--help``, but reach the
command as ``None`` when they were not given, so that the library can tell an explicit value
from the default (command line > corpus.yaml > defaults).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

import click
from click.core import ParameterSource

from pipeline.errors import QdaError, Terminated, UsageError
from pipeline.options import DEFAULTS


class QdaCommand(click.Command):
    def invoke(self, ctx):
        for param in self.params:  # a default is resolved by the library (pipeline.options), not here
            if param.name in DEFAULTS and ctx.get_parameter_source(param.name) is ParameterSource.DEFAULT:
                ctx.params[param.name] = None
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc), ctx=ctx) from None


class QdaGroup(click.Group):
    command_class = QdaCommand
    group_class = type  # subgroups are QdaGroups too

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QdaError as exc:
            click.secho(f"Error: {exc}", err=True, fg="red")
            ctx.exit(1)
        except Terminated as exc:
            click.secho(f"Stopped by {exc.signame}: no output is left half-written (the staging folder was removed).", err=True, fg="red")
            ctx.exit(128 + exc.signum)


def origins() -> dict[str, str]:
    """The options of the running command that came from an environment variable."""
    ctx = click.get_current_context()
    return {p.name: "env" for p in ctx.command.params if ctx.get_parameter_source(p.name) is ParameterSource.ENVIRONMENT}


def show(result) -> None:
    """Prints a result's text (if it has one), its lines, then the notes of its output frame."""
    if getattr(result, "text", None) is not None:
        click.echo(result.text, nl=False)
    for line in result.lines:
        echo_line(line)
    for n in result.notes:
        click.echo(f"  {n}")


def echo_line(line) -> None:
    """One :class:`pipeline.api.Line`: warnings to stderr, warnings and notes highlighted."""
    if line.kind == "info":
        click.echo(line.text)
    else:
        click.secho(line.text, fg="yellow", err=line.kind == "warning")


def echo_quiet(line) -> None:
    """:func:`echo_line` for ``-q``: only warnings."""
    if line.kind == "warning":
        echo_line(line)


class RegistryChoice(click.Choice):
    """The names registered for ``kind`` in :mod:`pipeline.registry`, read when first needed
    (importing ``module`` registers them; --help of other commands stays fast)."""

    def __init__(self, kind: str, module: str):
        self.kind, self.module, self.case_sensitive = kind, module, True

    @property
    def choices(self):
        from pipeline import registry

        importlib.import_module(self.module)
        return [name for name, _ in registry.items(self.kind)]


def path_option(*decls, file_okay=True, dir_okay=True, **kwargs):
    return click.option(*decls, type=click.Path(file_okay=file_okay, dir_okay=dir_okay, path_type=Path), **kwargs)


force_option = click.option("--force", is_flag=True, help="Replace the output folder whole, also when it holds a run over other inputs.")
out_dir_option = path_option("--out", "out_dir", required=True, file_okay=False,
                             help="The folder to write; staged and moved in complete, with its run.json.")


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
        origin = f" (from ${param.envvar})" if source == ParameterSource.ENVIRONMENT else ""
        raise click.BadParameter(f"{value!r}{origin} is not a number of megabytes (1 or more)")
    return number


def _meta_pairs(ctx, param, value):
    """``--meta KEY=VALUE`` (repeatable) as a dict."""
    meta = {}
    for pair in value:
        if "=" not in pair:
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE")
        k, v = pair.split("=", 1)
        meta[k.strip()] = v.strip()
    return meta


def checked_yaml(ctx, param, value):
    """A YAML file option read with the limits of :mod:`pipeline.yamlsafe` before the work starts."""
    if value is not None:
        from pipeline.yamlsafe import load_yaml

        load_yaml(value, what=param.name.replace("_", " "))
    return value


def ingest_options(func):
    """The options every command that reads raw files shares, as ``ingest_opts``."""

    @click.option("--text-column", "text_columns", multiple=True, metavar="NAME", help="Survey column with open answers (repeatable). Default: detected.")
    @click.option("--id-column", metavar="NAME", help="Survey column with the respondent ID. Default: detected, else row number.")
    @click.option("--meta-column", "meta_columns", multiple=True, metavar="NAME", help="Survey column to keep as metadata (repeatable). Default: all other columns.")
    @click.option("--question-column", metavar="NAME", help="Long tables: the column naming the question of each answer row.")
    @click.option("--encoding", metavar="NAME", help="Text encoding of the files. Default: UTF-8 (with or without BOM), UTF-16, else cp1252.")
    @click.option("--sheet", metavar="NAME_OR_NUMBER", help="XLSX: the sheet to read, by name or number (from 1). Default: the first sheet with answers.")
    @click.option("--interviewer", multiple=True, metavar="LABEL", help="Speaker label of the interviewer (repeatable), on top of I, Interviewer, … and the legend.")
    @click.option("--unit", type=click.Choice(["turn", "paragraph"]), default=DEFAULTS["unit"], show_default=True,
                  help="Transcripts: merge consecutive paragraphs of one speaker into a turn, or keep paragraphs.")
    @click.option("--meta", "meta", multiple=True, metavar="KEY=VALUE", callback=_meta_pairs, help="Metadata for every unit, e.g. --meta network=KERN (repeatable).")
    @click.option("--kind", type=click.Choice(["interview", "survey"]), default=None, help="Read CSV/XLSX tables as interview transcripts (speaker + text column) or as surveys. Default: decided by the header.")
    @click.option("--max-unzipped-mb", callback=_megabytes, envvar="QDA_MAX_UNZIPPED_MB", metavar="MB", help="Largest part a .docx/.xlsx may unpack to (zip-bomb guard). Default: 256, or $QDA_MAX_UNZIPPED_MB.")
    @functools.wraps(func)
    def wrapper(*args, text_columns, id_column, meta_columns, question_column, encoding, sheet, interviewer, unit, meta, kind, max_unzipped_mb,
                **kwargs):
        from pipeline.ingest import IngestOptions

        opts = IngestOptions(text_columns=list(text_columns), id_column=id_column, meta_columns=list(meta_columns), question_column=question_column,
                             encoding=encoding, sheet=sheet, interviewer=list(interviewer), unit=unit, meta=meta, kind=kind,
                             max_unzipped_mb=max_unzipped_mb)
        return func(*args, ingest_opts=opts, **kwargs)

    return wrapper


def coding_options(func):
    """Options of the coding stage (shared by code and run), as ``coding``."""

    @click.option("--nlp", "nlp", metavar="NAME_OR_PATH", help="German pipeline: de_core_news_md (if installed), qda-de (offline default) or a spaCy pipeline path.")
    @click.option("--train", "train", metavar="GOLD", help="Train the verifier on gold files (segment_id,codes) and/or reviewed.csv decisions, several joined with ','.")
    @click.option("--train-part", metavar="PART", help="Train only on this part (dev) of the gold's split.csv.")
    @path_option("--model", "model", dir_okay=False, help="Apply a verifier saved by an earlier --train run (model.npz).")
    @click.option("--rules-only", is_flag=True, help="Code with the rules alone: no verifier, not even the codebook's companion (NAME.verifier.npz next to it).")
    @click.option("--threshold", type=click.FloatRange(0, 1), help="One decision threshold for every code instead of the verifier's own (chosen by cross-validation).")
    @click.option("--favour", type=click.Choice(["balanced", "precision"]), default=DEFAULTS["favour"], show_default=True,
                  help="The verifier's operating point: balanced (thresholds for F1) or precision (fewer codings, more of them right).")
    @click.option("--verifier-embedding", default=DEFAULTS["verifier_embedding"], show_default=True, metavar="NAME",
                  help="Sentence embedding the verifier also uses when training: none, use, e5.")
    @click.option("--scope", type=click.Choice(["soft", "hard"]), help="hard: code only the dimensions a unit's question asks about. Default: as corpus.yaml says (soft).")
    @click.option("--code-interviewer", is_flag=True, default=None, help="Also code interviewer turns.")
    @click.option("--workers", type=click.IntRange(1, 64), default=DEFAULTS["workers"], show_default=True, help="Processes for parsing.")
    @click.option("--no-cache", is_flag=True, help="Do not read or write the parse cache (.qda-cache).")
    @functools.wraps(func)
    def wrapper(*args, nlp, train, train_part, model, rules_only, threshold, favour, verifier_embedding, scope, code_interviewer, workers, no_cache,
                **kwargs):
        from pipeline.options import CodingOptions

        if rules_only and (model or train):
            raise click.UsageError(f"--rules-only codes without a verifier: leave out {'--model' if model else '--train'}, or --rules-only")
        if favour == "precision" and (rules_only or threshold is not None):
            raise click.UsageError("--favour chooses the verifier's own thresholds: leave it out with "
                                   + ("--rules-only (no verifier)" if rules_only else "--threshold (one threshold for every code)"))
        coding = CodingOptions(nlp=nlp, train=train, train_part=train_part, model=model, rules_only=rules_only, threshold=threshold,
                               favour=favour, verifier_embedding=verifier_embedding, scope=scope, code_interviewer=code_interviewer, workers=workers,
                               no_cache=no_cache)
        return func(*args, coding=coding, **kwargs)

    return wrapper


def _second_opinions(ctx, param, value):
    """``auto``, ``none`` (→ ``()``) or a comma-separated list of embedder names (checked here)."""
    text = (value or "auto").strip()
    if text in ("auto", "none"):
        return "auto" if text == "auto" else ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise click.BadParameter("give auto, none or embedder names separated by ','")
    known = RegistryChoice("embedder", "pipeline.embed").choices
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.BadParameter(f"unknown embedder {', '.join(unknown)}; choose auto, none or a comma-separated list of {', '.join(known)}")
    return names


def cluster_options(func):
    """Options of ``qda cluster``, as ``cluster_opts``."""

    @click.option("--where", "where", multiple=True, metavar="COLUMN=PATTERN", help="Keep units matching a glob, e.g. question=innovationsbeispiel or code=innovationsform.* (repeatable).")
    @path_option("--join", "join", multiple=True, dir_okay=False, help="CSV with segment_id and more columns to add (e.g. hand-made categories).")
    @click.option("--embedding", default=DEFAULTS["embedding"], show_default=True, type=RegistryChoice("embedder", "pipeline.embed"),
                  help="Sentence embeddings: e5 (multilingual-e5-small), use (multilingual USE, ~13x faster, weaker for categories) or tfidf (lemmas).")
    @click.option("--embedding-model", metavar="NAME_OR_PATH", help="A local sentence-transformers model instead (needs the sentence-transformers extra).")
    @click.option("--seed", default=DEFAULTS["seed"], show_default=True, help="Seed of every random step.")
    @click.option("--n-clusters", type=click.IntRange(2, 200), help="Unguided: number of categories. Default: chosen by silhouette. Refused with --categories, --guide-codebook or --labels.")
    @click.option("--min-cluster-size", type=click.IntRange(2, 10000), help="Unguided: smallest category when k is chosen. Default: ~2 % of the units, at least 3.")
    @click.option("--group-column", help="Colour of the map, shares per group, and the theme removed (see --keep-theme). Default: a column named network or netzwerk, if any.")
    @click.option("--keep-theme", is_flag=True, help="Do not subtract each group's mean embedding (cluster by topic, not by kind).")
    @path_option("--categories", "categories", dir_okay=False, callback=checked_yaml, help="YAML list of {label, description, seed_terms, examples}: assign every example to one of them.")
    @path_option("--guide-codebook", "--guide", "guide_codebook", dir_okay=False, help="A codebook whose dimension's codes are the categories.")
    @click.option("--guide-dimension", default=DEFAULTS["guide_dimension"], show_default=True, help="The codebook dimension used by --guide-codebook.")
    @click.option("--labels", "labels", metavar="COLUMN", help="Column with a few hand-made categories (kept as given; they train the assignment).")
    @click.option("--uncertain-margin", type=click.FloatRange(0, 1),
                  help="Guided: also flag an example uncertain when its best category is less than this probability ahead of the second. "
                       "Default: 0.25 with --second-opinions none, else off.")
    @click.option("--second-opinions", default=DEFAULTS["second_opinions"], show_default=True, callback=_second_opinions, metavar="auto|none|NAME,NAME",
                  help="Guided: fit the categories again on other embeddings (e5, use, tfidf); an example none of them places in the same "
                       "category is flagged uncertain. auto: the two of e5, use, tfidf that are not --embedding.")
    @click.option("--gold-column", metavar="COLUMN", help="Column with the researchers' categories: report ARI, NMI, contingency table.")
    @click.option("--stability", type=click.IntRange(0, 50), default=DEFAULTS["stability"], help="Rerun with N seeds and report the ARI between runs.")
    @functools.wraps(func)
    def wrapper(*args, where, join, embedding, embedding_model, seed, n_clusters, min_cluster_size, group_column, keep_theme, categories,
                guide_codebook, guide_dimension, labels, uncertain_margin, second_opinions, gold_column, stability, **kwargs):
        from pipeline.options import ClusterOptions

        opts = ClusterOptions(where=list(where), join=list(join), embedding=embedding, embedding_model=embedding_model, seed=seed, n_clusters=n_clusters,
                              min_cluster_size=min_cluster_size, group_column=group_column, keep_theme=keep_theme, categories=categories,
                              guide_codebook=guide_codebook, guide_dimension=guide_dimension, labels=labels, uncertain_margin=uncertain_margin,
                              second_opinions=second_opinions, gold_column=gold_column, stability=stability)
        return func(*args, cluster_opts=opts, **kwargs)

    return wrapper
