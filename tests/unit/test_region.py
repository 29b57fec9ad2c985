"""extract_region on small PDFs drawn here (a ruled table with spanning headers, an unruled
table) and on one ICDAR 2013 region when the benchmark data is present."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from statlift.errors import StatliftError
from statlift.extractors.cellgrid import TableCell
from statlift.extractors.region import RegionSettings, extract_region
from tests.unit.test_discover import ICDAR

PAGE_H = 842.0

# ruled: rows 20 pt high from top=100; columns at x = 50 | 150 | 230 | 310
XS = [50, 150, 230, 310]
YS = [100, 120, 140, 160, 180]
RULED_TEXT = [  # (row, col, text, right-aligned)
    (0, 0, "Region", False), (0, 1, "Population", False),
    (1, 1, "2010", True), (1, 2, "2020", True),
    (2, 0, "North", False), (2, 1, "1 200", True), (2, 2, "1 350", True),
    (3, 0, "South", False), (3, 1, "980", True), (3, 2, "1 010", True),
]
UNRULED_ROWS = [
    ("Item", "Men", "Women"),
    ("Employed", "1 204", "1 187"),
    ("Unemployed", "97", "85"),
    ("Inactive", "410", "566"),
]


def _y(top: float) -> float:
    return PAGE_H - top


def _draw_ruled(c) -> None:
    c.setFont("Helvetica", 9)
    for r, k, text, right in RULED_TEXT:
        base = _y(YS[r] + 14)
        if right:
            c.drawRightString(XS[k + 1] - 4, base, text)
        else:
            c.drawString(XS[k] + 4, base, text)
    c.setLineWidth(0.5)
    for top in (YS[0], YS[2], YS[3], YS[4]):        # full-width horizontal rules
        c.line(XS[0], _y(top), XS[-1], _y(top))
    c.line(XS[1], _y(YS[1]), XS[-1], _y(YS[1]))      # under "Population" only: Region spans 2 rows
    for x in (XS[0], XS[1], XS[3]):                   # full-height vertical rules
        c.line(x, _y(YS[0]), x, _y(YS[-1]))
    c.line(XS[2], _y(YS[1]), XS[2], _y(YS[-1]))      # not through "Population": it spans 2 columns


def _draw_unruled(c) -> None:
    c.setFont("Helvetica", 9)
    for i, (label, men, women) in enumerate(UNRULED_ROWS):
        base = _y(300 + 14 * i + 10)
        c.drawString(60, base, label)
        c.drawRightString(200, base, men)
        c.drawRightString(280, base, women)


@pytest.fixture(scope="module")
def tables_pdf(tmp_path_factory) -> Path:
    canvas = pytest.importorskip("reportlab.pdfgen.canvas", reason="reportlab is a test extra")
    path = tmp_path_factory.mktemp("region") / "tables.pdf"
    c = canvas.Canvas(str(path), pagesize=(595.0, PAGE_H))
    c.setFont("Helvetica-Bold", 10)
    c.drawString(50, _y(90), "Table 1. Population by region")
    _draw_ruled(c)
    c.setFont("Helvetica-Bold", 10)
    c.drawString(60, _y(290), "Table 2. Labour market status")
    _draw_unruled(c)
    c.setFont("Helvetica", 10)
    for i, line in enumerate(["This paragraph is ordinary prose that follows the tables and is",
                              "not a table: its words are separated by plain spaces only."]):
        c.drawString(60, _y(400 + 14 * i), line)
    c.showPage()
    _draw_page_two(c)
    c.showPage()
    c.save()
    return path


BOOKTABS_ROWS = [("Measure", "Definition", "Source"), ("Rate", "Cases per person", "Survey"),
                 ("Share", "Part of total", "Census"), ("Count", "Number of cases", "Register")]


def _draw_page_two(c) -> None:
    """A text table between three horizontal rules (no vertical ones), and an unruled table
    whose heading is centred over its two value columns."""
    c.setFont("Helvetica", 9)
    for i, row in enumerate(BOOKTABS_ROWS):
        for k, text in enumerate(row):
            c.drawString(60 + 120 * k, _y(100 + 14 * i + 10), text)
    for top in (98, 114, 156):
        c.line(55, _y(top), 420, _y(top))
    c.drawCentredString(250, _y(210), "Persons (thousands)")
    c.drawString(60, _y(224), "Region")
    c.drawRightString(200, _y(224), "2010")
    c.drawRightString(300, _y(224), "2020")
    for i, (name, a, b) in enumerate([("North", "1 200", "1 350"), ("South", "980", "1 010")]):
        c.drawString(60, _y(238 + 14 * i), name)
        c.drawRightString(200, _y(238 + 14 * i), a)
        c.drawRightString(300, _y(238 + 14 * i), b)


def test_rules_between_groups_only_keep_one_row_per_line(tables_pdf):
    t = extract_region(str(tables_pdf), 2, (58, 100, 420, 155))
    assert t.to_grid() == [list(r) for r in BOOKTABS_ROWS]


def test_centred_heading_spans_the_columns_below(tables_pdf):
    t = extract_region(str(tables_pdf), 2, (58, 200, 302, 256))
    assert t.engine == "whitespace"
    assert TableCell(0, 1, 1, 2, "Persons (thousands)") in t.cells
    assert t.to_grid()[1:] == [["Region", "2010", "2020"], ["North", "1 200", "1 350"],
                               ["South", "980", "1 010"]]


def test_ruled_table_exact_grid_and_spans(tables_pdf):
    t = extract_region(str(tables_pdf), 1, (52, 102, 308, 178))
    assert t.engine in ("fused", "ruled")
    assert t.to_grid() == [
        ["Region", "Population", ""],
        ["", "2010", "2020"],
        ["North", "1 200", "1 350"],
        ["South", "980", "1 010"],
    ]
    assert TableCell(0, 0, 2, 1, "Region") in t.cells
    assert TableCell(0, 1, 1, 2, "Population") in t.cells
    assert t.features["v_cover"] >= 1.0 and t.quality > 0


def test_unruled_table_exact_grid(tables_pdf):
    t = extract_region(str(tables_pdf), 1, (58, 300, 282, 357))
    assert t.engine == "whitespace"
    assert t.to_grid() == [list(r) for r in UNRULED_ROWS]
    assert t.to_json()["cells"][0] == {"row": 0, "col": 0, "row_span": 1, "col_span": 1,
                                       "text": "Item"}


@pytest.mark.parametrize("engine", ["ruled", "whitespace", "fused"])
def test_every_engine_reads_the_unruled_body(tables_pdf, engine):
    t = extract_region(str(tables_pdf), 1, (58, 312, 282, 357),
                       settings=RegionSettings(engine=engine))
    texts = {c.text for c in t.cells}
    if engine == "ruled":  # no rules drawn: one column, one row per rule band
        assert t.shape[1] == 1
    else:
        assert {"Employed", "1 204", "566"} <= texts and t.shape == (3, 3)


def test_bad_inputs_raise_typed_errors(tables_pdf, tmp_path):
    with pytest.raises(StatliftError, match="page-out-of-range"):
        extract_region(str(tables_pdf), 3, (0, 0, 10, 10))
    with pytest.raises(StatliftError, match="bad-bbox"):
        extract_region(str(tables_pdf), 1, (100, 0, 10, 10))
    with pytest.raises(StatliftError, match="pdf-not-found"):
        extract_region(str(tmp_path / "missing.pdf"), 1, (0, 0, 10, 10))
    with pytest.raises(ValueError):
        RegionSettings(engine="camelot")


def test_cli_prints_cells_json(tables_pdf):
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "statlift.cli.region", str(tables_pdf),
                          "--page", "1", "--bbox", "58,300,282,357", "--json"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    cells = json.loads(out)["cells"]
    assert {"row": 3, "col": 2, "row_span": 1, "col_span": 1, "text": "566"} in cells


def _icdar_region(name: str, index: int) -> tuple[Path, int, tuple]:
    import pdfplumber

    reg = ET.parse(ICDAR / f"{name}-reg.xml").getroot()
    region = reg.findall("table")[index].find("region")
    bb = region.find("bounding-box")
    x1, y1, x2, y2 = (float(bb.get(k)) for k in ("x1", "y1", "x2", "y2"))
    page = int(region.get("page"))
    pdf = ICDAR / f"{name}.pdf"
    with pdfplumber.open(pdf) as doc:
        top = float(doc.pages[page - 1].mediabox[3])
    return pdf, page, (x1, top - y2, x2, top - y1)


@pytest.mark.skipif(not ICDAR.is_dir(), reason="ICDAR 2013 EU benchmark data not present")
def test_icdar_region_shape():
    pdf, page, bbox = _icdar_region("eu-004", 0)  # Table 6.1, ruled, 3-line header cells
    t = extract_region(str(pdf), page, bbox)
    assert t.shape == (16, 7)
    assert t.engine == "fused"
