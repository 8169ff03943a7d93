import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parent.parent
REAL_INPUTS = ROOT.parent / "shared" / "real-inputs"
REFI = ROOT.parent / "shared" / "refi-qda"
BEISPIEL = ROOT / "corpora" / "beispiel"
MINI_CODEBOOK = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"
# four survey answers the mini codebook codes one way each (time, leadership, training, leadership)
FOUR_ANSWERS = (
    "id;hindernisse\n"
    "1;Mir fehlt schlicht die Zeit, mein Kalender ist voll bis Ostern.\n"
    "2;Der Chef hält nichts davon und blockt ab.\n"
    "3;Eine Schulung zu E-Learning wäre super, gibt es aber nicht.\n"
    "4;Die Kolleg:innen machen mit, die Amtsleitung eher nicht.\n"
)

needs_real_inputs = pytest.mark.skipif(not REAL_INPUTS.is_dir(), reason=f"real third-party inputs not present at {REAL_INPUTS}")
needs_refi = pytest.mark.skipif(not REFI.is_dir(), reason=f"REFI-QDA schemas and vendor files not present at {REFI}")

# A test run writes nothing into the checkout: Hypothesis keeps no example database and its
# other files (constants, unicode data) go to the temporary folder instead of .hypothesis/;
# qda's caches go to a folder of the session (see qda_cache_dir).
settings.register_profile("qda", database=None)
settings.load_profile("qda")
HYPOTHESIS_HOME = Path(tempfile.gettempdir()) / "qda-hypothesis"
set_hypothesis_home_dir(HYPOTHESIS_HOME)
LEFT_IN_CHECKOUT = (".qda-cache", ".hypothesis")
_present_at_start = {name for name in LEFT_IN_CHECKOUT if (ROOT / name).exists()}


@pytest.fixture(scope="session", autouse=True)
def qda_cache_dir(tmp_path_factory):
    """``$QDA_CACHE_DIR`` for the whole session: one folder, so tests still share a warm parse
    and embedding cache, but outside the checkout (CLI tests run with the checkout as the
    current folder, where the default ``.qda-cache`` would land)."""
    folder = tmp_path_factory.mktemp("qda-cache")
    old = os.environ.get("QDA_CACHE_DIR")
    os.environ["QDA_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("QDA_CACHE_DIR", None)
    else:
        os.environ["QDA_CACHE_DIR"] = old


def pytest_sessionfinish(session, exitstatus):
    """Fails the run when it left a cache folder in the checkout that was not there before."""
    left = [name for name in LEFT_IN_CHECKOUT if name not in _present_at_start and (ROOT / name).exists()]
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"the test run wrote {', '.join(left)} into the checkout {ROOT}; tests must write below tmp_path", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def write(path: Path, text: str, encoding: str = "utf-8", newline: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline=newline) as fh:
        fh.write(text)
    return path


def tree_snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes: to show a failed run changed nothing."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
