"""Codebook format, validation table, show, diff, REFI-QDA and spreadsheet exchange."""

import json
import uuid

import pytest
import yaml
from click.testing import CliRunner

from conftest import REFI, ROOT, needs_refi, write
from pipeline.cli import cli
from pipeline.codebook import diff_codebooks, dump_codebook, format_diff, load_codebook
from pipeline.codebook.exchange import codebook_table, export_qdc, import_refi, read_table, write_table
from pipeline.errors import InputError, ValidationError

MINI = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"
V1 = ROOT / "codebooks" / "innovationsnetzwerke-v1.yaml"
V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"
DOMAIN_IDS = {
    "innovationsform.produkt", "innovationsform.prozess", "innovationsform.organisation", "innovationsform.kommunikation",
    "innovationsform.wissenstransfer", "huerde.zeit", "huerde.ressourcen", "huerde.fuehrung", "huerde.strukturen",
    "huerde.technik", "huerde.recht", "huerde.kultur", "huerde.kompetenz", "huerde.praxisferne", "methode.impuls",
    "methode.austausch", "methode.entwicklung", "methode.erprobung", "methode.dokumentation", "methode.schulung",
}


def run(args):
    return CliRunner().invoke(cli, args)


def test_reference_codebooks_use_exactly_the_domain_ids():
    v1, _ = load_codebook(V1)
    v2, _ = load_codebook(V2)
    assert {c.id for c in v1.codable()} == DOMAIN_IDS
    assert {c.id for c in v2.codable()} - DOMAIN_IDS == {c.id for c in v2.codable() if c.id.startswith("motivation.")}
    assert DOMAIN_IDS <= {c.id for c in v2.codable()}
    assert v2.parent_version == v1.version
    for code in v2.codable():
        assert code.definition and code.anchor_examples and code.coding_rules and code.include, code.id


@pytest.mark.parametrize("path", [V1, V2])
def test_cli_validate_reference_codebooks(path):
    result = run(["codebook", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid — Innovationsnetzwerke" in result.output


BROKEN = """\
name: Kaputt
version: "0.1"
matchng: {}
matching:
  negation_window: -1
codes:
  - id: huerde
    label: Hürden
    codable: false
    definition: Hürden.
    children:
      - id: huerde.zeit
        label: Zeit
        definitoin: Zeitmangel.
        include: [Zeit, "", {regex: "(Zeit"}, {regex: "(a+)+b"}, {near: [fehlen]}, {lemma: Zeit}]
      - id: methode.schulung
        label: Schulung
        definition: Kurse.
        include: ["*"]
      - id: huerde.zeit
        label: Doppelt
        definition: noch einmal
        include: [Zeit]
  - id: Methode X
    label: Falsche ID
    definition: x
    include: [x]
"""

EXPECTED_BROKEN = """\
Error: {path} is not a valid codebook (13 problems):
  matchng: unknown key 'matchng'; did you mean 'matching'?
  matching → negation_window: must be a whole number ≥ 0 (0 switches negation handling off), not -1
  codes → huerde.zeit: unknown key 'definitoin'; did you mean 'definition'?
  codes → huerde.zeit → include[1]: empty pattern
  codes → huerde.zeit → include[2]: invalid regex '(Zeit': missing ), unterminated subpattern at position 0
  codes → huerde.zeit → include[3]: regex '(a+)+b' nests quantifiers (like (a+)+), which can take exponential time; rewrite it without the outer quantifier
  codes → huerde.zeit → include[4] → near: needs two single words, e.g. near: [fehlen, Personal]
  codes → huerde.zeit → include[5]: unknown key 'lemma'; allowed: case_sensitive, compounds, glob, match, near, negation, phrase, regex, require, term, unless, window
  codes → huerde.zeit → include[5]: needs exactly one of term, phrase, glob, regex, near
  codes → methode.schulung: is nested under 'huerde' but its id does not start with 'huerde.'
  codes → methode.schulung → include[0]: glob '*' matches every word
  codes → huerde.zeit: duplicate id (also codes → huerde → children[0])
  codes → Methode X: an id is lower case letters, digits, '_' or '-', with dots between levels (e.g. huerde.zeit)
"""


def test_broken_codebook_reports_every_problem_with_location(tmp_path):
    path = write(tmp_path / "kaputt.yaml", BROKEN)
    result = run(["codebook", "validate", str(path)])
    assert result.exit_code == 1
    # the missing definition of huerde.zeit is reported too, after the structural problems
    expected = EXPECTED_BROKEN.format(path=path).replace("(13 problems)", "(14 problems)") + "  codes → huerde.zeit: missing definition (Mayring: every category needs one)\n"
    assert result.output == expected


@pytest.mark.parametrize("text,message", [
    ("name: x\nversion: 1\ncodes: [\n", "line 4, column 1: is not valid YAML: expected the node content, but found '<stream end>'"),
    ("name: x\nname: y\n", "key 'name' appears twice in one mapping"),
    ("- just\n- a list\n", "a codebook is a mapping with name, version and codes"),
    ("name: x\nversion: 1\n", "codes: missing or empty: a codebook needs a list of codes"),
    ("name: x\nversion: 1\ncodes:\n  - id: a.b\n    label: B\n    definition: d\n    include: [b]\n", "codes → a.b: its parent 'a' is not defined; add a code 'a' or nest this code under it"),
    ("name: x\nversion: 1\ncodes:\n  - id: a\n    label: A\n    definition: d\n    include: [{near: [a, b], window: 0}]\n", "codes → a → include[0] → window: must be a whole number of tokens ≥ 1, not 0"),
    ("name: x\nversion: 1\ncodes:\n  - id: a\n    label: A\n    definition: d\n    include: [{term: zwei Wörter}]\n", "codes → a → include[0] → term: 'zwei Wörter' has several words; use phrase: for a multi-word pattern"),
    ("name: x\nversion: 1\ncodes:\n  - id: a\n    label: A\n    definition: d\n    include: [{regex: 'x*'}]\n", "codes → a → include[0]: regex 'x*' matches the empty string, so it would code every unit"),
    ("name: x\nversion: 1\ncodes:\n  - id: a\n    label: A\n    definition: d\n    codable: vielleicht\n", "codes → a → codable: must be true or false, not 'vielleicht'"),
])
def test_malformed_codebook_messages(tmp_path, text, message):
    path = write(tmp_path / "cb.yaml", text)
    with pytest.raises((InputError, ValidationError)) as err:
        load_codebook(path)
    assert message in str(err.value)


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    path = write(tmp_path / "cb.yaml", "name: x\nversion: 1\ncodes:\n  - id: a\n   label: falsch eingerückt\n")
    result = run(["codebook", "validate", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}, line 5, column 4: is not valid YAML: ")


def test_anchor_examples_the_patterns_miss_are_warnings(tmp_path):
    path = write(tmp_path / "cb.yaml", (
        "name: x\nversion: 1\ncodes:\n  - id: zeit\n    label: Zeit\n    definition: Zeitmangel\n"
        "    anchor_examples: [Zeitmangel ohne Ende, Der Kalender quillt über]\n    include: [Zeit]\n"
    ))
    result = run(["codebook", "validate", str(path)])
    assert result.exit_code == 0
    assert "warning: codes → zeit → anchor_examples[1]: not matched by the code's own patterns: „Der Kalender quillt über“" in result.output
    assert "anchor_examples[0]" not in result.output


def test_show_table_and_markdown(tmp_path):
    result = run(["codebook", "show", str(MINI)])
    assert result.exit_code == 0
    assert "  huerde.zeit       Zeit" in result.output
    assert "[Hürden]" in result.output
    out = tmp_path / "leitfaden.md"
    result = run(["codebook", "show", str(V2), "--format", "markdown", "--out", str(out)])
    assert result.exit_code == 0
    md = out.read_text()
    assert md.startswith("# Kodierleitfaden: Innovationsnetzwerke\n")
    assert "### Zeitmangel und Arbeitsbelastung (`huerde.zeit`)" in md
    assert "**Ankerbeispiele:**" in md and "**Kodierregeln:**" in md


OLD = """\
name: T
version: "1"
codes:
  - id: a
    label: A
    codable: false
    definition: Oberkategorie A.
    children:
      - id: a.x
        label: X
        definition: Das X.
        include: [x, y]
      - id: a.y
        label: Y
        definition: Das Y.
        include: [ypsilon]
  - id: b
    label: B
    codable: false
    definition: Oberkategorie B.
  - id: c
    label: C
    definition: Wird entfernt.
    include: [c]
"""
NEW = """\
name: T
version: "2"
parent_version: "1"
matching: {negation_window: 6}
codes:
  - id: a
    label: A
    codable: false
    definition: Oberkategorie A.
    children:
      - id: a.x
        label: X neu
        definition: Das X.
        anchor_examples: [ein x]
        include: [x, z, {near: [x, y], window: 3}]
  - id: b
    label: B
    codable: false
    definition: Oberkategorie B.
    children:
      - id: b.y
        label: Y
        definition: Das Y.
        include: [ypsilon]
  - id: d
    label: D
    definition: Ganz neu.
    include: [d]
  - id: e
    label: E
    definition: Auch neu.
    include: [c]
"""

EXPECTED_DIFF = """\
T 1 (5 codes) → T 2 (6 codes)
  version: '1' → '2'
  parent_version: None → '1'
  matching.negation_window: 4 → 6
Added (1):
  + d  D
Removed (1):
  - c  C
Moved (1):
  a.y → b.y  (parent a → b, same definition)
Changed (1):
  ~ a.x
    label: 'X' → 'X neu'
    anchor_examples:
      + ein x
    include:
      + z
      + near(x, y, 3)
      - y
"""


def test_diff_text_is_pinned(tmp_path):
    old, new = write(tmp_path / "old.yaml", OLD), write(tmp_path / "new.yaml", NEW)
    result = run(["codebook", "diff", str(old), str(new)])
    assert result.exit_code == 0
    # 'e' takes c's patterns under a new ID → a rename, not add + remove
    assert result.output == EXPECTED_DIFF.replace("Added (1):\n  + d  D\nRemoved (1):\n  - c  C\n", "Added (1):\n  + d  D\nRenamed (1):\n  c → e  (same patterns)\n    label: 'C' → 'E'\n    definition: 'Wird entfernt.' → 'Auch neu.'\n")


def test_diff_json(tmp_path):
    old, new = write(tmp_path / "old.yaml", OLD), write(tmp_path / "new.yaml", NEW)
    d = json.loads(run(["codebook", "diff", str(old), str(new), "--format", "json"]).output)
    assert d["added"] == [{"id": "d", "label": "D", "parent": None}]
    assert d["removed"] == []
    assert d["renamed"][0]["old"] == "c" and d["renamed"][0]["new"] == "e"
    assert d["moved"][0]["old_parent"] == "a" and d["moved"][0]["new_parent"] == "b"
    assert d["changed"][0]["changes"]["include"] == {"added": ["z", "near(x, y, 3)"], "removed": ["y"]}


def test_reference_diff_shows_the_revision():
    v1, _ = load_codebook(V1)
    v2, _ = load_codebook(V2)
    d = diff_codebooks(v1, v2)
    assert {a["id"] for a in d["added"]} == {"motivation", *(c.id for c in v2.codable() if c.id.startswith("motivation."))}
    changed = {c["id"]: c["changes"] for c in d["changed"]}
    assert "Fehlerkultur" in changed["huerde.strukturen"]["include"]["removed"]
    assert "Fehlerkultur" in changed["huerde.kultur"]["include"]["added"]
    assert "Changed (" in format_diff(d)


# --- REFI-QDA -------------------------------------------------------------------------------

def _schema():
    import xmlschema

    return xmlschema.XMLSchema(str(REFI / "Codebook.xsd"))


@needs_refi
def test_exported_qdc_is_valid_against_the_official_schema(tmp_path):
    out = tmp_path / "v2.qdc"
    result = run(["codebook", "export", str(V2), "--format", "qdc", "--out", str(out)])
    assert result.exit_code == 0, result.output
    _schema().validate(str(out))
    # the codebook's own fields travel in one set's description; an empty <Sets/> would be invalid
    assert "<Sets/>" not in out.read_text() and out.read_text().count("<Set ") == 1


def test_guids_are_stable_per_code_id():
    v1, _ = load_codebook(V1)
    v2, _ = load_codebook(V2)
    import re

    def guids(cb):
        return dict(re.findall(r'guid="([0-9a-f-]{36})" name="[^"]*" isCodable="\w+">\s*<Description>Code-ID: ([\w.]+)', export_qdc(cb)))

    g1, g2 = guids(v1), guids(v2)
    assert len(g1) == len(v1.codes) and len(g2) == len(v2.codes)
    by_id1 = {v: k for k, v in g1.items()}
    by_id2 = {v: k for k, v in g2.items()}
    assert all(by_id1[c] == by_id2[c] for c in by_id1)
    assert all(uuid.UUID(g).version == 5 for g in g1)


def test_qdc_round_trip_keeps_mayring_fields(tmp_path):
    cb, _ = load_codebook(V2)
    path = write(tmp_path / "v2.qdc", export_qdc(cb))
    back, problems = import_refi(path, name=cb.name, version=cb.version)
    assert [p for p in problems if p.level == "error"] == []
    assert list(back.codes) == list(cb.codes)
    for cid, code in cb.codes.items():
        other = back.codes[cid]
        assert (other.label, other.parent, other.definition, other.anchor_examples, other.coding_rules, other.codable) == \
               (code.label, code.parent, code.definition, code.anchor_examples, code.coding_rules, code.codable)
        assert [p.label() for p in other.include] == [p.label() for p in code.include]
        assert [p.label() for p in other.exclude] == [p.label() for p in code.exclude]


@needs_refi
def test_import_real_nvivo_project():
    cb, problems = import_refi(REFI / "nvivo12.6_oltas0517.qdpx")
    assert len(cb.codes) == 152
    assert not [p for p in problems if p.level == "error"]
    top = [c for c in cb.codes.values() if c.parent is None]
    assert len(top) == 12
    assert max(c.depth for c in cb.codes.values()) == 3
    first = cb.codes["1_oltas_tipusa"]
    assert first.label == "1. Oltás típusa" and first.definition == "COVID vay nem COVID"
    assert [c.id for c in cb.children("1_oltas_tipusa")] == ["1_oltas_tipusa.covid", "1_oltas_tipusa.nem_covid"]
    assert all(c.extra["guid"] == c.extra["guid"].lower() for c in cb.codes.values())


@needs_refi
def test_import_real_atlasti_project_builds_hierarchy_from_names():
    cb, _ = import_refi(REFI / "atlasti8.4_standard_project.qde")
    assert len(cb.codes) == 14
    assert [c.id for c in cb.children("coke")] == ["coke.full_fat_coke", "coke.diet_coke"]
    assert cb.codes["coke.diet_coke"].label == "diet Coke"


def test_import_tolerates_empty_sets_and_uppercase_guids(tmp_path):
    path = write(tmp_path / "t.qdc", (
        '<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Taguette">'
        '<Codes><Code guid="{0A1B2C3D-0000-4000-8000-00000000000A}" name="Zeit" isCodable="true"><Description>Zeitmangel.</Description></Code>'
        '<Code guid="0A1B2C3D-0000-4000-8000-00000000000B" name="Geld" isCodable="TRUE"/></Codes><Sets/></CodeBook>'
    ))
    cb, _ = import_refi(path)
    assert list(cb.codes) == ["zeit", "geld"]
    assert cb.codes["zeit"].extra["guid"] == "0a1b2c3d-0000-4000-8000-00000000000a"
    assert cb.codes["zeit"].definition == "Zeitmangel."


def test_import_refuses_entity_expansion(tmp_path):
    path = write(tmp_path / "bomb.qdc", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="0a1b2c3d-0000-4000-8000-00000000000a" name="&a;" isCodable="true"/></Codes></CodeBook>')
    with pytest.raises(InputError, match="refused unsafe XML"):
        import_refi(path)


def test_cli_import_writes_a_yaml_codebook(tmp_path):
    cb, _ = load_codebook(MINI)
    src = write(tmp_path / "mini.qdc", export_qdc(cb))
    out = tmp_path / "back.yaml"
    result = run(["codebook", "import", str(src), "--out", str(out), "--name", "Mini"])
    assert result.exit_code == 0, result.output
    back, _ = load_codebook(out)
    assert list(back.codes) == list(cb.codes)


# --- spreadsheets ---------------------------------------------------------------------------

def test_taguette_accepts_our_csv(tmp_path):
    from taguette.import_codebook import list_tags_csv

    out = tmp_path / "tags.csv"
    result = run(["codebook", "export", str(V2), "--format", "csv", "--layout", "taguette", "--out", str(out)])
    assert result.exit_code == 0
    with open(out, "rb") as fh:
        tags = list_tags_csv(fh)
    cb, _ = load_codebook(V2)
    assert [t["path"] for t in tags] == list(cb.codes)
    assert tags[1]["description"].startswith("Code-ID: innovationsform.produkt\nBezeichnung: Produktinnovation\n\nDefinition: ")


@pytest.mark.parametrize("layout,fmt", [("maxqda", "xlsx"), ("atlasti", "xlsx"), ("taguette", "csv"), ("qda", "csv"), ("maxqda", "csv")])
def test_spreadsheet_round_trip(tmp_path, layout, fmt):
    cb, _ = load_codebook(V2)
    path = tmp_path / f"cb.{fmt}"
    write_table(cb, path, fmt, layout)
    back, problems = read_table(path, name=cb.name, version=cb.version)
    assert not [p for p in problems if p.level == "error"], problems
    assert list(back.codes) == list(cb.codes)
    for cid, code in cb.codes.items():
        assert back.codes[cid].definition == code.definition
        assert back.codes[cid].codable == code.codable
        assert [p.label() for p in back.codes[cid].include] == [p.label() for p in code.include]


def test_maxqda_layout_columns():
    cb, _ = load_codebook(MINI)
    table = codebook_table(cb, "maxqda")
    assert list(table.columns) == ["Code", "Memo"]
    assert table["Code"].tolist() == ["Hürden", "Hürden\\Zeit", "Hürden\\Führung", "Methoden", "Methoden\\Schulung"]
    atlas = codebook_table(cb, "atlasti")
    assert atlas["Code"].tolist()[1] == "Hürden::Zeit" and atlas["Code Groups"].tolist()[1] == "Hürden"


def test_foreign_maxqda_table_without_ids(tmp_path):
    path = write(tmp_path / "codes.csv", "Code;Memo\nHürden;Was behindert\nHürden\\Zeit;Zeitmangel\nHürden\\Geld;Budget fehlt\n", encoding="utf-8-sig")
    cb, _ = read_table(path)
    assert list(cb.codes) == ["hurden", "hurden.zeit", "hurden.geld"]
    assert cb.codes["hurden.zeit"].definition == "Zeitmangel"


def test_failed_export_leaves_no_file(tmp_path):
    bad = write(tmp_path / "bad.yaml", "name: x\n")
    out = tmp_path / "out.qdc"
    result = run(["codebook", "export", str(bad), "--format", "qdc", "--out", str(out)])
    assert result.exit_code == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_dump_and_reload_is_identity():
    cb, _ = load_codebook(V2)
    text = dump_codebook(cb)
    data = yaml.safe_load(text)
    from pipeline.codebook import codebook_from_data

    again, problems = codebook_from_data(data)
    assert not [p for p in problems if p.level == "error"]
    assert dump_codebook(again) == text
