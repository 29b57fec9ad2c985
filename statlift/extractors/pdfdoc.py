"""One opened PDF, its pages' words and drawn rules computed once and shared by every table.

pdfplumber is the reference reader of the page's text layer. Words keep their font size so that
superscript footnote marks (smaller, raised) can be told apart from the text they mark.
"""
from __future__ import annotations

import logging
import re
import statistics
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pdfplumber
import playa
from camelot.handlers import PDFHandler
from pdfminer.layout import LTChar, LTContainer
from pdfminer.pdfinterp import PDFResourceManager
from pdfplumber.page import ALL_ATTRS
from pdfplumber.utils import resolve_all, resolve_and_decode

from statlift.acquire.hashing import sha256_file
from statlift.extractors.pdfium_lock import pdfium_document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    fontname: str
    superscript: bool = False

    @property
    def mid_y(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def bold(self) -> bool:
        return "bold" in self.fontname.lower() or "black" in self.fontname.lower()


@dataclass(frozen=True)
class Rule:
    """A drawn horizontal or vertical line (or a thin/filled rectangle's edge)."""

    x0: float
    x1: float
    top: float
    bottom: float
    filled_rect: bool = False

    @property
    def horizontal(self) -> bool:
        return (self.bottom - self.top) <= 2.0 and (self.x1 - self.x0) > 2.0

    @property
    def vertical(self) -> bool:
        return (self.x1 - self.x0) <= 2.0 and (self.bottom - self.top) > 2.0


@dataclass
class PageText:
    number: int  # 1-based
    width: float
    height: float
    words: list[Word]
    rules: list[Rule]
    rects: list[Rule]  # filled rectangles (title bars, shaded boxes), as boxes
    chars: int = 0

    @cached_property
    def body_size(self) -> float:
        """The running text's size: the size that prints the most characters (a page with big
        tables has more words in the tables' size, but fewer characters)."""
        weight: dict[float, int] = {}
        for w in self.words:
            if not w.superscript:
                key = round(w.size * 2) / 2
                weight[key] = weight.get(key, 0) + len(w.text)
        if not weight:
            return 10.0
        top = max(weight, key=lambda k: weight[k])
        return statistics.median(w.size for w in self.words
                                 if not w.superscript and round(w.size * 2) / 2 == top)


def _mark_superscripts(words: list[dict]) -> list[Word]:
    """A word much smaller than the word it touches on its left and raised above its baseline."""
    # the words whose right edge may touch a word's left edge, or whose left edge its right
    # edge (within 1.5 pt: their whole points differ by 2 at most), whatever the sort order
    # puts between them (a two-column page interleaves the other column's words)
    by_x0: dict[int, list[dict]] = {}
    by_x1: dict[int, list[dict]] = {}
    for o in words:
        by_x0.setdefault(int(o["x0"]), []).append(o)
        by_x1.setdefault(int(o["x1"]), []).append(o)
    out: list[Word] = []
    for w in words:
        sup = False
        size = float(w.get("size", 0) or 0)
        x0, x1, top, bottom = w["x0"], w["x1"], w["top"], w["bottom"]
        reach = 2.0 * max(size, 1.0)
        for other in [o for e in range(int(x0) - 2, int(x0) + 3) for o in by_x1.get(e, ())] + \
                [o for e in range(int(x1) - 2, int(x1) + 3) for o in by_x0.get(e, ())]:
            osize = float(other.get("size", 0) or 0)
            # the cheap test first: most neighbours are no bigger (nor is the word itself)
            if not size < 0.85 * osize or abs(other["top"] - top) > reach:
                continue
            # touching, and raised yet beside the word: a line of smaller text ending where a
            # bigger word starts lower down (a heading over a callout) is no mark
            if (abs(other["x1"] - x0) < 1.5 or abs(x1 - other["x0"]) < 1.5) and \
                    other["top"] + 0.1 * osize < bottom < other["bottom"] - 0.15 * osize:
                sup = True
                break
        out.append(Word(text=w["text"], x0=x0, x1=x1, top=top, bottom=bottom,
                        size=round(size, 2), fontname=str(w.get("fontname", "")), superscript=sup))
    return out


def _squash(text: str) -> str:
    """Letters and digits only, case-folded and NFKC-normalised: 'TABLE 7.' -> 'table7'."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).casefold()


def _page_rules(page) -> tuple[list[Rule], list[Rule]]:
    rules: list[Rule] = []
    boxes: list[Rule] = []
    for ln in page.lines:
        rules.append(Rule(ln["x0"], ln["x1"], ln["top"], ln["bottom"]))
    for r in page.rects:
        w, h = r["x1"] - r["x0"], r["bottom"] - r["top"]
        if h <= 2.0 or w <= 2.0:
            rules.append(Rule(r["x0"], r["x1"], r["top"], r["bottom"]))
        else:
            if r.get("fill"):
                boxes.append(Rule(r["x0"], r["x1"], r["top"], r["bottom"], filled_rect=True))
            if r.get("stroke"):  # a stroked box: its four edges are rules
                rules += [Rule(r["x0"], r["x1"], r["top"], r["top"]),
                          Rule(r["x0"], r["x1"], r["bottom"], r["bottom"]),
                          Rule(r["x0"], r["x0"], r["top"], r["bottom"]),
                          Rule(r["x1"], r["x1"], r["top"], r["bottom"])]
    return rules, boxes


_PLAIN = frozenset({float, int, str, bool, type(None)})
_NUMBERS = frozenset({float, int})


def plumber_objects(page) -> dict[str, list[dict]]:
    """pdfplumber's `page.objects`, the same dicts in the same order, with its characters
    converted by a direct path (issue 15): pdfplumber's generic Page.process_object resolves
    every attribute of every character through recursive helpers and decodes the colour
    space's name per character, which cost more than pdfminer's whole interpretation of the
    page (BJS's 10 pages: 0.6 CPU s of 1.2). Here a character's numbers, strings and tuples of
    numbers are taken as they are (what resolve_all returns for them) and colour-space names
    are decoded once per page; anything else, and every object that is not a plain LTChar,
    goes through pdfplumber's own process_object. Set as the page's cached objects, so that
    every pdfplumber call on the page (words, crops, table finder) uses them.
    tests/unit/test_plumber_objects.py compares them with pdfplumber's own on the shipped
    reports, the typeset variants and ICDAR 2013; pdfplumber is pinned (pyproject.toml)."""
    if hasattr(page, "_objects"):
        return page._objects
    pdf = page.pdf
    if pdf.unicode_norm is not None:  # pdfplumber normalises text: its own path
        return page.objects
    grouped = pdf.laparams is not None
    height, number, doctop = page.height, page.page_number, page.initial_doctop
    mb_x0, mb_top = page.mediabox[:2]
    names: dict[tuple, Any] = {}

    def char(obj) -> dict:
        attr: dict[str, Any] = {}
        for k, v in obj.__dict__.items():
            if k in ALL_ATTRS:
                t = type(v)
                if t in _PLAIN or (t is tuple and all(type(x) in _NUMBERS for x in v)):
                    attr[k] = v
                else:
                    attr[k] = resolve_all(v)
        if isinstance(attr.get("fontname"), bytes):  # pragma: no cover (rare byte names)
            return page.process_object(obj)
        attr["object_type"] = "char"
        attr["page_number"] = number
        for cs in ("ncs", "scs"):
            if hasattr(obj, cs):
                name = getattr(obj, cs).name
                key = (type(name), name)
                if key not in names:
                    names[key] = resolve_and_decode(name)
                attr[cs] = names[key]
        attr["text"] = obj.get_text()
        gs = obj.graphicstate
        attr["stroking_color"] = gs.scolor if isinstance(gs.scolor, tuple) else (gs.scolor,)
        attr["non_stroking_color"] = gs.ncolor if isinstance(gs.ncolor, tuple) else (gs.ncolor,)
        if "y0" in attr:
            attr["top"] = (height - attr["y1"]) + mb_top
            attr["bottom"] = (height - attr["y0"]) + mb_top
            attr["doctop"] = doctop + attr["top"]
        if "x0" in attr and mb_x0 != 0:
            attr["x0"] = attr["x0"] + mb_x0
            attr["x1"] = attr["x1"] + mb_x0
        return attr

    def walk(objs):  # pdfplumber's Page.iter_layout_objects
        for obj in objs:
            if isinstance(obj, LTContainer):
                if grouped:
                    yield page.process_object(obj)
                yield from walk(obj._objs)
            elif type(obj) is LTChar:
                yield char(obj)
            else:
                yield page.process_object(obj)

    objects: dict[str, list[dict]] = {}
    for attr in walk(page.layout._objs):  # pdfplumber's Page.parse_objects
        if attr["object_type"] != "anno":
            objects.setdefault(attr["object_type"], []).append(attr)
    page._objects = objects
    return objects


def read_page(page) -> PageText:
    plumber_objects(page)
    raw = page.extract_words(extra_attrs=["size", "fontname"], x_tolerance=1.5,
                             keep_blank_chars=False, use_text_flow=False)
    raw.sort(key=lambda w: (round(w["top"]), w["x0"]))
    words = _mark_superscripts(raw)
    rules, boxes = _page_rules(page)
    return PageText(number=page.page_number, width=float(page.width), height=float(page.height),
                    words=words, rules=rules, rects=boxes, chars=len(page.chars))


class FontWidths(PDFResourceManager):
    """pdfminer's resource manager whose fonts remember their glyphs' widths (issue 15).

    pdfminer asks a font for the width of every character it draws (PDFFont.char_width), and
    for a glyph missing from the font's width table that look-up raises and catches an
    exception each time: 3 % of statlift's CPU. A font's widths do not change once it is read,
    so each font keeps its answers. tests/unit/test_plumber_objects.py compares the characters
    with pdfplumber's own."""

    def get_font(self, objid, spec):
        font = super().get_font(objid, spec)
        if "char_width" not in vars(font):  # a font is cached and returned again per page
            font.char_width = cache(font.char_width)
        return font


# camelot's layout options (camelot.utils.get_page_layout) that differ from its defaults
CAMELOT_LAYOUT = {"boxes_flow": None}
RENDERS_KEPT = 4  # page images a Document keeps for camelot lattice (Document.page_render)


@dataclass
class Document:
    """A PDF opened once; pages are read on first use and kept as light PageText objects."""

    path: Path
    _pdf: Any = field(default=None, repr=False)  # pdfplumber.PDF while open
    _pages: dict[int, PageText] = field(default_factory=dict, repr=False)
    _squashed: list[str] | None = field(default=None, repr=False)
    _playa: Any = field(default=None, repr=False)  # playa's Document, opened for camelot
    _camelot_pages: dict[int, tuple] = field(default_factory=dict, repr=False)
    _renders: OrderedDict[int, Any] = field(default_factory=OrderedDict, repr=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> Document:
        doc = cls(Path(path))
        doc._pdf = pdfplumber.open(str(path))
        doc._pdf.rsrcmgr = FontWidths()
        return doc

    @property
    def pdf(self):
        return self._pdf

    @cached_property
    def sha256(self) -> str:
        return sha256_file(self.path)

    @property
    def page_count(self) -> int:
        return len(self._pdf.pages)

    def page(self, number: int) -> PageText:
        """Words and rules of page `number` (1-based), computed once."""
        if number not in self._pages:
            self._pages[number] = read_page(self._pdf.pages[number - 1])
        return self._pages[number]

    def pages(self):
        for n in range(1, self.page_count + 1):
            yield self.page(n)

    def pages_mentioning(self, text: str) -> list[int]:
        """Pages whose text layer may hold `text`, from PDFium's plain text of every page (C,
        ~100x faster than pdfminer's layout): letters and digits compared case-blind, so that
        spacing, line breaks and punctuation never hide a match. Pages PDFium cannot decode, or
        a `text` with no letters or digits, count as candidates. Over-inclusive by design: the
        candidates are then read in full, so this only skips pages that cannot hold `text`."""
        needle = _squash(text)
        pages = self._page_squashed()
        return [n for n, hay in enumerate(pages, 1) if not needle or not hay or needle in hay]

    def _page_squashed(self) -> list[str]:
        if self._squashed is None:
            out = []
            try:
                with pdfium_document(self.path) as pdf:
                    for i in range(len(pdf)):
                        page = pdf[i]
                        textpage = page.get_textpage()
                        out.append(_squash(textpage.get_text_range()))
                        textpage.close()
                        page.close()
            except Exception as exc:  # PDFium cannot read it: every page is a candidate
                log.debug("%s: no PDFium text (%s); every page is read", self.path, exc)
                out = [""] * self.page_count
            self._squashed = out
        return self._squashed

    def plumber_page(self, number: int):
        page = self._pdf.pages[number - 1]
        plumber_objects(page)
        return page

    def camelot_page(self, number: int) -> tuple:
        """camelot's layout of page `number` (its pdfminer-style text lines, images and
        rotation, from playa), computed once and shared by every table on the page: camelot's
        read_pdf opens the file and lays the page out again for each table (issue 15).

        Without pdfminer's ordering of text boxes (boxes_flow=None, CAMELOT_LAYOUT): camelot
        reads text lines, which that ordering does not change, and sorts them itself; it was a
        fifth of the layout's time. tests/unit/test_engines_camelot.py compares the readings
        with camelot.read_pdf's own."""
        if number not in self._camelot_pages:
            if self._playa is None:
                self._playa = playa.open(str(self.path), space="page")
            page = self._playa.pages[number - 1]
            self._camelot_pages[number] = PDFHandler(str(self.path))._get_layout(
                page, **CAMELOT_LAYOUT)
        return self._camelot_pages[number]

    def page_render(self, number: int, render: Callable[[], Any]) -> Any:
        """The page image `render()` makes (camelot lattice's whole-page render, which it redoes
        for every table on the page: 0.18 CPU s each), kept for the last RENDERS_KEPT pages
        read (a letter page at camelot's resolution is 25 MB); callers get their own copy."""
        if number in self._renders:
            self._renders.move_to_end(number)
        else:
            self._renders[number] = render()
            while len(self._renders) > RENDERS_KEPT:
                self._renders.popitem(last=False)
        return self._renders[number].copy()

    def close(self) -> None:
        """Close the file and drop pdfplumber's page caches (memory stays flat over a catalog)."""
        self._camelot_pages.clear()
        self._renders.clear()
        if self._playa is not None:
            self._playa.close()
            self._playa = None
        if self._pdf is not None:
            for page in self._pdf.pages:
                page.flush_cache()
            self._pdf.close()
            self._pdf = None

    def __enter__(self) -> Document:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# Documents lent by their owner to other readers of the same file in this process (issue 15):
# the flow's report task lends its Document while it audits and publishes, so that the audit's
# text checks reuse the pages extraction parsed instead of opening and parsing the PDF again.
_LENT: dict[str, Document] = {}
_LENT_LOCK = threading.Lock()


@contextmanager
def lent(doc: Document) -> Iterator[Document]:
    """Lend the open `doc` to open_document() callers of its file while the block runs."""
    key = str(Path(doc.path).resolve())
    with _LENT_LOCK:
        _LENT[key] = doc
    try:
        yield doc
    finally:
        with _LENT_LOCK:
            if _LENT.get(key) is doc:
                del _LENT[key]


@contextmanager
def open_document(path: str | Path) -> Iterator[Document]:
    """The Document lent for `path` (used under its lock, left open), else a new one, closed
    after the block."""
    with _LENT_LOCK:
        doc = _LENT.get(str(Path(path).resolve()))
    if doc is not None and doc.pdf is not None:
        with doc.lock:
            yield doc
        return
    with Document.open(path) as new:
        yield new
