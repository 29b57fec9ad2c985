"""Crops of PDF pages with cells (or a sentence) boxed: what the audit page and the
verification page show next to each problem. One route for both: `highlight_crops`."""
from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PIL import ImageDraw

from statlift.extractors.pdfium_lock import pdfium_document

SCALE = 2.0  # page crops at 144 dpi
PROBLEM = "#d62728"  # the cell (or sentence) the problem is about
INVOLVED = "#ff9f1c"  # the other cells of the check

# zlib level of the crops' PNG encoding. optimize=True (level 9 and a search) cost ~0.05 s a crop,
# half a second a report, and was larger on the shipped reports' crops than level 3 (1.07 vs
# 0.90 MB for their 13 table crops, 0.60 vs 0.13 s CPU): the pixels are the same either way
# (tests/outputs_digest.py compares a PNG's size, mode and pixels, not its container bytes).
PNG_COMPRESS_LEVEL = 3

TIGHT_MARGIN_Y = 3.0  # points above and below a crop around its boxes (no region)

Box = tuple[float, float, float, float]


def parse_box(text: object) -> Box | None:
    """A cells.csv `bbox` ("x0,top,x1,bottom") as numbers; None if it is not four numbers."""
    try:
        box = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        return None
    return (box[0], box[1], box[2], box[3]) if len(box) == 4 else None


def union(boxes: Iterable[Box]) -> Box | None:
    boxes = list(boxes)
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))


def crop_origin(region: Sequence[float], margin: float = 8.0,
                margin_y: float | None = None) -> tuple[float, float]:
    """The page point (x, top) at the crop's top-left pixel: the region less its margins, not
    beyond the page's edge."""
    my = margin if margin_y is None else margin_y
    return max(0.0, region[0] - margin), max(0.0, region[1] - my)


def focus_in_crop(region: Sequence[float] | None, boxes: Iterable[Box]) -> tuple[int, int] | None:
    """Where the middle of `boxes` falls in the crop `highlight_crops` makes of `region` (None:
    around the boxes), in the crop's pixels: what a phone shows close up.

    >>> focus_in_crop((50, 100, 550, 300), [(400, 200, 420, 210)])
    (736, 226)
    >>> focus_in_crop(None, [(60, 100, 300, 136)]), focus_in_crop(None, [])
    ((256, 42), None)
    """
    around = union(boxes)
    if around is None:
        return None
    margin_y = None if region else TIGHT_MARGIN_Y
    x0, top = crop_origin(region or around, margin_y=margin_y)
    cx, cy = (around[0] + around[2]) / 2, (around[1] + around[3]) / 2
    return round((cx - x0) * SCALE), round((cy - top) * SCALE)


def render_crop(pdf_path: str, page: int, bbox, boxes: list[tuple[tuple, str]],
                margin: float = 8.0, pages: dict | None = None,
                margin_y: float | None = None) -> bytes:
    """PNG of the page region `bbox` (points, top-left origin) with `boxes` drawn on it,
    `margin` points around it (`margin_y` above and below, default the same).

    `pages` caches rendered pages (number -> image) across calls: a report's tables and findings
    share a few pages, and rendering a page costs far more than cropping it."""
    pages = {} if pages is None else pages
    if page not in pages:
        with pdfium_document(pdf_path) as doc:
            image = doc[page - 1].render(scale=SCALE).to_pil()  # a copy of PDFium's BGR
            pages[page] = image if image.mode == "RGB" else image.convert("RGB")
    image = pages[page]
    x0, top, x1, bottom = bbox
    my = margin if margin_y is None else margin_y
    origin = crop_origin(bbox, margin, margin_y)
    left, upper = origin[0] * SCALE, origin[1] * SCALE
    crop = image.crop((left, upper, min(image.width, (x1 + margin) * SCALE),
                       min(image.height, (bottom + my) * SCALE)))  # a copy: page stays clean
    draw = ImageDraw.Draw(crop)
    for (bx0, btop, bx1, bbottom), colour in boxes:
        draw.rectangle([bx0 * SCALE - 3 - left, btop * SCALE - 2 - upper,
                        bx1 * SCALE + 3 - left, bbottom * SCALE + 2 - upper],
                       outline=colour, width=3)
    buf = io.BytesIO()
    crop.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


@dataclass(frozen=True)
class Highlight:
    """What one crop shows: `boxes` (box, colour) on `page`, inside `region` (default: around
    the boxes)."""

    key: str | int
    page: int
    boxes: tuple[tuple[Box, str], ...]
    region: Sequence[float] | None = None


def highlight_crops(pdf_path: str, highlights: Iterable[Highlight],
                    pages: dict | None = None) -> dict[str | int, str]:
    """key -> base64 PNG of each highlight (each page rendered once); a highlight with neither a
    region nor a box is left out. A crop around the boxes themselves (no region: a sentence of
    the running text, a callout figure) keeps only a sliver above and below them, so that it
    does not show the neighbouring lines cut in half."""
    pages = {} if pages is None else pages
    out: dict[str | int, str] = {}
    for h in highlights:
        region = tuple(h.region) if h.region else union(b for b, _ in h.boxes)
        if region is None:
            continue
        png = render_crop(pdf_path, h.page, region, list(h.boxes), pages=pages,
                          margin_y=None if h.region else TIGHT_MARGIN_Y)
        out[h.key] = base64.b64encode(png).decode("ascii")
    return out
