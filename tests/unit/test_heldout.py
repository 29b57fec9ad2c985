"""The held-out ICDAR benchmark's ground truth (benchmarks/heldout.py): built from what the
randomized typesetter drew, well formed, the golden table's shape and values, and exactly the
text inside the region it writes."""
from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from benchmarks import ICDAR2013_TOOLS
from benchmarks.heldout import (
    SEED,
    GroundTruthError,
    _check_cells,
    build_set,
    region_text_problems,
    table_cells,
)
from tests.fixtures.content import GOLDEN_DIR, load_report, read_golden_csv

TOOLS = ICDAR2013_TOOLS  # shared/ beside the clone


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("heldout")
    return out, build_set(SEED, 2, out)  # copy 0 is BJS, copy 1 USSC


def _number(text: str) -> float | None:
    m = re.search(r"-?\d[\d,]*\.?\d*", text)
    return float(m.group().replace(",", "")) if m else None


def test_every_grid_table_of_one_copy_each(built):
    out, manifest = built
    assert {m["copy"] for m in manifest} == {f"r{SEED}-000-bjs", f"r{SEED}-001-ussc"}
    tables = {(m["report_id"], m["table_id"]) for m in manifest}
    for rid in ("bjs-ncj250746", "ussc-cp-production-2021"):
        grid = [t for t, c in load_report(rid).items() if c.kind == "table"]
        assert {t for r, t in tables if r == rid} == set(grid)
    assert ("ussc-cp-production-2021", "key-figures") not in tables  # callouts: no grid


def test_ground_truth_matches_the_golden_csv(built):
    out, manifest = built
    for m in manifest:
        st = ET.parse(out / f"{m['doc']}-str.xml").getroot()
        reg = ET.parse(out / f"{m['doc']}-reg.xml").getroot()
        assert len(reg.findall("table/region")) == 1
        assert (out / f"{m['doc']}.pdf").resolve().is_file()
        cells = st.findall("table/region/cell")
        grid: dict[tuple[int, int], str] = {}
        for c in cells:
            r0, c0 = int(c.get("start-row")), int(c.get("start-col"))
            r1, c1 = int(c.get("end-row", r0)), int(c.get("end-col", c0))
            assert r1 >= r0 and c1 >= c0
            for r in range(r0, r1 + 1):
                for k in range(c0, c1 + 1):
                    assert (r, k) not in grid, f"{m['doc']}: cells overlap at {r},{k}"
                    grid[(r, k)] = c.findtext("content")
        stub, columns, rows = read_golden_csv(GOLDEN_DIR / m["report_id"] / f"{m['table_id']}.csv")
        head = m["header_rows"]
        assert m["cols"] == len(columns) + 1, m["doc"]
        # body rows with values = the golden rows (group headings are rows of a label only)
        valued = sorted({r for (r, k) in grid if r >= head and k > 0})
        assert len(valued) == len(rows), m["doc"]
        assert all((r, k) in grid for r in range(head) for k in range(1, m["cols"])), \
            f"{m['doc']}: a header position is empty"
        for r, (path, values) in zip(valued, rows):
            assert grid[(r, 0)].startswith(path[-1]), (m["doc"], grid[(r, 0)], path)
            for k, v in enumerate(values, 1):
                if v:
                    assert _number(grid[(r, k)]) == _number(v), (m["doc"], r, k, grid[(r, k)], v)


def test_spanning_headers_are_spanning_cells(built):
    out, manifest = built
    t3 = next(m for m in manifest if m["table_id"] == "table-03")
    st = ET.parse(out / f"{t3['doc']}-str.xml").getroot()
    spans = {c.findtext("content"): (c.get("start-col"), c.get("end-col"))
             for c in st.findall("table/region/cell") if c.get("end-col")}
    assert spans["Child sex trafficking"] == ("7", "8")  # over Number and Percent
    assert t3["header_rows"] == 2 and t3["spanning"] >= 4


def test_region_holds_exactly_the_drawn_cells_and_a_lost_cell_is_caught(built, tmp_path):
    out, manifest = built
    m = next(m for m in manifest if m["table_id"] == "table-09")
    content = load_report(m["report_id"])[m["table_id"]]
    _, cells = table_cells(content)
    pdf = out / f"{m['doc']}.pdf"
    assert region_text_problems(pdf, m["page"], tuple(m["region"]), cells) == []
    assert region_text_problems(pdf, m["page"], tuple(m["region"]), cells[:-1])
    low = tuple(m["region"][:3]) + (m["region"][3] + 40,)  # into the notes below the table
    assert region_text_problems(pdf, m["page"], low, cells)


def test_callouts_and_overlaps_are_named_errors():
    content = load_report("ussc-cp-production-2021")
    with pytest.raises(GroundTruthError, match="key-figures"):
        table_cells(content["key-figures"])
    t = load_report("bjs-ncj250746")["table-04"]
    _, cells = table_cells(t)
    spill = replace(cells[0], c1=cells[0].c1 + 1)  # a header cell spilling into its neighbour
    with pytest.raises(GroundTruthError, match="overlaps"):
        _check_cells(t, [spill] + cells[1:])


@pytest.mark.skipif(not (TOOLS / "dataset.py").is_file(), reason="shared ICDAR tools absent")
def test_the_shared_loader_reads_the_set(built):
    out, manifest = built
    sys.path.insert(0, str(TOOLS))
    import dataset

    units = dataset.load(str(out))
    assert len(units) == len(manifest)
    by_doc = {u.doc: u for u in units}
    for m in manifest:
        u = by_doc[m["doc"]]
        assert u.page == m["page"]
        assert u.bbox == pytest.approx(m["region"], abs=0.01)
        assert len(u.gt_cells) == m["cells"]
