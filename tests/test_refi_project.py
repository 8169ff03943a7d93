"""REFI-QDA projects: export validates against Project.xsd and reads back with an
independent reader (pyrefiqda) with offsets intact; export → import gives back the run's units
and codings exactly (agreement 1.0); real NVivo and ATLAS.ti files import."""

import json
import re
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, REAL_INPUTS, REFI, ROOT, needs_real_inputs, needs_refi
from pipeline.cli import cli

V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"


def invoke(args):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("qdpx")
    run = base / "run"
    invoke(["code", BEISPIEL, "--codebook", V2, "--out", run])
    out = base / "beispiel.qdpx"
    r = invoke(["export", run, "--format", "qdpx", "--out", out])
    assert r.output.startswith(f"Wrote {out}: 287 sources, 29 codes, ")
    return run, out


def _selections(path, tmp_path):
    """(start, end, name, text) of every selection, read with the independent pyrefiqda reader."""
    from pyrefiqda import RefiProject

    project = RefiProject.load(path, extract_dir=str(tmp_path / "x"))
    found = []
    for src in project.sources.text_source:
        text = RefiProject.resolve_source_path(src.plain_text_path, tmp_path / "x").read_text(encoding="utf-8")
        for sel in src.plain_text_selection:
            s, e = int(sel.start_position), int(sel.end_position)
            found.append((s, e, sel.name, text[s:e]))
    return found


@needs_refi
@pytest.mark.parametrize("mode", ["unit", "sentence", "evidence"])
def test_exported_project_is_valid_against_the_schema(exported, mode, tmp_path):
    import xmlschema

    run, out = exported
    if mode != "unit":
        out = tmp_path / f"{mode}.qdpx"
        invoke(["export", run, "--segments", mode, "--out", out])
    schema = xmlschema.XMLSchema(str(REFI / "Project.xsd"))
    with zipfile.ZipFile(out) as z:
        schema.validate(z.read("project.qde").decode("utf-8"))
        assert all(n == "project.qde" or n.startswith("sources/") for n in z.namelist())


def test_codings_mark_whole_units_named_by_their_segment_id(exported, tmp_path):
    run, out = exported
    seg = pd.read_csv(run / "segments.csv", keep_default_na=False).set_index("segment_id")
    codings = pd.read_csv(run / "codings.csv", keep_default_na=False)
    found = _selections(out, tmp_path)
    assert len(found) == len(codings)
    assert sorted((s, e, n) for s, e, n, _ in found) == sorted(
        (int(seg.loc[r.segment_id, "start_char"]), int(seg.loc[r.segment_id, "end_char"]), r.segment_id) for r in codings.itertuples())
    assert all(text == seg.loc[name, "text"] for _, _, name, text in found)


def test_evidence_mode_marks_exactly_the_evidence(exported, tmp_path):
    run, _ = exported
    out = tmp_path / "evidence.qdpx"
    invoke(["export", run, "--segments", "evidence", "--out", out])
    codings = pd.read_csv(run / "codings.csv", keep_default_na=False)
    expected = {(int(r.start_char), int(r.end_char), r.evidence) for r in codings.itertuples()}
    assert {(s, e, text) for s, e, _, text in _selections(out, tmp_path)} == expected


def test_sentence_mode_marks_the_sentence_around_the_evidence(exported, tmp_path):
    run, _ = exported
    out = tmp_path / "saetze.qdpx"
    invoke(["export", run, "--segments", "sentence", "--out", out])
    seg = pd.read_csv(run / "segments.csv", keep_default_na=False).set_index("segment_id")
    codings = pd.read_csv(run / "codings.csv", keep_default_na=False)
    ev = {(r.segment_id, int(r.start_char), int(r.end_char)) for r in codings.itertuples()}
    found = _selections(out, tmp_path)
    longer = 0
    for s, e, name, text in found:
        unit_s, unit_e = int(seg.loc[name, "start_char"]), int(seg.loc[name, "end_char"])
        assert unit_s <= s < e <= unit_e
        assert any(sid == name and s <= a and b <= e for sid, a, b in ev)  # holds its evidence
        longer += (e - s) < (unit_e - unit_s)
    assert longer > len(found) / 4  # long interview turns are cut down to their sentence
    turn = seg.loc["DVNW_koordination:2", "text"]
    marked = [t for _, _, n, t in found if n == "DVNW_koordination:2"]
    assert marked and all(t in turn and t != turn and t[0].isupper() and t.rstrip()[-1] in ".!?" for t in marked)


def test_evidence_is_in_the_comment_and_the_run_is_one_user(exported):
    _, out = exported
    with zipfile.ZipFile(out) as z:
        xml = z.read("project.qde").decode("utf-8")
    assert len(re.findall(r"<User ", xml)) == 1 and "(Modell)" not in xml
    assert "Fundstelle: „Forum“ (Muster: Forum)" in xml


def test_out_gets_the_qdpx_extension(exported, tmp_path):
    run, out = exported
    r = invoke(["export", run, "--out", tmp_path / "projekt"])
    assert (tmp_path / "projekt.qdpx").read_bytes() == out.read_bytes()
    assert not (tmp_path / "projekt").exists() and f"Wrote {tmp_path / 'projekt.qdpx'}:" in r.output


def test_export_is_byte_identical_on_rerun(exported, tmp_path):
    run, out = exported
    again = tmp_path / "again.qdpx"
    assert CliRunner().invoke(cli, ["export", str(run), "--out", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


@needs_refi
def test_import_real_nvivo_project(tmp_path):
    out = tmp_path / "nv"
    r = CliRunner().invoke(cli, ["import", str(REFI / "nvivo12.6_oltas0517.qdpx"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "152 codes, 303 codings in 303 selections by 2 user(s)" in r.output
    seg = pd.read_csv(out / "segments.csv", keep_default_na=False)
    cod = pd.read_csv(out / "codings.csv", keep_default_na=False)
    # the BOM is gone and every coded span lies inside the source text it came from
    assert not seg["text"].iloc[0].startswith("\ufeff")
    assert cod["user"].unique().tolist() == ["Gergo"]
    assert (out / "gold_gergo.csv").is_file()


@needs_refi
def test_atlasti_project_without_its_media_is_refused_clearly(tmp_path):
    r = CliRunner().invoke(cli, ["import", str(REFI / "atlasti8.4_standard_project.qde"), "--out", str(tmp_path / "a")])
    assert r.exit_code == 1
    assert "contains no text sources with their text (6 source(s) refer to files that are not in it)" in r.output
    assert not (tmp_path / "a").exists()


def test_import_refuses_paths_outside_the_project(tmp_path):
    evil = tmp_path / "evil.qdpx"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("project.qde", '<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes><Code guid="0a1b2c3d-0000-4000-8000-00000000000a" name="A" isCodable="true"/></Codes></CodeBook></Project>')
        z.writestr("../../etc/evil.txt", "x")
    r = CliRunner().invoke(cli, ["import", str(evil), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert "points outside the project" in r.output


def test_round_trip_through_import_gives_the_same_units_and_codings(exported, tmp_path):
    run, out = exported
    r = invoke(["import", out, "--out", tmp_path / "back"])
    assert "287 text source(s), 969 unit(s) of the exporting run, 29 codes" in r.output
    assert (tmp_path / "back" / "segments.csv").read_bytes() == (run / "segments.csv").read_bytes()
    back = pd.read_csv(tmp_path / "back" / "codings.csv", dtype=str, keep_default_na=False)
    orig = pd.read_csv(run / "codings.csv", dtype=str, keep_default_na=False)
    assert back["user"].unique().tolist() == ["qda"]
    pd.testing.assert_frame_equal(back.drop(columns="user"), orig)


def _agreement(run, project, tmp_path):
    invoke(["agreement", run, project, "--out", tmp_path / "agr"])
    return json.loads((tmp_path / "agr" / "summary.json").read_text(encoding="utf-8"))


def test_agreement_between_a_run_and_its_export_is_one(exported, tmp_path):
    run, out = exported
    overall = _agreement(run, out, tmp_path)
    assert overall["units"] == 816  # every coded unit of the run: interviews and survey answers
    assert overall["percent_agreement"] == 1.0 and overall["krippendorff_alpha"] == 1.0 and overall["fleiss_kappa"] == 1.0


def _strip_unit_ids(src, dst):
    """What a tool that drops descriptions and selection names would hand back."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as o:
        for n in z.namelist():
            data = z.read(n)
            if n == "project.qde":
                x = data.decode("utf-8")
                x = re.sub(r"(<(?:TextSource|PlainTextSelection) [^>]*>)\s*<Description>.*?</Description>", r"\1", x, flags=re.S)
                x = re.sub(r'(<PlainTextSelection guid="[^"]+") name="[^"]*"', r"\1", x)
                assert "[qda:units]" not in x and "[qda:coding]" not in x
                data = x.encode("utf-8")
            o.writestr(n, data)


def test_without_unit_ids_interview_turns_are_found_by_position(exported, tmp_path):
    run, out = exported
    bare = tmp_path / "ohne_ids.qdpx"
    _strip_unit_ids(out, bare)
    r = invoke(["import", bare, "--out", tmp_path / "back"])
    assert "969 paragraph unit(s)" in r.output
    back = pd.read_csv(tmp_path / "back" / "segments.csv", keep_default_na=False).set_index("segment_id")
    seg = pd.read_csv(run / "segments.csv", keep_default_na=False).set_index("segment_id")
    turns = seg[seg["kind"] == "interview"].index
    # the same turns, without the "I: " label, with their speaker
    assert back.loc[turns, ["text", "speaker", "start_char", "end_char"]].equals(seg.loc[turns, ["text", "speaker", "start_char", "end_char"]])
    overall = _agreement(run, bare, tmp_path)
    assert overall["units"] == (seg.loc[turns, "is_interviewer"] == False).sum()  # noqa: E712 - a column of booleans
    assert overall["krippendorff_alpha"] == 1.0


@needs_real_inputs
def test_real_transcripts_survive_export_and_import(tmp_path):
    run = tmp_path / "real"
    sources = [REAL_INPUTS / n for n in ("divekit_nnProf_transkript.md", "divekit_nnWMA2_transkript.md", "haski_nodegrade_interview1_german.docx",
                                         "divekit_635_workshop_gruppe1.md")]
    invoke(["code", *sources, "--codebook", V2, "--out", run])
    for mode in ("unit", "sentence"):
        out = tmp_path / f"real-{mode}.qdpx"
        invoke(["export", run, "--segments", mode, "--out", out])
        overall = _agreement(run, out, tmp_path / mode)
        assert overall["units"] > 90 and overall["krippendorff_alpha"] == 1.0 and overall["percent_agreement"] == 1.0
        invoke(["import", out, "--out", tmp_path / f"back-{mode}"])
        assert (tmp_path / f"back-{mode}" / "segments.csv").read_bytes() == (run / "segments.csv").read_bytes()


def test_export_still_finds_the_codebook_after_a_report(exported, tmp_path):
    """'qda report' rewrites run.json; the coding stage's codebook must stay findable."""
    import shutil

    run, out = exported
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    invoke(["report", copy])
    invoke(["export", copy, "--out", tmp_path / "nach-report.qdpx"])
    assert (tmp_path / "nach-report.qdpx").read_bytes() == out.read_bytes()
