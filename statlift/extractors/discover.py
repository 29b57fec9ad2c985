"""Find every table of a PDF: `discover_tables(pdf) -> [FoundTable]`.

    text_lines -> tabular_blocks (text aligned in columns)
               + rule_frames (connected drawn rules with text inside)
    -> merge_candidates -> extend_headers -> tight_box -> find_caption -> extract_from_page

A table is found from its text (consecutive lines split into runs by wide gaps, with short,
often numeric runs, not prose in page columns) or from its drawing (rules that connect into a
frame around several words). Boxes are tight around the table's words, as the ICDAR 2013
regions are. Each found table is read once with the region extractor for its shape and
engine. No rule here knows a document: only page geometry and text.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from statlift.extractors.cellgrid import is_numeric
from statlift.extractors.pdfdoc import Document, PageText, Rule, Word
from statlift.extractors.readers import read_region
from statlift.extractors.region import RegionSettings, with_curve_rules
from statlift.extractors.textlines import Run, body_height, region_lines
from statlift.extractors.whitespace import column_intervals

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
CAPTION = re.compile(r"^\s*(table|tab\.|tableau|tabelle|tabla|tabella)"
                     r"(\s*\d|\s+[ivxlc]+\b|\s+[a-z](\b|\d))", re.I)


@dataclass(frozen=True)
class DiscoverSettings:
    run_gap: float = 0.55        # gap (ems of font size) that splits a line into runs
    min_lines: int = 3           # a text-found table has at least this many tabular lines
    max_run_words: float = 5.0   # tabular lines: runs of at most this many words on average
    line_gap: float = 2.2        # lines further apart than this many heights end a block
    bridge_lines: int = 2        # non-tabular lines a block may step over (section labels)
    header_lines: int = 4        # lines above a block that may join it as its header
    min_frame_words: int = 4     # a rule frame holds at least this many words
    steady_share: float = 0.7    # share of a block's lines whose runs keep within one column
    region: RegionSettings = field(default_factory=RegionSettings)

    def __post_init__(self) -> None:
        if self.min_lines < 2 or self.run_gap <= 0 or self.line_gap <= 0:
            raise ValueError("DiscoverSettings: min_lines >= 2, run_gap > 0, line_gap > 0")


@dataclass
class FoundTable:
    page: int
    bbox: Box                 # x0, top, x1, bottom; PDF points, top-left origin
    caption: str | None
    shape: tuple[int, int]
    ruled: bool
    engine: str
    source: str               # "text", "rules" or "text+rules": what found it

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bbox"] = [round(v, 2) for v in self.bbox]
        d["shape"] = list(self.shape)
        return d


@dataclass(frozen=True)
class Frame:
    box: Box
    grid: bool  # three rules or more each way (not just a box around something)


@dataclass
class _Line:
    words: list[Word]
    runs: list[list[Word]]

    @property
    def box(self) -> Box:
        return (min(w.x0 for w in self.words), min(w.top for w in self.words),
                max(w.x1 for w in self.words), max(w.bottom for w in self.words))

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


# ------------------------------------------------------------------ text blocks
def text_lines(words: list[Word], run_gap: float) -> list[_Line]:
    """The page's lines and their runs, grouped as the region reader groups them."""
    return [_Line([w for r in runs for w in r.words], [r.words for r in runs])
            for runs in region_lines(words, run_gap)]


def is_tabular(line: _Line, max_run_words: float) -> bool:
    """Two runs or more, short ones (cells, not prose in page columns), not a justified line
    of prose (single words spread by even gaps) nor a bullet item."""
    if len(line.runs) < 2 or _justified(line):
        return False
    if len(line.runs) == 2 and len(line.runs[0]) == 1 and not any(
            ch.isalnum() for ch in line.runs[0][0].text):
        return False
    words = sum(len(r) for r in line.runs) / len(line.runs)
    numeric = sum(any(is_numeric(w.text) for w in r) for r in line.runs)
    return words <= max_run_words or numeric >= len(line.runs) / 2


def _justified(line: _Line) -> bool:
    runs = line.runs
    if len(runs) < 4 or any(len(r) > 1 for r in runs):
        return False
    if sum(is_numeric(r[0].text) for r in runs) >= len(runs) / 2:
        return False
    gaps = [b[0].x0 - a[-1].x1 for a, b in zip(runs, runs[1:])]
    return max(gaps) <= 1.6 * min(gaps)


def tabular_blocks(lines: list[_Line], s: DiscoverSettings, height: float) -> list[list[_Line]]:
    """Runs of consecutive tabular lines, close together, stepping over a few other lines."""
    blocks: list[list[_Line]] = []
    cur: list[_Line] = []
    pending: list[_Line] = []
    for ln in lines:
        last = (pending or cur)[-1] if (pending or cur) else None
        far = last is not None and ln.box[1] - last.box[3] > s.line_gap * height
        if far:
            blocks.append(cur)
            cur, pending = [], []
        if CAPTION.match(ln.text):  # a caption starts a new table
            blocks.append(cur)
            cur, pending = [], []
            continue
        if is_tabular(ln, s.max_run_words):
            cur += pending + [ln] if cur else [ln]
            pending = []
        elif cur:
            pending.append(ln)
            if len(pending) > s.bridge_lines:
                blocks.append(cur)
                cur, pending = [], []
    blocks.append(cur)
    return [b for b in blocks if sum(is_tabular(ln, s.max_run_words) for ln in b) >= s.min_lines]


def has_columns(block: list[_Line], s: DiscoverSettings) -> bool:
    """The block's runs leave shared gaps (two columns or more) and most lines keep to them;
    justified prose has wide spaces too, but at random places."""
    tab = [ln for ln in block if is_tabular(ln, s.max_run_words)]
    if len(tab) < 2:
        return False
    runs = [Run(r, i) for i, ln in enumerate(tab) for r in ln.runs]
    cols = column_intervals(runs, 1.0, int(0.1 * len(tab)))
    if len(cols) < 2:
        return False
    steady = 0
    for ln in tab:
        hits = [sum(1 for a, b in cols if min(b, r[-1].x1) - max(a, r[0].x0) > 0.5)
                for r in ln.runs]
        steady += all(h <= 1 for h in hits)
    return steady >= s.steady_share * len(tab)


def extend_headers(block: list[_Line], lines: list[_Line], s: DiscoverSettings,
                   height: float) -> list[_Line]:
    """Lines just above a block, inside its width and not a caption, are its header."""
    x0, _, x1, _ = _union([ln.box for ln in block])
    idx = next(i for i, ln in enumerate(lines) if ln is block[0])
    out = list(block)
    for ln in reversed(lines[max(0, idx - s.header_lines): idx]):
        b = ln.box
        if out[0].box[1] - b[3] > 1.2 * height or CAPTION.match(ln.text):
            break
        if b[0] < x0 - 2 * height or b[2] > x1 + 2 * height:
            break
        out.insert(0, ln)
    return out


# ------------------------------------------------------------------ rule frames
def rule_frames(rules: list[Rule], tol: float = 2.5) -> list[Frame]:
    """Boxes of rules that touch each other (union-find over the rules' boxes)."""
    boxes = [(r.x0, r.top, r.x1, r.bottom) for r in rules if r.horizontal or r.vertical]
    parent = list(range(len(boxes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1])
    for n, i in enumerate(order):
        a = boxes[i]
        for j in order[n + 1:]:
            b = boxes[j]
            if b[1] > a[3] + tol:
                break
            if b[0] <= a[2] + tol and a[0] <= b[2] + tol:
                parent[find(i)] = find(j)
    groups: dict[int, list[Box]] = {}
    for i, b in enumerate(boxes):
        groups.setdefault(find(i), []).append(b)
    out = []
    for g in groups.values():
        n_h = sum(1 for b in g if b[3] - b[1] <= 2)
        n_v = len(g) - n_h
        if n_h >= 2 and n_v >= 2:
            out.append(Frame(_union(g), n_h >= 3 and n_v >= 3))
    return out


def _inside(box: Box, b: Box) -> bool:
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def table_frame(frame: Frame, lines: list[_Line], s: DiscoverSettings) -> bool:
    """A frame of rules is a table if it holds enough words and a grid of rules or text in
    columns (a box of four rules around prose is not)."""
    inside = [ln for ln in lines if _inside(frame.box, ln.box)]
    if sum(len(ln.words) for ln in inside) < s.min_frame_words:
        return False
    return frame.grid or has_columns(inside, s)


def split_by_frames(block: list[_Line], frames: list[Frame]) -> list[list[_Line]]:
    """The lines of a text block outside every rule frame, in contiguous pieces."""
    pieces: list[list[_Line]] = [[]]
    for ln in block:
        if any(_inside(f.box, ln.box) for f in frames):
            if pieces[-1]:
                pieces.append([])
        else:
            pieces[-1].append(ln)
    return [p for p in pieces if p]


# ------------------------------------------------------------------ boxes
def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _overlap_share(a: Box, b: Box) -> float:
    """Intersection over the smaller box."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / max(small, 1e-6)


def merge_candidates(cands: list[tuple[Box, str]]) -> list[tuple[Box, str]]:
    """Candidates that overlap by half of the smaller one are one table."""
    out: list[tuple[Box, str]] = []
    for box, src in sorted(cands, key=lambda c: -(c[0][2] - c[0][0]) * (c[0][3] - c[0][1])):
        for i, (ob, osrc) in enumerate(out):
            if _overlap_share(box, ob) >= 0.5:
                out[i] = (_union([box, ob]), osrc if src in osrc else f"{osrc}+{src}")
                break
        else:
            out.append((box, src))
    return out


def tight_box(box: Box, words: list[Word], pad: float = 1.0) -> Box | None:
    inside = [w for w in words if box[0] - pad <= (w.x0 + w.x1) / 2 <= box[2] + pad
              and box[1] - pad <= (w.top + w.bottom) / 2 <= box[3] + pad]
    if not inside:
        return None
    return _union([(w.x0, w.top, w.x1, w.bottom) for w in inside])


def find_caption(box: Box, lines: list[_Line], height: float) -> str | None:
    """The nearest line above the table starting with 'Table N' (within a few lines), else
    a short line just above that spans no columns and does not end a sentence (a title)."""
    above = [ln for ln in lines if ln.box[3] <= box[1] + 0.5 and ln.box[2] > box[0] - 20
             and ln.box[0] < box[2] + 20]
    above.sort(key=lambda ln: -ln.box[3])
    for ln in above[:4]:
        if box[1] - ln.box[3] > 6 * height:
            break
        if CAPTION.match(ln.text):
            return ln.text
    if above and box[1] - above[0].box[3] <= 2.5 * height and len(above[0].runs) == 1:
        title = above[0].text
        if len(above[0].words) <= 15 and not title.rstrip().endswith((".", ",", ";")):
            return title  # a short title line, not the end of a paragraph
    return None


def upright_words(words: list[Word], chars: list[dict]) -> list[Word]:
    """Drop words made of rotated characters (chart axis titles, vertical labels): they
    read as one-letter columns."""
    turned = [((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2)
              for c in chars if not c.get("upright", True)]
    if not turned:
        return words
    return [w for w in words
            if not any(w.x0 <= x <= w.x1 and w.top <= y <= w.bottom for x, y in turned)]


def discover_page(page: PageText, s: DiscoverSettings,
                  chars: Sequence[dict] = ()) -> list[FoundTable]:
    """Tables of one page; `chars` (pdfplumber's) tell rotated text apart."""
    words = upright_words(page.words, list(chars))
    if not words:
        return []
    height = body_height(words)
    lines = text_lines(words, s.run_gap)
    frames = [f for f in rule_frames(page.rules) if table_frame(f, lines, s)]
    cands: list[tuple[Box, str]] = [(f.box, "rules") for f in frames]
    for block in tabular_blocks(lines, s, height):
        block = extend_headers(block, lines, s, height)
        for piece in split_by_frames(block, frames):
            if sum(is_tabular(ln, s.max_run_words) for ln in piece) >= s.min_lines \
                    and has_columns(piece, s):
                cands.append((_union([ln.box for ln in piece]), "text"))
    found = []
    for box, src in merge_candidates(cands):
        tight = tight_box(box, words)
        if tight is None:
            continue
        table = read_region(page, tight, s.region)
        if min(table.shape) < 2:
            continue
        found.append(FoundTable(page=page.number, bbox=tight,
                                caption=find_caption(tight, lines, height), shape=table.shape,
                                ruled=table.region_table().engine != "whitespace",
                                engine=table.reader,
                                source=src))
    found.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
    return found


def discover_tables(pdf_path: str, settings: DiscoverSettings | None = None) -> list[FoundTable]:
    """Every table on every page of the PDF (opened once), top to bottom."""
    s = settings or DiscoverSettings()
    out: list[FoundTable] = []
    with Document.open(pdf_path) as doc:
        for n in range(1, doc.page_count + 1):
            page = with_curve_rules(doc.page(n), doc.plumber_page(n))
            found = discover_page(page, s, doc.plumber_page(n).chars)
            log.info("%s p%d: %d tables", pdf_path, n, len(found))
            out += found
    return out
