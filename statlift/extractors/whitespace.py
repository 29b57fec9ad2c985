"""Whitespace ("stream") reading of a table region: columns are the gaps that the body rows share.

    region_lines -> body_lines -> column_intervals -> add_other_runs
    -> runs_to_cells -> (rowmerge) centred_value_groups, stacked_header_groups
    -> merge_row_groups -> merge_wrapped_rows

Columns come from the lines that look like body rows (those with many runs), so a spanning
header does not close a gap between the columns it spans; it becomes a cell with `col_span`.
The other lines' runs widen the column they fall in, or open one of their own when they lie
wholly in a gap of the body (a sparse column).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from statlift.extractors.cellgrid import TableCell, is_numeric
from statlift.extractors.pdfdoc import Word
from statlift.extractors.rowmerge import (
    centred_value_groups,
    merge_row_groups,
    stacked_header_groups,
)
from statlift.extractors.textlines import Run, body_height, region_lines

log = logging.getLogger(__name__)

Interval = tuple[float, float]


@dataclass(frozen=True)
class WhitespaceSettings:
    run_gap: float = 0.55      # a gap wider than this many ems (font size) splits a line into runs
    body_share: float = 0.75   # body lines have at least this share of the widest line's runs
    min_gap: float = 1.0       # column intervals closer than this (pt) are one column
    span_allow: float = 0.1    # a gap stays open if at most this share of body lines cross it
    span_overlap: float = 0.5  # a run spans a column it overlaps by at least this many points
    merge_wrapped: bool = True  # join a label's wrapped second line into its row
    merge_lines: bool = True    # centred values and stacked headers (rowmerge.py)
    centred_span: float = 1.6   # centred values: label lines at most this many heights apart
    stacked_gap: float = 0.5    # stacked header lines: set with a gap under this many heights

    def __post_init__(self) -> None:
        if self.run_gap <= 0 or self.min_gap < 0 or self.span_overlap < 0:
            raise ValueError("WhitespaceSettings: run_gap > 0, min_gap >= 0, span_overlap >= 0")
        if not 0 < self.body_share <= 1:
            raise ValueError("WhitespaceSettings.body_share must be in (0, 1]")


@dataclass
class WhitespaceTable:
    columns: list[Interval]
    lines: list[list[Run]]
    cells: list[TableCell]


def body_lines(lines: list[list[Run]], share: float) -> list[list[Run]]:
    """Lines with at least `share` of the widest line's run count (and at least two runs)."""
    widest = max((len(ln) for ln in lines), default=0)
    need = max(2, math.ceil(share * widest))
    return [ln for ln in lines if len(ln) >= need]


def column_intervals(runs: list[Run], min_gap: float, allow: int = 0) -> list[Interval]:
    """Where more than `allow` runs cover x, x is inside a column: each connected piece is a
    column. `allow` > 0 lets a few spanning runs (headers) cross a gap without closing it."""
    events = sorted([(r.x0, 1) for r in runs] + [(r.x1, -1) for r in runs])
    out: list[list[float]] = []
    depth = 0
    start = 0.0
    for x, step in events:
        before = depth
        depth += step
        if before <= allow < depth:
            start = x
        elif depth <= allow < before:
            if out and start <= out[-1][1] + min_gap:
                out[-1][1] = max(out[-1][1], x)
            else:
                out.append([start, x])
    return [(a, b) for a, b in out]


def add_other_runs(cols: list[Interval], runs: list[Run], min_gap: float) -> list[Interval]:
    """Runs of the other lines, widest last: a run mostly inside one column widens it, a run
    that touches no column opens one (a sparse column); a run over two columns or more, or
    hanging mostly over a gap (a centred heading), changes nothing."""
    out = list(cols)
    for r in sorted(runs, key=lambda r: r.x1 - r.x0):
        hit = [i for i, (a, b) in enumerate(out) if r.x0 < b + min_gap and r.x1 > a - min_gap]
        if not hit:
            out = sorted(out + [(r.x0, r.x1)])
        elif len(hit) == 1:
            a, b = out[hit[0]]
            if min(b, r.x1) - max(a, r.x0) >= 0.5 * (r.x1 - r.x0):
                out[hit[0]] = (min(a, r.x0), max(b, r.x1))
    return out


def _columns_of(run: Run, cols: list[Interval], overlap: float) -> list[int]:
    """Columns a run belongs to. Each column owns the x-range up to the middle of the gaps on
    either side (its zone); a run spans the columns whose zones hold a quarter of its width
    or more, so a heading centred over two columns spans both even if it touches neither's
    text."""
    cuts = [(a[1] + b[0]) / 2 for a, b in zip(cols, cols[1:])]
    zones = list(zip([float("-inf")] + cuts, cuts + [float("inf")]))
    width = max(run.x1 - run.x0, 1e-6)
    need = max(overlap, 0.25 * width)
    hit = [i for i, (a, b) in enumerate(zones) if min(b, run.x1) - max(a, run.x0) >= need]
    if hit:
        return hit
    mid = (run.x0 + run.x1) / 2
    return [min(range(len(cols)), key=lambda i: abs((cols[i][0] + cols[i][1]) / 2 - mid))]


def runs_to_cells(lines: list[list[Run]], cols: list[Interval],
                  overlap: float) -> list[TableCell]:
    """One row per line; runs of a line that share a column are one cell."""
    cells: list[TableCell] = []
    for r, line in enumerate(lines):
        placed: list[list] = []  # [c0, c1, runs]
        for run in line:
            idx = _columns_of(run, cols, overlap)
            c0, c1 = idx[0], idx[-1]
            if placed and c0 <= placed[-1][1]:
                placed[-1][1] = max(placed[-1][1], c1)
                placed[-1][2].append(run)
            else:
                placed.append([c0, c1, [run]])
        for c0, c1, runs in placed:
            cells.append(TableCell(r, c0, 1, c1 - c0 + 1, " ".join(u.printed for u in runs),
                                   tuple(w for u in runs for w in u.words)))
    return cells


def merge_wrapped_rows(cells: list[TableCell]) -> list[TableCell]:
    """A line with text only in the first column, not numeric, directly after a row whose
    first cell is text and which has no value yet, is the wrapped rest of that label:
    ('Employment, social' / 'affairs' 1.78) -> one row. Only the forward case is joined,
    where the values sit on the label's last line."""
    by_row: dict[int, list[TableCell]] = {}
    for c in cells:
        by_row.setdefault(c.row, []).append(c)
    rows = sorted(by_row)
    merged_into: dict[int, int] = {}
    for prev, cur in zip(rows, rows[1:]):
        p, q = by_row[prev], by_row[cur]
        lone = len(p) == 1 and p[0].col == 0 and p[0].col_span == 1 and not is_numeric(p[0].text)
        first = [c for c in q if c.col == 0 and c.col_span == 1]
        if lone and prev not in merged_into.values() and first and not is_numeric(first[0].text) \
                and len(q) >= 2 and p[0].text[:1].isupper() and first[0].text[:1].islower():
            merged_into[prev] = cur
    out = []
    for c in cells:
        if c.row in merged_into:
            continue
        label = [p for p, q in merged_into.items() if q == c.row and c.col == 0]
        if label:
            head = by_row[label[0]][0]
            c = TableCell(c.row, 0, 1, c.col_span, head.text + "\n" + c.text,
                          head.words + c.words)
        out.append(c)
    return out


def column_gaps(cols: list[Interval]) -> list[Interval]:
    """The whitespace between neighbouring columns."""
    return [(a[1], b[0]) for a, b in zip(cols, cols[1:])]


def read_whitespace(words: list[Word],
                    settings: WhitespaceSettings | None = None) -> WhitespaceTable:
    s = settings or WhitespaceSettings()
    if not words:
        return WhitespaceTable([], [], [])
    lines = region_lines(words, s.run_gap)
    body = body_lines(lines, s.body_share)
    runs = [r for ln in lines for r in ln]
    if not body:
        cols = [(min(r.x0 for r in runs), max(r.x1 for r in runs))]
    else:
        allow = int(s.span_allow * len(body))
        cols = column_intervals([r for ln in body for r in ln], s.min_gap, allow)
        others = [r for ln in lines if not any(ln is b for b in body) for r in ln]
        cols = add_other_runs(cols, others, s.min_gap)
    cells = runs_to_cells(lines, cols, s.span_overlap)
    if s.merge_lines:
        spans = [(min(w.top for r in ln for w in r.words),
                  max(w.bottom for r in ln for w in r.words)) for ln in lines]
        height = body_height(words)
        groups = centred_value_groups(cells, spans, height, s.centred_span) + \
            stacked_header_groups(cells, spans, height, s.stacked_gap)
        cells = merge_row_groups(cells, groups)
    if s.merge_wrapped:
        cells = merge_wrapped_rows(cells)
    log.debug("whitespace grid %d lines x %d columns", len(lines), len(cols))
    return WhitespaceTable(cols, lines, cells)
