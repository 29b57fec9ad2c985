"""pdfdoc.plumber_objects gives pdfplumber's own page objects, only faster (issue 15).

Each page is parsed twice, by pdfplumber's Page.objects and by plumber_objects, and every
character dict must be equal key for key, in the same key order and the same order on the page
(the second opened as statlift's Document opens it);
other objects (lines, rects, curves, images) go through pdfplumber's own process_object in both
and are compared by repr (an image's stream is a new object per open file)."""
from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from statlift.extractors.pdfdoc import Document, plumber_objects
from tests.unit.test_discover import ICDAR

RAW = Path(__file__).resolve().parents[2] / "raw"


def _same_objects(path: Path, pages: int | None = None) -> int:
    """Compare both parses of the first `pages` pages of `path` (all when None); the number of
    characters compared."""
    chars = 0
    with pdfplumber.open(str(path)) as theirs, Document.open(path) as doc:
        ours = doc.pdf  # as statlift opens it (its font widths remembered: pdfdoc.FontWidths)
        for a, b in list(zip(theirs.pages, ours.pages, strict=True))[:pages]:
            want, got = a.objects, plumber_objects(b)
            assert list(got) == list(want), f"{path.name} p{a.page_number}: object kinds"
            for kind in want:
                assert len(got[kind]) == len(want[kind]), f"{path.name} p{a.page_number} {kind}"
                for w, g in zip(want[kind], got[kind]):
                    assert list(g) == list(w), f"{path.name} p{a.page_number}: {kind} keys"
                    if kind == "char":
                        assert g == w, f"{path.name} p{a.page_number}: {w} != {g}"
                    else:
                        assert repr(g) == repr(w), f"{path.name} p{a.page_number} {kind}"
            assert b.objects is got  # every pdfplumber call on the page now uses them
            chars += len(want.get("char", []))
    return chars


def test_shipped_reports():
    pdfs = sorted(RAW.rglob("*.pdf"))
    assert len(pdfs) >= 2
    assert sum(_same_objects(p) for p in pdfs) > 10_000


def test_typeset_variants(variant_pdfs):
    """Other fonts (Type 1 base fonts, Courier), ruled grids, one and two columns: the first
    pages of each (every page would double the test's time for no other kind of object)."""
    assert sum(_same_objects(p, pages=2) for p in variant_pdfs.values()) > 5_000


@pytest.mark.skipif(not ICDAR.is_dir(), reason="shared ICDAR 2013 set absent")
def test_icdar2013_eu():
    """Other producers' PDFs: images, curves, colour spaces, rotated and CID-keyed text."""
    assert sum(_same_objects(p, pages=1) for p in sorted(ICDAR.glob("*.pdf"))) > 10_000


def test_documents_pages_use_them():
    """Document's words and the pdfplumber engine's page both get the fast objects."""
    pdf = sorted(RAW.rglob("*.pdf"))[0]
    with Document.open(pdf) as doc:
        doc.page(1)
        page = doc.pdf.pages[0]
        assert "_objects" in vars(page)
        assert doc.plumber_page(2).objects is vars(doc.pdf.pages[1])["_objects"]
        fonts = list(doc.pdf.rsrcmgr._cached_fonts.values())  # read with remembered widths
        assert fonts and all("char_width" in vars(f) for f in fonts)


def test_unicode_normalisation_keeps_pdfplumbers_path():
    """pdfplumber.open(unicode_norm=...) normalises text in its own process_object: used as is."""
    pdf = sorted(RAW.rglob("*.pdf"))[0]
    with pdfplumber.open(str(pdf), unicode_norm="NFKC") as a, \
            pdfplumber.open(str(pdf), unicode_norm="NFKC") as b:
        assert [c["text"] for c in plumber_objects(b.pages[0])["char"]] == \
            [c["text"] for c in a.pages[0].chars]
