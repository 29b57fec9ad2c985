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
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from statlift.extractors.cellgrid import TableCell, cells_to_grid
from statlift.extractors.layout import Grid, LayoutError, Row, read_grid
from statlift.extractors.pdfdoc import Document, PageText, Rule
from statlift.extractors.region import (
    RegionSettings,
    RegionTable,
    extract_from_page,
    grid_quality,
    open_region_page,
)
from statlift.extractors.structure import read_structure
from statlift.extractors.textlines import Line, page_lines, words_in_box

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
    region: RegionTable | None = field(default=None, repr=False)  # the cells cut by rules/gaps

    @property
    def shape(self) -> tuple[int, int]:
        rows = max((c.last_row for c in self.cells), default=-1) + 1
        cols = max((c.last_col for c in self.cells), default=-1) + 1
        return rows, cols

    def to_json(self) -> dict:
        """The cells (what the ICDAR scorer reads) and the structure: header rows, leaf column
        paths, row paths with their level (empty when the reading has no row of values)."""
        return {"reader": self.reader, "page": self.page, "bbox": list(self.bbox),
                "header_rows": self.header_rows,
                "cells": [c.to_dict() for c in self.cells],
                "columns": list(self.columns),
                "rows": [{"path": p, "level": lv} for p, lv in self.rows],
                "quality": self.quality,
                **({"structure_error": self.structure_error} if self.structure_error else {})}

    def grid(self) -> Grid:
        """The table as row paths x column paths of printed value runs, whichever reader read
        it (LayoutError when the reading has no row of values)."""
        if isinstance(self.source, Grid):
            return self.source
        if self.structure is None:
            raise LayoutError(self.structure_error or "no row of values found")
        return self.structure

    def region_table(self) -> RegionTable:
        """The region reader's own RegionTable (features, alternatives, timing); for a layout
        reading that `auto` chose, the cells it was weighed against."""
        if self.region is None:
            raise TypeError(f"reader {self.reader!r} gives no RegionTable")
        return self.region

    def to_grid(self) -> list[list[str]]:
        return cells_to_grid(self.cells)


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
                    structure_error=error, region=table)


def from_layout(grid: Grid, page: int, box: Box) -> CellGrid:
    """A layout Grid as cells: header levels as rows (a spanner is one cell over the columns
    that share it), the stub in column 0 (none when no row has a label and the stub has no
    head: a table whose first column is values), one body row per table row."""
    depth = max((len(c.levels) for c in grid.columns), default=1) or 1
    stub = 1 if grid.stub_header or any(r.label for r in grid.rows) else 0
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
            # leaves are printed on the last header line: a head with no spanner above spans
            # every header row, and the lowest spanner reaches down to the leaves' row
            if len(parts) == 1:
                row, span_rows = 0, depth
            elif level == len(parts) - 1:
                row, span_rows = depth - 1, 1
            else:
                row = level  # (one row when a column under it has a spanner of its own)
                lowest = max(len(p) for p in paths[k:end + 1]) == level + 2
                span_rows = depth - 1 - level if lowest else 1
            cells.append(TableCell(row, k + stub, span_rows, end - k + 1, parts[level]))
            k = end + 1
    body = _body_rows(grid.rows)  # no headings when no row has a label (no stub)
    at = {ri: depth + k for k, (ri, _) in enumerate(body) if ri is not None}
    if stub:
        cells += [TableCell(depth + k, 0, 1, 1, label) for k, (_, label) in enumerate(body)]
    for (ri, ci), run in sorted(grid.cells.items()):
        cells.append(TableCell(at[ri], ci + stub, 1, 1, run.text))
    return CellGrid(reader="layout", page=page, bbox=box, cells=cells, header_rows=depth,
                    columns=[c.path for c in grid.columns],
                    rows=[(r.path, r.level) for r in grid.rows],
                    quality=grid_quality(cells), source=grid)


def _body_rows(rows: list[Row]) -> list[tuple[int | None, str]]:
    """The printed body lines in order: (row index, label) for each row of values, and
    (None, heading) for a group heading printed on a line of its own, which a Grid keeps only
    as the first part of its rows' paths (`Sex > Male`)."""
    out: list[tuple[int | None, str]] = []
    open_path: list[str] = []
    for ri, row in enumerate(rows):
        parts = row.path.split(" > ")
        for k, heading in enumerate(parts[:-1]):
            if parts[:k + 1] != open_path[:k + 1]:
                out.append((None, heading))
                open_path = parts[:k + 1]
        out.append((ri, row.label))
        open_path = parts
    return out


def _layout(req: ReadRequest) -> CellGrid:
    """The lines located under a caption, or the lines of the box when none are given."""
    if req.lines is None:
        lines = page_lines(words_in_box(req.page.words, req.box))
        rules = rules_near(req.page.rules if req.rules is None else req.rules, req.box)
    else:
        lines, rules = req.lines, req.page.rules if req.rules is None else req.rules
    grid = read_grid(lines, rules, req.missing, req.indent_tolerance, req.expected_rows)
    return from_layout(grid, req.page.number, req.box)


def _region(engine: str) -> Callable[[ReadRequest], CellGrid]:
    def read(req: ReadRequest) -> CellGrid:
        s = req.region or RegionSettings()
        if s.engine != engine:
            s = replace(s, engine=engine)
        cut = from_region(extract_from_page(req.page, req.box, s), req.missing,
                          req.indent_tolerance, req.expected_rows, req.page.rules)
        if engine != "auto":
            return cut
        return _columns_from_text(req, cut, s)
    return read


def rules_near(rules: list[Rule], box: Box, pad: float = 2.0) -> list[Rule]:
    x0, top, x1, bottom = box
    return [r for r in rules if r.x1 >= x0 - pad and r.x0 <= x1 + pad
            and r.bottom >= top - pad and r.top <= bottom + pad]


def _columns_from_text(req: ReadRequest, cut: CellGrid, s: RegionSettings) -> CellGrid:
    """`auto`: where the columns are not drawn, the cells cut by text gaps are a guess at the
    structure that the layout reader (`statlift run`'s) makes from the same lines with its
    header and row rules: its reading is taken when it keeps at least `s.layout_keep` of the
    cut cells (fewer: it read lines of the body as header lines). Drawn columns are the
    structure: the cut cells stand. Nor is it taken when it adds a column that no header names
    and no gap through the rows separates (e.g. "1 204" with a space for thousands)."""
    table = cut.region_table()
    if table.features.get("v_cover", 0.0) >= s.columns_drawn:
        return cut
    try:
        text = _layout(replace(req, lines=None, rules=None))
    except LayoutError:
        return cut
    if len(text.cells) < s.layout_keep * len(cut.cells):
        return cut  # it took body lines for header lines
    if "" in text.columns and text.shape[1] > cut.shape[1]:
        return cut  # a column no header names and no gap through the rows splits
    text.region = table
    return text


READERS: dict[str, Callable[[ReadRequest], CellGrid]] = {
    "layout": _layout, **{name: _region(name) for name in REGION_READERS}}
assert tuple(READERS) == ("layout", *REGION_READERS) and set(READERS) == set(READER_NAMES)


def reader(name: str) -> Callable[[ReadRequest], CellGrid]:
    """The reader registered under `name`; a ValueError naming the readers otherwise."""
    if name not in READERS:
        raise ValueError(f"unknown reader {name!r}: use one of {', '.join(READER_NAMES)}")
    return READERS[name]


def read_region(page: PageText, box: Box, settings: RegionSettings | None = None,
                name: str | None = None) -> CellGrid:
    """The table in `box` of an already-read page, by the reader `name` (default: the one
    `settings.engine` names, auto by default; `layout` reads the box's lines)."""
    s = settings or RegionSettings()
    return reader(name or s.engine)(ReadRequest(page, box, region=s))


def read_region_file(pdf_path: str, page_number: int, box: Box,
                     settings: RegionSettings | None = None, name: str | None = None
                     ) -> CellGrid:
    """extract-region's entry: opens the PDF once, checks page and box (named errors)."""
    with open_region_page(pdf_path, page_number, box) as page:
        return read_region(page, tuple(float(v) for v in box), settings,  # type: ignore[arg-type]
                           name)


def read_located(doc: Document, page_number: int, box: Box, lines: list[Line], *,
                 rules: list[Rule] | None = None, missing: dict[str, str] | None = None,
                 indent_tolerance: float = 2.5, expected_rows: list[str] | None = None,
                 name: str = "layout") -> CellGrid:
    """A table located by its caption (its body lines), read by `name` (layout by default;
    a region reader reads the body box of the page)."""
    page = doc.page(page_number)
    return reader(name)(ReadRequest(page, box, lines, rules, missing, indent_tolerance,
                                    expected_rows))
