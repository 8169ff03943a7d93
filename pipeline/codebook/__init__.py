"""Codebooks: the versioned YAML format, validation, diff, rendering and exchange."""

from pipeline.codebook.diff import diff_codebooks, format_diff
from pipeline.codebook.load import Problem, codebook_from_data, load_codebook
from pipeline.codebook.model import Code, Codebook, MatchSettings, Pattern
from pipeline.codebook.render import format_markdown, format_table
from pipeline.codebook.serialize import dump_codebook

__all__ = [
    "Code", "Codebook", "MatchSettings", "Pattern", "Problem", "codebook_from_data", "load_codebook",
    "diff_codebooks", "format_diff", "format_markdown", "format_table", "dump_codebook",
    "check_anchors",
]


def check_anchors(cb: Codebook, nlp=None) -> list[Problem]:
    """Warnings for anchor examples that the code's own include patterns do not match.

    Such a disagreement means the rules and the examples describe different things: either an
    example is not typical, or a pattern is missing. Negation handling is off for this check
    (an anchor example is coded by definition).
    """
    from pipeline.matching import RuleMatcher
    from pipeline.nlp import load_nlp

    nlp = nlp or load_nlp()
    matcher = RuleMatcher(cb, negation=False)
    problems = []
    for code in cb.codable():
        if not code.include:
            continue
        for i, example in enumerate(code.anchor_examples):
            if not matcher.matches_text(nlp, example, code.id):
                problems.append(Problem("warning", f"codes → {code.id} → anchor_examples[{i}]", f"not matched by the code's own patterns: „{example[:60]}“"))
    return problems
