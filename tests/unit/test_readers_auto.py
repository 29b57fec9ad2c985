"""`auto` on a region: where no column is drawn, the layout reader (`statlift run`'s) reads the
region's lines and its reading is taken unless it loses cells or adds a column no gap makes;
drawn columns keep the cells the rules cut. extract-region prints the reading's structure."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from statlift.extractors import readers
from statlift.extractors.pdfdoc import Document
from statlift.extractors.region import RegionSettings
from tests.cli_runner import cli_command

PAGE_H = 842.0
# an unruled table with a spanner over two columns and a head wrapped over two lines
HEADER = [(60, 120, "Characteristic", False)]
SPANNER = ("Defendants", 250)          # centred over the two value columns
LEAVES = [(220, "Charged"), (290, "Convicted")]
ROWS = [("Total", "1,204", "1,187"), ("Male", "1,010", "998"), ("Female", "194", "189")]
BOX = (55.0, 95.0, 300.0, 175.0)


def _y(top: float) -> float:
    return PAGE_H - top


def _draw(path: Path, ruled: bool) -> None:
    canvas = pytest.importorskip("reportlab.pdfgen.canvas", reason="reportlab is a test extra")
    c = canvas.Canvas(str(path), pagesize=(595.0, PAGE_H))
    c.setFont("Helvetica", 9)
    c.drawString(60, _y(120), "Characteristic")
    c.drawCentredString(SPANNER[1], _y(106), SPANNER[0])
    for x, text in LEAVES:
        c.drawRightString(x, _y(120), text)
    for i, (label, a, b) in enumerate(ROWS):
        base = _y(136 + 13 * i)
        c.drawString(60, base, label)
        c.drawRightString(220, base, a)
        c.drawRightString(290, base, b)
    c.setLineWidth(0.5)
    c.line(175, _y(109), 295, _y(109))              # the spanner's rule
    c.line(57, _y(124), 295, _y(124))               # under the header
    if ruled:                                       # full grid: every column drawn
        for x in (57, 175, 295):
            c.line(x, _y(98), x, _y(172))
        c.line(235, _y(109), 235, _y(172))          # not through the spanner
        for top in (98, 172):
            c.line(57, _y(top), 295, _y(top))
        for i in range(len(ROWS) - 1):
            c.line(57, _y(139 + 13 * i), 295, _y(139 + 13 * i))
    c.showPage()
    c.save()


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("auto")
    out = {}
    for name, ruled in (("unruled", False), ("grid", True)):
        out[name] = d / f"{name}.pdf"
        _draw(out[name], ruled)
    return out


def _read(path: Path, engine: str = "auto") -> readers.CellGrid:
    with Document.open(str(path)) as doc:
        return readers.read_region(doc.page(1), BOX, RegionSettings(engine=engine))


def test_auto_reads_undrawn_columns_with_the_layout_reader(pdfs):
    got = _read(pdfs["unruled"])
    assert got.reader == "layout"
    assert got.columns == ["Defendants | Charged", "Defendants | Convicted"]
    assert [p for p, _ in got.rows] == ["Total", "Male", "Female"]
    spanner = [c for c in got.cells if c.text == "Defendants"]
    assert len(spanner) == 1 and spanner[0].col_span == 2 and spanner[0].row == 0
    assert got.region_table().engine in ("fused", "whitespace")  # what it was weighed against
    # the same structure as the layout reader forced on the box
    with Document.open(str(pdfs["unruled"])) as doc:
        forced = readers.read_region(doc.page(1), BOX, name="layout")
    assert forced.cells == got.cells


def test_auto_keeps_drawn_cells(pdfs):
    got = _read(pdfs["grid"])
    assert got.reader == "fused" and got.region is got.source
    assert got.cells == _read(pdfs["grid"], "fused").cells


def test_layout_reading_that_loses_cells_is_not_taken(tmp_path):
    """A table of words with one line of numbers at the end: the layout reader takes every line
    above that line for header and keeps fewer than half the cells; the cut cells stand."""
    canvas = pytest.importorskip("reportlab.pdfgen.canvas", reason="reportlab is a test extra")
    path = tmp_path / "words.pdf"
    c = canvas.Canvas(str(path), pagesize=(595.0, PAGE_H))
    c.setFont("Helvetica", 9)
    rows = [("Name", "Role", "Office"), ("Smith", "Judge", "Boston"), ("Jones", "Clerk", "Denver"),
            ("Brown", "Marshal", "Austin"), ("Total", "3", "3")]
    for i, row in enumerate(rows):
        for x, text in zip((60, 160, 260), row):
            c.drawString(x, _y(110 + 14 * i), text)
    c.showPage()
    c.save()
    box = (55.0, 98.0, 320.0, 175.0)
    with Document.open(str(path)) as doc:
        page = doc.page(1)
        got = readers.read_region(page, box)
        text = readers.read_region(page, box, name="layout")
    assert len(text.cells) < 0.5 * len(got.cells)
    assert got.reader in ("fused", "whitespace") and got.shape == (5, 3)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(["extract-region", *args]), capture_output=True, text=True,
                          timeout=120)


def test_extract_region_json_has_the_structure(pdfs):
    box = ",".join(str(v) for v in BOX)
    r = _cli(str(pdfs["unruled"]), "--page", "1", "--bbox", box, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["reader"] == "layout" and doc["header_rows"] == 2
    assert doc["columns"] == ["Defendants | Charged", "Defendants | Convicted"]
    assert doc["rows"][0] == {"path": "Total", "level": 0}


def test_extract_region_layout_on_prose_is_a_named_error(tmp_path):
    canvas = pytest.importorskip("reportlab.pdfgen.canvas", reason="reportlab is a test extra")
    path = tmp_path / "prose.pdf"
    c = canvas.Canvas(str(path), pagesize=(595.0, PAGE_H))
    c.setFont("Helvetica", 10)
    c.drawString(60, _y(100), "Only a sentence of prose, with no table in it at all.")
    c.showPage()
    c.save()
    r = _cli(str(path), "--page", "1", "--bbox", "50,90,400,110", "--engine", "layout")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "prose.pdf page 1" in r.stderr and "layout reader found no table" in r.stderr


def test_layout_cells_keep_group_headings_as_label_only_rows():
    # a Grid keeps a heading printed on a line of its own only in its rows' paths; as cells
    # (extract-region, the ICDAR scorer) it is a row of its own, where it was printed
    from statlift.extractors.layout import Column, Grid, Row
    from statlift.extractors.pdfdoc import Word
    from statlift.extractors.textlines import Run

    def run(text: str) -> Run:
        return Run([Word(text, 200, 220, 0, 9, 9.0, "Helvetica")])

    col = Column(190, 220, path="Percent", levels=["Percent"])
    rows = [Row(p, p.split(" > ")[-1], p.count(" > "), (), None, []) for p in
            ["Total", "Sex > Male", "Sex > Female", "Age > Under 30", "Age > 30 > Older"]]
    grid = Grid([col], rows, "Characteristic",
                {(i, 0): run(v) for i, v in enumerate(["100", "60", "40", "55", "45"])})
    got = readers.from_layout(grid, 1, (0, 0, 300, 300)).to_grid()
    assert [r[0] for r in got] == ["Characteristic", "Total", "Sex", "Male", "Female", "Age",
                                   "Under 30", "30", "Older"]
    assert [r[1] for r in got] == ["Percent", "100", "", "60", "40", "", "55", "", "45"]


def test_layout_header_cells_put_leaves_on_the_last_header_row():
    from statlift.extractors.layout import Column, Grid

    paths = ["All | Number", "Child pornography | Production | Number",
             "Child pornography | Production | Percent", "Total"]
    cols = [Column(100 + 50 * i, 130 + 50 * i, path=p, levels=p.split(" | "))
            for i, p in enumerate(paths)]
    got = readers.from_layout(Grid(cols, [], "", {}), 1, (0, 0, 400, 100))
    placed = {(c.text, c.col): (c.row, c.row_span, c.col_span) for c in got.cells}
    assert placed == {
        ("All", 0): (0, 2, 1), ("Number", 0): (2, 1, 1),            # spanner reaches the leaf
        ("Child pornography", 1): (0, 1, 2), ("Production", 1): (1, 1, 2),
        ("Number", 1): (2, 1, 1), ("Percent", 2): (2, 1, 1),
        ("Total", 3): (0, 3, 1)}                                    # no spanner: every row
    assert got.header_rows == 3


def _draw_detached(path: Path) -> None:
    canvas = pytest.importorskip("reportlab.pdfgen.canvas", reason="reportlab is a test extra")
    c = canvas.Canvas(str(path), pagesize=(595.0, PAGE_H))
    c.setFont("Helvetica", 9)
    c.drawString(60, _y(120), "Offense")
    c.drawRightString(230, _y(120), "Mean fine")
    c.drawRightString(330, _y(120), "Mean prison term")
    for i, (label, fine, term) in enumerate([("All offenses", "1,204", "70.0"),
                                             ("Production", "18,950", "139.2"),
                                             ("Possession", "845", "41.5")]):
        base = _y(136 + 13 * i)
        c.drawString(60, base, label)
        c.drawString(180, base, "$")                 # the sign flush left in its column
        c.drawRightString(230, base, fine)
        c.drawRightString(300, base, term)
        c.drawString(306, base, "mos.")              # the unit set apart from its number
    c.showPage()
    c.save()


@pytest.mark.parametrize("name", ["layout", "auto"])
def test_a_currency_sign_or_unit_printed_apart_stays_with_its_number(tmp_path, name):
    pdf = tmp_path / "detached.pdf"
    _draw_detached(pdf)
    got = readers.read_region_file(str(pdf), 1, (55.0, 108.0, 340.0, 175.0), name=name)
    assert got.to_grid() == [["Offense", "Mean fine", "Mean prison term"],
                             ["All offenses", "$ 1,204", "70.0 mos."],
                             ["Production", "$ 18,950", "139.2 mos."],
                             ["Possession", "$ 845", "41.5 mos."]]
    assert got.columns == ["Mean fine", "Mean prison term"]


@pytest.mark.parametrize("name", readers.READER_NAMES)
def test_a_box_with_no_words_is_no_crash(pdfs, name):
    # a blank part of the page (found by reading random boxes of the ICDAR EU pages: the
    # layout reader, and so auto, raised a bare ValueError there)
    with Document.open(str(pdfs["unruled"])) as doc:
        page = doc.page(1)
        try:
            got = readers.read_region(page, (300.0, 400.0, 500.0, 600.0), name=name)
        except readers.LayoutError:
            return
    assert got.to_grid() == [] or all(not any(row) for row in got.to_grid())


def test_extract_region_on_a_blank_box_names_it(pdfs):
    r = _cli(str(pdfs["unruled"]), "--page", "1", "--bbox", "300,400,500,600")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 0 and "no printed words in the box" in r.stderr
