"""Cells -> a table's structure: which rows are header, the column paths, the row hierarchy.

The region readers (drawn rules, whitespace gaps, fused) decide which printed words make one
cell and how far a cell spans; what the cells *mean* is decided here, by the same steps the
layout reader uses (layout.py), so a table gets the same header and row paths whichever reader
cut it into cells, ruled or not:

    header rows    the rows above the first row of values after which every row is a row of
                   values or a label alone (`layout.classify_lines`' rule, over grid rows)
    column paths   the header rows' words, as printed lines, over the reader's value columns
                   go through the layout reader's header steps (`layout.read_header`:
                   wrapped header cells joined, spanners widened over the columns under
                   their rule or centred over them, raised marks split off)
    row paths      labels by indent (`layout.row_paths`: wrapped labels joined, a label alone
                   heads the indented rows under it, a group heading's marks cover its rows)

`read_structure(cells, ...)` returns a layout `Grid`, so `statlift run` reconciles and publishes a
table the same way whichever reader read it.
"""
from __future__ import annotations

from statlift.extractors.cellgrid import TableCell
from statlift.extractors.clean import is_value_text
from statlift.extractors.layout import (
    BodyLine,
    Column,
    Grid,
    LayoutError,
    body_start,
    read_header,
    row_paths,
)
from statlift.extractors.pdfdoc import Rule
from statlift.extractors.textlines import Line, Run, page_lines

_STUB_REACH = 45.0  # points right of the leftmost label where a label may start (layout's rule)


def _run(cell: TableCell) -> Run:
    return Run(sorted(cell.words, key=lambda w: (w.top, w.x0)))


def _body_line(cells: list[TableCell], missing: dict[str, str] | None,
               stub_left: float) -> BodyLine:
    """One grid row as the layout reader's BodyLine: the stub cell as its label (when it
    starts where labels start, as `layout.classify_line` has it), the other cells as values; a
    row with text in the value area is a header line (no values)."""
    label_cell = next((c for c in cells if c.col == 0 and _run(c).x0 - stub_left < _STUB_REACH),
                      None)
    label = _run(label_cell) if label_cell is not None else None
    others = [_run(c) for c in cells if c is not label_cell]
    words = [w for c in cells for w in c.words]
    line = Line(sorted(words, key=lambda w: w.x0), ([label] if label else []) + others)
    if any(not is_value_text(r.text, missing) for r in others):
        return BodyLine(line, label, [])
    return BodyLine(line, label, others)


def header_row_count(body: list[BodyLine]) -> int:
    """Grid rows above the body (classify_lines' rule, `layout.body_start`, over grid rows)."""
    stub_left = min((bl.label.x0 for bl in body if bl.label is not None), default=0.0)
    start = body_start(body, stub_left)
    if start is None:
        raise LayoutError("no row of values found under the header")
    return start


def read_structure(cells: list[TableCell], missing: dict[str, str] | None = None,
                   indent_tol: float = 2.5, expected_rows: list[str] | None = None,
                   rules: list[Rule] | None = None) -> tuple[Grid, int]:
    """A reader's cells (with their words) -> the layout Grid of header paths, row paths and
    value cells, and the number of grid rows above the first body row (header rows).
    LayoutError when no row of values is found."""
    if not cells or not any(c.words for c in cells):
        raise LayoutError("no cells with printed words")
    nrows = max(c.last_row for c in cells) + 1
    by_row: list[list[TableCell]] = [[] for _ in range(nrows)]
    for c in sorted(cells, key=lambda c: (c.row, c.col)):
        by_row[c.row].append(c)
    grid_rows = [(r, cs) for r, cs in enumerate(by_row) if cs]
    stub_left = min((min(w.x0 for w in c.words) for c in cells if c.col == 0 and c.words),
                    default=0.0)
    lines = [_body_line(cs, missing, stub_left) for _, cs in grid_rows]
    start = header_row_count(lines)
    first_body_row = grid_rows[start][0]
    header = [c for c in cells if c.row < first_body_row]
    body = lines[start:]
    # leaf columns: grid columns that hold a value in the body
    value_cols = sorted({c.col for _, cs in grid_rows[start:] for c in cs
                         if c.col > 0 and c.col_span == 1})
    if not value_cols:  # every value sits in a spanning cell or in the stub column
        raise LayoutError("no column of values: every value spans several grid columns")
    index = {k: i for i, k in enumerate(value_cols)}
    cols = []
    for k in value_cols:
        ws = [w for _, cs in grid_rows[start:] for c in cs if c.col == k for w in c.words]
        cols.append(Column(min(w.x0 for w in ws), max(w.x1 for w in ws)))
    header_words = [w for c in header for w in c.words]
    header_lines = page_lines(header_words) if header_words else []
    _, blocks, stub_header = read_header(header_lines, body, cols, rules or [])
    expected_leaves = {p.split(" > ")[-1] for p in expected_rows} if expected_rows else None
    col_of: dict[int, int | None] = {}
    for (_, cs), bl in zip(grid_rows[start:], body):
        value_cells = [c for c in cs if bl.label is None or c.col > 0]
        for c, run in zip(value_cells, bl.values):
            col_of[id(run)] = index.get(c.col) if c.col_span == 1 and c.col > 0 else None
    rows = row_paths(body, indent_tol, expected_leaves)
    placed: dict[tuple[int, int], Run] = {}
    unplaced: list[Run] = []
    for ri, row in enumerate(rows):
        for run in row.line.values:
            ci = col_of.get(id(run))
            if ci is None or (ri, ci) in placed:
                unplaced.append(run)
            else:
                placed[(ri, ci)] = run
    if not rows:
        raise LayoutError("no row of values found under the header")
    return Grid(cols, rows, stub_header, placed, blocks, unplaced), first_body_row
