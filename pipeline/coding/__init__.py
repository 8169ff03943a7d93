"""Coding units with a codebook: match kinds, context, conditions, the verifier, the coder."""

from pipeline.coding.coder import CodingResult, code_segments, eligible_units, scope_of, summarise
from pipeline.coding.matcher import Hit, RuleMatcher

__all__ = ["CodingResult", "Hit", "RuleMatcher", "code_segments", "eligible_units", "scope_of", "summarise", "check_anchors"]


def check_anchors(cb, nlp=None) -> list:
    """Warnings for anchor examples that the code's own include patterns do not match.

    Such a disagreement means the rules and the examples describe different things: either an
    example is not typical, or a pattern is missing. The context of hits is not judged here (an
    anchor example is coded by definition), and it is read as an answer to a question on its
    code's dimension.
    """
    from pipeline.codebook.load import Problem
    from pipeline.nlp import load_nlp

    nlp = nlp or load_nlp()
    matcher = RuleMatcher(cb, negation=False)
    problems = []
    for code in cb.codable():
        if not code.include:
            continue
        for i, example in enumerate(code.anchor_examples):
            if not matcher.matches_text(nlp, example, code.id):
                problems.append(Problem("warning", f"codes → {code.id} → anchor_examples[{i}]", f"not matched by the code's own patterns: „{example if len(example) <= 60 else example[:59].rstrip() + '…'}“"))
    return problems
