"""Transcript readers: plain text, Markdown, Word, WebVTT, SRT."""

import pytest
from docx import Document as WordDocument

from conftest import write
from pipeline.errors import InputError
from pipeline.ingest import IngestOptions, document_texts, ingest


def speakers_and_texts(frame):
    return list(zip(frame["speaker"], frame["text"]))


def test_f4_text_with_legend_timestamps_and_header(tmp_path):
    f = write(tmp_path / "dvnw_int.txt", (
        "Interview Vergabenetzwerk\n"
        "Datum: 14.03.2024\n"
        "I = Interviewerin, B = Befragte\n\n"
        "I: Wie läuft der Austausch im Forum? #00:00:04-1#\n\n"
        "B: Also, ähm, das Forum ist das Herzstück. #00:00:31-6#\n"
        "Da kriegt man schnell Antworten.\n\n"
        "I: Und die Dialogkreise? #00:01:43-0#\n"
    ))
    seg = ingest([str(f)]).segments
    assert speakers_and_texts(seg) == [
        ("I", "Wie läuft der Austausch im Forum?"),
        ("B", "Also, ähm, das Forum ist das Herzstück.\nDa kriegt man schnell Antworten."),
        ("I", "Und die Dialogkreise?"),
    ]
    assert seg["timestamp"].tolist() == ["00:00:04.1", "00:00:31.6", "00:01:43.0"]
    assert seg["is_interviewer"].tolist() == [True, False, True]
    assert seg["segment_id"].tolist() == ["dvnw_int:1", "dvnw_int:2", "dvnw_int:3"]
    assert (seg["kind"] == "interview").all()


def test_names_with_colon_and_several_interviewees(tmp_path):
    f = write(tmp_path / "gruppe.txt", (
        "Interviewer: Was bremst euch?\n"
        "S1: Zeitmangel, ganz klar.\n"
        "S2: Bei uns eher die Technik.\n"
        "Frau Meier: Darf ich kurz ergänzen: das WLAN.\n"
        "Interviewer: Danke.\n"
        "Frau Meier: Gern.\n"
    ))
    seg = ingest([str(f)]).segments
    assert seg["speaker"].tolist() == ["Interviewer", "S1", "S2", "Frau Meier", "Interviewer", "Frau Meier"]
    assert seg["is_interviewer"].tolist() == [True, False, False, False, True, False]
    # a colon inside the text does not open a new turn
    assert seg["text"].iloc[3] == "Darf ich kurz ergänzen: das WLAN."


def test_a_sentence_with_a_colon_is_not_a_speaker(tmp_path):
    f = write(tmp_path / "t.txt", (
        "I: Und dann?\n"
        "B: Wir haben viel probiert.\n"
        "Das heißt: jeden Monat ein Treffen.\n"
        "Beispiel: die Checkliste.\n"
        "I: Okay.\n"
    ))
    seg = ingest([str(f)]).segments
    assert seg["speaker"].tolist() == ["I", "B", "I"]
    assert seg["text"].iloc[1] == "Wir haben viel probiert.\nDas heißt: jeden Monat ein Treffen.\nBeispiel: die Checkliste."


def test_markdown_bold_labels_and_turn_merging(tmp_path):
    f = write(tmp_path / "ki.md", (
        "---\ntitle: Interview\n---\n\n## Transkript\n\n"
        "**I [00:00:00]** Erzählen Sie mal.\n\n"
        "**B [00:00:05]** Wir machen Tech-Talks.\n\n"
        "**B: [00:01:10]** Und Hackathons.\n\n"
        "**P [00:02:00]** Ich schreibe mit.\n"
    ))
    turns = ingest([str(f)]).segments
    assert speakers_and_texts(turns) == [("I", "Erzählen Sie mal."), ("B", "Wir machen Tech-Talks.\nUnd Hackathons."), ("P", "Ich schreibe mit.")]
    assert turns["timestamp"].tolist() == ["00:00:00", "00:00:05", "00:02:00"]
    paragraphs = ingest([str(f)], IngestOptions(unit="paragraph")).segments
    assert paragraphs["speaker"].tolist() == ["I", "B", "B", "P"]


def test_crlf_bom_nbsp_are_read_like_plain_utf8(tmp_path):
    text = "I: Wie geht\u00a0es?\r\nB: Gut,\u00a0danke.\r\n"
    f = tmp_path / "bom.txt"
    f.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    seg = ingest([str(f)]).segments
    assert speakers_and_texts(seg) == [("I", "Wie geht es?"), ("B", "Gut, danke.")]


def test_cp1252_transcript_is_decoded(tmp_path):
    f = tmp_path / "alt.txt"
    f.write_bytes("I: Größte Hürde?\nB: Personalmangel und Bürokratie.\n".encode("cp1252"))
    result = ingest([str(f)])
    assert result.segments["text"].tolist() == ["Größte Hürde?", "Personalmangel und Bürokratie."]
    assert result.files[0].info["encoding"] == "cp1252"


def test_free_text_without_speakers_becomes_paragraph_units(tmp_path):
    f = write(tmp_path / "workshop.md", "**Schwerpunkt Austausch:**\n\nMehr Sprechstunden.\n\nEin Forum für alle.\n\n**Schwerpunkt Technik:**\n\nBessere Laptops.\n")
    seg = ingest([str(f)]).segments
    assert seg["text"].tolist() == ["Mehr Sprechstunden.", "Ein Forum für alle.", "Bessere Laptops."]
    assert seg["section"].tolist() == ["Schwerpunkt Austausch", "Schwerpunkt Austausch", "Schwerpunkt Technik"]
    assert (seg["speaker"] == "").all()


def test_docx_bold_speakers_and_colon_paragraphs(tmp_path):
    doc = WordDocument()
    doc.add_paragraph("Interview mit der Koordinatorin")
    p = doc.add_paragraph()
    p.add_run("Interviewerin").bold = True
    p.add_run(" Wie ist der Zirkel aufgebaut?")
    p = doc.add_paragraph()
    p.add_run("Koordinatorin:").bold = True
    p.add_run(" Vier Präsenztreffen in zwei Jahren.")
    doc.add_paragraph("I: Und dazwischen?")
    doc.add_paragraph("B: Digitale Workshops.")
    p = doc.add_paragraph()
    p.add_run("Koordinatorin:").bold = True
    p.add_run(" Und Hausaufgaben!")
    path = tmp_path / "kgst.docx"
    doc.save(path)
    seg = ingest([str(path)]).segments
    assert speakers_and_texts(seg) == [
        ("Interviewerin", "Wie ist der Zirkel aufgebaut?"),
        ("Koordinatorin", "Vier Präsenztreffen in zwei Jahren."),
        ("I", "Und dazwischen?"),
        ("B", "Digitale Workshops."),
        ("Koordinatorin", "Und Hausaufgaben!"),
    ]
    assert seg["is_interviewer"].tolist() == [True, False, True, False, False]


VTT = """WEBVTT

00:00:01.000 --> 00:00:03.000
<v Sprecher 1>Was ist die Community?</v>

00:00:03.500 --> 00:00:06.000
<v Sprecher 2>Eine Community of Practice,</v>

00:00:06.000 --> 00:00:08.000
<v Sprecher 2>komplett online.</v>

00:00:08.500 --> 00:00:09.000
<v Sprecher 1>Danke.</v>
"""


def test_webvtt_voice_tags_merge_consecutive_cues(tmp_path):
    f = write(tmp_path / "next.vtt", VTT)
    seg = ingest([str(f)], IngestOptions(interviewer=["Sprecher 1"])).segments
    assert speakers_and_texts(seg) == [
        ("Sprecher 1", "Was ist die Community?"),
        ("Sprecher 2", "Eine Community of Practice, komplett online."),
        ("Sprecher 1", "Danke."),
    ]
    assert seg["timestamp"].tolist() == ["00:00:01.000", "00:00:03.500", "00:00:08.500"]
    assert seg["is_interviewer"].tolist() == [True, False, True]


def test_srt_lenient_missing_numbers_and_stray_lines(tmp_path):
    f = write(tmp_path / "kern.srt", (
        "1\n00:00:01,000 --> 00:00:02,000\nSpeaker 1: Was ist KERN?\n\n"
        "00:00:02,500 --> 00:00:04,000\nSpeaker 2: Ein offener UX-Standard\n\n"
        "3\n00:00:04,000 --> 00:00:05,000\nfür Verwaltungswebseiten.\n\n"
        "irgendein Rest ohne Zeit\n\n"
        "4\nMüll\n00:00:06,000 --> 00:00:07,000\nSpeaker 1: Danke.\n"
    ), newline="\r\n")
    result = ingest([str(f)])
    assert speakers_and_texts(result.segments) == [
        ("Speaker 1", "Was ist KERN?"),
        ("Speaker 2", "Ein offener UX-Standard für Verwaltungswebseiten."),
        ("Speaker 1", "Danke."),
    ]
    warnings = result.files[0].warnings
    assert any("no time line" in w and "irgendein Rest" in w for w in warnings)
    assert any("stray line" in w and "Müll" in w for w in warnings)


def test_offsets_point_into_the_normalised_full_text(tmp_path):
    f = write(tmp_path / "o.md", "**I [00:00:01]** Frage eins?\n\n**B [00:00:02]** Antwort mit Umlauten: Größe, Maß.\n\n**I [00:00:03]** Frage zwei?\n")
    seg = ingest([str(f)]).segments
    full = document_texts(seg)["o"]
    assert full == "I: Frage eins?\n\nB: Antwort mit Umlauten: Größe, Maß.\n\nI: Frage zwei?"
    for row in seg.itertuples():
        assert full[row.start_char:row.end_char] == row.text


def test_unknown_unit_mode_is_refused(tmp_path):
    f = write(tmp_path / "t.txt", "I: a\nB: b\n")
    with pytest.raises(InputError, match="unknown unit 'satz'"):
        ingest([str(f)], IngestOptions(unit="satz"))


def test_in_and_ip_labels_of_german_transcription_guides(tmp_path):
    # IN (Interviewer:in) asks, IP (Interviewpartner:in) answers
    write(tmp_path / "t.txt", "IN: Welche Hürden gibt es bei Ihnen?\nIP: Vor allem die Zeit.\nIN: Warum?\nIP: Weil das Tagesgeschäft vorgeht.\n")
    seg = ingest([str(tmp_path / "t.txt")]).segments
    assert seg["speaker"].tolist() == ["IN", "IP", "IN", "IP"]
    assert seg["is_interviewer"].astype(str).tolist() == ["True", "False", "True", "False"]


def test_a_note_taker_with_two_short_turns_gets_a_hint(tmp_path):
    # P wrote the minutes: its two short turns would be coded as answers; the hint names the fix
    turns = ["I: Schön, dass es klappt. Wie sind Sie zum Netzwerk gekommen?", "B: Über eine Kollegin, die war schon länger dabei und hat mich mitgenommen.",
             "I: Und welche Hürden gab es?", "B: Vor allem die Zeit, das Tagesgeschäft geht einfach vor.",
             "I: Mhm.", "B: Und die Reisekosten zahlt keiner, das ist das andere.", "I: Was hat sich bei Ihnen verändert?",
             "B: Wir haben jetzt eine Checkliste für die Abnahme, die kam aus dem Forum.", "I: Und sonst?",
             "B: Eigentlich nichts, das war's im Großen und Ganzen.", "P: Ich hab übrigens mitgeschrieben.",
             "I: Danke Ihnen!", "B: Sehr gern, hat Spaß gemacht.", "P: Auch von mir vielen Dank."]
    write(tmp_path / "t.txt", "\n".join(turns) + "\n")
    result = ingest([str(tmp_path / "t.txt")])
    assert [w for w in result.warnings if "short turn" in w] == [
        f"{tmp_path / 't.txt'}: speaker 'P' has only 2 short turn(s) next to 'B' (6): if P belongs to the interview team (a note-taker, "
        "a second interviewer), name all of the team with --interviewer, so that these turns are not coded as answers"]
    # named as part of the team: no hint
    assert not [w for w in ingest([str(tmp_path / "t.txt")], IngestOptions(interviewer=["I", "P"])).warnings if "short turn" in w]
