"""YAML → .qdc → YAML keeps every field of the codebook and of each code (lossless in meaning:
``qda codebook diff`` reports no change), also for fields the readable description does not
show (lack_counts, matching settings, pattern options, the codebook's name and version)."""

import string

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, write
from pipeline.cli import cli
from pipeline.codebook import codebook_from_data, diff_codebooks, format_diff, load_codebook
from pipeline.codebook.exchange import export_qdc, import_refi
from pipeline.codebook.serialize import codebook_to_data, split_blocks

V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"
REFERENCE = sorted((ROOT / "codebooks").glob("innovationsnetzwerke-v*.yaml"))

# a codebook in which every field a code or a codebook can have is set
EVERY_FIELD = """\
name: Alle Felder
version: "3.1"
parent_version: "3.0"
language: de
description: |
  Testleitfaden mit jedem Feld; Kodiereinheit ist der Sprecherbeitrag.
matching:
  match: surface
  case_sensitive: true
  compounds: head
  negation_window: 6
  typos: false
  skip_interviewer: false
cues:
  einfuehrung: [eingeführt, umgestellt, {phrase: auf den Weg gebracht}]
  hindernis: [bremst, hakt, "Problem*"]
questions:
  huerde: [hindert, bremst, Hürde]
codes:
  - id: huerde
    label: Hürden & Hemmnisse
    codable: false
    color: "#aa3377"
    definition: Was Kolleg:innen an der Teilnahme hindert.
    children:
      - id: huerde.zeit
        label: Keine Zeit <neben> dem Job
        color: "#228833"
        lack_counts: true
        require: {cues: [hindernis, fehlt], question: [huerde], scope: clause}
        unless: {codes: ["methode.*"], scope: unit}
        definition: Fehlende Zeit oder „zu viel Tagesgeschäft“.
        anchor_examples:
          - "Ehrlich gesagt fehlt mir schlicht die Zeit, das nebenher zu machen."
          - "Der Kalender ist dicht – da geht nix mehr."
        coding_rules:
          - "Nicht kodieren, wenn Zeit ausdrücklich kein Problem ist."
        include:
          - Zeit
          - phrase: neben dem eigentlichen Job
          - glob: "Zeitdr*"
          - regex: "\\\\bkeine? Kapa(zität)?\\\\b"
          - near: [Kalender, voll]
            window: 4
          - term: Termin
            compounds: modifier
            case_sensitive: false
            match: lemma
            negation: false
            require: false
            unless: einfuehrung
        exclude:
          - Zeitung
          - phrase: mit der Zeit
      - id: huerde.geld
        label: Geld
        guid: 0a1b2c3d-0000-4000-8000-00000000000a
        definition: Kein Budget für Reisen oder Freistellung.
        include: [Budget, {term: Reisekosten, require: hindernis}]
  - id: methode
    label: Methoden
    codable: false
    children:
      - id: methode.schulung
        label: Schulung
        definition: Kurse und Trainings.
        include: [Schulung]
"""


def _round_trip(cb, tmp_path):
    path = write(tmp_path / "cb.qdc", export_qdc(cb))
    back, problems = import_refi(path)
    assert [p for p in problems if p.level == "error"] == []
    return back


def _assert_same(cb, back):
    assert codebook_to_data(back) == codebook_to_data(cb)
    assert format_diff(diff_codebooks(cb, back)).strip().endswith("No differences.")


@pytest.mark.parametrize("path", REFERENCE, ids=[p.stem for p in REFERENCE])
def test_reference_codebooks_survive_the_qdc_round_trip(path, tmp_path):
    assert len(REFERENCE) >= 2
    cb, _ = load_codebook(path)
    back = _round_trip(cb, tmp_path)
    _assert_same(cb, back)
    # what was lost before: lack_counts on every barrier code, name, version and description
    assert [c.id for c in back.codes.values() if c.lack_counts] == [c.id for c in cb.codes.values() if c.lack_counts]
    assert (back.name, back.version, back.description, back.parent_version) == (cb.name, cb.version, cb.description, cb.parent_version)


def test_a_codebook_with_every_field_survives_the_qdc_round_trip(tmp_path):
    cb, problems = codebook_from_data(__import__("yaml").safe_load(EVERY_FIELD))
    assert [p for p in problems if p.level == "error"] == []
    back = _round_trip(cb, tmp_path)
    _assert_same(cb, back)
    assert back.matching.match == "surface" and back.matching.negation_window == 6 and not back.matching.typos
    termin = back.codes["huerde.zeit"].include[-1]
    assert (termin.compounds, termin.case_sensitive, termin.match, termin.negation, termin.require) == ("modifier", False, "lemma", False, False)
    assert termin.unless.cues == ("einfuehrung",) and back.codes["huerde.zeit"].require.scope == "clause"
    assert back.cues.keys() == {"einfuehrung", "hindernis"} and back.questions == {"huerde": ["hindert", "bremst", "Hürde"]}
    assert back.codes["huerde.geld"].extra["guid"] == "0a1b2c3d-0000-4000-8000-00000000000a"


def test_every_code_carries_its_data_block_and_the_codebook_a_set(tmp_path):
    cb, _ = load_codebook(V2)
    xml = export_qdc(cb)
    import re

    blocks = [split_blocks(d)[1] for d in re.findall(r"<Description>(.*?)</Description>", xml, re.S)]
    code_blocks = [b["code"] for b in blocks if "code" in b]
    assert [b["id"] for b in code_blocks] == list(cb.codes)
    assert [b.get("lack_counts", False) for b in code_blocks] == [c.lack_counts for c in cb.codes.values()]
    (meta,) = [b["codebook"] for b in blocks if "codebook" in b]
    assert meta["name"] == cb.name and meta["version"] == cb.version and meta["matching"] == cb.matching.to_dict()


def test_a_definition_edited_in_another_tool_wins_over_the_hidden_copy(tmp_path):
    cb, _ = load_codebook(V2)
    old = cb.codes["huerde.zeit"].definition
    xml = export_qdc(cb).replace(f"Definition: {old}", "Definition: Zu wenig Zeit für das Netzwerk.", 1)
    xml = xml.replace('name="Zeitmangel und Arbeitsbelastung"', 'name="Zeitnot"', 1)
    path = write(tmp_path / "bearbeitet.qdc", xml)
    back, _ = import_refi(path)
    d = diff_codebooks(cb, back)
    assert d["changed"] == [{"id": "huerde.zeit", "changes": {"label": {"old": "Zeitmangel und Arbeitsbelastung", "new": "Zeitnot"},
                                                               "definition": {"old": old, "new": "Zu wenig Zeit für das Netzwerk."}}}]
    assert back.codes["huerde.zeit"].lack_counts  # the fields nobody edited still come from the block


def test_cli_export_import_diff_shows_no_change(tmp_path):
    runner = CliRunner()
    qdc, back = tmp_path / "v2.qdc", tmp_path / "v2-zurueck.yaml"
    assert runner.invoke(cli, ["codebook", "export", str(V2), "--format", "qdc", "--out", str(qdc)]).exit_code == 0
    r = runner.invoke(cli, ["codebook", "import", str(qdc), "--out", str(back)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["codebook", "diff", str(V2), str(back)])
    assert r.exit_code == 0
    assert r.output == "Innovationsnetzwerke 2.0 (29 codes) → Innovationsnetzwerke 2.0 (29 codes)\nNo differences.\n"


# --- property test: random codebooks with every kind of field -----------------------------------

TEXT = st.text(alphabet=string.ascii_letters + "äöüÄÖÜß .,;:!?-–„“\"'&<>()/\\{}[]", min_size=1, max_size=40).map(lambda s: " ".join(s.split())).filter(bool)
WORD = st.text(alphabet=string.ascii_letters + "äöüß", min_size=3, max_size=12)
SLUG = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8).filter(lambda s: s[0].isalpha())
OPTIONS = st.fixed_dictionaries({}, optional={"compounds": st.booleans(), "case_sensitive": st.booleans(),
                                              "match": st.sampled_from(["lemma", "surface"]), "negation": st.booleans()})
PATTERN = st.one_of(
    WORD,
    st.builds(lambda a, b: f"{a} {b}", WORD, WORD),
    st.builds(lambda w, o: {"term": w, **o}, WORD, OPTIONS),
    st.builds(lambda a, b, o: {"phrase": f"{a} {b}", **o}, WORD, WORD, OPTIONS),
    st.builds(lambda w: {"glob": f"{w}*"}, WORD),
    st.builds(lambda w: {"regex": rf"\b{w}\w*"}, WORD),
    st.builds(lambda a, b, n: {"near": [a, b], "window": n}, WORD, WORD, st.integers(1, 9)),
)
COLOR = st.sampled_from(["#0077bb", "#ee7733", "#009988", "#CC3311"])
CONDITION = st.one_of(
    st.just("stichwort"),
    st.builds(lambda w, s: {"cues": [w], "scope": s}, WORD, st.sampled_from(["clause", "sentence", "unit"])),
    st.builds(lambda w: {"cues": ["stichwort", w], "codes": ["*.*"]}, WORD),
)


@st.composite
def full_codebooks(draw):
    codes = []
    for d in draw(st.lists(SLUG, min_size=1, max_size=3, unique=True)):
        children = []
        for c in draw(st.lists(SLUG, min_size=1, max_size=3, unique=True)):
            code = {"id": f"{d}.{c}", "label": draw(TEXT), "definition": draw(TEXT),
                    "anchor_examples": draw(st.lists(TEXT, max_size=3)), "coding_rules": draw(st.lists(TEXT, max_size=2)),
                    "include": draw(st.lists(PATTERN, min_size=1, max_size=4, unique_by=str)),
                    "exclude": draw(st.lists(PATTERN, max_size=2, unique_by=str))}
            if draw(st.booleans()):
                code["lack_counts"] = True
            if draw(st.booleans()):
                code["color"] = draw(COLOR)
            if draw(st.booleans()):
                code["require"] = draw(CONDITION)
            if draw(st.booleans()):
                code["unless"] = draw(CONDITION)
            if draw(st.booleans()):
                code["include"] = [*code["include"], {"term": draw(WORD) + "x", "require": False, "unless": draw(CONDITION)}]
            children.append(code)
        codes.append({"id": d, "label": draw(TEXT), "codable": False, "definition": draw(TEXT), "children": children})
    data = {"name": draw(TEXT), "version": draw(st.sampled_from(["1", "2.0", "2024-03"])), "language": "de", "codes": codes,
            "cues": {"stichwort": draw(st.lists(PATTERN, min_size=1, max_size=3, unique_by=str))},
            "questions": {codes[0]["id"]: draw(st.lists(WORD, min_size=1, max_size=3))},
            "matching": {"match": draw(st.sampled_from(["lemma", "surface"])), "case_sensitive": draw(st.booleans()),
                         "compounds": draw(st.sampled_from([True, False, "head", "modifier"])), "negation_window": draw(st.integers(0, 8)),
                         "typos": draw(st.booleans()), "skip_interviewer": draw(st.booleans())}}
    if draw(st.booleans()):
        data["description"] = draw(TEXT)
    if draw(st.booleans()):
        data["parent_version"] = "0.9"
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=full_codebooks())
def test_any_codebook_survives_yaml_qdc_yaml(tmp_path_factory, data):
    cb, problems = codebook_from_data(data)
    assert not [p for p in problems if p.level == "error"], problems
    back = _round_trip(cb, tmp_path_factory.mktemp("qdc"))
    _assert_same(cb, back)
