"""discover_tables on a page drawn here: a ruled and an unruled table with captions, and prose."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import ICDAR2013_DATA
from statlift.extractors.discover import discover_tables

PAGE_H = 842.0
ICDAR = ICDAR2013_DATA  # shared/ beside the clone


def _y(top: float) -> float:
    return PAGE_H - top


@pytest.fixture(scope="module")
def page_pdf(tmp_path_factory) -> Path:
    canvas = pytest.importorskip("reportlab.pdfgen.canvas", reason="reportlab is a test extra")
    path = tmp_path_factory.mktemp("discover") / "page.pdf"
    c = canvas.Canvas(str(path), pagesize=(595.0, PAGE_H))
    c.setFont("Helvetica", 10)
    prose = ["Statistical reports mix prose and tables. This opening paragraph is prose:",
             "its lines are long runs of words with ordinary spaces between them, so it",
             "must not be taken for a table by the discovery step that follows here."]
    for i, line in enumerate(prose):
        c.drawString(60, _y(80 + 14 * i), line)
    c.setFont("Helvetica-Bold", 10)
    c.drawString(60, _y(150), "TABLE 1")
    c.setFont("Helvetica", 9)
    rows = [("Year", "Cases", "Rate"), ("2019", "1 204", "3.1"), ("2020", "1 187", "2.9"),
            ("2021", "1 310", "3.4"), ("2022", "1 402", "3.6")]
    for i, (a, b, r) in enumerate(rows):
        base = _y(170 + 14 * i + 10)
        c.drawString(60, base, a)
        c.drawRightString(200, base, b)
        c.drawRightString(280, base, r)
    c.setFont("Helvetica-Bold", 10)
    c.drawString(60, _y(300), "Table 2. Staff by grade")
    c.setFont("Helvetica", 9)
    xs, ys = [60, 180, 260, 340], [310, 330, 350, 370]
    grid = [("Grade", "Women", "Men"), ("A", "12", "15"), ("B", "30", "22")]
    for r, row in enumerate(grid):
        for k, text in enumerate(row):
            c.drawString(xs[k] + 4, _y(ys[r] + 14), text)
    for top in ys:
        c.line(xs[0], _y(top), xs[-1], _y(top))
    for x in xs:
        c.line(x, _y(ys[0]), x, _y(ys[-1]))
    c.showPage()
    c.save()
    return path


def test_discover_finds_both_tables_with_captions(page_pdf):
    found = discover_tables(str(page_pdf))
    assert [(t.caption, t.shape, t.ruled) for t in found] == [
        ("TABLE 1", (5, 3), False),
        ("Table 2. Staff by grade", (3, 3), True),
    ]
    assert all(t.page == 1 for t in found)
    x0, top, x1, bottom = found[0].bbox
    assert 55 < x0 < 65 and 165 < top < 175 and 275 < x1 < 285 and 235 < bottom < 245
    assert found[1].to_dict()["engine"] in ("fused", "ruled")


@pytest.mark.skipif(not ICDAR.is_dir(), reason="ICDAR 2013 EU benchmark data not present")
def test_discover_icdar_document():
    found = discover_tables(str(ICDAR / "eu-004.pdf"))
    captions = [t.caption for t in found if t.caption]
    assert any(c.startswith("Table 6.1") for c in captions)
    assert len(found) >= 10


def test_discover_spec_reads_the_pdf_once(page_pdf, tmp_path, monkeypatch, capsys):
    """`discover --spec` runs the spec's reader only: discover_tables' reading would be thrown
    away (issue 13), so it must not run; the printed line is the spec that was written."""
    import argparse

    from statlift.cli import region as cli_region

    def unused(*a, **k):
        raise AssertionError("discover --spec ran discover_tables as well")

    monkeypatch.setattr(cli_region, "discover_tables", unused)
    out = tmp_path / "starter.yaml"
    args = argparse.Namespace(pdf=str(page_pdf), spec=str(out), report_id="page", json=False)
    assert cli_region.run_discover(args) == 0
    assert out.is_file()
    assert capsys.readouterr().out.startswith(f"{out}: ")


def test_reader_registry_is_the_one_entry(page_pdf):
    """readers.READERS holds every reader name the Literal accepts; region readers return the
    same cells as the region engine they wrap, with a quality score; unknown names are named."""
    from statlift.extractors import readers
    from statlift.extractors.pdfdoc import Document
    from statlift.extractors.region import RegionSettings, extract_from_page

    assert tuple(readers.READERS) == readers.READER_NAMES
    with pytest.raises(ValueError, match="unknown reader 'camelot'"):
        readers.reader("camelot")
    box = (58.0, 305.0, 342.0, 372.0)
    with Document.open(str(page_pdf)) as doc:
        page = doc.page(1)
        for name in ("auto", "ruled", "whitespace", "fused"):
            got = readers.read_region(page, box, RegionSettings(engine=name))
            want = extract_from_page(page, box, RegionSettings(engine=name))
            assert got.cells == want.cells and got.quality == want.quality
            assert got.reader == want.engine
        # no located lines: the layout reader reads the lines of the box
        text = readers.READERS["layout"](readers.ReadRequest(page, box))
        assert text.reader == "layout" and text.columns == ["Women", "Men"]
        assert [p for p, _ in text.rows] == ["A", "B"]


def test_layout_reader_returns_a_cell_grid(page_pdf):
    """`statlift run`'s reader (layout) through the registry: header rows, column paths, the
    row hierarchy and the cells of the same Grid run reconciles."""
    from statlift.extractors import readers
    from statlift.extractors.locate import locate_table
    from statlift.extractors.pdfdoc import Document

    with Document.open(str(page_pdf)) as doc:
        region = locate_table(doc, "TABLE 1")
        assert region is not None
        got = readers.read_located(doc, region.page, region.body_bbox, region.body_lines)
    grid = got.grid()
    assert got.reader == "layout" and got.header_rows >= 1
    assert got.columns == [c.path for c in grid.columns]
    assert [p for p, _ in got.rows] == [r.path for r in grid.rows]
    body = [c for c in got.cells if c.row >= got.header_rows and c.col > 0]
    assert sorted(c.text for c in body) == sorted(r.text for r in grid.cells.values())
    assert 0 < got.quality <= 1
