"""camelot read from the page's layout computed once per Document (engines.camelot_tables)
gives what camelot.read_pdf gives for the same page and area, stream and lattice: the pipeline
uses camelot's own steps without its per-call file open and page layout (issue 15)."""
from __future__ import annotations

import warnings

import camelot
import pytest

from statlift.extractors.engines import camelot_tables
from statlift.extractors.pdfdoc import Document
from statlift.settings import DEFAULT_HOME
from tests.unit.test_discover import ICDAR


def _shipped(report_id: str):
    return next((DEFAULT_HOME / "raw" / report_id).glob("*.pdf"))


def _frames(tables) -> list:
    return [(t.page, t.df.values.tolist(), [[(c.x1, c.y1, c.x2, c.y2) for c in row]
                                            for row in t.cells]) for t in tables]


def _compare(path, flavor: str, area_key: str, extra: dict) -> int:
    compared = 0
    with Document.open(path) as doc:
        for number in range(1, doc.page_count + 1):
            page = doc.page(number)
            w, h = page.width, page.height
            # the top and the bottom half of the page, as two tables on one page would be
            for top, bottom in ((50, h / 2), (h / 2, h - 50)):
                area = f"30,{h - top:.1f},{w - 30:.1f},{h - bottom:.1f}"
                kwargs = {area_key: [area], **extra}
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    expected = camelot.read_pdf(str(path), pages=str(number), flavor=flavor,
                                                **kwargs)
                    got = camelot_tables(doc, number, flavor, kwargs)
                assert _frames(got) == _frames(expected), (path.name, number, area)
                compared += len(expected)
    return compared


def test_stream_from_the_shared_layout_is_camelots_reading():
    compared = sum(_compare(_shipped(r), "stream", "table_areas", {"row_tol": 2, "edge_tol": 50})
                   for r in ("bjs-ncj250746", "ussc-cp-production-2021"))
    assert compared >= 10  # tables were found and compared, not two empty lists


@pytest.mark.parametrize("variant", ["bjs-one-column-times", "bjs-two-column-courier-unruled"])
def test_stream_on_other_typesettings_is_camelots_reading(variant_pdfs, variant):
    """Other fonts and column layouts than the shipped reports': the layout statlift asks
    camelot for (pdfdoc.CAMELOT_LAYOUT, no ordering of text boxes) reads the same tables."""
    assert _compare(variant_pdfs[variant], "stream", "table_areas",
                    {"row_tol": 2, "edge_tol": 50}) >= 2


def test_lattice_from_the_shared_layout_is_camelots_reading(variant_pdfs):
    path = variant_pdfs["bjs-ruled-grid-reordered"]
    assert _compare(path, "lattice", "table_regions", {"line_scale": 40}) >= 4


@pytest.mark.skipif(not ICDAR.is_dir(), reason="shared ICDAR 2013 set absent")
def test_lattice_on_other_publishers_ruled_tables_is_camelots_reading():
    """Ruled tables of other publishers (ICDAR 2013 EU): statlift's lattice, on the window
    around the region (extractors/lattice.py), reads what camelot.read_pdf reads. Checked once
    on all 27 files with eight regions and two settings per page: 1776 readings the same."""
    compared = sum(_compare(ICDAR / name, "lattice", "table_regions", {"line_scale": 40})
                   for name in ("eu-001.pdf", "eu-003.pdf", "eu-006.pdf", "eu-015.pdf"))
    assert compared >= 8


def test_the_layout_is_computed_once_per_page(monkeypatch):
    from camelot.handlers import PDFHandler

    calls = []
    real = PDFHandler._get_layout
    monkeypatch.setattr(PDFHandler, "_get_layout", lambda self, page, **kw:
                        calls.append(page.page_idx) or real(self, page, **kw))
    with Document.open(_shipped("bjs-ncj250746")) as doc:
        for _ in range(3):
            camelot_tables(doc, 2, "stream", {"table_areas": ["30,700,580,100"]})
        assert calls == [1]
    assert doc._playa is None and not doc._camelot_pages  # closed with the Document


def test_bad_option_is_camelots_error():
    with Document.open(_shipped("ussc-cp-production-2021")) as doc, \
            pytest.raises(ValueError, match="line_scale cannot be used with flavor='stream'"):
        camelot_tables(doc, 1, "stream", {"table_areas": ["30,700,580,100"], "line_scale": 3})


def test_lattice_renders_each_page_once_and_keeps_few(monkeypatch, variant_pdfs):
    """camelot lattice renders the whole page for every table: the Document keeps the last
    RENDERS_KEPT pages' renders for the page's other tables, and drops them when closed."""
    from statlift.extractors import engines, pdfdoc

    calls = []
    real = engines.lattice_render
    monkeypatch.setattr(engines, "lattice_render",
                        lambda icb, path, page: calls.append(page) or real(icb, path, page))
    monkeypatch.setattr(pdfdoc, "RENDERS_KEPT", 2)
    with Document.open(variant_pdfs["bjs-ruled-grid-reordered"]) as doc:
        h = doc.page(1).height
        for number in (2, 2, 3, 2, 4, 2):
            camelot_tables(doc, number, "lattice",
                           {"table_regions": [f"30,{h - 50:.1f},580,50"], "line_scale": 40})
        assert calls == [2, 3, 4]  # 2 stays among the last two pages read; then 4 drops 3
        assert list(doc._renders) == [4, 2]
    assert not doc._renders


def test_lattice_render_is_camelots_page_image(variant_pdfs):
    """The page image statlift hands camelot's lattice (one copy of PDFium's bitmap) is, pixel
    for pixel, the one camelot's PDFium backend makes; another backend is asked itself."""
    import numpy as np
    from camelot.backends.image_conversion import ImageConversionBackend

    from statlift.extractors.engines import lattice_render

    icb = ImageConversionBackend()
    for path, page in ((variant_pdfs["bjs-ruled-grid-reordered"], 2),
                       (_shipped("ussc-cp-production-2021"), 1)):
        got, want = lattice_render(icb, str(path), page), icb.to_array(str(path), page=page)
        assert (want[..., 0] != want[..., 2]).any()  # colour: swapped channels would show
        assert got.dtype == want.dtype and got.flags.c_contiguous
        assert np.array_equal(got, want), (path.name, page)

    class Other:  # camelot's Ghostscript or poppler fallback
        backend = object()

        def to_array(self, path, page=1):
            return ("theirs", path, page)

    assert lattice_render(Other(), "x.pdf", 3) == ("theirs", "x.pdf", 3)
