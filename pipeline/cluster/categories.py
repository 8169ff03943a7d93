"""The analyst's categories: read from a categories file, a codebook dimension or labels.

A categories file is YAML, either a list or ``{categories: [...]}``; each category has a
``label`` and optionally a one-line ``description``, ``seed_terms`` (words or short phrases,
matched on lemmas and compound parts) and ``examples`` (a few typical examples, written or
picked by the analyst)::

    categories:
      - label: Abläufe & Verfahren
        description: Ein Arbeitsablauf wurde vereinfacht, beschleunigt oder neu geregelt.
        seed_terms: [Ablauf, Verfahren, Workflow]
        examples: ["Anträge laufen jetzt digital durch die Freigabe"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import QdaError, ValidationError

KEYS = ("label", "description", "seed_terms", "examples")


@dataclass(frozen=True)
class Category:
    """One category the analyst expects: label, description, seed terms, typical examples."""

    label: str
    description: str = ""
    seed_terms: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def card(self) -> str:
        """Label, description and seed terms as one text (what is embedded for the category)."""
        return ". ".join(x for x in (self.label, self.description, ", ".join(self.seed_terms)) if x)


def _str_list(value, where: str, problems: list) -> tuple[str, ...]:
    """A YAML value that must be a list of non-empty strings (a single string is accepted)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append((where, f"must be a list of texts, not {type(value).__name__}"))
        return ()
    out = []
    for j, item in enumerate(value):
        if not isinstance(item, (str, int, float)) or not str(item).strip():
            problems.append((f"{where}[{j}]", "must be a non-empty text"))
        else:
            out.append(str(item).strip())
    return tuple(out)


def _category(item, where: str, problems: list) -> Category | None:
    if not isinstance(item, dict):
        problems.append((where, "must be a mapping with label, description, seed_terms, examples"))
        return None
    unknown = sorted(set(map(str, item)) - set(KEYS))
    if unknown:
        problems.append((where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(KEYS)}"))
    label = str(item.get("label") or "").strip()
    if not label:
        problems.append((f"{where}.label", "is missing or empty"))
    desc = item.get("description")
    if desc is not None and not isinstance(desc, str):
        problems.append((f"{where}.description", "must be a text"))
        desc = ""
    seeds = _str_list(item.get("seed_terms"), f"{where}.seed_terms", problems)
    examples = _str_list(item.get("examples"), f"{where}.examples", problems)
    return Category(label, (desc or "").strip(), seeds, examples) if label else None


def read_categories(path) -> list[Category]:
    """Reads and validates a categories file, reporting every problem at once.

    Raises:
        InputError: the file is missing, not UTF-8, not YAML, or refused by the safe loader
            (aliases, nesting).
        ValidationError: the content is not a list of valid categories (all problems listed
            with their place, e.g. ``categories[2].seed_terms[1]``).
    """
    from pipeline.yamlsafe import load_yaml

    # the safe loader refuses alias bombs and deep nesting, as for codebooks (FOLDER/kategorien.yaml
    # of 'qda run' is read without the --categories check)
    data = load_yaml(path, what="categories file", fix="fix the YAML syntax there")
    path = Path(path)
    root = "categories"
    if isinstance(data, dict) and "categories" in data:
        data = data["categories"]
    if not isinstance(data, list) or not data:
        raise ValidationError(path, [("", "must be a non-empty list of categories, each {label, description, seed_terms, examples}")],
                              title="is not a valid categories file")
    problems: list[tuple[str, str]] = []
    cats = [_category(item, f"{root}[{i}]", problems) for i, item in enumerate(data)]
    seen: dict[str, int] = {}
    for i, c in enumerate(cats):
        if c is not None and c.label in seen:
            problems.append((f"{root}[{i}].label", f"'{c.label}' is already the label of {root}[{seen[c.label]}]"))
        elif c is not None:
            seen[c.label] = i
    if len(seen) == 1 and not problems:
        problems.append(("", "has one category only; guided assignment needs at least two"))
    if problems:
        raise ValidationError(path, problems, title="is not a valid categories file")
    return [c for c in cats if c is not None]


def categories_from_codebook(codebook, dimension: str) -> list[Category]:
    """A codebook dimension's codes as categories: label, definition, term patterns as seed
    terms, anchor examples as examples.

    Raises:
        QdaError: the dimension has no codable codes (the message lists the dimensions).
    """
    codes = [c for c in codebook.codable() if c.dimension == dimension]
    if not codes:
        dims = sorted({c.dimension for c in codebook.codable()})
        raise QdaError(f"the codebook has no codable codes in dimension '{dimension}'; dimensions: {', '.join(dims)}")
    out = []
    for c in codes:
        terms = [str(p.value) for p in c.include if p.kind in ("term", "phrase")]
        out.append(Category(c.label, c.definition or "", tuple(terms), tuple(c.anchor_examples)))
    return out


def categories_from_labels(labels: list[str]) -> list[Category]:
    """One category per distinct hand-made label (sorted), for ``--labels`` without a file."""
    return [Category(x) for x in sorted({str(v).strip() for v in labels if str(v).strip()})]
