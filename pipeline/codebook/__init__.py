"""Codebooks: the versioned YAML format, validation, diff, rendering and exchange."""

from pipeline.codebook.diff import diff_codebooks, format_diff
from pipeline.codebook.load import Problem, codebook_from_data, load_codebook
from pipeline.codebook.model import Code, Codebook, MatchSettings, Pattern
from pipeline.codebook.render import format_markdown, format_table
from pipeline.codebook.serialize import dump_codebook

__all__ = [
    "Code", "Codebook", "MatchSettings", "Pattern", "Problem", "codebook_from_data", "load_codebook",
    "diff_codebooks", "format_diff", "format_markdown", "format_table", "dump_codebook",
]
