"""Code health gates: ruff (pyflakes and complexity, configured in pyproject.toml) and the
direction of imports between layers. CI runs pytest, so a new finding fails CI."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# pipeline/codebook/ is read by the coding, review and exchange layers; it may use only what
# sits below it. Anything higher (coding, cluster, ingest readers, the CLI) would make the
# codebook depend on the stages that depend on it.
CODEBOOK_MAY_IMPORT = ("pipeline.codebook", "pipeline.errors", "pipeline.yamlsafe", "pipeline.nlp", "pipeline.textfiles", "pipeline.atomic")
# Documented exceptions, each imported lazily inside the one function that needs it.
CODEBOOK_SEAMS = {
    # write_xlsx is the one byte-stable workbook writer; it lives with the run-folder code.
    ("exchange.py", "pipeline.outputs"),
}


def test_ruff_finds_nothing():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "pipeline", "scripts", "bench", "tests"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"ruff check found problems (fix them, or see [tool.ruff] in pyproject.toml):\n{proc.stdout}{proc.stderr}"


def imported_modules(source: str, package: str) -> set[str]:
    """Every module a source file imports, at the top or inside functions (relative imports
    resolved against ``package``)."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                out.add(f"{base}.{node.module}" if node.module else base)
            else:
                out.add(node.module)
    return out


def layer_violations(source: str, package: str, allowed: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imported_modules(source, package)
                  if m.split(".")[0] == "pipeline" and not any(m == a or m.startswith(a + ".") for a in allowed))


def test_codebook_imports_only_lower_layers():
    found = {}
    for path in sorted((ROOT / "pipeline" / "codebook").glob("*.py")):
        bad = [m for m in layer_violations(path.read_text(encoding="utf-8"), "pipeline.codebook", CODEBOOK_MAY_IMPORT)
               if (path.name, m) not in CODEBOOK_SEAMS]
        if bad:
            found[path.name] = bad
    assert found == {}, f"pipeline/codebook imports from a higher layer: {found}"


@pytest.mark.parametrize("source, expected", [
    ("from pipeline.coding.matcher import compile_patterns", ["pipeline.coding.matcher"]),
    ("def f():\n    import pipeline.cluster.api\n", ["pipeline.cluster.api"]),
    ("from ..coding import matcher", ["pipeline.coding"]),
    ("from pipeline.errors import InputError\nfrom .model import Code\nimport yaml", []),
])
def test_layer_check_sees_every_kind_of_import(source, expected):
    assert layer_violations(source, "pipeline.codebook", CODEBOOK_MAY_IMPORT) == expected


def test_caches_of_a_test_run_stay_out_of_the_checkout(qda_cache_dir):
    from hypothesis import settings
    from hypothesis.configuration import storage_directory

    from pipeline.parse_cache import default_root

    cache = Path(os.environ["QDA_CACHE_DIR"]).resolve()
    assert cache == qda_cache_dir.resolve() and not cache.is_relative_to(ROOT)
    assert default_root().resolve() == cache
    assert settings().database is None  # no .hypothesis/ example database in the checkout
    assert not storage_directory("constants", intent_to_write=False).path.resolve().is_relative_to(ROOT)
