"""The one registry of table readers: every caller reads a table through `read_region` (a box of
a page: extract-region, discover, the ICDAR benchmark) or `read_located` (a table located by its
caption: `statlift run`, `discover --spec`), and gets a `CellGrid` back.

    READERS  name -> callable(ReadRequest) -> CellGrid
      layout      text geometry: lines -> value columns -> multi-level headers -> row hierarchy
                  (layout.read_grid; what `statlift run` uses)
      auto        region reader, engine chosen from the page's rules (region.extract_from_page)
      ruled       region reader, drawn rules only (lattice-like)
      whitespace  region reader, shared text gaps only (stream-like)
      fused       region reader, rules where drawn and text gaps elsewhere

`CellGrid` is the common result: cells with spans (header rows first), the number of header
rows, column paths, row paths with their level (row hierarchy), a 0..1 quality score, and
`grid()`: the table's structure as a layout `Grid` (value runs by row and column path), which
is what `statlift run` reconciles and publishes. Every reader gives one: the layout reader reads
it from the page's lines, the region readers cut the region into cells and
`structure.read_structure` gives those cells their header and row paths by the layout reader's
own rules, so the paths are the same whichever reader cut the cells. A spec picks the reader
per table (`reader:` in the table spec; layout by default).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

from statlift.extractors.cellgrid import TableCell
from statlift.extractors.layout import Grid, LayoutError, read_grid
from statlift.extractors.pdfdoc import Document, PageText, Rule
from statlift.extractors.region import (
    RegionSettings,
    RegionTable,
    extract_from_page,
    extract_region,
    grid_quality,
)
from statlift.extractors.structure import read_structure
from statlift.extractors.textlines import Line

Box = tuple[float, float, float, float]
ReaderName = Literal["layout", "auto", "ruled", "whitespace", "fused"]
READER_NAMES: tuple[str, ...] = get_args(ReaderName)
REGION_READERS: tuple[str, ...] = ("auto", "ruled", "whitespace", "fused")


@dataclass
class CellGrid:
    reader: str                        # the registry name that read it ("layout", "fused", ...)
    page: int
    bbox: Box
    cells: list[TableCell]             # header rows first; spans as TableCell
    header_rows: int
    columns: list[str]                 # leaf column paths ("A | B"); [] if the reader has none
    rows: list[tuple[str, int]]        # (row path "A > b", level): the row hierarchy
    quality: float
    source: Grid | RegionTable = field(repr=False)
    structure: Grid | None = field(default=None, repr=False)  # the paths of a region reading
    structure_error: str = ""  # why a region reading has no structure (no row of values)

    @property
    def shape(self) -> tuple[int, int]:
        rows = max((c.last_row for c in self.cells), default=-1) + 1
        cols = max((c.last_col for c in self.cells), default=-1) + 1
        return rows, cols

    def to_json(self) -> dict:
        return {"cells": [c.to_dict() for c in self.cells]}

    def grid(self) -> Grid:
        """The table as row paths x column paths of printed value runs, whichever reader read
        it (LayoutError when the reading has no row of values)."""
        if isinstance(self.source, Grid):
            return self.source
        if self.structure is None:
            raise LayoutError(self.structure_error or "no row of values found")
        return self.structure

    def region_table(self) -> RegionTable:
        """The region reader's own RegionTable (features, alternatives, timing)."""
        if not isinstance(self.source, RegionTable):
            raise TypeError(f"reader {self.reader!r} gives no RegionTable")
        return self.source


@dataclass(frozen=True)
class ReadRequest:
    page: PageText
    box: Box
    lines: list[Line] | None = None          # located body lines (layout reader)
    rules: list[Rule] | None = None          # rules for the layout reader (default: page's)
    missing: dict[str, str] | None = None
    indent_tolerance: float = 2.5
    expected_rows: list[str] | None = None
    region: RegionSettings | None = None     # settings of the region reader


def from_region(table: RegionTable, missing: dict[str, str] | None = None,
                indent_tolerance: float = 2.5, expected_rows: list[str] | None = None,
                rules: list[Rule] | None = None) -> CellGrid:
    """A region reading with its structure (header rows, column and row paths) read from its
    cells by the layout reader's rules; a reading with no row of values keeps its cells and
    says why it has no structure."""
    grid: Grid | None = None
    header_rows, error = 0, ""
    try:
        grid, header_rows = read_structure(table.cells, missing, indent_tolerance,
                                           expected_rows, rules)
    except LayoutError as exc:
        error = str(exc)
    return CellGrid(reader=table.engine, page=table.page, bbox=table.bbox, cells=table.cells,
                    header_rows=header_rows,
                    columns=[c.path for c in grid.columns] if grid else [],
                    rows=[(r.path, r.level) for r in grid.rows] if grid else [],
                    quality=table.quality, source=table, structure=grid,
                    structure_error=error)


def from_layout(grid: Grid, page: int, box: Box) -> CellGrid:
    """A layout Grid as cells: header levels as rows (a spanner is one cell over the columns
    that share it), the stub in column 0, one body row per table row."""
    depth = max((len(c.levels) for c in grid.columns), default=1) or 1
    cells: list[TableCell] = []
    if grid.stub_header:
        cells.append(TableCell(0, 0, depth, 1, grid.stub_header))
    paths = [c.path.split(" | ") for c in grid.columns]
    for level in range(depth):
        k = 0
        while k < len(paths):
            parts = paths[k]
            if level >= len(parts):
                k += 1
                continue
            end = k
            while end + 1 < len(paths) and paths[end + 1][:level + 1] == parts[:level + 1]:
                end += 1
            span_rows = depth - level if level == len(parts) - 1 else 1
            cells.append(TableCell(level, k + 1, span_rows, end - k + 1, parts[level]))
            k = end + 1
    for ri, row in enumerate(grid.rows):
        cells.append(TableCell(depth + ri, 0, 1, 1, row.label))
    for (ri, ci), run in sorted(grid.cells.items()):
        cells.append(TableCell(depth + ri, ci + 1, 1, 1, run.text))
    return CellGrid(reader="layout", page=page, bbox=box, cells=cells, header_rows=depth,
                    columns=[c.path for c in grid.columns],
                    rows=[(r.path, r.level) for r in grid.rows],
                    quality=grid_quality(cells), source=grid)


def _layout(req: ReadRequest) -> CellGrid:
    if req.lines is None:
        raise ValueError("the layout reader reads a table located by its caption (lines)")
    rules = req.page.rules if req.rules is None else req.rules
    grid = read_grid(req.lines, rules, req.missing, req.indent_tolerance, req.expected_rows)
    return from_layout(grid, req.page.number, req.box)


def _region(engine: str) -> Callable[[ReadRequest], CellGrid]:
    def read(req: ReadRequest) -> CellGrid:
        s = req.region or RegionSettings()
        if s.engine != engine:
            s = RegionSettings(engine=engine, min_v_cover=s.min_v_cover,
                               min_h_cover=s.min_h_cover, max_cut_share=s.max_cut_share,
                               ruling=s.ruling, whitespace=s.whitespace)
        return from_region(extract_from_page(req.page, req.box, s), req.missing,
                           req.indent_tolerance, req.expected_rows, req.page.rules)
    return read


READERS: dict[str, Callable[[ReadRequest], CellGrid]] = {
    "layout": _layout, **{name: _region(name) for name in REGION_READERS}}
assert tuple(READERS) == ("layout", *REGION_READERS) and set(READERS) == set(READER_NAMES)


def reader(name: str) -> Callable[[ReadRequest], CellGrid]:
    """The reader registered under `name`; a ValueError naming the readers otherwise."""
    if name not in READERS:
        raise ValueError(f"unknown reader {name!r}: use one of {', '.join(READER_NAMES)}")
    return READERS[name]


def read_region(page: PageText, box: Box, settings: RegionSettings | None = None) -> CellGrid:
    """The table in `box` of an already-read page, by the region reader `settings.engine`
    names (auto by default)."""
    s = settings or RegionSettings()
    return reader(s.engine)(ReadRequest(page, box, region=s))


def read_region_file(pdf_path: str, page_number: int, box: Box,
                     settings: RegionSettings | None = None) -> CellGrid:
    """extract-region's entry: opens the PDF once, checks page and box (named errors)."""
    return from_region(extract_region(pdf_path, page_number, box, settings=settings))


def read_located(doc: Document, page_number: int, box: Box, lines: list[Line], *,
                 rules: list[Rule] | None = None, missing: dict[str, str] | None = None,
                 indent_tolerance: float = 2.5, expected_rows: list[str] | None = None,
                 name: str = "layout") -> CellGrid:
    """A table located by its caption (its body lines), read by `name` (layout by default;
    a region reader reads the body box of the page)."""
    page = doc.page(page_number)
    return reader(name)(ReadRequest(page, box, lines, rules, missing, indent_tolerance,
                                    expected_rows))
