"""Printed lines -> table rows, for the whitespace engine (one row per line at first).

Two patterns of multi-line cells are safe to recognise from geometry alone:

* centred values: a two-line row label with its values printed once, half-way between the
  label's lines (label line / values line / label line, all within a line and a half);
* a stacked header: header lines (above the first row of figures) set tight under each other
  with words (no figures) in exactly the same columns and no spanning cell ("to air" over
  "kg/year").

`merge_row_groups` applies a grouping of rows: cells of one group that share columns become
one cell, their texts joined top to bottom.
"""
from __future__ import annotations

from statlift.extractors.cellgrid import TableCell, is_numeric

Span = tuple[float, float]  # top, bottom of a printed line


def _by_row(cells: list[TableCell]) -> dict[int, list[TableCell]]:
    rows: dict[int, list[TableCell]] = {}
    for c in cells:
        rows.setdefault(c.row, []).append(c)
    return rows


def centred_value_groups(cells: list[TableCell], spans: list[Span],
                         height: float, max_apart: float = 1.6) -> list[list[int]]:
    """[i-1, i, i+1] where lines i-1 and i+1 hold only a first-column label, line i only
    values (nothing in the first column), and line i's middle lies between theirs, the two
    label lines no further apart than `max_apart` (1.6) text heights."""
    rows = _by_row(cells)
    groups = []
    used: set = set()
    for i in range(1, len(spans) - 1):
        above, mid, below = rows.get(i - 1, []), rows.get(i, []), rows.get(i + 1, [])
        if not (above and mid and below) or {i - 1, i, i + 1} & used:
            continue
        lone = all(len(r) == 1 and r[0].col == 0 and r[0].col_span == 1 for r in (above, below))
        if not lone or any(c.col == 0 for c in mid):
            continue
        ca, cm, cb = ((spans[k][0] + spans[k][1]) / 2 for k in (i - 1, i, i + 1))
        if ca < cm < cb and cb - ca <= max_apart * height:
            groups.append([i - 1, i, i + 1])
            used |= {i - 1, i, i + 1}
    return groups


def stacked_header_groups(cells: list[TableCell], spans: list[Span],
                          height: float, max_gap: float = 0.5) -> list[list[int]]:
    """Consecutive header lines (before the first line with figures after its first column)
    that occupy the same two or more columns, one cell each, hold no figures, and are set
    with a gap under `max_gap` (0.5) heights."""
    rows = _by_row(cells)
    first_body = next((r for r in sorted(rows) if any(
        c.col > 0 and is_numeric(c.text) for c in rows[r])), None)
    if first_body is None:
        return []
    groups: list[list[int]] = []
    for i in range(first_body - 1):
        a, b = rows.get(i, []), rows.get(i + 1, [])
        cols_a = sorted((c.col, c.col_span) for c in a)
        cols_b = sorted((c.col, c.col_span) for c in b)
        same = cols_a == cols_b and len(cols_a) >= 2 and all(s == 1 for _, s in cols_a)
        words = not any(is_numeric(c.text) for c in a + b)
        if same and words and spans[i + 1][0] - spans[i][1] < max_gap * height:
            if groups and groups[-1][-1] == i:
                groups[-1].append(i + 1)
            else:
                groups.append([i, i + 1])
    return groups


def merge_row_groups(cells: list[TableCell], groups: list[list[int]]) -> list[TableCell]:
    """Each group of rows becomes one row; renumber rows top to bottom."""
    head = {r: g[0] for g in groups for r in g}
    keyed: dict[tuple[int, int], list[TableCell]] = {}
    for c in sorted(cells, key=lambda c: (c.row, c.col)):
        row = head.get(c.row, c.row)
        for (r, _col), bucket in keyed.items():
            if r == row and any(c.col <= o.last_col and o.col <= c.last_col for o in bucket):
                bucket.append(c)
                break
        else:
            keyed[(row, c.col)] = [c]
    merged = []
    for (row, _), bucket in keyed.items():
        c0 = min(c.col for c in bucket)
        c1 = max(c.last_col for c in bucket)
        ordered = sorted(bucket, key=lambda c: c.row)
        text = "\n".join(c.text for c in ordered)
        merged.append(TableCell(row, c0, 1, c1 - c0 + 1, text,
                                tuple(w for c in ordered for w in c.words)))
    order = {r: i for i, r in enumerate(sorted({c.row for c in merged}))}
    return [TableCell(order[c.row], c.col, 1, c.col_span, c.text, c.words) for c in merged]
