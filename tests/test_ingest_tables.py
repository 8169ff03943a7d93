"""Speaker-table transcripts (Word tables, XLSX, CSV, tab-separated text), diarization labels in
SRT/VTT, MAXQDA/f4 text exports, and the interviewer guess."""

import json

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document as WordDocument

from conftest import write
from pipeline.cli import cli
from pipeline.errors import InputError
from pipeline.ingest import IngestOptions, ingest
from pipeline.ingest.interviewer import guess_interviewer, is_question
from pipeline.ingest.common import Unit


def turns(seg):
    return list(zip(seg["speaker"], seg["text"]))


def word_table(path, rows, before=(), after=()):
    doc = WordDocument()
    for line in before:
        doc.add_paragraph(line)
    table = doc.add_table(rows=0, cols=len(rows[0]))
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = value
    for line in after:
        doc.add_paragraph(line)
    doc.save(path)
    return path


ROWS = [
    ["Zeit", "Sprecher", "Text"],
    ["00:00:02", "I", "So, die Aufnahme läuft. Wie sind Sie zum Netzwerk gekommen?"],
    ["00:00:09", "B", "Über eine Kollegin aus dem Bauamt, die hat mich einfach mitgenommen."],
    ["00:00:31", "", "Seitdem bin ich bei fast jedem Treffen dabei, ähm, wenn der Dienstplan es zulässt."],
    ["00:00:48", "I", "Mhm."],
    ["00:00:50", "B", "Und die Kolleg:innen im Amt profitieren auch davon."],
    ["00:01:05", "B", "Wir haben zum Beispiel die E-Akte danach umgestellt."],
    ["00:01:20", "I", "Was war da der erste Schritt? Also, wer hat/"],
]


def test_word_table_with_header_continuation_rows_and_metadata_paragraphs(tmp_path):
    path = word_table(tmp_path / "bauamt.docx", ROWS, before=["Transkript Interview 3", "Datum: 04.03.2025 · Dauer 00:42:10"], after=["Ende der Aufnahme"])
    result = ingest([str(path)])
    seg = result.segments
    assert turns(seg) == [
        ("I", "So, die Aufnahme läuft. Wie sind Sie zum Netzwerk gekommen?"),
        ("B", "Über eine Kollegin aus dem Bauamt, die hat mich einfach mitgenommen.\nSeitdem bin ich bei fast jedem Treffen dabei, ähm, wenn der Dienstplan es zulässt."),
        ("I", "Mhm."),
        ("B", "Und die Kolleg:innen im Amt profitieren auch davon.\nWir haben zum Beispiel die E-Akte danach umgestellt."),
        ("I", "Was war da der erste Schritt? Also, wer hat/"),
    ]
    assert seg["timestamp"].tolist() == ["00:00:02", "00:00:09", "00:00:48", "00:00:50", "00:01:20"]
    assert seg["is_interviewer"].tolist() == [True, False, True, False, True]
    assert seg["segment_id"].tolist() == [f"bauamt:{n}" for n in range(1, 6)]
    report = result.files[0]
    assert report.reader == "transcript-table (docx)"
    assert report.info["columns"] == {"speaker": "Sprecher", "text": "Text", "time": "Zeit"}
    assert report.info["continuation_rows"] == 1
    assert report.info["paragraphs_outside_table_skipped"] == 3


def test_word_table_paragraph_unit_keeps_each_labelled_row(tmp_path):
    path = word_table(tmp_path / "bauamt.docx", ROWS)
    seg = ingest([str(path)], IngestOptions(unit="paragraph")).segments
    assert seg["speaker"].tolist() == ["I", "B", "I", "B", "B", "I"]
    assert seg["text"].iloc[1].endswith("wenn der Dienstplan es zulässt.")


def test_word_table_split_over_pages_with_english_header_is_one_interview(tmp_path):
    doc = WordDocument()
    header = ["Time", "Speaker", "Transcript"]
    parts = [
        [["00:00:01", "Interviewer", "Welche Formate nutzen Sie?"], ["00:00:05", "Respondent", "Vor allem die Werkstatt,"]],
        [["00:00:09", "", "und seit Herbst auch die Sprechstunde online."], ["00:00:15", "Interviewer", "Danke."]],
    ]
    for rows in parts:
        table = doc.add_table(rows=0, cols=3)
        for row in [header, *rows]:
            for cell, value in zip(table.add_row().cells, row):
                cell.text = value
        doc.add_paragraph("")
    doc.save(tmp_path / "werkstatt.docx")
    seg = ingest([str(tmp_path / "werkstatt.docx")]).segments
    assert turns(seg) == [
        ("Interviewer", "Welche Formate nutzen Sie?"),
        ("Respondent", "Vor allem die Werkstatt,\nund seit Herbst auch die Sprechstunde online."),
        ("Interviewer", "Danke."),
    ]


def test_word_table_without_header_is_recognised_by_its_content(tmp_path):
    rows = [
        ["I:", "Wie läuft der Austausch im Landkreis?"],
        ["B:", "Meistens über die Fachgruppe, die trifft sich alle sechs Wochen."],
        ["I:", "Und digital?"],
        ["B:", "Da haben wir seit Mai einen Kanal im Messenger eingerichtet."],
    ]
    seg = ingest([str(word_table(tmp_path / "kreis.docx", rows))]).segments
    assert seg["speaker"].tolist() == ["I", "B", "I", "B"]
    assert seg["text"].iloc[3] == "Da haben wir seit Mai einen Kanal im Messenger eingerichtet."


def test_word_metadata_table_next_to_paragraph_turns_is_not_a_speaker_table(tmp_path):
    doc = WordDocument()
    table = doc.add_table(rows=0, cols=2)
    for key, value in [("Datum", "12.05.2025"), ("Ort", "Videokonferenz")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    doc.add_paragraph("I: Was hat sich seit der Einführung geändert?")
    doc.add_paragraph("B: Die Anträge kommen jetzt fast alle digital rein.")
    doc.save(tmp_path / "meta.docx")
    seg = ingest([str(tmp_path / "meta.docx")]).segments
    assert turns(seg) == [("I", "Was hat sich seit der Einführung geändert?"), ("B", "Die Anträge kommen jetzt fast alle digital rein.")]


def test_xlsx_transcript_with_names_guesses_the_interviewer(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Beginn", "Sprecher:in", "Äußerung"])
    ws.append(["00:00:03", "Frau Albers", "Erzählen Sie mal, wie Ihr Team arbeitet?"])
    ws.append(["00:00:10", "Herr Yilmaz", "Wir sind zu fünft und machen seit letztem Jahr Sprint-Planungen."])
    ws.append(["00:00:40", "Frau Albers", "Und wer hat das angestoßen?"])
    ws.append(["00:00:44", "Herr Yilmaz", "Unsere Amtsleitung, nach einem Workshop bei der KGSt."])
    ws.append(["00:01:10", "Frau Albers", "Wie hat das Team reagiert?"])
    ws.append(["00:01:15", "Herr Yilmaz", "Erst skeptisch, inzwischen will keiner mehr zurück."])
    ws.append(["00:01:40", "Frau Albers", "Gab es auch Widerstand von außen?"])
    ws.append(["00:01:44", "Herr Yilmaz", "Vom Personalrat ein bisschen, wegen der Zeiterfassung."])
    book.save(tmp_path / "team.xlsx")
    result = ingest([str(tmp_path / "team.xlsx")])
    seg = result.segments
    assert len(seg) == 8
    assert seg.loc[seg["is_interviewer"], "speaker"].unique().tolist() == ["Frau Albers"]
    report = result.files[0]
    assert report.reader == "transcript-table (xlsx)"
    assert report.info["interviewer_guessed"] == {"speaker": "Frau Albers", "questions": 4, "turns": 4}
    assert report.info["columns"] == {"speaker": "Sprecher:in", "text": "Äußerung", "time": "Beginn"}


def test_speech_recognition_csv_with_seconds(tmp_path):
    f = write(tmp_path / "call.csv", (
        "start,end,speaker,text\n"
        "0.5,4.2,SPEAKER_00,Hören Sie mich gut?\n"
        "4.9,9.0,SPEAKER_01,\"Ja, bestens. Wir können starten.\"\n"
        "65.5,70.1,SPEAKER_00,Was nehmen Sie aus dem Netzwerk mit?\n"
        "71.0,80.0,SPEAKER_01,Vor allem Kontakte zu anderen Kommunen.\n"
        "81.0,84.0,SPEAKER_00,Und was fehlt Ihnen?\n"
        "85.0,90.0,SPEAKER_01,Mehr Zeit für die Treffen.\n"
    ))
    result = ingest([str(f)])
    seg = result.segments
    assert seg["timestamp"].tolist() == ["00:00:00.5", "00:00:04.9", "00:01:05.5", "00:01:11", "00:01:21", "00:01:25"]
    assert result.files[0].info["read_as"] == "transcript: speaker column 'speaker', text column 'text'"
    assert seg.loc[seg["is_interviewer"], "speaker"].unique().tolist() == ["SPEAKER_00"]


def test_survey_with_speaker_like_columns_stays_a_survey(tmp_path):
    with_id = write(tmp_path / "umfrage_id.csv", "id;Name;Text\n1;Anna;Zu wenig Zeit für die Treffen.\n2;Anna;Die Technik hakt dauernd.\n3;Jonas;Fehlende Freigaben.\n")
    unique = write(tmp_path / "umfrage_namen.csv", "Name;Text\nAnna;Zu wenig Zeit für die Treffen.\nJonas;Die Technik hakt dauernd.\nMeike;Keine Freigabe vom Amt.\n")
    plain = write(tmp_path / "umfrage.csv", "lfdn;hindernisse\n1;Zu wenig Zeit für die Treffen im Netzwerk.\n2;Die Technik hakt dauernd und keiner hilft.\n")
    results = [ingest([str(f)]) for f in (with_id, unique, plain)]
    readers = {r.files[0].path.rsplit("/", 1)[-1]: (r.files[0].reader, r.files[0].info.get("read_as", "")) for r in results}
    assert readers["umfrage_id.csv"] == ("survey-csv", "survey: column 'id' identifies one respondent per row (pass --kind interview to read it as a transcript)")
    assert readers["umfrage_namen.csv"] == ("survey-csv", "survey: every row has another 'Name' (pass --kind interview to read it as a transcript)")
    assert readers["umfrage.csv"] == ("survey-csv", "")
    assert all(set(r.segments["kind"]) == {"survey"} for r in results)


def test_kind_option_decides_for_the_table(tmp_path):
    f = write(tmp_path / "namen.csv", "Name;Text\nAnna;Wie war der Workshop?\nJonas;Sehr hilfreich, danke.\n")
    assert ingest([str(f)], IngestOptions(kind="interview")).segments["speaker"].tolist() == ["Anna", "Jonas"]
    transcript = write(tmp_path / "transkript.csv", "Sprecher;Text\nI;Wie war der Workshop?\nB;Gut.\nI;Warum?\nB;Viele Beispiele.\n")
    assert ingest([str(transcript)]).segments["kind"].unique().tolist() == ["interview"]
    assert ingest([str(transcript)], IngestOptions(kind="survey", text_columns=["Text"])).segments["kind"].unique().tolist() == ["survey"]
    with pytest.raises(InputError, match="no speaker and text column"):
        ingest([str(write(tmp_path / "u.csv", "id;antwort\n1;Zeit fehlt.\n2;Geld fehlt.\n"))], IngestOptions(kind="interview"))


def test_tab_separated_transcript_in_a_text_file(tmp_path):
    f = write(tmp_path / "export.txt", "Zeit\tSprecher\tText\n00:00:01\tInterviewerin\tWorum geht es im Projekt?\n00:00:06\tB2\tUm die digitale Bauakte.\n\t\tDie ist seit März live.\n")
    seg = ingest([str(f)]).segments
    assert turns(seg) == [("Interviewerin", "Worum geht es im Projekt?"), ("B2", "Um die digitale Bauakte.\nDie ist seit März live.")]


@pytest.mark.parametrize("ext,cue", [
    (".srt", "1\n00:00:01,000 --> 00:00:03,000\n[SPEAKER_00]: {}\n\n"),
    (".srt", "1\n00:00:01,000 --> 00:00:03,000\nSPEAKER_00: {}\n\n"),
    (".vtt", "00:00:01.000 --> 00:00:03.000\n<v SPEAKER_00>{}</v>\n\n"),
])
def test_diarization_labels_in_subtitles(tmp_path, ext, cue):
    lines = [
        ("SPEAKER_00", "Wie organisieren Sie die Hospitationen?"),
        ("SPEAKER_01", "Über eine Liste im Intranet, da trägt man sich ein."),
        ("SPEAKER_01", "Das klappt inzwischen ganz gut."),
        ("SPEAKER_02", "Bei uns läuft das noch per Mail."),
        ("SPEAKER_00", "Und wer koordiniert das?"),
        ("SPEAKER_02", "Die Personalentwicklung."),
        ("SPEAKER_00", "Gibt es dafür Budget?"),
        ("SPEAKER_01", "Nein, das läuft nebenher."),
    ]
    body = "".join(cue.replace("SPEAKER_00", sp).format(text) for sp, text in lines)
    f = write(tmp_path / f"runde{ext}", ("WEBVTT\n\n" if ext == ".vtt" else "") + body)
    result = ingest([str(f)])
    seg = result.segments
    assert turns(seg)[:3] == [
        ("SPEAKER_00", "Wie organisieren Sie die Hospitationen?"),
        ("SPEAKER_01", "Über eine Liste im Intranet, da trägt man sich ein. Das klappt inzwischen ganz gut."),
        ("SPEAKER_02", "Bei uns läuft das noch per Mail."),
    ]
    assert len(seg) == 7
    assert result.files[0].info["interviewer_guessed"]["speaker"] == "SPEAKER_00"


@pytest.mark.parametrize("stamp", ["({})", "[{}]", "#{}#"])
def test_maxqda_and_f4_text_exports(tmp_path, stamp):
    ts = [stamp.format(t) for t in ("00:00:04", "00:00:12", "00:00:40", "00:00:43")]
    text = (
        "\ufeffInterview 12\r\nDatum: 03.02.2025\r\nTranskription: einfach, nach Dresing/Pehl\r\n\r\n"
        f"{ts[0]} Interviewer: Was hat Sie an dem Netzwerk überzeugt?\r\n\r\n"
        f"{ts[1]} Frau Okafor: Dass man nicht jedes Problem allein lösen muss.\r\n\r\n"
        "Und dass es ehrlich zugeht.\r\n\r\n"
        f"{ts[2]} Interviewer: Mhm.\r\n\r\n"
        f"{ts[3]} Frau Okafor: Ja.\r\n\r\n"
        "*** ENDE DES TRANSKRIPTS ***\r\nDauer: 00:31:12\r\n"
    )
    f = tmp_path / "okafor.txt"
    f.write_bytes(text.encode("utf-8"))
    result = ingest([str(f)])
    seg = result.segments
    assert turns(seg) == [
        ("Interviewer", "Was hat Sie an dem Netzwerk überzeugt?"),
        ("Frau Okafor", "Dass man nicht jedes Problem allein lösen muss.\nUnd dass es ehrlich zugeht."),
        ("Interviewer", "Mhm."),
        ("Frau Okafor", "Ja."),
    ]
    assert seg["timestamp"].tolist() == ["00:00:04", "00:00:12", "00:00:40", "00:00:43"]
    assert result.files[0].info["header_lines_skipped"] == 3
    assert result.files[0].info["end_lines_skipped"] == 2


def test_question_detection_and_no_guess_without_a_clear_questioner():
    assert is_question("Und wie ging es dann weiter?")
    assert is_question("Wie lange? Nur grob.")
    assert is_question("Und wer hat da/")
    assert not is_question("Das war im Frühjahr, glaube ich.")
    assert not is_question("Ich frage mich manchmal, ob das reicht? Aber gut, das ist eine andere Geschichte, die wir hier im Detail nicht besprechen müssen, weil sie mit dem Netzwerk eigentlich gar nichts zu tun hat.")
    both_ask = [Unit("Was meinst du?", "A"), Unit("Wie bitte?", "B"), Unit("Na, das Budget?", "A"), Unit("Welches?", "B"), Unit("Das für 2025?", "A"), Unit("Ach so.", "B")]
    assert guess_interviewer(both_ask) is None
    few = [Unit("Wie geht's?", "A"), Unit("Gut.", "B")]
    assert guess_interviewer(few) is None


def test_unclear_interviewer_and_unknown_interviewer_label_warn(tmp_path):
    f = write(tmp_path / "gespraech.txt", "Anna: Das Forum ist gut.\nJonas: Finde ich auch.\nAnna: Die Treffen sind selten.\nJonas: Leider.\n")
    result = ingest([str(f)], IngestOptions(interviewer=["Moderatorin"]))
    warnings = result.files[0].warnings
    assert "--interviewer Moderatorin names no speaker here (speakers: Anna, Jonas)" in warnings
    assert any("no speaker asks most of the questions" in w for w in warnings)
    assert not result.segments["is_interviewer"].any()


def test_cli_summary_and_run_record_say_how_a_table_was_read(tmp_path):
    f = write(tmp_path / "team.csv", "Zeit;Sprecher;Text\n00:01;Lea;Seit wann gibt es das Tandem?\n00:05;Tom;Seit dem Frühjahr.\n00:09;Lea;Wer macht mit?\n00:12;Tom;Zwölf Leute.\n00:20;Lea;Und der Aufwand?\n00:24;Tom;Eine Stunde pro Woche.\n")
    result = CliRunner().invoke(cli, ["ingest", str(f), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"  {f}: transcript-table (csv), 1 doc(s), 6 unit(s), speakers Lea/Tom\n" in result.output
    assert "    read as transcript: speaker column 'Sprecher', text column 'Text'\n" in result.output
    assert "    interviewer guessed: Lea (3 of 3 turns are questions); name the interviewer with --interviewer if that is wrong\n" in result.output
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    entry = record["ingest"]["files"][0]
    assert entry["reader"] == "transcript-table (csv)"
    assert entry["interviewer"] == ["Lea"]
    assert entry["interviewer_guessed"] == {"speaker": "Lea", "questions": 3, "turns": 3}
    assert entry["columns"] == {"speaker": "Sprecher", "text": "Text", "time": "Zeit"}
