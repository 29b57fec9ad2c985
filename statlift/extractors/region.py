"""Table structure of a given region of a page: `extract_region(pdf, page, bbox)`.

    read words and rules once (pdfdoc) -> rule_coverage -> choose_engines -> run them
    -> accept_choice -> RegionTable (cells with spans, engine, features, quality)

Engines are a registry (as camelot's `PARSERS`): "ruled" builds the grid from drawn rules
only (lattice-like), "whitespace" from the gaps the body rows share (stream-like), "fused"
takes rules where they are drawn and the whitespace engine's column gaps where they are not
(a ruled header over an unruled body, rows ruled but columns not, a frame around rows).
The choice comes from features of the page, never from the file: how much of the region's
height and width drawn rules cover, whether rules run through words, and whether the fused
grid has two columns or more. `features` records them, with the shape each engine found and
the share of cells on which fused and whitespace agree; `quality` is a 0..1 grid score.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from statlift.errors import StatliftError
from statlift.extractors.cellgrid import (
    TableCell,
    cells_to_grid,
    compact_cells,
    grid_shape,
    is_numeric,
)
from statlift.extractors.pdfdoc import Document, PageText, Rule, Word
from statlift.extractors.ruling import RulingSettings, read_ruled
from statlift.extractors.textlines import words_in_box
from statlift.extractors.whitespace import WhitespaceSettings, column_gaps, read_whitespace

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class RegionSettings:
    engine: str = "auto"             # "auto" or a name in ENGINES
    min_v_cover: float = 1.0         # vertical rules adding up to this many region heights,
    min_h_cover: float = 2.0         # or horizontal ones to this many widths: a ruled table
    max_cut_share: float = 0.05      # at most this share of words may be crossed by a rule
    # auto, the columns not drawn (vertical rules adding up to less than this many region
    # heights): the table is read from its text lines by the layout reader, as `statlift run`
    # reads a table, when that reading keeps at least `layout_keep` of the cells cut by rules
    # and gaps (fewer: it took body lines of words for header lines; the cut cells are kept)
    columns_drawn: float = 0.5
    layout_keep: float = 0.5
    ruling: RulingSettings = field(default_factory=RulingSettings)
    whitespace: WhitespaceSettings = field(default_factory=WhitespaceSettings)

    def __post_init__(self) -> None:
        if self.engine != "auto" and self.engine not in ENGINES:
            raise ValueError(f"RegionSettings.engine {self.engine!r}: use 'auto' or one of "
                             f"{sorted(ENGINES)}")
        if not 0 <= self.max_cut_share <= 1:
            raise ValueError("RegionSettings.max_cut_share must be in [0, 1]")
        if self.min_v_cover < 0 or self.min_h_cover < 0 or self.columns_drawn < 0:
            raise ValueError("RegionSettings: rule covers must be >= 0")
        if not 0 <= self.layout_keep <= 1:
            raise ValueError("RegionSettings.layout_keep must be in [0, 1]")


@dataclass
class EngineResult:
    engine: str
    cells: list[TableCell]
    details: dict


@dataclass
class RegionTable:
    page: int
    bbox: Box
    engine: str
    cells: list[TableCell]
    features: dict
    quality: float
    alternatives: dict = field(default_factory=dict)  # engine -> quality of the ones not chosen
    seconds: float = 0.0

    @property
    def shape(self) -> tuple[int, int]:
        return grid_shape(self.cells)

    def to_grid(self) -> list[list[str]]:
        return cells_to_grid(self.cells)

    def to_json(self) -> dict:
        return {"cells": [c.to_dict() for c in self.cells]}

    def report(self) -> dict:
        """Everything but the cells: page, bbox, engine, features, quality (a parse report)."""
        d = asdict(self)
        d.pop("cells")
        d["shape"] = list(self.shape)
        return d


# ------------------------------------------------------------------ engines
def run_ruled(words: list[Word], page: PageText, box: Box, s: RegionSettings) -> EngineResult:
    """Drawn rules only (lattice-like): a side without rules is one column / one row."""
    g = read_ruled(words, page.rules, box, s.ruling)
    return EngineResult("ruled", compact_cells(g.cells), {"words_cut": g.words_cut})


def run_whitespace(words: list[Word], page: PageText, box: Box, s: RegionSettings) -> EngineResult:
    """The gaps that the body rows share (stream-like); every printed line is a row."""
    t = read_whitespace(words, s.whitespace)
    return EngineResult("whitespace", compact_cells(t.cells), {"columns": len(t.columns)})


def run_fused(words: list[Word], page: PageText, box: Box, s: RegionSettings) -> EngineResult:
    """Rules where they are drawn; where they are not, the whitespace engine's column gaps
    and the printed lines of figure rows."""
    gaps = column_gaps(read_whitespace(words, s.whitespace).columns)
    g = read_ruled(words, page.rules, box, s.ruling, tuple(gaps))
    return EngineResult("fused", compact_cells(g.cells), {"words_cut": g.words_cut})


ENGINES: dict[str, Callable[[list[Word], PageText, Box, RegionSettings], EngineResult]] = {
    "ruled": run_ruled,
    "whitespace": run_whitespace,
    "fused": run_fused,
}


# ------------------------------------------------------------------ features and choice
def rule_coverage(page: PageText, box: Box, pad: float) -> dict:
    """Drawn rules inside the padded box: counts, and total length in region widths (h) or
    heights (v), so 3.0 means "as much rule as three full-width lines"."""
    x0, top, x1, bottom = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    h_len = v_len = 0.0
    h_n = v_n = 0
    for r in page.rules:
        if r.horizontal and top <= (r.top + r.bottom) / 2 <= bottom:
            ln = max(0.0, min(r.x1, x1) - max(r.x0, x0))
            h_len += ln
            h_n += ln > 0
        elif r.vertical and x0 <= (r.x0 + r.x1) / 2 <= x1:
            ln = max(0.0, min(r.bottom, bottom) - max(r.top, top))
            v_len += ln
            v_n += ln > 0
    return {"h_rules": h_n, "v_rules": v_n,
            "h_cover": round(h_len / max(1.0, box[2] - box[0]), 2),
            "v_cover": round(v_len / max(1.0, box[3] - box[1]), 2)}


def grid_quality(cells: list[TableCell]) -> float:
    """0..1: how full the grid is and how steadily its columns keep one type (text or number)."""
    nrows, ncols = grid_shape(cells)
    if nrows == 0:
        return 0.0
    covered = sum(c.row_span * c.col_span for c in cells)
    fill = covered / (nrows * ncols)
    steady = []
    for k in range(ncols):
        col = [c for c in cells if c.col == k and c.col_span == 1]
        if len(col) >= 3:
            nums = sum(is_numeric(c.text) for c in col)
            steady.append(max(nums, len(col) - nums) / len(col))
    consistency = sum(steady) / len(steady) if steady else 1.0
    single = 0.5 if ncols < 2 else 1.0
    return round(single * (0.5 * fill + 0.5 * consistency), 3)


def choose_engines(features: dict, s: RegionSettings) -> list[str]:
    """Engines to run, the chosen one first: rules drawn across the region -> fused (rules
    where drawn, text gaps elsewhere); no real rules -> whitespace."""
    if s.engine != "auto":
        return [s.engine]
    ruled = features["v_cover"] >= s.min_v_cover or features["h_cover"] >= s.min_h_cover
    return ["fused", "whitespace"] if ruled else ["whitespace"]


def agreement(a: list[TableCell], b: list[TableCell]) -> float:
    """Share of cells (by text) that two readings both produced, 0..1."""
    ta, tb = [c.text for c in a], [c.text for c in b]
    if not ta and not tb:
        return 1.0
    pool = list(tb)
    same = 0
    for t in ta:
        if t in pool:
            pool.remove(t)
            same += 1
    return round(2 * same / (len(ta) + len(tb)), 3)


def accept_choice(features: dict, results: dict[str, EngineResult], s: RegionSettings) -> str:
    """Fall back to whitespace when the rules run through words (they are not a grid: strike
    lines, a chart, underlines) or the fused grid is a single column."""
    first = next(iter(results))
    fused = results.get("fused")
    if first != "fused" or fused is None or "whitespace" not in results:
        return first
    cut = fused.details["words_cut"] > s.max_cut_share * max(1, features["words"])
    rows, cols = grid_shape(fused.cells)
    features.update(fused_shape=[rows, cols],
                    whitespace_shape=list(grid_shape(results["whitespace"].cells)),
                    agreement=agreement(fused.cells, results["whitespace"].cells))
    return "whitespace" if cut or cols < 2 else "fused"


def extract_from_page(page: PageText, box: Box,
                      settings: RegionSettings | None = None) -> RegionTable:
    """The region's table from an already-read page (several regions share one reading)."""
    s = settings or RegionSettings()
    t0 = time.perf_counter()
    words = words_in_box(page.words, box)
    features = {"words": len(words), **rule_coverage(page, box, s.ruling.pad)}
    names = choose_engines(features, s)
    results = {n: ENGINES[n](words, page, box, s) for n in names}
    chosen = accept_choice(features, results, s) if s.engine == "auto" else s.engine
    quality = {n: grid_quality(r.cells) for n, r in results.items()}
    table = RegionTable(page=page.number, bbox=box, engine=chosen, cells=results[chosen].cells,
                        features={**features, **{f"{n}_{k}": v for n, r in results.items()
                                                 for k, v in r.details.items()}},
                        quality=quality[chosen],
                        alternatives={n: q for n, q in quality.items() if n != chosen},
                        seconds=round(time.perf_counter() - t0, 4))
    log.info("p%d %s %dx%d quality %.2f", page.number, chosen, *table.shape, table.quality)
    return table


@contextmanager
def open_region_page(pdf_path: str, page_number: int, bbox: Box) -> Iterator[PageText]:
    """The page of `pdf_path` a region is on, with rules drawn as curves (named errors for a bad
    box, a missing file, a page out of range); the PDF is closed on leaving."""
    x0, top, x1, bottom = (float(v) for v in bbox)
    if not (x1 > x0 and bottom > top):
        raise StatliftError("bad-bbox", source=str(pdf_path), page=page_number,
                            expected="x0 < x1 and top < bottom (top-left origin, points)",
                            found=f"{bbox}", hint="pass --bbox x0,top,x1,bottom")
    if not Path(pdf_path).is_file():
        raise StatliftError("pdf-not-found", source=str(pdf_path), expected="a PDF file",
                            found="no such file", hint="check the path")
    with Document.open(pdf_path) as doc:
        if not 1 <= page_number <= doc.page_count:
            raise StatliftError("page-out-of-range", source=str(pdf_path), page=page_number,
                                expected=f"a page number from 1 to {doc.page_count}",
                                found=str(page_number), hint="pages are numbered from 1")
        yield with_curve_rules(doc.page(page_number), doc.plumber_page(page_number))


def extract_region(pdf_path: str, page_number: int, bbox: Box, *,
                   settings: RegionSettings | None = None) -> RegionTable:
    """Cells of the table in `bbox` = (x0, top, x1, bottom), PDF points, top-left origin, on
    1-based page `page_number`, as the rules and gaps cut them. Opens the PDF once."""
    box = tuple(float(v) for v in bbox)
    with open_region_page(pdf_path, page_number, bbox) as page:
        return extract_from_page(page, box, settings)  # type: ignore[arg-type]


def curve_rules(curves: list[dict]) -> list[Rule]:
    """Thin axis-parallel curves (rules drawn as 4-point paths) as rules."""
    out = []
    for c in curves:
        w, h = c["x1"] - c["x0"], c["bottom"] - c["top"]
        if min(w, h) <= 2.0 < max(w, h):
            out.append(Rule(c["x0"], c["x1"], c["top"], c["bottom"]))
    return out


def with_curve_rules(page: PageText, plumber_page) -> PageText:
    """pdfdoc reads lines and rects; some producers draw rules as paths (curves)."""
    extra = curve_rules(plumber_page.curves)
    return replace(page, rules=page.rules + extra) if extra else page
