"""Exchange with people and other tools: REFI-QDA projects, review rounds, codebooks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.api.base import Line, Result, note, warning, writing, writing_file
from pipeline.errors import InputError
from pipeline.options import default


@dataclass
class Exchanged(Result):
    """What an exchange wrote (``path``, None when ``text`` went to the caller) and its counts."""

    path: Path | None
    counts: dict = field(default_factory=dict)
    text: str | None = None


def _write_or_return(text: str, out_file: Path | None, counts: dict | None = None) -> Exchanged:
    """``text`` written to ``out_file`` (whole or not at all), else handed back in the result."""
    from pipeline.atomic import write_text

    if out_file is None:
        return Exchanged(None, counts or {}, text)
    write_text(out_file, text)
    return Exchanged(out_file, counts or {}, lines=[Line(f"Wrote {out_file}")])


def export_project(run_dir: Path, out_file: Path, *, user: str | None = None, segments: str | None = None) -> Exchanged:
    """Writes the coded run ``run_dir`` as a REFI-QDA project (``.qdpx`` is added to a name
    without it). Each coding marks its whole unit (``segments="unit"``), the sentence(s) with the
    evidence (``"sentence"``) or the evidence only (``"evidence"``); the evidence is always in
    the coding's comment.

    Raises:
        InputError: the run folder lacks its tables or names no codebook file that exists.
    """

    from pipeline import runfolder
    from pipeline.codebook import load_codebook
    from pipeline.outputs import read_run_record
    from pipeline.refi import export_project as write_project
    from pipeline.refi import qdpx_path, sentence_spans
    from pipeline.tablefiles import check_run_folder

    user, segments_mode = default("user", user), default("segments", segments)
    with writing_file(out_file):
        for name in ("segments", "codings"):
            if not runfolder.exists(run_dir, name):
                raise InputError(runfolder.path(run_dir, name), "not found", "run 'qda code ... --out DIR' (or 'qda run') first")
        check_run_folder(run_dir)  # empty tables, a run.json that is not JSON
        record = read_run_record(run_dir) or {}
        cb_path = (record.get("codebook") or {}).get("path")
        if not cb_path or not Path(cb_path).is_file():
            raise InputError(run_dir / "run.json", "does not name a codebook file that exists", "run 'qda code' again from the folder the codebook path is relative to")
        cb, _ = load_codebook(cb_path)
        seg = runfolder.read_as_written(run_dir, "segments")
        seg["start_char"], seg["end_char"] = seg["start_char"].astype(int), seg["end_char"].astype(int)
        seg["unit"] = seg["unit"].astype(int)
        cod = runfolder.read_as_written(run_dir, "codings")  # carried into the project verbatim
        sentences = None
        if segments_mode == "sentence":
            sentences = sentence_spans(seg, set(cod["segment_id"]), (record.get("options") or {}).get("nlp"))
        out_file = qdpx_path(out_file)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        counts = write_project(seg, cod, cb, out_file, project_name=f"{Path(run_dir).name} ({cb.name} {cb.version})", user=user,
                               segments_mode=segments_mode, sentences=sentences)
    what = {"unit": "whole units", "sentence": "sentences", "evidence": "evidence only"}[segments_mode]
    lines = [Line(f"Wrote {out_file}: {counts['sources']} sources, {counts['codes']} codes, {counts['codings']} codings ({what})")]
    if counts["skipped"]:
        lines.append(warning(f"  warning: {counts['skipped']} coding(s) name codes that are not in {cb_path}; left out"))
    return Exchanged(out_file, counts, lines=lines)


def import_project(project: Path, out_dir: Path, *, force: bool = False) -> Exchanged:
    """Reads a REFI-QDA project (.qdpx/.qde) into ``out_dir``: segments.csv/.parquet,
    codings.csv (the coder in ``user``), codebook.yaml, one gold file per coder
    (gold_<user>.csv) and run.json.

    Raises:
        InputError: the project is missing, damaged or holds no text source.
    """
    from pipeline import runfolder
    from pipeline.codebook import dump_codebook
    from pipeline.codebook.exchange import _slug
    from pipeline.outputs import (
        fingerprint_files,
        staged_output,
        write_csv,
        write_run_record,
    )
    from pipeline.refi import import_project as read_project

    with writing(out_dir, lambda: fingerprint_files([project]), force=force) as notes:
        imp = read_project(project)
        with staged_output(out_dir) as tmp:
            runfolder.write_segments(tmp, imp.segments)
            write_csv(imp.codings, tmp / "codings.csv")
            (tmp / "codebook.yaml").write_text(dump_codebook(imp.codebook), encoding="utf-8")
            for user, grp in imp.codings.groupby("user", sort=True):
                per = grp.groupby("segment_id")["code"].apply(lambda s: ";".join(sorted(set(s))))
                gold = imp.segments[["segment_id"]].merge(per.rename("codes").reset_index(), on="segment_id", how="left").fillna("")
                write_csv(gold, tmp / f"gold_{_slug(user)}.csv")
            write_run_record(tmp, command="import", options={"project": str(project)}, inputs=[project],
                             extra={"users": imp.users, "warnings": imp.warnings, "selections": imp.selections, "codings_in_file": imp.codings_in_file})
    kind = "unit(s) of the exporting run" if imp.own_units else "paragraph unit(s)"
    lines = [Line(f"{imp.segments['doc_id'].nunique()} text source(s), {len(imp.segments)} {kind}, {len(imp.codebook.codes)} codes, "
                  f"{imp.codings_in_file} codings in {imp.selections} selections by {len(imp.users)} user(s)")]
    lines += [warning(f"  warning: {w}") for w in imp.warnings] + [Line(f"Wrote {out_dir}")]
    return Exchanged(out_dir, {"users": imp.users, "codings": imp.codings_in_file}, lines=lines, notes=notes)


def review_export(run_dir: Path, out_file: Path, *, fmt: str | None = None, order: str | None = None, limit: int | None = None) -> Exchanged:
    """Writes the suggestions of a run for review (one row per suggested or nearly suggested
    coding, with text, evidence, context and a decision column): .xlsx, .html or .csv.

    Raises:
        InputError: the run folder is missing or damaged.
    """
    from pipeline.review import export_review

    order = default("order", order)
    with writing_file(out_file):
        res = export_review(run_dir, out_file, fmt=fmt, order=order, limit=limit)
    counts = res.suggestions.table["suggestion"].value_counts()
    fallback = " (rules only: no scores to order by uncertainty)" if order == "uncertainty" and res.suggestions.order_used != order else ""
    lines = [warning(f"  warning: {w}") for w in res.run.warnings]
    lines += [Line(f"{len(res.suggestions.table)} suggestion(s): {counts.get('coded', 0)} coded, {counts.get('missed?', 0)} missed?; "
                   f"order: {res.suggestions.order_used}{fallback}; run {res.run.fingerprint}"), Line(f"Wrote {out_file}")]
    return Exchanged(out_file, {"suggestions": len(res.suggestions.table)}, lines=lines)


def review_import(run_dir: Path, decisions: Path, *, reviewer: str | None = None) -> Exchanged:
    """Checks a decisions file (.xlsx, .csv, .json) and merges it into ``run_dir/reviewed.csv``;
    new or changed decisions are appended to ``run_dir/review/log.csv``, the round to
    ``run_dir/review/curve.csv``, the import recorded in ``run_dir/review/run.json``. Importing
    the same file again changes nothing.

    Raises:
        InputError / ValidationError: unknown units or codes, invalid or duplicated decisions, a
            file from another run (nothing is written).
    """
    import pandas as pd

    from pipeline import runfolder
    from pipeline.outputs import (
        _now,
        sha256,
        staged_output,
        write_csv,
        write_run_record,
    )
    from pipeline.review import import_decisions, load_review_run
    from pipeline.review.curve import CURVE, append_curve, curve_row

    with writing() as notes:
        run = load_review_run(run_dir)
        now = _now()
        res = import_decisions(run, decisions, now=now, reviewer=reviewer)
        c = res.counts
        skipped = f"; {c['skipped']} row(s) with a comment but no decision skipped" if c["skipped"] else ""
        if not c["new"] and not c["changed"]:
            return Exchanged(None, c, lines=[Line(f"Nothing new: all {c['unchanged']} decision(s) of {decisions} are already in {run_dir / 'reviewed.csv'}{skipped}")])
        earlier = runfolder.read_as_written(run_dir, "review_log", missing_ok=True)
        log = res.log if earlier is None else pd.concat([earlier, res.log])
        with staged_output(run_dir) as tmp:
            write_csv(res.reviewed, tmp / "reviewed.csv")
            (tmp / "review").mkdir()
            write_csv(log, tmp / "review" / "log.csv")
            write_csv(append_curve(run_dir, curve_row(run, res.reviewed, res.log, now=now, source=decisions)), tmp / CURVE)
            write_run_record(tmp / "review", command="review import", options={"run_dir": str(run_dir), "decisions": str(decisions), "reviewer": reviewer},
                             inputs=[decisions], extra={"run_fingerprint": run.fingerprint, "counts": c, "reviewed_sha256": sha256(tmp / "reviewed.csv")})
    lines = [Line(f"{c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged decision(s){skipped}; "
                  f"reviewed.csv holds {len(res.reviewed)} decision(s) on {c['units']} unit(s)"), Line(f"Wrote {run_dir / 'reviewed.csv'}")]
    return Exchanged(run_dir / "reviewed.csv", c, lines=lines, notes=notes)


# --- codebooks ------------------------------------------------------------------------------

def validate_codebook(file: Path, *, anchors: bool = True) -> Exchanged:
    """Checks a codebook; with ``anchors`` also that its anchor examples match the code's own
    patterns. Writes nothing; the warnings are in the result's lines.

    Raises:
        InputError / ValidationError: the codebook is unreadable or invalid (every problem at once).
    """
    from pipeline.codebook import load_codebook
    from pipeline.coding import check_anchors

    cb, warnings = load_codebook(file)
    if anchors:
        warnings += check_anchors(cb)
    lines = [note(f"  {w}") for w in warnings]
    lines.append(Line(f"{file}: valid — {cb.name} {cb.version}, {len(cb.codes)} codes ({len(cb.codable())} codable), {len(warnings)} warning(s)"))
    return Exchanged(None, {"codes": len(cb.codes), "warnings": len(warnings)}, lines=lines)


def show_codebook(file: Path, *, fmt: str = "table", out_file: Path | None = None) -> Exchanged:
    """The code tree with definitions (``fmt="table"``) or a printable Kodierleitfaden
    (``"markdown"``), written to ``out_file`` or returned as ``text``.

    Raises:
        InputError / ValidationError: the codebook is unreadable or invalid.
    """
    from pipeline.codebook import format_markdown, format_table, load_codebook

    with writing_file(out_file):
        cb, _ = load_codebook(file)
        return _write_or_return(format_markdown(cb) if fmt == "markdown" else format_table(cb), out_file)


def diff_codebooks(old: Path, new: Path, *, fmt: str = "text", out_file: Path | None = None) -> Exchanged:
    """What changed from codebook ``old`` to ``new`` (codes added, removed, renamed, moved;
    fields and patterns of changed codes) as text or JSON, written to ``out_file`` or returned.

    Raises:
        InputError / ValidationError: a codebook is unreadable or invalid.
    """
    from pipeline.codebook import diff_codebooks as diff
    from pipeline.codebook import format_diff, load_codebook

    with writing_file(out_file):
        a, _ = load_codebook(old)
        b, _ = load_codebook(new)
        d = diff(a, b)
        return _write_or_return(json.dumps(d, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else format_diff(d), out_file)


def export_codebook(file: Path, out_file: Path, *, fmt: str, layout: str | None = None) -> Exchanged:
    """Writes the codebook as a REFI-QDA codebook (``fmt="qdc"``) or a table (``csv``, ``xlsx``)
    in a tool's layout (default: taguette for csv, maxqda for xlsx).

    Raises:
        InputError / ValidationError: the codebook is unreadable or invalid.
    """
    from pipeline.atomic import atomic_path
    from pipeline.codebook import load_codebook
    from pipeline.codebook.exchange import export_qdc, write_table

    with writing_file(out_file):
        cb, _ = load_codebook(file)
        with atomic_path(out_file) as tmp:
            if fmt == "qdc":
                tmp.write_text(export_qdc(cb), encoding="utf-8")
            else:
                write_table(cb, tmp, fmt, layout or ("taguette" if fmt == "csv" else "maxqda"))
    return Exchanged(out_file, {"codes": len(cb.codes)}, lines=[Line(f"Wrote {out_file} ({len(cb.codes)} codes)")])


def import_codebook(file: Path, out_file: Path, *, name: str | None = None, version: str | None = None) -> Exchanged:
    """Turns a .qdc, .qdpx, .qde or a MAXQDA/ATLAS.ti/Taguette table into the YAML codebook
    ``out_file``.

    Raises:
        InputError: an unsupported or unreadable file.
        ValidationError: the file cannot be turned into a valid codebook (every problem at once).
    """
    from pipeline.codebook import dump_codebook
    from pipeline.codebook.exchange import import_refi, read_table

    suffix = Path(file).suffix.lower()
    with writing_file(out_file):
        if suffix in (".csv", ".tsv", ".xlsx", ".xlsm"):  # archive limits, an empty or broken CSV: refused before it is read
            from pipeline.tablefiles import read_table_file

            read_table_file(file, what="codebook table", fix="export the code list again from your QDA tool")
        if suffix in (".qdc", ".qdpx", ".qde", ".xml"):
            cb, problems = import_refi(file, name=name, version=version)
        elif suffix in (".csv", ".tsv", ".xlsx", ".xlsm"):
            cb, problems = read_table(file, name=name, version=version or "1")
        else:
            raise InputError(file, f"unsupported codebook type '{suffix}'", "use .qdc, .qdpx, .qde, .csv or .xlsx")
        errors = [p for p in problems if p.level == "error"]
        if errors:
            from pipeline.errors import ValidationError

            raise ValidationError(file, [(p.location, p.message) for p in errors], title="cannot be turned into a valid codebook")
        result = _write_or_return(dump_codebook(cb), out_file)
    top = len([c for c in cb.codes.values() if c.parent is None])
    result.lines.append(Line(f"{len(cb.codes)} codes ({top} top level); {sum(1 for c in cb.codes.values() if not c.definition)} without definition"))
    return result


__all__ = [
    "Exchanged",
    "diff_codebooks",
    "export_codebook",
    "export_project",
    "import_codebook",
    "import_project",
    "review_export",
    "review_import",
    "show_codebook",
    "validate_codebook",
]
