"""Bad and hostile inputs to every command but ``qda ingest`` (whose table is
``test_ingest_bad_inputs.py``): one table, one row per case.

A row is ``Case(name, build, args, message, fix)``: ``build(folder)`` writes the fixture files
into a copy of a small project (a codebook ``cb.yaml``, a survey ``umfrage.csv``, another survey
``andere.csv``, and ``lauf/``, a run folder coded from ``umfrage.csv``); bombs are built on the
fly. ``args`` is the command line run there. Every case asserts: the exit code (2 for usage
errors, else 1), the message (``message``) naming the file (``names``) and saying what to do
(``fix``), no traceback, no line longer than 500 characters, nothing changed in the output
folder (``out``), and no staging folder left anywhere.
"""

from __future__ import annotations

import os
import pickle
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import ROOT, tree_snapshot
from pipeline.cli import cli
from test_ingest_bad_inputs import MB, deflate, replace_member, zero_bomb

MINI = (ROOT / "tests" / "fixtures" / "mini_codebook.yaml").read_text(encoding="utf-8")
SURVEY = (
    "id;netzwerk;hindernisse\n"
    "1;DVNW;Ehrlich gesagt fehlt mir einfach die Zeit für die Treffen, der Kalender ist voll.\n"
    "2;KERN;Mein Chef findet das Netzwerk unnötig und blockt jede Anfrage ab.\n"
    "3;DVNW;Wir bräuchten eine Schulung zu den neuen Tools, sonst bringt das nix.\n"
    "4;KGSt;Die Kolleg:innen ziehen mit, aber die Amtsleitung bremst.\n"
    "5;KERN;k.A.\n"
)
OTHER_SURVEY = "id;hindernisse\n1;Zu wenig Personal im Bürgeramt, da bleibt nichts übrig.\n2;Die Technik im Amt ist veraltet.\n"
GOLD = "segment_id,codes\n1,huerde.zeit\n2,huerde.fuehrung\n"


# --- the small project every case starts from ---------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A folder with cb.yaml, umfrage.csv, andere.csv and lauf/ (coded from umfrage.csv)."""
    base = tmp_path_factory.mktemp("projekt")
    (base / "cb.yaml").write_text(MINI, encoding="utf-8")
    (base / "umfrage.csv").write_text(SURVEY, encoding="utf-8")
    (base / "andere.csv").write_text(OTHER_SURVEY, encoding="utf-8")
    old = Path.cwd()
    os.chdir(base)
    try:
        r = CliRunner().invoke(cli, ["code", "umfrage.csv", "--codebook", "cb.yaml", "--out", "lauf", "--no-cache"])
    finally:
        os.chdir(old)
    assert r.exit_code == 0, r.output
    return base


# --- fixture builders ---------------------------------------------------------------------------

def text(name: str, content: str | bytes) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    return build


def both(*builders: Callable[[Path], None]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        for b in builders:
            b(folder)

    return build


def nothing(folder: Path) -> None:
    """No extra file: the case uses the project as it is."""


def workbook(name: str, rows: list[list[str]]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(folder / name)

    return build


def xlsx_bomb(name: str, header: list[str]) -> Callable[[Path], None]:
    """A real workbook whose sheet is replaced by 1 GB of zeros (a few KB on disk)."""

    def build(folder: Path) -> None:
        workbook(name, [header, ["1", "x"]])(folder)
        replace_member(folder / name, "xl/worksheets/sheet1.xml", lambda _: (zero_bomb(1024), 0, 1024 * MB))

    return build


def xlsx_lying(name: str, header: list[str]) -> Callable[[Path], None]:
    """A real workbook whose sheet's zip header understates its size (a CRC error on reading)."""

    def build(folder: Path) -> None:
        workbook(name, [header, ["1", "huerde.zeit"]])(folder)
        replace_member(folder / name, "xl/worksheets/sheet1.xml", lambda data: (deflate(data), zlib.crc32(data), 100))

    return build


def alias_chain(word: str) -> tuple[str, str]:
    """``(definitions, use)``: 8 levels of anchors, each 9 aliases of the one below, and a list
    of 9 aliases of the top: 9^9 words once expanded, 700 bytes on disk ('billion laughs')."""
    levels = [f"&a1 [{', '.join([word] * 9)}]"] + [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(2, 9)]
    return f"[{', '.join(levels)}]", f"[{', '.join(['*a8'] * 9)}]"


def alias_bomb_codebook() -> str:
    """A codebook whose anchor examples are a billion laughs."""
    definitions, use = alias_chain("hoch")
    return (f'name: Bombe\nversion: "1"\ncodes:\n  - id: zeit\n    label: Zeit\n    definition: Zeitmangel\n'
            f"    notes: {definitions}\n    anchor_examples: {use}\n")


def wide_alias_codebook() -> str:
    """Few aliases (20), but 2,000 values repeated 5^4 times: over the size limit."""
    base = ", ".join(f"w{i}" for i in range(2000))
    levels = [f"&b0 [{base}]"] + [f"&b{i} [{', '.join([f'*b{i - 1}'] * 5)}]" for i in range(1, 5)]
    return f'name: Breit\nversion: "1"\ndescription: x\ncodes:\n  - id: zeit\n    label: Zeit\n    definition: Zeit\n    notes: [{", ".join(levels)}]\n'


DEEP_YAML = 'name: Tief\nversion: "1"\ncodes: ' + "[" * 300 + "]" * 300 + "\n"
UNHASHABLE_KEY = 'name: Schluessel\nversion: "1"\n? [huerde, zeit]\n: doppelt\ncodes: []\n'
DUPLICATE_KEY = MINI.replace('version: "1"\n', 'version: "1"\nname: Nochmal\n', 1)
CATEGORY_BOMB = "- label: Hilfsliste\n  seed_terms: {}\n- label: Digitales\n  seed_terms: {}\n".format(*alias_chain("Tool"))
CORPUS_BOMB = "name: bombe\nmeta: [" + ", ".join(f"&m{i} [*m{i - 1}, *m{i - 1}, *m{i - 1}]" if i else "&m0 [a, b, c]" for i in range(25)) + "]\nsources: [umfrage.csv]\n"
BAD_CSV = 'segment_id,codes\n1,huerde.zeit\n2,"huerde.fuehrung\n3,methode.schulung\n'
RAGGED_CSV = "segment_id,codes\n1,huerde.zeit\n2,huerde.fuehrung,methode.schulung,zu,viel\n"
CATASTROPHIC = MINI.replace('{regex: "\\\\bE-?Learning\\\\b"}', '{regex: "(a|aa)+$"}')


def dangling(name: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        os.symlink(folder / "gibt-es-nicht", folder / name)

    return build


def loop(name: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        os.symlink(folder / f"{name}-2", folder / name)
        os.symlink(folder / name, folder / f"{name}-2")

    return build


def crafted_pickle(folder: Path) -> None:
    (folder / "model.npz").write_bytes(pickle.dumps(_Boom(folder / "ausgefuehrt.txt")))


class _Boom:
    """Unpickling this writes a file: proof that a model file was (not) opened with pickle."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pickle ausgeführt"))


def empty_run_table(name: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        (folder / "lauf" / name).write_bytes(b"")

    return build


def unwritable(folder: Path) -> None:
    """``gesperrt/``: a folder nobody may write into (as root, chmod is not enough: /sys)."""
    locked = folder / "gesperrt"
    if os.geteuid() == 0:
        locked.symlink_to("/sys")
    else:
        locked.mkdir()
        locked.chmod(0o555)


def foreign_folder(folder: Path) -> None:
    (folder / "meins").mkdir()
    (folder / "meins" / "notizen.txt").write_text("Meine Notizen zum Projekt, bitte nicht löschen.\n", encoding="utf-8")


def zip_slip(folder: Path) -> None:
    import zipfile

    with zipfile.ZipFile(folder / "projekt.qdpx", "w") as z:
        z.writestr("project.qde", '<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="Netzwerke"><CodeBook><Codes>'
                   '<Code guid="0f6a1c1e-3f0a-4c55-9a6e-2d1f1b7b9c01" name="Zeitmangel" isCodable="true"/></Codes></CodeBook></Project>')
        z.writestr("../../ausserhalb.txt", "wohin?")


def qdpx_bomb(folder: Path) -> None:
    """A .qdpx whose project.qde unpacks to 2 GB of zeros."""
    from test_ingest_bad_inputs import raw_zip

    raw_zip(folder / "bombe.qdpx", [("project.qde", zero_bomb(2048), 0, 2048 * MB)])


# --- the table ---------------------------------------------------------------------------------

@dataclass
class Case:
    """One bad input: fixture, command line, the message and the fix it must produce."""

    name: str
    build: Callable[[Path], None]
    args: list[str]
    message: str
    fix: str
    exit_code: int = 1
    names: str | None = None  # what the message must name (default: the first argument after the command)
    out: str | None = "out"  # the folder that must not change
    env: dict = field(default_factory=dict)
    command: str = ""  # for the coverage count; default: the first argument
    pending: str | None = None  # the fix lies in a file another branch owns: xfail(strict) until it is merged

    def __post_init__(self):
        self.command = self.command or self.args[0]
        if self.names is None:
            self.names = next(a for a in self.args[1:] if not a.startswith("-") and a not in ("validate", "show", "diff", "export", "import"))


REFUSED_OUT = "→ give --out a folder you can write to"

CASES = [
    # --- codebooks: YAML that is hostile before it is a codebook -------------------------------
    Case("codebook: nested aliases (billion laughs)", text("bombe.yaml", alias_bomb_codebook()), ["codebook", "validate", "bombe.yaml"],
         "bombe.yaml, line 7, column", "uses more than 20 YAML aliases (*a3); qda refuses such files before reading them, because repeated aliases can expand to gigabytes\n  → write the repeated parts out"),
    Case("codebook: few aliases expanding past the size limit", text("breit.yaml", wide_alias_codebook()), ["codebook", "validate", "breit.yaml"],
         "would expand to more than 200,000 values through its aliases", "→ write the repeated parts out instead of using anchors"),
    Case("codebook: nested 300 levels deep", text("tief.yaml", DEEP_YAML), ["codebook", "validate", "tief.yaml"],
         "tief.yaml, line 3, column", "is nested more than 64 levels deep\n  → check the brackets and the indentation"),
    Case("codebook: a key that is a list", text("schluessel.yaml", UNHASHABLE_KEY), ["codebook", "show", "schluessel.yaml"],
         "schluessel.yaml, line 3, column 3: a key is a list, not a name", "→ write keys as plain text"),
    Case("codebook: a key given twice", text("doppelt.yaml", DUPLICATE_KEY), ["codebook", "validate", "doppelt.yaml"],
         "doppelt.yaml, line 3, column 1: is not valid YAML: key 'name' appears twice in one mapping", "→ fix the YAML syntax there"),
    Case("codebook: not UTF-8", text("latin1.yaml", MINI.encode("latin-1", "replace")), ["codebook", "validate", "latin1.yaml"],
         "latin1.yaml: is not UTF-8 (byte 0xfc at byte", "→ save the codebook as UTF-8"),
    Case("codebook: 0 bytes", text("leer.yaml", b""), ["codebook", "show", "leer.yaml"], "leer.yaml: file is empty", "→ a codebook needs at least name, version and codes"),
    Case("codebook: broken YAML", text("kaputt.yaml", 'name: Kaputt\nversion: "1\ncodes: []\n'), ["codebook", "validate", "kaputt.yaml"],
         "kaputt.yaml, line 4, column 1: is not valid YAML", "→ fix the YAML syntax there"),
    Case("codebook: a misspelt key", text("tippfehler.yaml", MINI.replace("definition: Zeitmangel", "defintion: Zeitmangel")), ["codebook", "validate", "tippfehler.yaml"],
         "tippfehler.yaml is not a valid codebook", "codes → huerde.zeit: unknown key 'defintion'; did you mean 'definition'?"),
    Case("codebook: NUL byte inside", text("nul.yaml", MINI.replace("Zeitmangel,", "Zeit\x00mangel,")), ["codebook", "validate", "nul.yaml"],
         "nul.yaml: is not valid YAML: unacceptable character #x0000", "→ fix the YAML syntax there"),
    Case("codebook: missing file", nothing, ["codebook", "validate", "fehlt.yaml"], "fehlt.yaml: file not found", "→ check the path of the codebook"),
    Case("codebook diff: the new version nested too deeply", text("tief.yaml", DEEP_YAML), ["codebook", "diff", "cb.yaml", "tief.yaml"],
         "tief.yaml, line 3, column", "is nested more than 64 levels deep", names="tief.yaml"),
    Case("codebook show: --out is a dangling link", dangling("leitfaden.md"), ["codebook", "show", "cb.yaml", "--format", "markdown", "--out", "leitfaden.md"],
         "leitfaden.md: is a symbolic link to", "which does not exist\n  → remove the link or give --out a file name", names="leitfaden.md"),
    Case("codebook export: a file where the folder should be", text("ziel", "eine Datei"), ["codebook", "export", "cb.yaml", "--format", "qdc", "--out", "ziel/v1.qdc"],
         "ziel: is a file, not a folder, so ziel/v1.qdc cannot be made", "→ remove or rename the file", names="ziel"),
    Case("codebook export: --out is a folder", text("ordner/x.txt", "x"), ["codebook", "export", "cb.yaml", "--format", "qdc", "--out", "ordner"],
         "Invalid value for '--out': File 'ordner' is a directory.", "Try 'qda codebook export --help' for help.", exit_code=2, names="--out"),
    Case("codebook export: unknown format", nothing, ["codebook", "export", "cb.yaml", "--format", "pdf", "--out", "x.pdf"],
         "Invalid value for '--format': 'pdf' is not one of", "Try 'qda codebook export --help' for help.", exit_code=2, names="--format"),
    # --- codebook import: tables and projects --------------------------------------------------
    Case("codebook import: 0-byte CSV", text("codes.csv", b""), ["codebook", "import", "codes.csv", "--out", "neu.yaml"],
         "codes.csv: file is empty (0 bytes)", "→ export the code list again from your QDA tool"),
    Case("codebook import: CSV with an unclosed quote", text("codes.csv", 'Code,Memo\nZeit,"Zeitmangel\nFührung,Chef\n'), ["codebook", "import", "codes.csv", "--out", "neu.yaml"],
         "codes.csv, line 2: is not valid CSV (a quote (\") opened there is never closed)", "→ export the code list again from your QDA tool"),
    Case("codebook import: xlsx zip bomb", xlsx_bomb("codes.xlsx", ["Code", "Memo"]), ["codebook", "import", "codes.xlsx", "--out", "neu.yaml"],
         "codes.xlsx, zip member xl/worksheets/sheet1.xml: would unpack to 1,024 MB, over the limit of 256 MB per member", "→ if you trust this file, raise the limit"),
    Case("codebook import: xlsx that is no zip", text("codes.xlsx", "kein Excel"), ["codebook", "import", "codes.xlsx", "--out", "neu.yaml"],
         "codes.xlsx: is not a readable XLSX workbook", "→ open it in Excel or LibreOffice"),
    Case("codebook import: a table without a code column", text("codes.csv", "Farbe,Notiz\nrot,x\n"), ["codebook", "import", "codes.csv", "--out", "neu.yaml"],
         "codes.csv: no code column (looked for 'Code', 'tag', 'id')", "→ use a MAXQDA (Code, Memo), ATLAS.ti (Code, Comment) or Taguette (tag, description) layout"),
    Case("codebook import: a pattern cell with broken JSON", text("codes.csv", 'id,label,definition,include\nzeit,Zeit,Zeitmangel,"{""regex"": kaputt"\n'),
         ["codebook", "import", "codes.csv", "--out", "neu.yaml"], "codes.csv, row 2, column include: the pattern '{\"regex\": kaputt' of code 'zeit' is not valid JSON",
         "→ write options as JSON"),
    Case("codebook import: JSON is no codebook type", text("codes.json", "{"), ["codebook", "import", "codes.json", "--out", "neu.yaml"],
         "codes.json: unsupported codebook type '.json'", "→ use .qdc, .qdpx, .qde, .csv or .xlsx"),
    Case("codebook import: .qdpx zip bomb", qdpx_bomb, ["codebook", "import", "bombe.qdpx", "--out", "neu.yaml"],
         "bombe.qdpx: project.qde is 2147483648 bytes unpacked, over the 209715200 byte limit", "→ this does not look like a real project"),
    # --- ingest: corpus.yaml and the output folder ---------------------------------------------
    Case("ingest: corpus.yaml with nested aliases", both(text("korpus/corpus.yaml", CORPUS_BOMB), text("korpus/umfrage.csv", SURVEY)), ["ingest", "korpus", "--out", "out"],
         "korpus/corpus.yaml, line 2, column", "uses more than 20 YAML aliases", names="korpus/corpus.yaml"),
    Case("ingest: corpus.yaml nested too deeply", both(text("korpus/corpus.yaml", "sources: " + "[" * 100 + "]" * 100 + "\n"), text("korpus/umfrage.csv", SURVEY)),
         ["ingest", "korpus", "--out", "out"], "korpus/corpus.yaml, line 1, column", "is nested more than 64 levels deep", names="korpus/corpus.yaml"),
    Case("ingest: corpus.yaml not UTF-8", both(text("korpus/corpus.yaml", "name: Köln\nsources: [umfrage.csv]\n".encode("latin-1")), text("korpus/umfrage.csv", SURVEY)),
         ["ingest", "korpus", "--out", "out"], "korpus/corpus.yaml: is not UTF-8", "→ save the corpus.yaml as UTF-8", names="korpus/corpus.yaml"),
    Case("ingest: --out below a file", text("datei", "x"), ["ingest", "umfrage.csv", "--out", "datei/out"],
         "datei: is a file, not a folder, so datei/out cannot be made", "→ remove or rename the file, or give --out a folder you can write to", names="datei", out=None),
    Case("ingest: --out is a dangling link", dangling("out"), ["ingest", "umfrage.csv", "--out", "out"],
         "out: is a symbolic link to", "which does not exist\n  → remove the link or give --out a folder you can write to", names="out"),
    Case("ingest: --out is a symlink loop", loop("out"), ["ingest", "umfrage.csv", "--out", "out"],
         "out: is a symbolic link that leads back to itself (a loop)", "→ remove the link or give --out a folder you can write to", names="out", out=None),
    Case("ingest: --out not writable", unwritable, ["ingest", "umfrage.csv", "--out", "gesperrt/out"],
         "gesperrt: cannot be written to", REFUSED_OUT, names="gesperrt", out=None),
    Case("ingest: into a run folder over other inputs", nothing, ["ingest", "andere.csv", "--out", "lauf"],
         "lauf: holds a run over other inputs (it was made from umfrage.csv; this command reads andere.csv)",
         "→ write to a new folder with --out, or add --force to replace lauf whole", names="lauf", out="lauf"),
    Case("ingest: --force on a folder qda did not write", foreign_folder, ["ingest", "umfrage.csv", "--out", "meins", "--force"],
         "meins: holds files that qda did not write (there is no run.json), so --force will not delete it", "→ give --out a new folder", names="meins", out="meins"),
    # --- code ----------------------------------------------------------------------------------
    Case("code: model file of random bytes", text("model.npz", bytes(range(256)) * 8), ["code", "umfrage.csv", "--codebook", "cb.yaml", "--model", "model.npz", "--out", "out"],
         "model.npz: is not a qda model file", "→ give the model.npz written by 'qda code --train'", names="model.npz"),
    Case("code: model file that is a crafted pickle", crafted_pickle, ["code", "umfrage.csv", "--codebook", "cb.yaml", "--model", "model.npz", "--out", "out"],
         "model.npz: is not a qda model file (not an .npz archive; a pickle or joblib file is never opened)", "→ give the model.npz", names="model.npz"),
    Case("code: model file missing", nothing, ["code", "umfrage.csv", "--codebook", "cb.yaml", "--model", "fehlt.npz", "--out", "out"],
         "fehlt.npz: file not found", "→ give the model.npz of an earlier 'qda code --train' run", names="fehlt.npz"),
    Case("code: 0-byte gold for training", text("gold.csv", b""), ["code", "umfrage.csv", "--codebook", "cb.yaml", "--train", "gold.csv", "--out", "out"],
         "gold.csv: file is empty (0 bytes)", "→ write the gold as segment_id,codes", names="gold.csv"),
    Case("code: xlsx bomb as training gold", xlsx_bomb("gold.xlsx", ["segment_id", "codes"]), ["code", "umfrage.csv", "--codebook", "cb.yaml", "--train", "gold.xlsx", "--out", "out"],
         "gold.xlsx, zip member xl/worksheets/sheet1.xml: would unpack to 1,024 MB", "→ if you trust this file, raise the limit", names="gold.xlsx"),
    Case("code: training gold naming units not in the data", text("gold.csv", "segment_id,codes\n99,huerde.zeit\n"),
         ["code", "umfrage.csv", "--codebook", "cb.yaml", "--train", "gold.csv", "--out", "out"],
         "gold.csv does not fit the coded data", "segment_id: 1 unit(s) not in the coded data: 99", names="gold.csv"),
    Case("code: codebook with nested aliases", text("bombe.yaml", alias_bomb_codebook()), ["code", "umfrage.csv", "--codebook", "bombe.yaml", "--out", "out"],
         "uses more than 20 YAML aliases", "→ write the repeated parts out", names="bombe.yaml"),
    Case("code: a regex that backtracks for ever", both(text("boese.yaml", CATASTROPHIC), text("aaa.csv", SURVEY + "6;KERN;" + "a" * 38 + "b\n")),
         ["code", "aaa.csv", "--codebook", "boese.yaml", "--out", "out", "--no-cache"],
         "the regex pattern '(a|aa)+$' took longer than 1 s on one unit", "→ rewrite it without nested or overlapping repetition", names="(a|aa)+$"),
    Case("code: into a run folder over other inputs", nothing, ["code", "andere.csv", "--codebook", "cb.yaml", "--out", "lauf"],
         "lauf: holds a run over other inputs", "→ write to a new folder with --out, or add --force to replace lauf whole", names="lauf", out="lauf"),
    Case("code: --out is a symlink loop", loop("out"), ["code", "umfrage.csv", "--codebook", "cb.yaml", "--out", "out/lauf"],
         "out: is a symbolic link that leads back to itself (a loop)", "→ remove the link", names="out", out=None),
    Case("code: --out not writable", unwritable, ["code", "umfrage.csv", "--codebook", "cb.yaml", "--out", "gesperrt/kodiert"],
         "gesperrt: cannot be written to", REFUSED_OUT, names="gesperrt", out=None),
    Case("code: threshold above 1", nothing, ["code", "umfrage.csv", "--codebook", "cb.yaml", "--threshold", "2", "--out", "out"],
         "Invalid value for '--threshold': 2.0 is not in the range 0<=x<=1.", "Try 'qda code --help' for help.", exit_code=2, names="--threshold"),
    # --- cluster -------------------------------------------------------------------------------
    Case("cluster: 0-byte --join file", text("kategorien.csv", b""), ["cluster", "umfrage.csv", "--join", "kategorien.csv", "--out", "out"],
         "kategorien.csv: file is empty (0 bytes)", "→ a --join file needs segment_id and the columns to add", names="kategorien.csv"),
    Case("cluster: --join file with an unclosed quote", text("kategorien.csv", BAD_CSV), ["cluster", "umfrage.csv", "--join", "kategorien.csv", "--out", "out"],
         "kategorien.csv, line 3: is not valid CSV (a quote (\") opened there is never closed)", "→ a --join file needs segment_id", names="kategorien.csv"),
    Case("cluster: --join file without segment_id", text("kategorien.csv", "id,kategorie\n1,Digitales\n"), ["cluster", "umfrage.csv", "--join", "kategorien.csv", "--out", "out"],
         "kategorien.csv: has no column segment_id (it has: id, kategorie)", "→ a --join file needs segment_id", names="kategorien.csv"),
    Case("cluster: categories with nested aliases", text("kat.yaml", CATEGORY_BOMB), ["cluster", "umfrage.csv", "--categories", "kat.yaml", "--out", "out"],
         "kat.yaml, line", "uses more than 20 YAML aliases", names="kat.yaml"),
    Case("cluster: categories nested too deeply", text("kat.yaml", "- label: " + "[" * 100 + "]" * 100 + "\n"), ["cluster", "umfrage.csv", "--categories", "kat.yaml", "--out", "out"],
         "kat.yaml, line 1, column", "is nested more than 64 levels deep", names="kat.yaml"),
    Case("cluster: --where selects nothing", nothing, ["cluster", "umfrage.csv", "--where", "netzwerk=NExT", "--out", "out"],
         "umfrage.csv: the --where filter selects no unit with text", "→ check the column and pattern"),
    Case("cluster: a glob that matches nothing", nothing, ["cluster", "*.odt", "--out", "out"],
         "*.odt: the pattern matches no file", "→ check the pattern"),
    Case("cluster: into a run folder over other inputs", nothing, ["cluster", "andere.csv", "--out", "lauf"],
         "lauf: holds a run over other inputs", "add --force to replace lauf whole", names="lauf", out="lauf"),
    # --- evaluate ------------------------------------------------------------------------------
    Case("evaluate: 0-byte gold", text("gold.csv", b""), ["evaluate", "--gold", "gold.csv", "--codings", "lauf"],
         "gold.csv: file is empty (0 bytes)", "→ write the gold as segment_id,codes", names="gold.csv", out="lauf"),
    Case("evaluate: gold xlsx bomb", xlsx_bomb("gold.xlsx", ["segment_id", "codes"]), ["evaluate", "--gold", "gold.xlsx", "--codings", "lauf"],
         "gold.xlsx, zip member xl/worksheets/sheet1.xml: would unpack to 1,024 MB, over the limit of 256 MB per member", "→ if you trust this file, raise the limit",
         names="gold.xlsx", out="lauf"),
    Case("evaluate: gold xlsx whose zip header lies about its size", xlsx_lying("gold.xlsx", ["segment_id", "codes"]), ["evaluate", "--gold", "gold.xlsx", "--codings", "lauf"],
         "gold.xlsx, zip member xl/worksheets/sheet1.xml: is a damaged XLSX workbook (Bad CRC-32", "→ open it in Excel or LibreOffice", names="gold.xlsx", out="lauf"),
    Case("evaluate: gold with an unclosed quote", text("gold.csv", BAD_CSV), ["evaluate", "--gold", "gold.csv", "--codings", "lauf"],
         "gold.csv, line 3: is not valid CSV (a quote (\") opened there is never closed)", "→ write the gold as segment_id,codes", names="gold.csv", out="lauf"),
    Case("evaluate: gold with too many fields", text("gold.csv", RAGGED_CSV), ["evaluate", "--gold", "gold.csv", "--codings", "lauf"],
         "gold.csv, line 3: is not valid CSV (has 5 fields, the header 2", "→ write the gold as segment_id,codes", names="gold.csv", out="lauf"),
    Case("evaluate: gold without a codes column", text("gold.csv", "segment_id,kategorie\n1,x\n"), ["evaluate", "--gold", "gold.csv", "--codings", "lauf"],
         "gold.csv: needs the columns segment_id and codes (has segment_id, kategorie)", "→ write the gold as segment_id,codes", names="gold.csv", out="lauf"),
    Case("evaluate: gold listing a unit twice", text("gold.csv", "segment_id,codes\n1,huerde.zeit\n1,methode.schulung\n"), ["evaluate", "--gold", "gold.csv", "--codings", "lauf"],
         "gold.csv: segment '1' is listed twice", "→ give each unit one row", names="gold.csv", out="lauf"),
    Case("evaluate: 0-byte split file", both(text("gold.csv", GOLD), text("split.csv", b"")), ["evaluate", "--gold", "gold.csv", "--codings", "lauf", "--part", "test"],
         "split.csv: file is empty (0 bytes)", "→ write the split as segment_id,part", names="split.csv", out="lauf"),
    Case("evaluate: split file without a part column", both(text("gold.csv", GOLD), text("split.csv", "segment_id,teil\n1,test\n")),
         ["evaluate", "--gold", "gold.csv", "--codings", "lauf", "--part", "test"],
         "split.csv: has no column part (it has: segment_id, teil)", "→ write the split as segment_id,part", names="split.csv", out="lauf"),
    Case("evaluate: 0-byte codings.csv in the run folder", both(text("gold.csv", GOLD), empty_run_table("codings.csv")), ["evaluate", "--gold", "gold.csv", "--codings", "lauf"],
         "lauf/codings.csv: file is empty (0 bytes)", "→ write it again with 'qda code ... --out lauf'", names="lauf/codings.csv", out="lauf"),
    Case("evaluate: a folder that is no run", both(text("gold.csv", GOLD), text("leer/notiz.txt", "x")), ["evaluate", "--gold", "gold.csv", "--codings", "leer"],
         "leer/codings.csv: not found", "→ run 'qda code ... --out DIR' first", names="leer/codings.csv", out="leer"),
    # --- compare -------------------------------------------------------------------------------
    Case("compare: 0-byte gold", text("gold.csv", b""), ["compare", "cb.yaml", "cb.yaml", "umfrage.csv", "--gold", "gold.csv", "--out", "out"],
         "gold.csv: file is empty (0 bytes)", "→ write the gold as segment_id,codes", names="gold.csv"),
    Case("compare: the second codebook nested too deeply", text("tief.yaml", DEEP_YAML), ["compare", "cb.yaml", "tief.yaml", "umfrage.csv", "--out", "out"],
         "tief.yaml, line 3, column", "is nested more than 64 levels deep", names="tief.yaml"),
    Case("compare: --out below a file", text("datei", "x"), ["compare", "cb.yaml", "cb.yaml", "umfrage.csv", "--out", "datei/vergleich"],
         "datei: is a file, not a folder", "→ remove or rename the file", names="datei", out=None),
    # --- agreement -----------------------------------------------------------------------------
    Case("agreement: one coder only", text("a.csv", GOLD), ["agreement", "a.csv"],
         "agreement needs at least two coders' files (or a REFI-QDA project coded by several users); got a.csv", "Try 'qda agreement --help' for help.",
         exit_code=2, out=None),
    Case("agreement: a 0-byte coder file", text("b.csv", b""), ["agreement", "lauf", "b.csv"],
         "b.csv: file is empty (0 bytes)", "→ write the gold as segment_id,codes", names="b.csv", out=None),
    Case("agreement: a coder file with an unclosed quote", text("b.csv", BAD_CSV), ["agreement", "lauf", "b.csv"],
         "b.csv, line 3: is not valid CSV", "→ write the gold as segment_id,codes", names="b.csv", out=None),
    Case("agreement: a run folder with an empty codings.csv", both(text("b.csv", GOLD), empty_run_table("codings.csv")), ["agreement", "lauf", "b.csv"],
         "lauf/codings.csv: file is empty (0 bytes)", "→ write it again with 'qda code ... --out lauf'", names="lauf/codings.csv", out="lauf"),
    Case("agreement: --out not writable", both(text("b.csv", GOLD), unwritable), ["agreement", "lauf", "b.csv", "--out", "gesperrt/ueberein"],
         "gesperrt: cannot be written to", REFUSED_OUT, names="gesperrt", out=None),
    # --- export --------------------------------------------------------------------------------
    Case("export: 0-byte codings.csv", empty_run_table("codings.csv"), ["export", "lauf", "--out", "projekt.qdpx"],
         "lauf/codings.csv: file is empty (0 bytes)", "→ write it again with 'qda code ... --out lauf'", names="lauf/codings.csv", out="lauf"),
    Case("export: run.json that is not JSON", text("lauf/run.json", "{kaputt"), ["export", "lauf", "--out", "projekt.qdpx"],
         "lauf/run.json, line 1, column 2: is not valid JSON", "→ run the stage that wrote the folder again", names="lauf/run.json", out="lauf"),
    Case("export: a folder that is no run", text("leer/notiz.txt", "x"), ["export", "leer", "--out", "projekt.qdpx"],
         "leer/segments.csv: not found", "→ run 'qda code ... --out DIR' (or 'qda run') first", names="leer/segments.csv", out="leer"),
    Case("export: --out below a file", text("datei", "x"), ["export", "lauf", "--out", "datei/projekt.qdpx"],
         "datei: is a file, not a folder", "→ remove or rename the file", names="datei", out="lauf"),
    Case("export: --out is a folder", text("ordner/x.txt", "x"), ["export", "lauf", "--out", "ordner"],
         "Invalid value for '--out': File 'ordner' is a directory.", "Try 'qda export --help' for help.", exit_code=2, names="--out", out="ordner"),
    # --- import (REFI-QDA projects) ------------------------------------------------------------
    Case("import: project that is no zip", text("projekt.qdpx", "kein zip"), ["import", "projekt.qdpx", "--out", "out"],
         "projekt.qdpx: is not a valid .qdpx (zip) file", "→ export the project again from your QDA tool"),
    Case("import: zip bomb", qdpx_bomb, ["import", "bombe.qdpx", "--out", "out"],
         "bombe.qdpx: project.qde is 2147483648 bytes unpacked, over the 209715200 byte limit", "→ this does not look like a real project"),
    Case("import: zip slip", zip_slip, ["import", "projekt.qdpx", "--out", "out"],
         "projekt.qdpx: zip entry '../../ausserhalb.txt' points outside the project", "→ refusing to read it; export the project again"),
    Case("import: a project that does not exist, into a run folder", nothing, ["import", "fehlt.qdpx", "--out", "lauf"],
         "fehlt.qdpx: file not found", "→ check the path", names="fehlt.qdpx", out="lauf"),
    Case("import: into a run folder over other inputs", zip_slip, ["import", "projekt.qdpx", "--out", "lauf"],
         "lauf: holds a run over other inputs", "→ write to a new folder with --out, or add --force", names="lauf", out="lauf"),
    # --- report --------------------------------------------------------------------------------
    Case("report: run.json that is not JSON", text("lauf/run.json", "{kaputt"), ["report", "lauf"],
         "lauf/run.json, line 1, column 2: is not valid JSON", "→ run the stage that wrote the folder again", names="lauf/run.json", out="lauf"),
    Case("report: 0-byte segments.csv", empty_run_table("segments.csv"), ["report", "lauf"],
         "lauf/segments.csv: file is empty (0 bytes)", "→ write it again with 'qda ingest ... --out lauf'", names="lauf/segments.csv", out="lauf"),
    Case("report: a folder that does not exist", nothing, ["report", "fehlt"], "fehlt: is not a folder", "→ give the run folder", out="fehlt"),
    Case("report: --out a run folder over other inputs", both(text("anders/run.json", '{"command": "code", "input_fingerprint": {"sha256": "0", "files": {"x.csv": "0"}}}')),
         ["report", "lauf", "--out", "anders"], "anders: holds a run over other inputs", "→ write to a new folder with --out", names="anders", out="anders"),
    Case("report: not writable", unwritable, ["report", "lauf", "--out", "gesperrt/bericht"], "gesperrt: cannot be written to", REFUSED_OUT, names="gesperrt", out=None),
    # --- run -----------------------------------------------------------------------------------
    Case("run: corpus.yaml with nested aliases", both(text("korpus/corpus.yaml", CORPUS_BOMB), text("korpus/umfrage.csv", SURVEY)),
         ["run", "korpus", "--codebook", "cb.yaml", "--out", "out", "--no-cluster"], "korpus/corpus.yaml, line 2", "uses more than 20 YAML aliases", names="korpus/corpus.yaml"),
    Case("run: codebook with a key that is a mapping", text("k.yaml", 'name: K\nversion: "1"\n{huerde: zeit}: x\ncodes: []\n'),
         ["run", ".", "--codebook", "k.yaml", "--out", "out"], "k.yaml, line 3, column 1: a key is a mapping, not a name", "→ write keys as plain text", names="k.yaml"),
    Case("run: categories with nested aliases", text("kat.yaml", CATEGORY_BOMB), ["run", "umfrage.csv", "--codebook", "cb.yaml", "--categories", "kat.yaml", "--out", "out"],
         "uses more than 20 YAML aliases", "→ write the repeated parts out", names="kat.yaml"),
    Case("run: --out a dangling link", dangling("out"), ["run", "umfrage.csv", "--codebook", "cb.yaml", "--out", "out", "--no-cluster"],
         "out: is a symbolic link to", "→ remove the link or give --out a folder you can write to", names="out"),
    Case("run: into a run folder over other inputs", nothing, ["run", "andere.csv", "--codebook", "cb.yaml", "--out", "lauf", "--no-cluster"],
         "lauf: holds a run over other inputs", "→ write to a new folder with --out, or add --force to replace lauf whole", names="lauf", out="lauf"),
    Case("run: a folder that does not exist", nothing, ["run", "fehlt", "--codebook", "cb.yaml", "--out", "out"], "fehlt: file not found", "→ check the path"),
    # --- review --------------------------------------------------------------------------------
    Case("review export: --out is a dangling link", dangling("review.xlsx"), ["review", "export", "lauf", "--out", "review.xlsx"],
         "review.xlsx: is a symbolic link to", "→ remove the link or give --out a file name", names="review.xlsx", out="lauf"),
    Case("review export: --out below a file", text("datei", "x"), ["review", "export", "lauf", "--out", "datei/review.xlsx"],
         "datei: is a file, not a folder", "→ remove or rename the file", names="datei", out="lauf"),
    Case("review import: decisions that are not JSON", text("entscheidungen.json", "{"), ["review", "import", "lauf", "entscheidungen.json"],
         "entscheidungen.json: is not valid JSON", "→ import the JSON the review page downloads", names="entscheidungen.json", out="lauf"),
    Case("review import: 0-byte decisions CSV", text("entscheidungen.csv", b""), ["review", "import", "lauf", "entscheidungen.csv"],
         "entscheidungen.csv: file is empty (0 bytes)", "→ import the CSV of 'qda review export' or the one the review page downloads",
         names="entscheidungen.csv", out="lauf"),
    Case("review import: an xlsx that is no workbook", text("entscheidungen.xlsx", "kein Excel"), ["review", "import", "lauf", "entscheidungen.xlsx"],
         "entscheidungen.xlsx: cannot be read as an Excel workbook", "→ save it again as .xlsx", names="entscheidungen.xlsx", out="lauf"),
]


def _staging_left(folder: Path) -> list[str]:
    pattern = (".tmp-", ".old-", ".qda-write-test-")
    return sorted(str(p) for p in folder.rglob(".*") if any(m in p.name for m in pattern))


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=f"needs a fix in {case.pending}")] if case.pending else []
    return pytest.param(case, id=case.name, marks=marks)


REFUSED = [c for c in CASES if not c.pending]  # what the README counts


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_is_refused_with_a_message(project, tmp_path, monkeypatch, case):
    work = tmp_path / "w"
    shutil.copytree(project, work, symlinks=True)
    monkeypatch.chdir(work)
    for key in ("QDA_MAX_UNZIPPED_MB", "QDA_MAX_ZIP_RATIO", "QDA_MAX_COLUMNS"):
        monkeypatch.delenv(key, raising=False)
    case.build(work)
    out = work / case.out if case.out else None
    before = tree_snapshot(out) if out and out.is_dir() and not out.is_symlink() else None
    result = CliRunner().invoke(cli, case.args, env=case.env, prog_name="qda")
    output = result.output
    assert result.exit_code == case.exit_code, output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert case.message in output, output
    assert case.fix in output, output
    assert case.names in output, output
    if case.exit_code == 2:
        assert f"Try 'qda {case.args[0]}" in output
    assert max(len(line) for line in output.splitlines()) < 500
    if out is not None:
        if before is None:
            assert not out.exists() or out.is_symlink(), f"{out} was created"
        else:
            assert tree_snapshot(out) == before
    assert _staging_left(work) == []
    assert not (work / "ausgefuehrt.txt").exists()


def test_the_table_covers_every_command():
    assert len(REFUSED) >= 60
    assert len({c.name for c in CASES}) == len(CASES)
    commands = {c.command for c in REFUSED}
    assert commands >= {"codebook", "ingest", "code", "cluster", "evaluate", "compare", "agreement", "export", "import", "report", "run", "review"}


def test_a_categories_file_found_in_the_corpus_folder_is_read_safely(tmp_path):
    """``qda run FOLDER`` reads FOLDER/kategorien.yaml without --categories: read_guides itself
    must refuse what the --categories check refuses."""
    import pipeline.cluster
    from pipeline.errors import InputError

    read = getattr(pipeline.cluster, "read_categories", None) or pipeline.cluster.read_guides  # renamed on the cluster branch
    path = tmp_path / "kategorien.yaml"
    path.write_text("- label: Digitales\n  seed_terms: [" + ", ".join(["&t Tool"] + ["*t"] * 25) + "]\n"
                    "- label: Abläufe\n  seed_terms: [Antrag, Verfahren]\n", encoding="utf-8")
    with pytest.raises(InputError, match="uses more than 20 YAML aliases"):
        read(path)


def test_nul_bytes_in_a_gold_file_are_removed_not_fatal(project, tmp_path, monkeypatch):
    work = tmp_path / "w"
    shutil.copytree(project, work)
    monkeypatch.chdir(work)
    (work / "gold.csv").write_bytes(b"segment_id,codes\n1,huerde.zeit\x00\n2,huerde.fuehrung\n")
    r = CliRunner().invoke(cli, ["evaluate", "--gold", "gold.csv", "--codings", "lauf"])
    assert r.exit_code == 0, r.output
    assert "2 gold units" in r.output
