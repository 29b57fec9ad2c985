"""Cells with spans, the common output of every region engine, and the steps that tidy them.

A cell occupies rows `row .. row + row_span - 1` and columns `col .. col + col_span - 1` (0-based).
Engines only emit non-empty cells; empty positions are implied. `compact_cells` drops rows and
columns that no cell covers and merges those that nothing separates, so two engines' outputs
can be compared shape for shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from statlift.extractors.pdfdoc import Word

_NUMBER = re.compile(r"^[\s(+\-–−]*[\d.,\s]*\d[\d.,\s]*%?\)?[*a-z]?$")


@dataclass(frozen=True)
class TableCell:
    row: int
    col: int
    row_span: int
    col_span: int
    text: str
    # the printed words the cell was read from (what the shared header/row step needs: their
    # boxes, fonts, raised marks); not part of a cell's identity or its JSON
    words: tuple[Word, ...] = field(default=(), compare=False, repr=False)

    @property
    def last_row(self) -> int:
        return self.row + self.row_span - 1

    @property
    def last_col(self) -> int:
        return self.col + self.col_span - 1

    def to_dict(self) -> dict:
        return {"row": self.row, "col": self.col, "row_span": self.row_span,
                "col_span": self.col_span, "text": self.text}


def is_numeric(text: str) -> bool:
    """'1 234', '12.5', '(3)', '-4,1 %', '38 (24.7%)' are numeric; 'Total', '2005/06' are
    not."""
    tokens = (text or "").split()
    return any(ch.isdigit() for ch in text or "") and \
        all(t in ("%", "‰") or _NUMBER.match(t) for t in tokens)


def grid_shape(cells: list[TableCell]) -> tuple[int, int]:
    if not cells:
        return (0, 0)
    return (max(c.last_row for c in cells) + 1, max(c.last_col for c in cells) + 1)


def compact_cells(cells: list[TableCell]) -> list[TableCell]:
    """Drop empty cells, then rows and columns that no remaining cell covers, and merge grid
    lines that separate nothing; renumber."""
    kept = [c for c in cells if c.text.strip()]
    rows = sorted({r for c in kept for r in range(c.row, c.last_row + 1)})
    cols = sorted({k for c in kept for k in range(c.col, c.last_col + 1)})
    rmap = {r: i for i, r in enumerate(rows)}
    cmap = {k: i for i, k in enumerate(cols)}
    out = []
    for c in kept:
        r0, r1 = rmap[c.row], rmap[c.last_row]
        c0, c1 = cmap[c.col], cmap[c.last_col]
        out.append(TableCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, c.text, c.words))
    out = merge_redundant_rows(merge_redundant_columns(out))
    out.sort(key=lambda c: (c.row, c.col))
    return out


def merge_redundant_columns(cells: list[TableCell]) -> list[TableCell]:
    """Columns k and k+1 are one column when no cell ends at k or starts at k+1 (every cell
    that covers one covers both): a grid line that separates nothing."""
    _, ncols = grid_shape(cells)
    keep = [k for k in range(1, ncols)
            if any(c.col == k or c.last_col == k - 1 for c in cells)]
    starts = [0] + keep  # first old column of each new column
    new_of = {}
    for i, k0 in enumerate(starts):
        k1 = starts[i + 1] if i + 1 < len(starts) else ncols
        for k in range(k0, k1):
            new_of[k] = i
    return [TableCell(c.row, new_of[c.col], c.row_span, new_of[c.last_col] - new_of[c.col] + 1,
                      c.text, c.words) for c in cells]


def merge_redundant_rows(cells: list[TableCell]) -> list[TableCell]:
    """Rows likewise (see merge_redundant_columns)."""
    flipped = [TableCell(c.col, c.row, c.col_span, c.row_span, c.text, c.words) for c in cells]
    return [TableCell(c.col, c.row, c.col_span, c.row_span, c.text, c.words)
            for c in merge_redundant_columns(flipped)]


def cells_to_grid(cells: list[TableCell], repeat_spans: bool = False) -> list[list[str]]:
    """Rows of strings; a spanning cell's text sits in its top-left position (or in every
    position it covers with `repeat_spans`)."""
    nrows, ncols = grid_shape(cells)
    grid = [["" for _ in range(ncols)] for _ in range(nrows)]
    for c in cells:
        for r in range(c.row, c.last_row + 1):
            for k in range(c.col, c.last_col + 1):
                if repeat_spans or (r == c.row and k == c.col):
                    grid[r][k] = c.text
    return grid


def format_grid(grid: list[list[str]], max_width: int = 40) -> str:
    """Aligned plain-text rendering of a grid (for people, not for parsing)."""
    if not grid:
        return ""
    ncols = max(len(r) for r in grid)
    texts = [[(r[k] if k < len(r) else "").replace("\n", " ")[:max_width] for k in range(ncols)]
             for r in grid]
    widths = [max(len(row[k]) for row in texts) for k in range(ncols)]
    return "\n".join("  ".join(t.ljust(w) for t, w in zip(row, widths)).rstrip() for row in texts)
