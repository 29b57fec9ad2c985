"""Read a table's structure from the page's words: columns, header paths, row paths, cells.

Pipeline of small named steps over the body lines of a located table:
    classify_lines -> find_columns -> split_header -> header_paths -> row_paths -> cells
Each step's output is kept on the `Grid` so it can be inspected and drawn.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from statlift.extractors.clean import (
    is_value_text,
    join_wrapped,
    split_footnote_marks,
    strip_spanner_dash,
)
from statlift.extractors.pdfdoc import Rule
from statlift.extractors.textlines import Line, Run, Word

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


def is_row_line(bl: BodyLine) -> bool:
    return bool(bl.values) and not _is_year_header(bl)


def is_label_only(bl: BodyLine) -> bool:
    return bl.label is not None and not bl.values and len(bl.line.runs) == 1


def body_start(classified: list[BodyLine], stub_left: float) -> int | None:
    """Index of the first row line: the first line with values after which every line is a row
    line or a label-only line, moved up over label-only lines just above it that belong to the
    rows (a group heading or the first half of a wrapped label) unless they sit in the header's
    stub position. None when there is no such line. Shared with structure.py (grid rows)."""
    start = None
    for i, bl in enumerate(classified):
        if is_row_line(bl) and all(is_row_line(b) or is_label_only(b) for b in classified[i:]):
            start = i
            break
    if start is None:
        return None
    while start > 0 and is_label_only(classified[start - 1]):
        above, below = classified[start - 1].label, classified[start].label
        if above is None:  # is_label_only: never
            break
        indented = above.x0 - stub_left > 1.0
        has_child = below is not None and below.x0 > above.x0 + 1.0
        if not (indented or has_child):
            break  # a stub header printed on its own line
        start -= 1
    return start


def classify_lines(lines: list[Line], missing: dict[str, str] | None) -> tuple[list[Line],
                                                                             list[BodyLine]]:
    """Split the body lines into header lines and row lines (the rows start at the first line
    with values after which every line is a row line or a label-only line)."""
    lines = [ln for ln in lines if ln.runs]
    if not lines:
        raise LayoutError("no printed words in the table's box")
    stub_left = min(ln.runs[0].x0 for ln in lines)
    classified = [classify_line(ln, stub_left, missing) for ln in lines]
    start = body_start(classified, stub_left)
    if start is None:
        raise LayoutError("no line of values found under the header")
    return [bl.line for bl in classified[:start]], classified[start:]


def split_glued_values(lines: list[Line], missing: dict[str, str] | None) -> None:
    """A row label set as close to its values as a word space ("All offenses 21,887 1,405" in a
    narrow table) reads as one run. Its trailing numbers become value runs when each stands
    over value runs of other lines (a label that ends in a number, "Under 18", ends in the stub,
    left of every value column, and stays whole)."""
    others = [(ln, r.x0, r.x1) for ln in lines for r in ln.runs
              if len(r.words) <= 2 and _is_value(r, missing)]
    for ln in lines:
        spans = [(a, b) for ln2, a, b in others if ln2 is not ln]
        runs: list[Run] = []
        for run in ln.runs:
            body = [w for w in run.words if not w.superscript]
            k = len(body)
            while k > 0 and is_value_text(body[k - 1].text, missing):
                k -= 1
            tail = body[k:]
            aligned = all(any(min(w.x1, b) - max(w.x0, a) > 0 for a, b in spans) for w in tail)
            if k == 0 or not tail or not aligned:
                runs.append(run)
                continue
            first = run.words.index(tail[0])
            runs.append(Run(run.words[:first]))
            current: list[Word] = []
            for w in run.words[first:]:
                if current and not w.superscript:
                    runs.append(Run(current))
                    current = []
                current.append(w)
            runs.append(Run(current))
        ln.runs = runs


def join_detached_signs(lines: list[Line], missing: dict[str, str] | None) -> None:
    """A currency sign or a unit printed apart from its number ("$    1,204", "70.0   mos.")
    reads as a run of its own, which would make its line a header line (text among the
    values). A one-word run that is no value joins the run after it (a sign) or before it (a
    unit) when the two read as one value."""
    for ln in lines:
        runs: list[Run] = []
        pending = list(ln.runs)
        while pending:
            run = pending.pop(0)
            lone = len(run.words) == 1 and bool(run.text) and not _is_value(run, missing)
            if lone and pending and _is_value(pending[0], missing) and \
                    is_value_text(f"{run.text} {pending[0].text}", missing):
                pending[0] = Run(run.words + pending[0].words)
                continue
            if lone and runs and _is_value(runs[-1], missing) and \
                    is_value_text(f"{runs[-1].text} {run.text}", missing):
                runs[-1] = Run(runs[-1].words + run.words)
                continue
            runs.append(run)
        ln.runs = runs


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


def _header_span(run: Run, zones: list[tuple[float, float]]) -> tuple[int, int] | None:
    """The columns a header run stands over: zones it overlaps by a real share of its width or
    of the zone's (a label centred over a right-aligned column may reach into its neighbour's
    zone by a few points; that does not make it a spanner)."""
    width = run.x1 - run.x0
    hit = []
    for i, (a, b) in enumerate(zones):
        overlap = min(run.x1, b) - max(run.x0, a)
        if overlap > 0.5 and overlap >= 0.25 * min(width, b - a):
            hit.append(i)
    if hit:
        return (hit[0], hit[-1])
    x = (run.x0 + run.x1) / 2  # a short label: the zone its centre is in, else none (the stub)
    inside = [i for i, (a, b) in enumerate(zones) if a <= x <= b]
    return (inside[0], inside[0]) if inside else None


def _centre_span(run: Run, zones: list[tuple[float, float]]) -> tuple[int, int]:
    """The one column whose zone holds the run's centre (nearest zone when between)."""
    x = (run.x0 + run.x1) / 2
    best = min(range(len(zones)), key=lambda i: 0.0 if zones[i][0] <= x <= zones[i][1]
               else min(abs(x - zones[i][0]), abs(x - zones[i][1])))
    return (best, best)


def typical_word_gap(lines: list[Line]) -> float:
    """The usual space between words of one run (font dependent: Courier's is wide)."""
    gaps = sorted(b.x0 - a.x1 for ln in lines for r in ln.runs
                  for a, b in zip(r.words, r.words[1:]) if not b.superscript)
    return gaps[len(gaps) // 2] if gaps else 0.0


def split_header_runs(header: list[Line], zones: list[tuple[float, float]],
                      word_gap: float) -> None:
    """Header cells of neighbouring columns set close together read as one run ("pornography
    possession/"); split a run where a column boundary falls in a gap wider than a word space."""
    edges = [zones[0][0]] + [a for a, _ in zones[1:]]

    def zone_of(x: float) -> int:
        return sum(1 for e in edges if x >= e)  # 0 = the stub
    for ln in header:
        runs: list[Run] = []
        for run in ln.runs:
            current = [run.words[0]]
            for prev, w in zip(run.words, run.words[1:]):
                gap = w.x0 - prev.x1
                if not w.superscript and gap > max(1.3 * word_gap, 0.4 * w.size) and (
                        any(prev.x1 - 0.5 <= e <= w.x0 + 0.5 for e in edges)
                        or zone_of((prev.x0 + prev.x1) / 2) != zone_of((w.x0 + w.x1) / 2)):
                    runs.append(Run(current))
                    current = []
                current.append(w)
            runs.append(Run(current))
        ln.runs = runs


def split_leaf_runs(header: list[Line], cols: list[Column]) -> None:
    """Leaf header cells set as closely as their values ("Number Percent Number Percent" in a
    monospaced font, one space apart) read as one run. On a header line with no header text
    under it (the leaves), a run whose every word stands over the values of exactly one column,
    in column order, is one cell per column."""
    for li, ln in enumerate(header):
        lower = [r for ln2 in header[li + 1:] for r in ln2.runs]
        runs: list[Run] = []
        for run in ln.runs:
            under = any(min(r.x1, run.x1) - max(r.x0, run.x0) > 0 for r in lower)
            groups = None if under else _leaf_groups(run, cols)
            if groups:
                runs.extend(Run(g) for g in groups)
            else:
                runs.append(run)
        ln.runs = runs


def _leaf_groups(run: Run, cols: list[Column]) -> list[list[Word]] | None:
    groups: list[tuple[int, list[Word]]] = []
    for w in run.words:
        over = [i for i, c in enumerate(cols) if min(w.x1, c.x1) - max(w.x0, c.x0) > 0]
        if len(over) != 1:
            return None
        i = over[0]
        if groups and groups[-1][0] == i:
            groups[-1][1].append(w)
        elif groups and groups[-1][0] > i:
            return None
        else:
            groups.append((i, [w]))
    if len(groups) < 2:
        return None
    return [words for _, words in groups]


def header_blocks(header: list[Line], zones: list[tuple[float, float]],
                  rules: list[Rule]) -> tuple[list[HeaderBlock], list[Run]]:
    """Group header runs into cells: wrapped lines of one cell merge; spanners stay apart."""
    blocks: list[HeaderBlock] = []
    stub: list[Run] = []
    by_line = [(ln, [(r, _header_span(r, zones)) for r in ln.runs]) for ln in header]
    for ln, items in by_line:
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
                tol = 0.6 * run.size  # lines of one cell share an alignment
                if not (abs((run.x0 + run.x1) - (last.x0 + last.x1)) / 2 <= tol
                        or abs(run.x0 - last.x0) <= 2.0 or abs(run.x1 - last.x1) <= 2.0):
                    continue
                # a spanner stands over several cells of the line below; a wrapped cell's
                # lines have no other cell of the neighbouring line under/over them
                lower_crowded = any(r2 is not run and s is not None
                                    and min(r2.x1, last.x1) - max(r2.x0, last.x0) > 1.0
                                    for r2, s in items)
                upper_crowded = any(r2 is not last and s is not None
                                    and abs(r2.top - last.top) < 0.5
                                    and min(r2.x1, run.x1) - max(r2.x0, run.x0) > 1.0
                                    for ln2, its in by_line if ln2 is not ln for r2, s in its)
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


def _extent(block: HeaderBlock) -> tuple[float, float]:
    return min(r.x0 for r in block.runs), max(r.x1 for r in block.runs)


def assign_spans(blocks: list[HeaderBlock], zones: list[tuple[float, float]]) -> None:
    """A header cell stands over the column its centre is in, and, when it sits above other
    header cells, over every column of the cells below it that it overlaps (a spanner).
    Where a centred label reaches into a neighbour's zone does not matter."""
    def zone_of(x: float) -> int:
        for i, (a, b) in enumerate(zones):
            if a <= x <= b:
                return i
        return min(range(len(zones)), key=lambda i: min(abs(x - zones[i][0]), abs(x - zones[i][1])))

    for blk in sorted(blocks, key=lambda b: -b.runs[-1].bottom):
        x0, x1 = _extent(blk)
        lo = hi = zone_of((x0 + x1) / 2)
        for other in blocks:
            if other is blk or other.top < blk.runs[-1].bottom - 0.5:
                continue
            o0, o1 = _extent(other)
            overlap = min(x1, o1) - max(x0, o0)
            if overlap > max(1.0, 0.2 * min(x1 - x0, o1 - o0)):
                lo, hi = min(lo, other.span[0]), max(hi, other.span[1])
        blk.span = (lo, hi)


def _rule_under(block: HeaderBlock, rules: list[Rule]) -> Rule | None:
    run = block.runs[-1]
    for r in rules:
        if r.horizontal and run.bottom - 0.5 <= r.top <= run.bottom + 1.2 * run.size and \
                r.x0 <= run.x0 + 1 and r.x1 >= run.x1 - 1 and (r.x1 - r.x0) > (run.x1 - run.x0):
            return r
    return None


def widen_spanners(blocks: list[HeaderBlock], cols: list[Column], rules: list[Rule]) -> None:
    """A spanning header covers the columns under its rule, or, unruled, the group of header
    cells below it that it is centred over (a header ending in an em dash always spans; one
    that stands over header cells spans when it is centred over a group of them)."""
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
        x0, x1 = _extent(blk)
        # a header cell with header cells under it stands over them: over their text, or (a
        # short spanner such as "2004" centred over "Number  Percent") over the gap between
        # them, in the zone of one of them
        over_cells = any(min(x1, b1) - max(x0, b0) > 0 or
                         (b.span[0] <= blk.span[1] and blk.span[0] <= b.span[1])
                         for b in lower for b0, b1 in [_extent(b)])
        if raw.endswith("—") or over_cells:
            blk.span = _centred_span(blk, blocks, cols)


def _centred_span(blk: HeaderBlock, blocks: list[HeaderBlock],
                  cols: list[Column]) -> tuple[int, int]:
    """An unruled spanner ("Child pornography—") covers the widest run of columns it is centred
    over that splits no header cell below it and takes in no column of a header cell that starts
    on the spanner's own line or above (a sibling at its level)."""
    below = [b for b in blocks if b.top > blk.runs[-1].bottom]
    # siblings: header cells beside it (sharing one of its lines); a cell wholly above it is a
    # spanner over it, not a sibling
    siblings = [b for b in blocks if b is not blk and b.top <= blk.runs[-1].bottom
                and b.runs[-1].bottom > blk.top]
    x0, x1 = _extent(blk)
    centre, tol = (x0 + x1) / 2, 0.8 * blk.runs[0].size
    best = blk.span
    for lo in range(0, blk.span[0] + 1):
        for hi in range(blk.span[1], len(cols)):
            if any(b.span[0] <= hi and b.span[1] >= lo for b in siblings):
                continue
            if any((b.span[0] < lo <= b.span[1]) or (b.span[0] <= hi < b.span[1]) for b in below):
                continue  # would cut a header cell below in two
            inside = [_extent(b) for b in below if lo <= b.span[0] and b.span[1] <= hi]
            left = min([cols[lo].x0] + [e[0] for e in inside])
            right = max([cols[hi].x1] + [e[1] for e in inside])
            centres = [(left + right) / 2]
            if inside:  # centred over the header cells below (values may stick out further)
                centres.append((min(e[0] for e in inside) + max(e[1] for e in inside)) / 2)
            slack = max(tol, 0.04 * (right - left))  # a wide group: a few points off centre
            if any(abs(c - centre) <= slack for c in centres) and hi - lo > best[1] - best[0]:
                best = (lo, hi)
    return best


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
    """Join a label printed over several lines (values on the last) into one row.

    Label-only lines followed by lines set with a hanging indent, the last of which carries the
    values, are one wrapped label when the row after them comes back to the first line's indent
    (a group heading instead has several rows of values under it), or when the first line ends
    in a word that cannot end a label ("and", "/", ...). Set flush, they are one label when the
    first line ends open, when the values line ends the table, or when rows indented under it
    follow (a group heading has more than one member, and a flush member would not have rows of
    its own). Labels the spec expects decide ties."""
    out: list[tuple[list[Run], BodyLine]] = []
    i = 0
    while i < len(rows):
        bl = rows[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if bl.label is not None and not bl.values and nxt is not None and nxt.label is not None:
            ind, cont = _indent(bl, stub_left), _indent(nxt, stub_left)
            hanging = cont > ind + tol
            flush = abs(cont - ind) <= tol
            j = i + 1  # continuation lines: label only, all at the indent of the first one
            while j < len(rows) and rows[j].label is not None and not rows[j].values and \
                    len(rows[j].line.runs) == 1 and (hanging or flush) and \
                    abs(_indent(rows[j], stub_left) - cont) <= tol:
                j += 1
            last = rows[j] if j < len(rows) else None
            if (hanging or flush) and last is not None and last.label is not None and \
                    last.values and abs(_indent(last, stub_left) - cont) <= tol:
                parts = rows[i:j + 1]
                labels = [p.label for p in parts if p.label is not None]  # every part has one
                after = rows[j + 1] if j + 1 < len(rows) else None
                ends_open = any(_WRAP_END.search(r.text) for r in labels[:-1]) or \
                    labels[1].text[:1].islower()
                if hanging:
                    wraps = after is None or _indent(after, stub_left) <= ind + tol or \
                        ends_open or j > i + 1
                else:  # flush: a heading has more than one member, none with rows under it
                    wraps = ends_open or after is None or (
                        after.label is not None and _indent(after, stub_left) > cont + tol)
                joined = join_wrapped([r.text for r in labels])
                if expected:
                    if joined in expected:
                        wraps = True
                    elif any(r.text in expected for r in labels):
                        wraps = False
                if wraps:
                    merged = BodyLine(last.line, last.label, last.values)
                    out.append((labels, merged))
                    i = j + 1
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
def read_header(header: list[Line], rows: list[BodyLine], cols: list[Column],
                rules: list[Rule]) -> tuple[list[tuple[float, float]], list[HeaderBlock], str]:
    """The header lines over the value columns `cols` -> the columns' zones, the header blocks
    (each column's `path` and `marks` set) and the stub header. Shared by every reader: the
    region readers find `cols` their own way (structure.py)."""
    labels = [bl.label for bl in rows if bl.label is not None]
    stub_right = max((r.x1 for r in labels if r.x1 < cols[0].x0), default=cols[0].x0 - 20)
    zones = column_zones(cols, stub_right)
    split_header_runs(header, zones, typical_word_gap(header + [bl.line for bl in rows]))
    split_leaf_runs(header, cols)
    blocks, stub_runs = header_blocks(header, zones, rules)
    assign_spans(blocks, zones)
    widen_spanners(blocks, cols, rules)
    header_paths(cols, blocks)
    stub_header = join_wrapped([r.text for r in sorted(stub_runs, key=lambda r: r.top)])
    return zones, blocks, stub_header


def read_grid(lines: list[Line], rules: list[Rule], missing: dict[str, str] | None = None,
              indent_tol: float = 2.5, expected_rows: list[str] | None = None) -> Grid:
    split_glued_values(lines, missing)
    join_detached_signs(lines, missing)
    header, rows = classify_lines(lines, missing)
    cols = find_columns(rows)
    zones, blocks, stub_header = read_header(header, rows, cols, rules)
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
    return Grid(cols, table_rows, stub_header, cells, blocks, unplaced)
