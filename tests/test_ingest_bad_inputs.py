"""Bad and hostile inputs to ``qda ingest``: one table, one row per case.

A row is ``Case(name, build, args, message)``: ``build(folder)`` writes the fixture files into
an empty folder (bombs built on the fly), ``args`` is the command line run there (``--out out``
included, so other commands can be added as rows), ``message`` a fragment the output must
contain. Every case asserts: the expected non-zero exit code (2 for usage errors), the message
naming the file (``names``) and saying what to do, no traceback, and nothing new in ``out``.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document as WordDocument

from conftest import tree_snapshot, write
from pipeline.cli import cli

MB = 1 << 20


# --- fixture builders ------------------------------------------------------------------------

def raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """Writes a zip by hand: ``(name, deflated bytes, crc, declared size)`` per member, so a
    test can declare any size (zipfile itself would refuse to lie)."""
    out, central = bytearray(), bytearray()
    for name, data, crc, size in members:
        offset, raw = len(out), name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0) + raw + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0, 0, 0, 0, 0, offset) + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))
    return path


def deflate(data: bytes) -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


def members_of(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def honest(members: list[tuple[str, bytes]]) -> list[tuple[str, bytes, int, int]]:
    return [(name, deflate(data), zlib.crc32(data), len(data)) for name, data in members]


def zero_bomb(size_mb: int) -> bytes:
    """Deflate data that unpacks to ``size_mb`` MB of zeros, built from one flushed block
    repeated (a few KB per GB): a real bomb, cheap to build."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(b"\0" * MB) + co.flush(zlib.Z_FULL_FLUSH)
    return block * size_mb + co.flush()


def word_file(folder: Path, name: str = "interview.docx") -> Path:
    doc = WordDocument()
    doc.add_paragraph("I: Wie kam die Idee mit dem Lotsendienst zustande?")
    doc.add_paragraph("B: Das kam aus der Fachgruppe, ehrlich gesagt ganz spontan.")
    doc.save(folder / name)
    return folder / name


def excel_file(folder: Path, name: str = "umfrage.xlsx") -> Path:
    book = openpyxl.Workbook()
    book.active.append(["id", "hindernisse"])
    book.active.append(["1", "Zu wenig Zeit für die Treffen, weil der Dienstplan voll ist."])
    book.save(folder / name)
    return folder / name


def replace_member(path: Path, member: str, build: Callable[[bytes], tuple[bytes, int, int]]) -> Path:
    """Rewrites ``path`` with ``member`` replaced by ``build(original) → (deflated, crc, size)``."""
    rows = []
    for name, data in members_of(path):
        rows.append((name, *build(data)) if name == member else (name, deflate(data), zlib.crc32(data), len(data)))
    return raw_zip(path, rows)


def docx_bomb(folder: Path) -> None:
    replace_member(word_file(folder, "bombe.docx"), "word/document.xml", lambda _: (zero_bomb(2048), 0, 2048 * MB))
    # the CRC stays 0: the directory check refuses before a byte is unpacked


def docx_ratio_bomb(folder: Path) -> None:
    def spaces(original: bytes):
        data = original.replace(b"</w:body>", b" " * (8 * MB) + b"</w:body>")
        return deflate(data), zlib.crc32(data), len(data)

    replace_member(word_file(folder, "dicht.docx"), "word/document.xml", spaces)


def docx_lying_header(folder: Path) -> None:
    replace_member(word_file(folder, "luege.docx"), "word/document.xml", lambda data: (deflate(data), zlib.crc32(data), 200))


def docx_broken_stream(folder: Path) -> None:
    def broken(data: bytes):
        packed = bytearray(deflate(data))
        packed[len(packed) // 2: len(packed) // 2 + 8] = b"\xff" * 8
        return bytes(packed), zlib.crc32(data), len(data)

    replace_member(word_file(folder, "kaputt.docx"), "word/document.xml", broken)


def docx_nested(folder: Path) -> None:
    def nested(original: bytes):
        deep = b"<w:sdt><w:sdtContent>" * 5_000 + b"</w:sdtContent></w:sdt>" * 5_000
        data = original.replace(b"<w:body>", b"<w:body>" + deep)
        return deflate(data), zlib.crc32(data), len(data)

    replace_member(word_file(folder, "tief.docx"), "word/document.xml", nested)


def docx_wide_table(folder: Path) -> None:
    def wide(original: bytes):
        cells = b"<w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc>" * 20_000
        grid = b"<w:tblGrid>" + b'<w:gridCol w:w="10"/>' * 20_000 + b"</w:tblGrid>"
        data = original.replace(b"<w:body>", b"<w:body><w:tbl>" + grid + b"<w:tr>" + cells + b"</w:tr></w:tbl>")
        return deflate(data), zlib.crc32(data), len(data)

    replace_member(word_file(folder, "breit.docx"), "word/document.xml", wide)


def docx_not_word(folder: Path) -> None:
    with zipfile.ZipFile(folder / "fremd.docx", "w") as z:
        z.writestr("notiz.txt", "kein Word-Dokument")


def docx_empty(folder: Path) -> None:
    WordDocument().save(folder / "leer.docx")


def xlsx_bomb(folder: Path) -> None:
    replace_member(excel_file(folder, "bombe.xlsx"), "xl/worksheets/sheet1.xml", lambda _: (zero_bomb(1024), 0, 1024 * MB))


def xlsx_wide(folder: Path) -> None:
    book = openpyxl.Workbook()  # 16,384 columns: the most Excel allows
    book.active.append([f"f{i}" for i in range(16_384)])
    book.active.append(["Antwort"] * 16_384)
    book.save(folder / "breit.xlsx")


def text_file(name: str, content: str | bytes) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    return build


def files(*builders: Callable[[Path], None]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        for b in builders:
            b(folder)

    return build


WIDE_CSV = ";".join(f"frage_{i}" for i in range(30_000)) + "\n" + ";".join("x" for _ in range(30_000)) + "\n"
SURVEY = "id;netzwerk;hindernisse\n1;DVNW;Zu wenig Zeit für die Treffen im Netzwerk.\n2;KERN;Die Technik hakt dauernd, keiner hilft.\n"
SURVEY_3000 = ";".join(["id", *(f"f{i}" for i in range(2999))]) + "\n" + ";".join(["1", *("Antwort mit mehreren Wörtern" for _ in range(2999))]) + "\n"
SRT_BACKWARDS = "1\n00:00:01,000 --> 00:00:03,000\nI: Wie fing das an?\n\n2\n00:00:05,000 --> 00:00:01,000\nB: Mit einem Workshop.\n"
VTT_MINUTE_75 = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v I>Wie fing das an?\n\n00:75:00.000 --> 00:75:02.000\n<v B>Mit einem Workshop.\n"
SRT_SECOND_61 = "1\n00:00:01,000 --> 00:00:03,000\nI: Und dann?\n\n2\n00:00:61,000 --> 00:01:02,000\nB: Dann kam die Pandemie.\n"


# --- the table ---------------------------------------------------------------------------------

@dataclass
class Case:
    """One bad input: name, fixture builder, command line, expected message fragment."""

    name: str
    build: Callable[[Path], None]
    args: list[str]
    message: str
    exit_code: int = 1
    names: str | None = None  # what the message must name (default: the first argument after the command)
    env: dict = field(default_factory=dict)


CASES = [
    # archives: limits checked on the zip directory, members read with a cap
    Case("docx zip bomb (2 GB document.xml)", docx_bomb, ["ingest", "bombe.docx", "--out", "out"],
         "zip member word/document.xml: would unpack to 2,048 MB, over the limit of 256 MB per member (a zip bomb?)\n  → if you trust this file, raise the limit with --max-unzipped-mb N"),
    Case("docx compression ratio", docx_ratio_bomb, ["ingest", "dicht.docx", "--out", "out"],
         "over the limit of 200:1 (a zip bomb?)\n  → if you trust this file, raise the limit with QDA_MAX_ZIP_RATIO="),
    Case("docx over a lowered limit (option)", docx_ratio_bomb, ["ingest", "dicht.docx", "--max-unzipped-mb", "2", "--out", "out"],
         "would unpack to 8 MB, over the limit of 2 MB per member"),
    Case("docx over a lowered limit (env)", docx_ratio_bomb, ["ingest", "dicht.docx", "--out", "out"],
         "would unpack to 8 MB, over the limit of 3 MB per member", env={"QDA_MAX_UNZIPPED_MB": "3"}),
    Case("docx member header lies about its size", docx_lying_header, ["ingest", "luege.docx", "--out", "out"],
         "zip member word/document.xml: is a damaged Word document (Bad CRC-32"),
    Case("docx member with a broken deflate stream", docx_broken_stream, ["ingest", "kaputt.docx", "--out", "out"],
         "zip member word/document.xml: is a damaged Word document"),
    Case("xlsx zip bomb (1 GB sheet)", xlsx_bomb, ["ingest", "bombe.xlsx", "--out", "out"],
         "zip member xl/worksheets/sheet1.xml: would unpack to 1,024 MB, over the limit of 256 MB per member"),
    Case("docx that is no zip", text_file("kaputt.docx", "kein zip"), ["ingest", "kaputt.docx", "--out", "out"],
         "is not a readable Word document (not a .docx package)\n  → open it in Word or LibreOffice"),
    Case("xlsx that is no zip", text_file("kaputt.xlsx", "kein zip"), ["ingest", "kaputt.xlsx", "--out", "out"],
         "is not a readable XLSX workbook (not a .xlsx package)\n  → open it in Excel or LibreOffice"),
    Case("zip that is no Word document", docx_not_word, ["ingest", "fremd.docx", "--out", "out"],
         "is not a readable Word document"),
    Case("Word document without text", docx_empty, ["ingest", "leer.docx", "--out", "out"], "contains no text to code"),
    Case("deeply nested XML in a docx", docx_nested, ["ingest", "tief.docx", "--out", "out"],
         "is a damaged Word document (its XML is nested too deeply)"),
    Case("invalid ratio limit in the environment", docx_ratio_bomb, ["ingest", "dicht.docx", "--out", "out"],
         "$QDA_MAX_ZIP_RATIO: is 'viel', not a positive number", names="QDA_MAX_ZIP_RATIO", env={"QDA_MAX_ZIP_RATIO": "viel"}),
    # subtitles: impossible times named by cue
    Case("srt cue ends before it starts", text_file("runde.srt", SRT_BACKWARDS), ["ingest", "runde.srt", "--out", "out"],
         "runde.srt, cue 2, line 6: the cue ends (00:00:01,000) before it starts (00:00:05,000)\n  → correct the time line"),
    Case("vtt minute 75", text_file("runde.vtt", VTT_MINUTE_75), ["ingest", "runde.vtt", "--out", "out"],
         "runde.vtt, cue 2, line 6: impossible time '00:75:00.000' (minutes and seconds run from 00 to 59)"),
    Case("srt second 61", text_file("runde.srt", SRT_SECOND_61), ["ingest", "runde.srt", "--out", "out"],
         "runde.srt, cue 2, line 6: impossible time '00:00:61,000'"),
    # wide tables: refused before the cells are read, with a short message
    Case("csv with 30,000 columns", text_file("breit.csv", WIDE_CSV), ["ingest", "breit.csv", "--out", "out"],
         "breit.csv, header (line 1): has 30,000 columns, more than the 5,000 qda reads\n  → check that this is the right file (a broken export?); to read it anyway set QDA_MAX_COLUMNS=30000"),
    Case("xlsx with 16,384 columns", xlsx_wide, ["ingest", "breit.xlsx", "--out", "out"],
         "breit.xlsx, first row of the sheet: has 16,384 columns, more than the 5,000 qda reads"),
    Case("docx table with 20,000 columns", docx_wide_table, ["ingest", "breit.docx", "--out", "out"],
         "breit.docx, table 1: has 20,000 columns, more than the 5,000 qda reads", env={"QDA_MAX_ZIP_RATIO": "1000"}),
    Case("unknown column among thousands", text_file("lang.csv", SURVEY_3000), ["ingest", "lang.csv", "--text-column", "fehlt", "--out", "out"],
         "no column 'fehlt' (given with --text-column)\n  → the columns there are: 'id', 'f0', "),
    # empty, binary and undecodable files
    Case("0-byte csv", text_file("leer.csv", b""), ["ingest", "leer.csv", "--out", "out"], "leer.csv: file is empty"),
    Case("csv with a header only", text_file("kopf.csv", "id;antwort\n"), ["ingest", "kopf.csv", "--out", "out"], "kopf.csv: has a header but no answers"),
    Case("binary file named .txt", text_file("bild.txt", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" * 50), ["ingest", "bild.txt", "--out", "out"], "bild.txt: is not text"),
    Case("wrong encoding given", text_file("t.txt", "I: Grüße aus Köln?\nB: Danke.\n".encode("utf-8")), ["ingest", "t.txt", "--encoding", "ascii", "--out", "out"], "t.txt: cannot be decoded as ascii"),
    Case("unknown encoding given", text_file("t.txt", "I: Hallo?\nB: Ja.\n"), ["ingest", "t.txt", "--encoding", "klingonisch", "--out", "out"], "t.txt: cannot be decoded as klingonisch"),
    # sources that hold nothing to read
    Case("glob that matches no file", files(), ["ingest", "*.odt", "--out", "out"], "*.odt: the pattern matches no file"),
    Case("glob that matches no ingestible file", files(text_file("a.pdf", "%PDF-1.4"), text_file("b.pdf", "%PDF-1.4")), ["ingest", "*.pdf", "--out", "out"],
         "*.pdf: the pattern matches 2 file(s), none of a type qda reads (a.pdf, b.pdf)\n  → supported types:"),
    Case("folder without ingestible file", text_file("daten/notizen.pdf", "%PDF-1.4"), ["ingest", "daten", "--out", "out"],
         "daten: the folder holds no transcript or survey file"),
    Case("unsupported file type", text_file("notizen.odt", "x"), ["ingest", "notizen.odt", "--out", "out"], "notizen.odt: unsupported file type '.odt'"),
    # tables read as transcripts
    Case("survey forced to be an interview", text_file("umfrage.csv", SURVEY), ["ingest", "umfrage.csv", "--kind", "interview", "--out", "out"],
         "umfrage.csv: is to be read as an interview, but has no speaker and text column"),
    Case("speaker table without text", text_file("leer.csv", "Sprecher;Text\nI;\nB;\nI;\n"), ["ingest", "leer.csv", "--out", "out"],
         "leer.csv: the speaker table has no rows with a speaker and text"),
    # usage errors: exit code 2, the option named
    Case("unknown unit", text_file("t.txt", "I: Hallo?\n"), ["ingest", "t.txt", "--unit", "satz", "--out", "out"], "Invalid value for '--unit'", exit_code=2, names="--unit"),
    Case("unknown kind", text_file("t.csv", SURVEY), ["ingest", "t.csv", "--kind", "tabelle", "--out", "out"], "Invalid value for '--kind'", exit_code=2, names="--kind"),
    Case("archive limit below 1 MB", docx_empty, ["ingest", "leer.docx", "--max-unzipped-mb", "0", "--out", "out"], "Invalid value for '--max-unzipped-mb'", exit_code=2, names="--max-unzipped-mb"),
    Case("archive limit not a number (env)", docx_empty, ["ingest", "leer.docx", "--out", "out"],
         "Invalid value for '--max-unzipped-mb': 'viel' (from $QDA_MAX_UNZIPPED_MB) is not a number of megabytes", exit_code=2, names="QDA_MAX_UNZIPPED_MB",
         env={"QDA_MAX_UNZIPPED_MB": "viel"}),
    Case("meta without '='", text_file("t.txt", "I: Hallo?\n"), ["ingest", "t.txt", "--meta", "netzwerk", "--out", "out"], "'netzwerk' is not KEY=VALUE", exit_code=2, names="--meta"),
]


def _named(case: Case) -> str:
    return case.names or case.args[1]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_with_a_message(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    for key in ("QDA_MAX_UNZIPPED_MB", "QDA_MAX_ZIP_RATIO", "QDA_MAX_COLUMNS"):
        monkeypatch.delenv(key, raising=False)
    case.build(tmp_path)
    write(tmp_path / "out" / "segments.csv", "ein früherer Lauf\n")
    before = tree_snapshot(tmp_path / "out")
    result = CliRunner().invoke(cli, case.args, env=case.env, prog_name="qda")
    assert result.exit_code == case.exit_code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert case.message in result.output, result.output
    assert _named(case) in result.output
    assert ("→" in result.output) if case.exit_code == 1 else ("Try 'qda ingest --help' for help." in result.output)
    assert max(len(line) for line in result.output.splitlines()) < 500
    assert tree_snapshot(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")] == []


def test_the_table_covers_enough_cases():
    assert len(CASES) >= 35
    assert len({c.name for c in CASES}) == len(CASES)


# --- what the table cannot show: memory, raised limits, repaired text ---------------------------

@pytest.mark.parametrize("build,name", [(docx_bomb, "bombe.docx"), (xlsx_bomb, "bombe.xlsx"), (docx_lying_header, "luege.docx")])
def test_hostile_archives_are_refused_without_unpacking_them(tmp_path, build, name):
    import tracemalloc

    from pipeline.errors import InputError
    from pipeline.ingest import ingest

    build(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(InputError):
            ingest([str(tmp_path / name)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * MB


def test_check_zip_is_callable_with_explicit_limits(tmp_path):
    from pipeline.errors import InputError
    from pipeline.ingest.archive import check_zip

    path = excel_file(tmp_path)
    assert "xl/worksheets/sheet1.xml" in check_zip(path)
    docx_ratio_bomb(tmp_path)
    with pytest.raises(InputError, match="over the limit of 4 MB per member"):
        check_zip(tmp_path / "dicht.docx", max_member_bytes=4 * MB, max_ratio=10_000)
    assert check_zip(tmp_path / "dicht.docx", max_member_bytes=16 * MB, max_ratio=10_000)


def test_a_raised_ratio_limit_lets_a_trusted_file_through(tmp_path, monkeypatch):
    docx_ratio_bomb(tmp_path)
    monkeypatch.setenv("QDA_MAX_ZIP_RATIO", "100000")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "dicht.docx"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 file(s), 1 document(s), 2 unit(s)" in result.output


def test_control_characters_are_removed_and_counted(tmp_path):
    write(tmp_path / "nul.txt", "I: Wie oft\x00 treffen Sie sich?\nB: Einmal im Monat,\x07 meistens\x0c online.\x00\x00\n")
    write(tmp_path / "nul.csv", "id;antwort\n1;Zu wenig Zeit\x00 für Treffen mit den Kolleg:innen.\n2;Die Technik im Amt ist veraltet.\n")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "nul.txt"), str(tmp_path / "nul.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "nul.txt: removed 5 control character(s) (NUL and the like) from the text" in result.output
    assert "nul.csv: removed 1 control character(s)" in result.output
    import pandas as pd

    seg = pd.read_csv(tmp_path / "out" / "segments.csv", dtype=str, keep_default_na=False)
    assert seg["text"].tolist()[:2] == ["Wie oft treffen Sie sich?", "Einmal im Monat, meistens\nonline."]
    assert not seg["text"].str.contains("[\x00-\x08]").any()


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_detected(tmp_path, encoding):
    from pipeline.ingest import ingest

    (tmp_path / "t.txt").write_bytes("I: Wie heißt das Format?\nB: Lerntandem, für Kolleg:innen aus allen Ämtern.\n".encode(encoding))
    (tmp_path / "u.csv").write_bytes("id;hindernisse\n1;Zu wenig Zeit für die Treffen.\n2;Die Führung blockt neue Ideen ab.\n".encode(encoding))
    result = ingest([str(tmp_path / "t.txt"), str(tmp_path / "u.csv")])
    assert result.segments["text"].tolist()[:2] == ["Wie heißt das Format?", "Lerntandem, für Kolleg:innen aus allen Ämtern."]
    assert result.segments["text"].tolist()[2] == "Zu wenig Zeit für die Treffen."
    assert [f.info["encoding"] for f in result.files] == [encoding, encoding]


def test_a_utf8_file_with_a_stray_byte_is_refused_not_garbled(tmp_path):
    # one Windows-1252 "ü" pasted into a UTF-8 transcript: read as cp1252, every umlaut of the
    # file would become "Ã¼" and no codebook word would match any more
    good = "I: Welche Hürden gibt es?\n\nB: Die Führung unterstützt uns nicht.\n\nI: Und sonst?\n\nB: Viele Grüße aus dem Amt, ".encode()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "t.txt").write_bytes(good + b"sch\xf6n.\n")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "t.txt: is UTF-8 text except for 1 byte(s) that are not UTF-8, the first (0xf6) in line 7" in result.output
    assert "pass --encoding cp1252" in result.output and not (tmp_path / "out").exists()
    # the same in a survey export; a file that is Windows-1252 throughout is still read as such
    write(tmp_path / "u.csv", "id;hindernisse\n1;Die Führung blockt.\n")
    (tmp_path / "u.csv").write_bytes((tmp_path / "u.csv").read_bytes() + b"2;Keine Zeit f\xfcr Kurse.\n")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "u.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "u.csv: is UTF-8 text except for 1 byte(s)" in result.output
    (tmp_path / "w.csv").write_bytes("id;hindernisse\n1;Die Führung blockt.\n2;Keine Zeit für Kurse.\n".encode("cp1252"))
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "w.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output


def test_a_large_export_with_a_stray_byte_is_refused_when_read_in_parts(tmp_path, monkeypatch):
    from pipeline.errors import InputError
    from pipeline.ingest.survey import stream_encoding

    path = tmp_path / "u.csv"
    path.write_bytes("id;hindernisse\n".encode() + "1;Die Führung blockt.\n".encode() * 500 + b"2;Keine Zeit f\xfcr Kurse.\n")
    with pytest.raises(InputError, match=r"is UTF-8 text except for 1 byte\(s\).*line 502"):
        stream_encoding(path, None)
    path.write_bytes("id;hindernisse\n1;Die Führung blockt.\n2;Keine Zeit für Kurse.\n".encode("cp1252"))
    assert stream_encoding(path, None) == "cp1252"


def test_files_a_folder_holds_but_qda_does_not_read_are_named(tmp_path):
    # an old Word file or a PDF among the transcripts must not go missing without a word; a file
    # whose name merely starts like "Readme" is read, the folder's README/LICENSE/SOURCE is not
    folder = tmp_path / "interviews"
    write(folder / "interview_meier.txt", "I: Wie kamen Sie dazu?\nB: Über eine Kollegin.\n")
    write(folder / "Readme_Interview_Wagner.txt", "I: Und Hürden?\nB: Die Zeit fehlt.\n")
    write(folder / "SOURCE.md", "# Herkunft der Transkripte\n")
    for name in ("interview_kaya.doc", "interview_lang.pdf", ".~lock.interview_meier.txt#", "~$interview.docx"):
        (folder / name).write_bytes(b"\xd0\xcf\x11\xe0")
    result = CliRunner().invoke(cli, ["ingest", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "interview_kaya.doc: skipped: .doc is not read; save it as .docx" in result.output
    assert "interview_lang.pdf: skipped: .pdf is not read; export the transcript as .docx or .txt" in result.output
    assert "SOURCE.md: skipped: a README, LICENSE or SOURCE file" in result.output
    assert "lock" not in result.output and "~$" not in result.output
    import json

    record = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert len(record["ingest"]["skipped"]) == 3
    assert sorted(Path(f["path"]).name for f in record["ingest"]["files"]) == ["Readme_Interview_Wagner.txt", "interview_meier.txt"]


def test_a_wrong_column_in_corpus_yaml_is_looked_for_there(tmp_path):
    # the name came from corpus.yaml, not from --text-column: the message says where to fix it
    write(tmp_path / "korpus" / "umfrage.csv", "id;hindernisse;rolle\n1;Keine Zeit für die Treffen;Mitglied\n")
    write(tmp_path / "korpus" / "corpus.yaml", "name: t\nsources:\n  - path: umfrage.csv\n    id_column: id\n    text_columns: [hindernise]\n")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "korpus"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    assert "no column 'hindernise' (given in " in result.output and "corpus.yaml → sources[0] → text_columns)" in result.output
    assert "did you mean 'hindernisse'?" in result.output
    # on the command line it names the option, which wins over corpus.yaml
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "korpus"), "--text-column", "hindernis", "--out", str(tmp_path / "out")])
    assert "no column 'hindernis' (given with --text-column)" in result.output
