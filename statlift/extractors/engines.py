"""Second and third readings of a table: pdfplumber's table finder and camelot.

Each engine reads the table's body box on its own and returns cells with boxes; statlift then
asks, for each cell it read from the page's words, what each engine printed at that place.
A registry maps engine names to reader functions (camelot's `PARSERS` pattern); its names are
schemas.specs.EngineName, so a spec naming another engine fails when it loads.
"""
from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from camelot.backends.pdfium_backend import PdfiumBackend
from camelot.handlers import PARSERS
from camelot.utils import remove_extra, validate_input

from statlift.extractors.lattice import RegionLattice
from statlift.extractors.pdfium_lock import PDFIUM_LOCK, pdfium_document
from statlift.schemas.specs import CamelotSettings, EngineName, PlumberSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineCell:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float

    def contains(self, x: float, y: float) -> bool:
        return self.x0 - 0.5 <= x <= self.x1 + 0.5 and self.top - 0.5 <= y <= self.bottom + 0.5


# text_at looks among the cells of one horizontal band of BAND points (a cell is in every band
# its box, margin included, touches) rather than every cell of the table: each of statlift's
# cells asks each engine once (issue 15)
BAND = 8.0


def _bands(cells: list[EngineCell]) -> dict[int, list[EngineCell]] | None:
    """Cells by band, each band's in the cells' order; None when a box is not finite."""
    bands: dict[int, list[EngineCell]] = {}
    for c in cells:
        if not (math.isfinite(c.top) and math.isfinite(c.bottom)):
            return None
        for band in range(math.floor((c.top - 0.5) / BAND),
                          math.floor((c.bottom + 0.5) / BAND) + 1):
            bands.setdefault(band, []).append(c)
    return bands


@dataclass
class EngineReading:
    engine: str
    cells: list[EngineCell]
    report: dict  # parse report (camelot accuracy/whitespace; cell counts)
    error: str | None = None
    _bands: dict[int, list[EngineCell]] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._bands = _bands(self.cells)

    def text_at(self, x: float, y: float) -> str | None:
        """The engine's text of the cell containing point (x, y), top-left coordinates."""
        candidates = self.cells if self._bands is None or not math.isfinite(y) else \
            self._bands.get(math.floor(y / BAND), [])
        hits = [c for c in candidates if c.contains(x, y)]
        if not hits:
            return None
        hits.sort(key=lambda c: (c.x1 - c.x0) * (c.bottom - c.top))
        return hits[0].text


def read_pdfplumber(doc, page: int, bbox: tuple[float, float, float, float],
                    settings: PlumberSettings, ruled: bool) -> EngineReading:
    """pdfplumber's own table finder on the cropped body box."""
    opts = settings.model_dump()
    if ruled:
        opts["vertical_strategy"] = opts["horizontal_strategy"] = "lines"
    x0, top, x1, bottom = bbox
    pl_page = doc.plumber_page(page)
    crop = pl_page.crop((max(0, x0 - 1), max(0, top - 1), min(pl_page.width, x1 + 1),
                         min(pl_page.height, bottom + 1)), strict=False)
    cells: list[EngineCell] = []
    tables = crop.find_tables(opts)
    for table in tables:
        texts = table.extract()
        for row, row_texts in zip(table.rows, texts):
            for box, text in zip(row.cells, row_texts):
                if box is None:
                    continue
                cells.append(EngineCell((text or "").replace("\n", " ").strip(), *box))
    return EngineReading("pdfplumber", cells, {"tables": len(tables), "cells": len(cells)})


def read_camelot(doc, page: int, bbox: tuple[float, float, float, float],
                 settings: CamelotSettings, ruled: bool) -> EngineReading:
    """camelot stream on the body box (lattice with table_regions when the table is ruled:
    camelot 2.0's lattice ignores table_areas)."""
    flavor = settings.flavor if settings.flavor != "auto" else ("lattice" if ruled else "stream")
    height = doc.page(page).height
    x0, top, x1, bottom = bbox
    area = f"{x0 - 2:.1f},{height - top + 2:.1f},{x1 + 2:.1f},{height - bottom - 2:.1f}"
    kwargs: dict = {"pages": str(page), "flavor": flavor}
    if flavor == "stream":
        kwargs.update(table_areas=[area], row_tol=settings.row_tol, edge_tol=settings.edge_tol)
    else:
        kwargs.update(table_regions=[area], line_scale=settings.line_scale)
    # lattice renders the page with PDFium, which is not thread-safe (extractors/pdfium_lock.py)
    with warnings.catch_warnings(), (PDFIUM_LOCK if flavor == "lattice" else nullcontext()):
        warnings.simplefilter("ignore")
        tables = camelot_tables(doc, page, flavor, kwargs)
    cells: list[EngineCell] = []
    report: dict = {"flavor": flavor, "tables": len(tables)}
    for t in tables:
        report.update({k: v for k, v in t.parsing_report.items()
                       if k in ("accuracy", "whitespace")})
        for r, row in enumerate(t.cells):
            for c, cell in enumerate(row):
                text = str(t.df.iloc[r, c]) if r < t.df.shape[0] and c < t.df.shape[1] else ""
                cells.append(EngineCell(text.replace("\n", " ").strip(), cell.x1,
                                        height - cell.y2, cell.x2, height - cell.y1))
    return EngineReading(f"camelot-{flavor}", cells, report)


def camelot_tables(doc, page: int, flavor: str, kwargs: dict) -> list:
    """What `camelot.read_pdf(doc.path, pages=page, flavor=flavor, **kwargs)` returns, from the
    page's layout computed once per Document (Document.camelot_page) instead of opening the file
    and laying the page out again for every table: camelot's own steps (PDFHandler._parse_page),
    kept in step with it by tests/unit/test_engines_camelot.py and the pin on camelot-py."""
    options = {k: v for k, v in kwargs.items() if k not in ("pages", "flavor")}
    validate_input(options, flavor=flavor)
    options = remove_extra(options, flavor=flavor)
    layout, dimensions, images, _chars, horizontal, vertical, rotation = doc.camelot_page(page)
    # lattice on the window around the table's region (extractors/lattice.py), else camelot's
    parser = (RegionLattice if flavor == "lattice" else PARSERS[flavor])(**options)
    if hasattr(parser, "icb"):  # lattice renders the page: once per page for all its tables
        parser.icb = _RenderOnce(doc, parser.icb)
    parser.prepare_page_parse(str(doc.path), layout, dimensions, page, images, horizontal,
                              vertical, rotation, layout_kwargs={})
    return sorted(parser.extract_tables())


class _RenderOnce:
    """camelot's ImageConversionBackend for one Document: a page's render is made once and
    shared by the page's tables (Document.page_render); anything else is the backend's own."""

    def __init__(self, doc, icb) -> None:
        self.doc, self.icb = doc, icb

    def to_array(self, pdf_path: str, page: int = 1):
        if str(pdf_path) != str(self.doc.path):  # pragma: no cover (camelot renders its file)
            return self.icb.to_array(pdf_path, page=page)
        return self.doc.page_render(page, lambda: lattice_render(self.icb, pdf_path, page))

    def __getattr__(self, name: str):
        return getattr(self.icb, name)


LATTICE_DPI = 300  # the resolution camelot's lattice renders at (PdfiumBackend.to_array's default)


def lattice_render(icb, pdf_path: str, page: int) -> np.ndarray:
    """The page image camelot's lattice thresholds: what its PDFium backend's to_array returns
    (the page at LATTICE_DPI, forms drawn, BGR), copied once from PDFium's bitmap, where
    to_array copies it four times on the way (PIL image, RGB conversion, channel flip, contiguous
    array: three quarters of the render's time). Another backend (camelot's Ghostscript or
    poppler fallback) or another pixel format is camelot's own path.
    tests/unit/test_engines_camelot.py compares the arrays."""
    if not isinstance(getattr(icb, "backend", None), PdfiumBackend):
        return icb.to_array(pdf_path, page=page)
    with pdfium_document(pdf_path) as pdf:
        pdf.init_forms()
        bitmap = pdf[page - 1].render(scale=LATTICE_DPI / 72)
        if bitmap.mode != "BGR":  # pragma: no cover (PDFium renders opaque pages as BGR)
            return icb.to_array(pdf_path, page=page)
        return bitmap.to_numpy().copy()  # a view of PDFium's buffer until copied


ENGINES: dict[EngineName, Callable[..., EngineReading]] = {
    "pdfplumber": read_pdfplumber,
    "camelot": read_camelot,
}


def read_with_engines(doc, page: int, bbox, names: tuple[EngineName, ...],
                      plumber: PlumberSettings, cam: CamelotSettings,
                      ruled: bool) -> list[EngineReading]:
    """Run every enabled engine (names validated when the spec loaded); an engine that fails
    while reading is recorded, never fatal."""
    out = []
    for name in names:
        read = ENGINES[name]
        settings = plumber if name == "pdfplumber" else cam
        try:
            out.append(read(doc, page, bbox, settings, ruled))
        except Exception as exc:  # an engine's failure lowers agreement; the words still count
            log.warning("engine %s failed on page %s: %s", name, page, exc)
            out.append(EngineReading(name, [], {}, error=f"{type(exc).__name__}: {exc}"))
    return out
