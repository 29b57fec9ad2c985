"""Every PDFium call statlift makes (directly or through camelot's lattice render) holds the one
process-wide lock: PDFium is not thread-safe, and the threads runner once crashed with a segfault
when camelot rendered a page in a worker while the flow checked the next PDF."""
from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest

from statlift.extractors.pdfium_lock import PDFIUM_LOCK

REPO = Path(__file__).resolve().parents[2]
USSC_PDF = next((REPO / "raw" / "ussc-cp-production-2021").glob("*.pdf"))


@pytest.fixture
def opened(monkeypatch) -> list[bool]:
    """Record, for every pypdfium2.PdfDocument opened, whether the lock was held."""
    held: list[bool] = []
    real = pypdfium2.PdfDocument

    def checked(*args, **kwargs):
        held.append(PDFIUM_LOCK._is_owned())
        return real(*args, **kwargs)

    monkeypatch.setattr(pypdfium2, "PdfDocument", checked)
    return held


@pytest.fixture
def ruled_pdf(tmp_path) -> Path:
    reportlab = pytest.importorskip("reportlab", reason="reportlab (test extra) builds the PDF")
    from reportlab.pdfgen import canvas
    assert reportlab
    path = tmp_path / "ruled.pdf"
    c = canvas.Canvas(str(path), pagesize=(400, 300))
    xs, ys = [50, 150, 250, 350], [250, 220, 190, 160]
    for x in xs:
        c.line(x, ys[0], x, ys[-1])
    for y in ys:
        c.line(xs[0], y, xs[-1], y)
    for r, y in enumerate(ys[:-1]):
        for col, x in enumerate(xs[:-1]):
            c.drawString(x + 5, y - 20, f"r{r}c{col}" if r else f"Head {col}")
    c.save()
    return path


def test_fetch_check_holds_the_lock(opened):
    from statlift.acquire.fetch import check_pdf_structure

    assert check_pdf_structure(USSC_PDF) >= 1
    assert opened and all(opened)


def test_callout_second_reading_holds_the_lock(opened):
    from statlift.extractors.callouts import read_with_pdfium

    assert read_with_pdfium(str(USSC_PDF), 1, (0, 0, 612, 792))
    assert opened == [True]


def test_audit_crop_holds_the_lock(opened):
    from statlift.validate.audit import render_crop

    png = render_crop(str(USSC_PDF), 1, (50, 50, 300, 200), [((60, 60, 100, 80), "red")])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert opened == [True]


def test_camelot_lattice_render_holds_the_lock(opened, ruled_pdf):
    from statlift.extractors.engines import read_camelot
    from statlift.extractors.pdfdoc import Document
    from statlift.schemas.specs import CamelotSettings

    doc = Document.open(ruled_pdf)
    reading = read_camelot(doc, 1, (40, 40, 360, 150), CamelotSettings(flavor="lattice"),
                           ruled=True)
    assert reading.engine == "camelot-lattice"
    assert "r1c1" in {c.text for c in reading.cells}
    assert opened and all(opened)


def test_caption_prefilter_holds_the_lock(opened):
    from statlift.extractors.pdfdoc import Document

    with Document.open(USSC_PDF) as doc:
        assert doc.pages_mentioning("Sexual contact")
    assert opened == [True]
