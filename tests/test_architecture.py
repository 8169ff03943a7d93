"""ARCHITECTURE.md against the package: every module it names exists, every module is named,
and the CLI sits only on the library face (the layering the file promises)."""
import ast
import re

from conftest import ROOT

DOC = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
PKG = ROOT / "pipeline"


def _named_paths() -> set[str]:
    return set(re.findall(r"`(pipeline/[\w/.]*)`", DOC))


def test_every_module_the_file_names_exists():
    missing = sorted(p for p in _named_paths() if not (ROOT / p.rstrip("/")).exists())
    assert missing == [], f"ARCHITECTURE.md names modules that do not exist: {missing}"


def test_every_module_and_package_of_pipeline_is_in_the_ownership_table():
    modules = {f"pipeline/{p.name}" for p in PKG.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    packages = {f"pipeline/{p.name}/" for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    table = {m.group(1) for m in re.finditer(r"^\| `(pipeline/[\w/.]+)` \|", DOC, flags=re.M)}
    assert sorted((modules | packages) - table) == [], "add a row for each new module to ARCHITECTURE.md's table"


def test_the_file_names_the_test_files_and_scripts_it_points_to():
    for rel in re.findall(r"`((?:tests|scripts)/[\w.*]+)`", DOC):
        matches = list(ROOT.glob(rel))
        assert matches, f"ARCHITECTURE.md points to {rel}, which does not exist"


def _pipeline_imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            found.add(node.module if node.module != "pipeline" else f"pipeline.{node.names[0].name}")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pipeline"))
    return found


def test_the_cli_imports_only_the_library_face_and_its_option_helpers():
    allowed = {"pipeline.api", "pipeline.cli_options", "pipeline.options", "pipeline.progress"}
    assert _pipeline_imports(PKG / "cli.py") - allowed == set()
