"""Read a table's structure from the page's words: columns, header paths, row paths, cells.

Pipeline of small named steps over the body lines of a located table:
    classify_lines -> find_columns -> split_header -> header_paths -> row_paths -> cells
Each step's output is kept on the `Grid` so it can be inspected and drawn.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from extractors.clean import is_value_text, join_wrapped, split_footnote_marks, strip_spanner_dash
from extractors.pdfdoc import Rule
from extractors.textlines import Line, Run

log = logging.getLogger(__name__)

_YEAR = re.compile(r"^(19|20)\d\d$")
_WRAP_END = re.compile(r"(\b(and|or|of|the|for|by|in|to|with|a|an)|[/,\-–(])$", re.I)


@dataclass
class BodyLine:
    line: Line
    label: Run | None  # the stub text of this line, if any
    values: list[Run]  # value-like runs right of the label

    @property
    def top(self) -> float:
        return self.line.top


@dataclass
class Column:
    x0: float
    x1: float
    path: str = ""
    levels: list[str] = field(default_factory=list)
    marks: tuple[str, ...] = ()


@dataclass
class Row:
    path: str
    label: str
    level: int
    marks: tuple[str, ...]
    line: BodyLine
    label_runs: list[Run]


@dataclass
class HeaderBlock:
    runs: list[Run]
    span: tuple[int, int]  # first and last column index covered

    @property
    def text(self) -> str:
        text = split_footnote_marks(join_wrapped([r.text for r in self.runs]))[0]
        return strip_spanner_dash(text)

    @property
    def top(self) -> float:
        return min(r.top for r in self.runs)

    @property
    def marks(self) -> tuple[str, ...]:
        tail = split_footnote_marks(join_wrapped([r.text for r in self.runs]))[1]
        return tuple(m for r in self.runs for m in r.marks) + tail


@dataclass
class Grid:
    columns: list[Column]
    rows: list[Row]
    stub_header: str
    cells: dict[tuple[int, int], Run]  # (row index, column index) -> the printed run
    header_blocks: list[HeaderBlock] = field(default_factory=list)
    unplaced: list[Run] = field(default_factory=list)  # value runs no column claimed

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows), len(self.columns))


class LayoutError(ValueError):
    """The words do not form a table (no value columns, no rows)."""


# ---------------------------------------------------------------- step 1: classify lines
def classify_line(line: Line, stub_left: float, missing: dict[str, str] | None) -> BodyLine:
    runs = list(line.runs)
    label = None
    if runs and runs[0].x0 - stub_left < 45.0 and (len(runs) > 1 or not _is_value(runs[0], missing)
                                                   or runs[0].x0 - stub_left < 2.0):
        label = runs.pop(0)
    values = [r for r in runs if _is_value(r, missing)]
    if len(values) != len(runs):  # text in the value area: a header line, not a row
        return BodyLine(line, label, [])
    return BodyLine(line, label, values)


def _is_value(run: Run, missing: dict[str, str] | None) -> bool:
    return is_value_text(run.text, missing)


def _is_year_header(bl: BodyLine) -> bool:
    return bl.label is None and bool(bl.values) and all(_YEAR.match(v.text) for v in bl.values)


def classify_lines(lines: list[Line], missing: dict[str, str] | None) -> tuple[list[Line],
                                                                             list[BodyLine]]:
    """Split the body lines into header lines and row lines (the rows start at the first line
    with values after which every line is a row line or a label-only line)."""
    stub_left = min(ln.runs[0].x0 for ln in lines)
    classified = [classify_line(ln, stub_left, missing) for ln in lines]

    def is_row_line(bl: BodyLine) -> bool:
        return bool(bl.values) and not _is_year_header(bl)

    def is_label_only(bl: BodyLine) -> bool:
        return bl.label is not None and not bl.values and len(bl.line.runs) == 1

    start = None
    for i, bl in enumerate(classified):
        if is_row_line(bl) and all(is_row_line(b) or is_label_only(b) for b in classified[i:]):
            start = i
            break
    if start is None:
        raise LayoutError("no line of values found under the header")
    # label-only lines just above the first row belong to the rows (a group heading or the first
    # half of a wrapped label), unless they sit in the header's stub position
    while start > 0 and is_label_only(classified[start - 1]):
        above, below = classified[start - 1], classified[start]
        indented = above.label.x0 - stub_left > 1.0
        has_child = below.label is not None and below.label.x0 > above.label.x0 + 1.0
        if not (indented or has_child):
            break  # a stub header printed on its own line
        start -= 1
    return [bl.line for bl in classified[:start]], classified[start:]


# ---------------------------------------------------------------- step 2: value columns
def find_columns(rows: list[BodyLine]) -> list[Column]:
    """Cluster the value runs of all rows by horizontal overlap: one cluster per column."""
    spans = sorted(((r.x0, r.x1) for bl in rows for r in bl.values), key=lambda s: s[0])
    cols: list[Column] = []
    for x0, x1 in spans:
        if cols and x0 <= cols[-1].x1 + 0.5:
            cols[-1].x1 = max(cols[-1].x1, x1)
        else:
            cols.append(Column(x0, x1))
    if not cols:
        raise LayoutError("no value columns")
    return cols


def column_zones(cols: list[Column], stub_right: float) -> list[tuple[float, float]]:
    """Each column's horizontal zone: halfway to its neighbours (the first starts at the stub)."""
    zones = []
    for i, c in enumerate(cols):
        left = (cols[i - 1].x1 + c.x0) / 2 if i else (stub_right + c.x0) / 2
        right = (c.x1 + cols[i + 1].x0) / 2 if i + 1 < len(cols) else c.x1 + 40.0
        zones.append((left, right))
    return zones


# ---------------------------------------------------------------- step 3: header paths
def _span(run: Run, zones: list[tuple[float, float]]) -> tuple[int, int] | None:
    hit = [i for i, (a, b) in enumerate(zones) if min(run.x1, b) - max(run.x0, a) > 0.5]
    return (hit[0], hit[-1]) if hit else None


def _ruled_between(rules: list[Rule], upper: Run, lower: Run) -> bool:
    for r in rules:
        if r.horizontal and upper.bottom - 0.5 <= r.top <= lower.top + 0.5 and \
                min(r.x1, upper.x1, lower.x1) - max(r.x0, upper.x0, lower.x0) > 0:
            return True
    return False


def header_blocks(header: list[Line], zones: list[tuple[float, float]],
                  rules: list[Rule]) -> tuple[list[HeaderBlock], list[Run]]:
    """Group header runs into cells: wrapped lines of one cell merge; spanners stay apart."""
    blocks: list[HeaderBlock] = []
    stub: list[Run] = []
    by_line = [(ln, [(r, _span(r, zones)) for r in ln.runs]) for ln in header]
    for li, (ln, items) in enumerate(by_line):
        for run, span in items:
            if span is None:
                stub.append(run)
                continue
            target = None
            for blk in blocks:
                last = blk.runs[-1]
                if not (0 <= run.top - last.bottom <= 0.7 * run.size):
                    continue
                if min(run.x1, last.x1) - max(run.x0, last.x0) <= 0:
                    continue
                if last.text.rstrip().endswith("—") or _ruled_between(rules, last, run):
                    continue
                siblings = [s for r2, s in items if r2 is not run and s is not None]
                upper_items = [s for ln2, its in by_line if ln2 is not ln
                               for r2, s in its if r2 is not last and s is not None
                               and abs(r2.top - last.top) < 0.5]
                union = (min(span[0], blk.span[0]), max(span[1], blk.span[1]))
                lower_crowded = any(s[0] <= union[1] and s[1] >= union[0] for s in siblings)
                upper_crowded = any(s[0] <= union[1] and s[1] >= union[0] for s in upper_items)
                if lower_crowded or upper_crowded:
                    continue
                target = blk
                break
            if target is None:
                blocks.append(HeaderBlock([run], span))
            else:
                target.runs.append(run)
                target.span = (min(span[0], target.span[0]), max(span[1], target.span[1]))
    return blocks, stub


def _rule_under(block: HeaderBlock, rules: list[Rule]) -> Rule | None:
    run = block.runs[-1]
    for r in rules:
        if r.horizontal and run.bottom - 0.5 <= r.top <= run.bottom + 1.2 * run.size and \
                r.x0 <= run.x0 + 1 and r.x1 >= run.x1 - 1 and (r.x1 - r.x0) > (run.x1 - run.x0):
            return r
    return None


def widen_spanners(blocks: list[HeaderBlock], cols: list[Column], rules: list[Rule]) -> None:
    """A spanning header covers the columns under its rule, or, unruled, the group of header
    cells below it that it is centred over (a header ending in an em dash always spans)."""
    for blk in blocks:
        lower = [b for b in blocks if b.top > blk.runs[-1].bottom]
        rule = _rule_under(blk, rules) if lower else None
        if rule is not None and any(b.top < rule.top - 0.5 for b in lower
                                    if min(rule.x1, b.runs[0].x1) > max(rule.x0, b.runs[0].x0)):
            rule = None  # that rule is further down, under another header line
        raw = join_wrapped([r.text for r in blk.runs])
        if rule is not None:
            hit = [i for i, c in enumerate(cols) if rule.x0 - 1 <= (c.x0 + c.x1) / 2 <= rule.x1 + 1]
            if hit:
                blk.span = (min(hit[0], blk.span[0]), max(hit[-1], blk.span[1]))
            continue
        if not raw.endswith("—"):
            continue
        below = sorted({b.span for b in blocks if b.top > blk.runs[-1].bottom}, key=lambda s: s[0])
        centre = (min(r.x0 for r in blk.runs) + max(r.x1 for r in blk.runs)) / 2
        tol = 0.8 * blk.runs[0].size
        best = blk.span
        for i in range(len(below)):
            for j in range(i, len(below)):
                lo, hi = below[i][0], below[j][1]
                if not (lo <= blk.span[0] and hi >= blk.span[1]):
                    continue
                if any(below[k][0] != below[k - 1][1] + 1 for k in range(i + 1, j + 1)):
                    continue  # not contiguous
                if abs((cols[lo].x0 + cols[hi].x1) / 2 - centre) <= tol and hi - lo > best[1] - best[0]:
                    best = (lo, hi)
        blk.span = best


def header_paths(cols: list[Column], blocks: list[HeaderBlock]) -> None:
    for i, col in enumerate(cols):
        covering = sorted((b for b in blocks if b.span[0] <= i <= b.span[1]), key=lambda b: b.top)
        col.levels = [b.text for b in covering]
        col.path = " | ".join(col.levels)
        col.marks = tuple(m for b in covering for m in b.marks)


# ---------------------------------------------------------------- step 4: row paths
def _indent(bl: BodyLine, stub_left: float) -> float:
    return (bl.label.x0 if bl.label is not None else stub_left) - stub_left


def merge_wrapped(rows: list[BodyLine], stub_left: float, tol: float,
                  expected: set[str] | None = None) -> list[tuple[list[Run], BodyLine]]:
    """Join a label printed over two lines (values on the last) into one row."""
    out: list[tuple[list[Run], BodyLine]] = []
    i = 0
    while i < len(rows):
        bl = rows[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if bl.label is not None and not bl.values and nxt is not None and nxt.label is not None:
            ind, ind_next = _indent(bl, stub_left), _indent(nxt, stub_left)
            after = rows[i + 2] if i + 2 < len(rows) else None
            wraps = ind_next > ind + tol and (
                after is None or _indent(after, stub_left) <= ind + tol
                or bool(_WRAP_END.search(bl.label.text)))
            joined = join_wrapped([bl.label.text, nxt.label.text])
            if expected:
                if joined in expected:
                    wraps = True
                elif bl.label.text in expected or nxt.label.text in expected:
                    wraps = wraps and False
            if wraps:
                merged = BodyLine(nxt.line, nxt.label, nxt.values)
                out.append(([bl.label, nxt.label], merged))
                i += 2
                continue
        out.append(([bl.label] if bl.label is not None else [], bl))
        i += 1
    return out


def row_paths(rows: list[BodyLine], tol: float = 2.5,
              expected_leaves: set[str] | None = None) -> list[Row]:
    stub_left = min((bl.label.x0 for bl in rows if bl.label is not None), default=0.0)
    merged = merge_wrapped(rows, stub_left, tol, expected_leaves)
    stack: list[tuple[float, str, tuple[str, ...]]] = []
    out: list[Row] = []
    for label_runs, bl in merged:
        label, tail = split_footnote_marks(join_wrapped([r.text for r in label_runs]))
        marks = tuple(m for r in label_runs for m in r.marks) + tail
        indent = label_runs[0].x0 - stub_left if label_runs else 0.0
        if not label_runs:  # values with no label: continuation of the previous row's label
            label = out[-1].label if out else ""
        while stack and stack[-1][0] >= indent - tol:
            stack.pop()
        path = " > ".join([s[1] for s in stack] + [label])
        inherited = tuple(m for s in stack for m in s[2])  # a group heading's mark covers its rows
        if bl.values:
            out.append(Row(path, label, len(stack), inherited + marks, bl, label_runs))
        stack.append((indent, label, marks))
    return out


# ---------------------------------------------------------------- all steps
def read_grid(lines: list[Line], rules: list[Rule], missing: dict[str, str] | None = None,
              indent_tol: float = 2.5, expected_rows: list[str] | None = None) -> Grid:
    header, rows = classify_lines(lines, missing)
    cols = find_columns(rows)
    labels = [bl.label for bl in rows if bl.label is not None]
    stub_right = max((r.x1 for r in labels if r.x1 < cols[0].x0), default=cols[0].x0 - 20)
    zones = column_zones(cols, stub_right)
    blocks, stub_runs = header_blocks(header, zones, rules)
    widen_spanners(blocks, cols, rules)
    header_paths(cols, blocks)
    expected_leaves = {p.split(" > ")[-1] for p in expected_rows} if expected_rows else None
    table_rows = row_paths(rows, indent_tol, expected_leaves)
    cells: dict[tuple[int, int], Run] = {}
    unplaced: list[Run] = []
    for ri, row in enumerate(table_rows):
        for run in row.line.values:
            ci = _span(run, zones)
            if ci is None or ci[0] != ci[1] or (ri, ci[0]) in cells:
                unplaced.append(run)
                continue
            cells[(ri, ci[0])] = run
    stub_header = join_wrapped([r.text for r in sorted(stub_runs, key=lambda r: r.top)])
    return Grid(cols, table_rows, stub_header, cells, blocks, unplaced)
