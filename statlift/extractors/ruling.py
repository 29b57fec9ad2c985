"""Ruled ("lattice") reading of a table region from the page's drawn rules, not from a picture.

    rules_in_box -> merge_rules -> grid_lines -> add_text_cuts -> split_text_bands
    -> boundary_map -> merge_elementary_cells -> words_to_cells

Every step is a small pure function over plain tuples, so each intermediate can be looked at.
Rules drawn as thin filled rectangles with hairline gaps between them (common in statistical
reports) are snapped and joined into one rule. A side of the table without an outer rule is
closed by the text's own extent. Where no rule separates two grid positions, they form one
spanning cell. Given the column gaps of the text (`text_gaps`, from the whitespace engine),
the grid also separates columns that no rule marks, in the bands where the text shows them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from statlift.extractors.cellgrid import TableCell, is_numeric
from statlift.extractors.pdfdoc import Rule, Word
from statlift.extractors.textlines import join_cell_text, word_lines

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x0, top, x1, bottom
Seg = tuple[float, float, float]  # position, start, end


@dataclass(frozen=True)
class RulingSettings:
    pad: float = 5.0          # rules this far outside the region still belong to the table
    snap: float = 2.0         # rules closer than this (across their length) are one rule
    join: float = 3.0         # collinear pieces with a gap up to this are one rule
    min_length: float = 6.0   # shorter pieces are glyph parts, not rules
    min_cell: float = 4.0     # grid lines closer than this collapse (double rules)
    cover: float = 0.6        # a rule separates two cells if it covers this share of their edge

    def __post_init__(self) -> None:
        for name in ("pad", "snap", "join", "min_length", "min_cell"):
            if getattr(self, name) < 0:
                raise ValueError(f"RulingSettings.{name} must be >= 0")
        if not 0 < self.cover <= 1:
            raise ValueError("RulingSettings.cover must be in (0, 1]")


@dataclass
class RuledGrid:
    xs: list[float]
    ys: list[float]
    horizontals: list[Seg]
    verticals: list[Seg]
    cells: list[TableCell]
    words_cut: int  # words that a vertical rule runs through (a sign the rules are not a grid)


def rules_in_box(rules: list[Rule], box: Box, pad: float) -> tuple[list[Seg], list[Seg]]:
    """Horizontal (y, x0, x1) and vertical (x, top, bottom) pieces clipped to the padded box."""
    x0, top, x1, bottom = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    hs: list[Seg] = []
    vs: list[Seg] = []
    for r in rules:
        if r.horizontal:
            y = (r.top + r.bottom) / 2
            a, b = max(r.x0, x0), min(r.x1, x1)
            if top <= y <= bottom and b > a:
                hs.append((y, a, b))
        elif r.vertical:
            x = (r.x0 + r.x1) / 2
            a, b = max(r.top, top), min(r.bottom, bottom)
            if x0 <= x <= x1 and b > a:
                vs.append((x, a, b))
    return hs, vs


def merge_rules(segs: list[Seg], snap: float, join: float, min_length: float) -> list[Seg]:
    """Snap pieces at (nearly) the same position, join collinear pieces across small gaps."""
    out: list[Seg] = []
    for group in _clusters(sorted(segs), snap):
        pos = sum(s[0] for s in group) / len(group)
        spans = sorted((s[1], s[2]) for s in group)
        cur_a, cur_b = spans[0]
        for a, b in spans[1:]:
            if a <= cur_b + join:
                cur_b = max(cur_b, b)
            else:
                out.append((pos, cur_a, cur_b))
                cur_a, cur_b = a, b
        out.append((pos, cur_a, cur_b))
    return [s for s in out if s[2] - s[1] >= min_length]


def _clusters(segs: list[Seg], snap: float) -> list[list[Seg]]:
    groups: list[list[Seg]] = []
    for s in segs:
        if groups and s[0] - groups[-1][-1][0] <= snap:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def grid_lines(segs: list[Seg], lo: float, hi: float, min_cell: float) -> list[float]:
    """Grid positions from rule positions, closed at `lo`/`hi` (the text's extent) when the
    outermost rule leaves text outside it."""
    pos = sorted({round(s[0], 2) for s in segs})
    if not pos or pos[0] > lo + 0.5:
        pos.insert(0, lo - 1.0)
    if pos[-1] < hi - 0.5:
        pos.append(hi + 1.0)
    out = [pos[0]]
    for p in pos[1:]:
        if p - out[-1] >= min_cell:
            out.append(p)
    return out


def split_text_bands(ys: list[float], xs: list[float], words: list[Word], vs: list[Seg],
                     snap: float) -> tuple[list[float], set]:
    """Split a band between two horizontal rules into its printed lines when it is a frame
    around unruled rows: it holds two or more lines of figures (filling most of the band's
    columns, mostly numbers), or, where no vertical rule crosses the band (horizontal rules
    as group separators), two lines or more that fill most columns. A band of wrapped
    header or list text inside drawn cells is kept whole.
    Returns the new grid ys and the set of added positions (they separate every column)."""
    out = [ys[0]]
    added: set = set()
    for a, b in zip(ys, ys[1:]):
        lines = word_lines([w for w in words if a <= (w.top + w.bottom) / 2 < b])
        walled = any(abs(x - xs[0]) > snap and abs(x - xs[-1]) > snap
                     and min(e, b) - max(s, a) > 0.5 * (b - a) for x, s, e in vs)
        full = sum(_full_line(ln, xs, lines) for ln in lines)
        figures = sum(_figure_line(ln, xs, lines) for ln in lines)
        if figures >= 2 or (not walled and full >= 2):
            for up, down in zip(lines, lines[1:]):
                cut = (max(w.bottom for w in up) + min(w.top for w in down)) / 2
                out.append(cut)
                added.add(cut)
        out.append(b)
    return out, added


def _full_line(line: list[Word], xs: list[float], band: list[list[Word]]) -> bool:
    """Text in at least two columns and in 60% of the band's columns."""
    band_cols = {_index(xs, (w.x0 + w.x1) / 2) for ln in band for w in ln}
    cols = {_index(xs, (w.x0 + w.x1) / 2) for w in line}
    return len(cols) >= 2 and len(cols) >= 0.6 * len(band_cols)


def _figure_line(line: list[Word], xs: list[float], band: list[list[Word]]) -> bool:
    """Text in at least 60% of the band's columns, at least 60% of it (two cells or more)
    numbers, not counting the first column (row labels)."""
    band_cols = {_index(xs, (w.x0 + w.x1) / 2) for ln in band for w in ln}
    texts: dict[int, list[str]] = {}
    for w in line:
        texts.setdefault(_index(xs, (w.x0 + w.x1) / 2), []).append(w.text)
    values = [" ".join(t) for c, t in texts.items() if c != min(band_cols)]
    nums = sum(is_numeric(v) for v in values)
    return len(texts) >= 0.6 * len(band_cols) and nums >= 2 and nums >= 0.6 * len(values)


def _index(bounds: list[float], v: float) -> int:
    for i in range(len(bounds) - 1):
        if v < bounds[i + 1]:
            return i
    return len(bounds) - 2


def _covered(segs: list[Seg], pos: float, a: float, b: float, snap: float, share: float) -> bool:
    need = share * (b - a)
    got = 0.0
    for p, s, e in segs:
        if abs(p - pos) <= snap:
            got += max(0.0, min(e, b) - max(s, a))
    return got >= need


def add_text_cuts(xs: list[float], gaps: list[tuple[float, float]]
                  ) -> tuple[list[float], dict[float, tuple[float, float]]]:
    """Column gaps found in the text (whitespace engine). A grid position inside a gap is
    `textual`; a gap that holds no grid position adds its middle. Textual positions (mapped to
    their gap) separate cells where no rule does (see boundary_map)."""
    textual: dict[float, tuple[float, float]] = {}
    for a, b in gaps:
        inside = [x for x in xs[1:-1] if a <= x <= b]
        mid = (a + b) / 2
        if inside:
            textual.update({x: (a, b) for x in inside})
        elif xs[0] < mid < xs[-1]:
            textual[mid] = (a, b)
    return sorted(set(xs) | set(textual)), textual


def _text_split(band: list[Word], x: float, gap: tuple[float, float], left: float,
                right: float) -> bool:
    """Some vertical strip of the gap is free of words, and the ruled cell (left, right) has
    words on both sides of x."""
    covering = sorted((max(w.x0, gap[0]), min(w.x1, gap[1])) for w in band
                      if w.x0 < gap[1] and w.x1 > gap[0])
    reach = gap[0]
    for a, b in covering:
        if a > reach + 0.5:
            break
        reach = max(reach, b)
    if reach >= gap[1] - 0.5:
        return False
    mids = [(w.x0 + w.x1) / 2 for w in band]
    return any(left < m < x for m in mids) and any(x < m < right for m in mids)


def boundary_map(xs: list[float], ys: list[float], hs: list[Seg], vs: list[Seg], added: set,
                 textual: dict[float, tuple[float, float]], words: list[Word],
                 settings: RulingSettings) -> tuple[list[list[bool]], list[list[bool]]]:
    """right[r][c]: a rule separates cell (r, c) from (r, c+1); below[r][c]: from (r+1, c).
    The outer frame is taken as closed. Where no rule is drawn, a textual position separates
    the cells of a band if no word runs across it and the ruled cell around it has text on
    both sides, in at least two bands (one band alone may be justified prose)."""
    nr, nc = len(ys) - 1, len(xs) - 1
    snap = settings.snap + 0.5
    ruled = [[_covered(vs, xs[c + 1], ys[r], ys[r + 1], snap, settings.cover)
              for c in range(nc - 1)] for r in range(nr)]
    right = [row[:] for row in ruled]
    for c in range(nc - 1):
        x = xs[c + 1]
        if x not in textual:
            continue
        hits = []
        for r in range(nr):
            if ruled[r][c]:
                continue
            band = [w for w in words if ys[r] <= (w.top + w.bottom) / 2 < ys[r + 1]]
            left = max([xs[0]] + [xs[k + 1] for k in range(c) if ruled[r][k]])
            right_wall = min([xs[-1]] + [xs[k + 1] for k in range(c + 1, nc - 1) if ruled[r][k]])
            if _text_split(band, x, textual[x], left, right_wall):
                hits.append(r)
        if len(hits) >= 2:
            for r in hits:
                right[r][c] = True
    below = [[ys[r + 1] in added or _covered(hs, ys[r + 1], xs[c], xs[c + 1], snap, settings.cover)
              for c in range(nc)] for r in range(nr - 1)]
    return right, below


def merge_elementary_cells(nr: int, nc: int, right: list[list[bool]],
                           below: list[list[bool]]) -> list[tuple[int, int, int, int]]:
    """Union positions not separated by a rule; each group -> its bounding (r0, c0, r1, c1)."""
    parent = list(range(nr * nc))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(nr):
        for c in range(nc):
            if c < nc - 1 and not right[r][c]:
                parent[find(r * nc + c)] = find(r * nc + c + 1)
            if r < nr - 1 and not below[r][c]:
                parent[find(r * nc + c)] = find((r + 1) * nc + c)
    boxes: dict[int, list[int]] = {}
    for r in range(nr):
        for c in range(nc):
            b = boxes.setdefault(find(r * nc + c), [r, c, r, c])
            b[0], b[1] = min(b[0], r), min(b[1], c)
            b[2], b[3] = max(b[2], r), max(b[3], c)
    # overlapping bounding boxes (an L-shaped group) keep the first, larger one
    out: list[tuple[int, int, int, int]] = []
    taken: set = set()
    def area(b: list[int]) -> int:
        return (b[2] - b[0] + 1) * (b[3] - b[1] + 1)

    for r0, c0, r1, c1 in sorted(boxes.values(), key=lambda b: -area(b)):
        pos = {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        if pos & taken:
            continue
        taken |= pos
        out.append((r0, c0, r1, c1))
    return out


def words_to_cells(words: list[Word], xs: list[float], ys: list[float],
                   spans: list[tuple[int, int, int, int]]) -> list[TableCell]:
    owner = {}
    for i, (r0, c0, r1, c1) in enumerate(spans):
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                owner[(r, c)] = i
    bins: dict[int, list[Word]] = {}
    stray: dict[tuple[int, int], list[Word]] = {}  # positions no span owns (an L-shaped group)
    for w in words:
        r = _index(ys, (w.top + w.bottom) / 2)
        c = _index(xs, (w.x0 + w.x1) / 2)
        if (r, c) in owner:
            bins.setdefault(owner[(r, c)], []).append(w)
        else:
            stray.setdefault((r, c), []).append(w)
    cells = []
    for i, ws in bins.items():
        r0, c0, r1, c1 = spans[i]
        cells.append(TableCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, join_cell_text(ws), tuple(ws)))
    for (r, c), ws in stray.items():  # never drop a printed word: its position is its cell
        cells.append(TableCell(r, c, 1, 1, join_cell_text(ws), tuple(ws)))
    return cells


def count_cut_words(words: list[Word], vs: list[Seg]) -> int:
    return sum(1 for w in words for x, a, b in vs
               if w.x0 + 1 < x < w.x1 - 1 and a < (w.top + w.bottom) / 2 < b)


def read_ruled(words: list[Word], rules: list[Rule], box: Box,
               settings: RulingSettings | None = None, text_gaps: tuple = ()) -> RuledGrid:
    s = settings or RulingSettings()
    hs, vs = rules_in_box(rules, box, s.pad)
    hs = merge_rules(hs, s.snap, s.join, s.min_length)
    vs = merge_rules(vs, s.snap, s.join, s.min_length)
    if not words:
        return RuledGrid([], [], hs, vs, [], 0)
    xs = grid_lines(vs, min(w.x0 for w in words), max(w.x1 for w in words), s.min_cell)
    ys = grid_lines(hs, min(w.top for w in words), max(w.bottom for w in words), s.min_cell)
    xs, textual = add_text_cuts(xs, list(text_gaps))
    ys, added = split_text_bands(ys, xs, words, vs, s.min_cell)
    right, below = boundary_map(xs, ys, hs, vs, added, textual, words, s)
    spans = merge_elementary_cells(len(ys) - 1, len(xs) - 1, right, below)
    cells = words_to_cells(words, xs, ys, spans)
    log.debug("ruled grid %dx%d from %d h / %d v rules", len(ys) - 1, len(xs) - 1, len(hs), len(vs))
    return RuledGrid(xs, ys, hs, vs, cells, count_cut_words(words, vs))
