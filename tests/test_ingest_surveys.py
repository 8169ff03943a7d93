"""Survey readers: delimiter/encoding detection, wide and long tables, flags, XLSX."""

import pandas as pd
import pytest

from conftest import write
from pipeline.errors import InputError
from pipeline.ingest import IngestOptions, document_texts, ingest

WIDE = (
    '"id";"netzwerk";"rolle";"hindernisse";"beispiel"\r\n'
    '"1";"DVNW";"Sachbearbeitung";"Zeitmangel; Personalmangel";"Checkliste Eignungsprüfung"\r\n'
    '"2";"KERN";"IT";"k.A.";""\r\n'
    '"3";"KERN";"Referent/in";"die Firewall blockiert die Plattform";"-"\r\n'
)


def test_limesurvey_wide_export_semicolon_bom(tmp_path):
    f = tmp_path / "export.csv"
    f.write_bytes(b"\xef\xbb\xbf" + WIDE.encode("utf-8"))
    result = ingest([str(f)], IngestOptions(text_columns=["hindernisse", "beispiel"], id_column="id", meta_columns=["netzwerk"]))
    seg = result.segments
    assert seg["segment_id"].tolist() == ["1:hindernisse", "1:beispiel", "2:hindernisse", "2:beispiel", "3:hindernisse", "3:beispiel"]
    assert seg["text"].iloc[0] == "Zeitmangel; Personalmangel"
    assert seg["flag"].tolist() == ["", "", "placeholder", "empty", "", "placeholder"]
    assert seg["netzwerk"].tolist() == ["DVNW", "DVNW", "KERN", "KERN", "KERN", "KERN"]
    assert seg["question"].tolist()[:2] == ["hindernisse", "beispiel"]
    assert (seg["kind"] == "survey").all()
    assert "rolle" not in seg.columns  # only the named metadata columns
    assert result.files[0].info["delimiter"] == ";"
    texts = document_texts(seg)
    for row in seg.itertuples():
        assert texts[row.doc_id][row.start_char:row.end_char] == row.text


def test_single_text_column_uses_the_id_as_segment_id(tmp_path):
    f = write(tmp_path / "u.csv", "id,antwort\n17,Zu wenig Zeit\n18,Bürokratie\n")
    seg = ingest([str(f)], IngestOptions(text_columns=["antwort"], id_column="id")).segments
    assert seg["segment_id"].tolist() == ["17", "18"]


def test_text_and_id_columns_are_detected(tmp_path):
    f = write(tmp_path / "u.csv", (
        "ID\tnetzwerk\tjahre\tfreitext\n"
        "a1\tDVNW\t3\tWir haben keine Zeit für die Treffen\n"
        "a2\tKERN\t1\tDie Technik bei uns ist veraltet und langsam\n"
        "a3\tKERN\t5\tFührung unterstützt das Netzwerk nicht wirklich\n"
    ), encoding="utf-8")
    result = ingest([str(f)])
    assert result.files[0].info["text_columns"] == ["freitext"]
    assert result.files[0].info["id_column"] == "ID"
    assert result.segments["segment_id"].tolist() == ["a1", "a2", "a3"]
    assert result.files[0].info["delimiter"] == "tab"


def test_cp1252_comma_export(tmp_path):
    f = tmp_path / "alt.csv"
    f.write_bytes("id,antwort\n1,Größte Hürde: Bürokratie\n".encode("cp1252"))
    result = ingest([str(f)], IngestOptions(text_columns=["antwort"], id_column="id"))
    assert result.segments["text"].tolist() == ["Größte Hürde: Bürokratie"]
    assert result.files[0].info["encoding"] == "cp1252"


def test_long_table_needs_question_column(tmp_path):
    f = write(tmp_path / "lang.csv", "id;frage;antwort\n1;hindernisse;Zeit\n1;ideen;Forum\n2;hindernisse;Geld\n")
    with pytest.raises(InputError, match="the ID '1' occurs more than once.*\n.*--question-column"):
        ingest([str(f)], IngestOptions(text_columns=["antwort"], id_column="id"))
    seg = ingest([str(f)], IngestOptions(text_columns=["antwort"], id_column="id", question_column="frage")).segments
    assert seg["segment_id"].tolist() == ["1:hindernisse", "1:ideen", "2:hindernisse"]
    assert seg["doc_id"].tolist() == ["lang:1", "lang:1", "lang:2"]


def test_xlsx_export(tmp_path):
    f = tmp_path / "export.xlsx"
    pd.DataFrame({"id": [1, 2], "netzwerk": ["DVNW", "KERN"], "hindernisse": ["Rechtsunsicherheit", "k.A."]}).to_excel(f, index=False)
    seg = ingest([str(f)], IngestOptions(text_columns=["hindernisse"], id_column="id")).segments
    assert seg["segment_id"].tolist() == ["1", "2"]
    assert seg["flag"].tolist() == ["", "placeholder"]
    assert seg["netzwerk"].tolist() == ["DVNW", "KERN"]


@pytest.mark.parametrize("value,flag", [("", "empty"), ("   ", "empty"), ("-", "placeholder"), ("k.A.", "placeholder"), ("k. A.", "placeholder"),
                                        ("keine Angabe", "placeholder"), ("/", "placeholder"), ("keine", ""), ("Zeit", "")])
def test_placeholders_are_flagged_not_dropped(tmp_path, value, flag):
    f = write(tmp_path / "p.csv", f'id;antwort\n1;"{value}"\n2;Zeitmangel\n')
    seg = ingest([str(f)], IngestOptions(text_columns=["antwort"], id_column="id")).segments
    assert len(seg) == 2
    assert seg["flag"].iloc[0] == flag


def test_an_open_question_with_keyword_answers_is_not_dropped_silently(tmp_path):
    # answers of a word or two ("Barcamp") fall under the guess's three words: the column is
    # metadata then, and a warning names it and the option that codes it
    from pipeline.ingest import ingest

    write(tmp_path / "u.csv", "id;Was hindert Sie an der Teilnahme?;Welche Formate helfen Ihnen?;Rolle\n"
          "1;Die Zeit fehlt mir einfach komplett;Barcamp;Mitglied\n2;Mein Chef sieht keinen Nutzen darin;Mehr Workshops;Mitglied\n"
          "3;Reisekosten werden nicht übernommen, leider;Forum;Koordination\n")
    result = ingest([str(tmp_path / "u.csv")])
    assert result.files[0].info["text_columns"] == ["Was hindert Sie an der Teilnahme?"]
    assert result.warnings == [f"{tmp_path / 'u.csv'}: column 'Welche Formate helfen Ihnen?' looks like an open question but its answers "
                               "are short (a word or two), so it was read as metadata and is not coded; to code it, name every open "
                               "question with --text-column (e.g. --text-column 'Welche Formate helfen Ihnen?')"]


def test_an_xlsx_export_with_a_sheet_of_notes_first(tmp_path):
    # survey tools and colleagues put a sheet of notes before the data: it is passed over, with a warning
    import openpyxl

    from pipeline.errors import InputError
    from pipeline.ingest import ingest

    book = openpyxl.Workbook()
    book.active.title = "Hinweise"
    book.active.append(["Export vom 3. März, bitte nicht weitergeben"])
    data = book.create_sheet("Daten")
    for row in (["id", "hindernisse"], ["1", "Die Zeit fehlt für die Treffen"], ["2", "Unsere IT lässt keine neuen Programme zu"]):
        data.append(row)
    book.save(tmp_path / "u.xlsx")
    result = ingest([str(tmp_path / "u.xlsx")])
    assert result.segments["text"].tolist() == ["Die Zeit fehlt für die Treffen", "Unsere IT lässt keine neuen Programme zu"]
    assert result.warnings == [f"{tmp_path / 'u.xlsx'}: the first sheet holds no answers; read sheet 'Daten'"]
    assert result.record()["files"][0]["sheet"] == "Daten"
    # no sheet with answers at all: the message lists the sheets
    book.remove(data)
    book.save(tmp_path / "leer.xlsx")
    with pytest.raises(InputError, match=r"no sheet holds answers \(sheets: 'Hinweise'\)"):
        ingest([str(tmp_path / "leer.xlsx")])


def _two_waves(path):
    """A workbook with a notes sheet and two survey waves."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Hinweise"
    book.active.append(["Welle 1 im März, Welle 2 im Oktober"])
    for name, rows in (("Welle 1", [["1", "Die Zeit fehlt für die Treffen"]]), ("Welle 2", [["7", "Der Chef gibt mich nicht frei"]])):
        sheet = book.create_sheet(name)
        sheet.append(["id", "hindernisse"])
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("sheet", ["Welle 2", "welle 2", "3"])
def test_sheet_by_name_or_number(tmp_path, sheet):
    f = _two_waves(tmp_path / "wellen.xlsx")
    result = ingest([str(f)], IngestOptions(text_columns=["hindernisse"], sheet=sheet))
    assert result.segments["text"].tolist() == ["Der Chef gibt mich nicht frei"]
    assert result.record()["files"][0]["sheet"] == "Welle 2"
    assert result.warnings == []  # the sheet was chosen, nothing was passed over silently


def test_an_unknown_sheet_lists_the_sheets_and_the_closest(tmp_path):
    f = _two_waves(tmp_path / "wellen.xlsx")
    with pytest.raises(InputError) as err:
        ingest([str(f)], IngestOptions(text_columns=["hindernisse"], sheet="Welle2"))
    message = str(err.value)
    assert "has no sheet 'Welle2' (named in --sheet)" in message
    assert "1: 'Hinweise', 2: 'Welle 1', 3: 'Welle 2'" in message
    assert "did you mean 'Welle 2'" in message or "did you mean 'Welle 1'" in message
    with pytest.raises(InputError, match="has no sheet '4'"):
        ingest([str(f)], IngestOptions(text_columns=["hindernisse"], sheet="4"))


def test_sheet_from_corpus_yaml_is_named_in_the_message(tmp_path):
    _two_waves(tmp_path / "wellen.xlsx")
    write(tmp_path / "corpus.yaml", "sources:\n  - path: wellen.xlsx\n    text_columns: [hindernisse]\n    sheet: Welle 3\n")
    with pytest.raises(InputError, match=r"named in .*corpus.yaml → sources\[0\] → sheet"):
        ingest([str(tmp_path)])
    write(tmp_path / "corpus.yaml", "sources:\n  - path: wellen.xlsx\n    text_columns: [hindernisse]\n    sheet: 2\n")
    assert ingest([str(tmp_path)]).segments["text"].tolist() == ["Die Zeit fehlt für die Treffen"]


def test_sheet_on_a_csv_file_is_a_warning(tmp_path):
    f = write(tmp_path / "u.csv", "id;hindernisse\n1;Die Zeit fehlt für die Treffen\n")
    result = ingest([str(f)], IngestOptions(text_columns=["hindernisse"], sheet="Daten"))
    assert result.segments["text"].tolist() == ["Die Zeit fehlt für die Treffen"]
    assert result.warnings == [f"{f}: a CSV file has no sheets: --sheet Daten applies to .xlsx workbooks only"]


def test_sheet_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    f = _two_waves(tmp_path / "wellen.xlsx")
    out = tmp_path / "out"
    ok = CliRunner().invoke(cli, ["ingest", str(f), "--text-column", "hindernisse", "--sheet", "2", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert pd.read_csv(out / "segments.csv")["text"].tolist() == ["Die Zeit fehlt für die Treffen"]
    bad = CliRunner().invoke(cli, ["ingest", str(f), "--text-column", "hindernisse", "--sheet", "Welle 9", "--out", str(tmp_path / "o2")])
    assert bad.exit_code != 0
    assert "has no sheet 'Welle 9'" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "o2").exists()
