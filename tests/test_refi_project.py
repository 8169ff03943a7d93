"""REFI-QDA projects: export validates against Project.xsd and reads back with an
independent reader (pyrefiqda) with offsets intact; real NVivo and ATLAS.ti files import."""

import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, REFI, ROOT, needs_refi
from pipeline.cli import cli

V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("qdpx")
    run = base / "run"
    r = CliRunner().invoke(cli, ["code", str(BEISPIEL), "--codebook", str(V2), "--out", str(run)])
    assert r.exit_code == 0, r.output
    out = base / "beispiel.qdpx"
    r = CliRunner().invoke(cli, ["export", str(run), "--format", "qdpx", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return run, out


@needs_refi
def test_exported_project_is_valid_against_the_schema(exported):
    import xmlschema

    _, out = exported
    schema = xmlschema.XMLSchema(str(REFI / "Project.xsd"))
    with zipfile.ZipFile(out) as z:
        schema.validate(z.read("project.qde").decode("utf-8"))
        assert all(n == "project.qde" or n.startswith("sources/") for n in z.namelist())


def test_independent_reader_finds_every_coding_at_its_text(exported, tmp_path):
    from pyrefiqda import RefiProject

    run, out = exported
    project = RefiProject.load(out, extract_dir=str(tmp_path / "x"))
    codings = pd.read_csv(run / "codings.csv", keep_default_na=False)
    expected = {(int(r.start_char), int(r.end_char), r.evidence) for r in codings.itertuples()}
    found = set()
    for src in project.sources.text_source:
        text = RefiProject.resolve_source_path(src.plain_text_path, tmp_path / "x").read_text(encoding="utf-8")
        for sel in src.plain_text_selection:
            found.add((int(sel.start_position), int(sel.end_position), text[int(sel.start_position):int(sel.end_position)]))
    assert found == expected


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


def test_round_trip_through_import_gives_the_same_codings(exported, tmp_path):
    run, out = exported
    r = CliRunner().invoke(cli, ["import", str(out), "--out", str(tmp_path / "back")])
    assert r.exit_code == 0, r.output
    back = pd.read_csv(tmp_path / "back" / "codings.csv", keep_default_na=False)
    orig = pd.read_csv(run / "codings.csv", keep_default_na=False)
    assert set(zip(back["start_char"], back["end_char"], back["code"])) == set(zip(orig["start_char"], orig["end_char"], orig["code"]))
