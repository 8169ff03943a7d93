"""Survey answers are read column by column: the column functions agree with the per-text ones
they stand for (squash, flag_of, render), and a long table's units keep the document layout."""

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from conftest import write
from pipeline.ingest import IngestOptions, document_texts, ingest
from pipeline.ingest.common import Document, Unit, render, render_spans, squash, squash_cells
from pipeline.ingest.survey import flag_of, flags_of

# cell text with everything squash() and the placeholder pattern look at: runs of spaces, tabs,
# line breaks, NBSP and narrow NBSP, thin space, dashes, dots, "k.A."
CELL = st.text(alphabet="ab äß-–./?kAxn\t\n\u00a0\u202f\u2009", max_size=14)


@given(st.lists(CELL, max_size=30))
def test_squash_cells_is_squash_of_every_cell(cells):
    column = pd.Series(cells, dtype=str)
    assert squash_cells(column).tolist() == [squash(c) for c in cells]


@given(st.lists(CELL, max_size=30))
def test_flags_of_is_flag_of_every_text(texts):
    assert flags_of(pd.Series(texts, dtype=str)).tolist() == [flag_of(t) for t in texts]


@given(st.lists(st.lists(st.tuples(st.sampled_from(["", "frage", "Ärger"]), CELL), min_size=1, max_size=4), min_size=1, max_size=5))
def test_render_spans_are_the_spans_of_render(documents):
    rows = [(f"d{i}", label, text) for i, units in enumerate(documents) for label, text in units]
    doc_ids, labels, texts = (pd.Series(col, dtype=str) for col in zip(*rows))
    unit, start, end = render_spans(doc_ids, labels, texts)
    expected = []
    for units in documents:
        full, spans = render(Document("d", "s", "survey", [Unit(text=t, label=lbl) for lbl, t in units]))
        expected += [(n, s, e) for n, (s, e) in enumerate(spans, 1)]
        assert [full[s:e] for s, e in spans] == [t for _, t in units]
    assert list(zip(unit.tolist(), start.tolist(), end.tolist())) == expected


def test_a_long_table_gathers_each_respondents_answers_at_their_first_row(tmp_path):
    f = write(tmp_path / "lang.csv", "id;frage;antwort\n1;a;Zeit\n2;a;Geld\n1;b;Forum\n3;;k.A.\n2;b;Räume fehlen\n")
    seg = ingest([str(f)], IngestOptions(text_columns=["antwort"], id_column="id", question_column="frage")).segments
    assert seg["segment_id"].tolist() == ["1:a", "1:b", "2:a", "2:b", "3:"]
    assert seg["unit"].tolist() == [1, 2, 1, 2, 1]
    assert seg["flag"].tolist() == ["", "", "", "", "placeholder"]
    texts = document_texts(seg)
    assert texts["lang:1"] == "a: Zeit\n\nb: Forum"
    assert texts["lang:3"] == "k.A."  # an empty question: no label before the answer
    for row in seg.itertuples():
        assert texts[row.doc_id][row.start_char:row.end_char] == row.text


def test_zero_width_characters_are_removed_from_answers(tmp_path):
    f = write(tmp_path / "u.csv", "id;antwort\n1;Daten\u200bschutz\n2;Wort\u2060verbinder und \ufeffBOM\n")
    seg = ingest([str(f)], IngestOptions(text_columns=["antwort"], id_column="id")).segments
    assert seg["text"].tolist() == ["Datenschutz", "Wortverbinder und BOM"]
