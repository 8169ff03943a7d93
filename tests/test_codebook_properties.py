"""Property tests: any valid codebook survives YAML → .qdc → YAML and YAML → table → YAML."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.codebook import codebook_from_data
from pipeline.codebook.exchange import export_qdc, import_refi, read_table, write_table

# text researchers write: umlauts, ß, quotes, ampersands and angle brackets (XML escaping)
TEXT = st.text(alphabet=string.ascii_letters + "äöüÄÖÜß .,;:!?-–„“\"'&<>()/", min_size=1, max_size=40).map(lambda s: " ".join(s.split())).filter(bool)
WORD = st.text(alphabet=string.ascii_letters + "äöüß", min_size=2, max_size=12)
SLUG = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8).filter(lambda s: s[0].isalpha())


@st.composite
def codebooks(draw):
    dims = draw(st.lists(SLUG, min_size=1, max_size=3, unique=True))
    codes = []
    for d in dims:
        children = []
        for c in draw(st.lists(SLUG, min_size=1, max_size=4, unique=True)):
            children.append({
                "id": f"{d}.{c}",
                "label": draw(TEXT),
                "definition": draw(TEXT),
                "anchor_examples": draw(st.lists(TEXT, max_size=3)),
                "coding_rules": draw(st.lists(TEXT, max_size=3)),
                "include": draw(st.lists(st.one_of(WORD, st.builds(lambda a, b: f"{a} {b}", WORD, WORD),
                                                   st.builds(lambda a, b: {"near": [a, b], "window": 3}, WORD, WORD)), min_size=1, max_size=4, unique_by=str)),
            })
        codes.append({"id": d, "label": draw(TEXT), "codable": False, "definition": draw(TEXT), "children": children})
    return {"name": "Eigenschaft", "version": "1", "codes": codes}


def _essence(cb):
    return [(c.id, c.label, c.parent, c.definition, c.anchor_examples, c.coding_rules, c.codable, [p.label() for p in c.include]) for c in cb.codes.values()]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=codebooks())
def test_yaml_qdc_yaml_round_trip(tmp_path_factory, data):
    cb, problems = codebook_from_data(data)
    assert not [p for p in problems if p.level == "error"], problems
    path = tmp_path_factory.mktemp("qdc") / "cb.qdc"
    path.write_text(export_qdc(cb), encoding="utf-8")
    back, _ = import_refi(path, name=cb.name, version=cb.version)
    assert _essence(back) == _essence(cb)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=codebooks(), layout=st.sampled_from(["maxqda", "atlasti", "taguette", "qda"]))
def test_yaml_table_yaml_round_trip(tmp_path_factory, data, layout):
    cb, _ = codebook_from_data(data)
    path = tmp_path_factory.mktemp("tab") / "cb.xlsx"
    write_table(cb, path, "xlsx", layout)
    back, _ = read_table(path, name=cb.name, version=cb.version)
    assert [c[0] for c in _essence(back)] == [c[0] for c in _essence(cb)]
    assert [(c[3], c[4], c[5], c[7]) for c in _essence(back)] == [(c[3], c[4], c[5], c[7]) for c in _essence(cb)]
