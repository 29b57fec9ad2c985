"""Captions are searched only on the pages whose PDFium text can hold them, and every page is
read when PDFium's text does not show the caption (the result never depends on the shortcut)."""
from __future__ import annotations

from pathlib import Path

from statlift.extractors.locate import find_caption
from statlift.extractors.pdfdoc import Document, _squash

REPO = Path(__file__).resolve().parents[2]
BJS_PDF = next((REPO / "raw" / "bjs-ncj250746").glob("*.pdf"))


def test_squash_ignores_case_spacing_and_punctuation():
    assert _squash("TABLE  7.") == _squash("Table\r\n7:") == "table7"


def test_only_pages_that_can_hold_the_caption_are_parsed():
    with Document.open(BJS_PDF) as doc:
        candidates = doc.pages_mentioning("TABLE 7")
        cap = find_caption(doc, "TABLE 7")
        assert cap is not None and cap.page in candidates
        assert len(candidates) < doc.page_count
        assert set(doc._pages) == set(candidates)  # no other page went through pdfminer


def test_every_page_is_read_when_pdfium_text_misses_the_caption(monkeypatch):
    with Document.open(BJS_PDF) as doc:
        expected = find_caption(doc, "TABLE 7").page
    with Document.open(BJS_PDF) as doc:
        monkeypatch.setattr(doc, "_squashed", ["unreadable"] * doc.page_count)
        assert doc.pages_mentioning("TABLE 7") == []
        cap = find_caption(doc, "TABLE 7")
        assert cap is not None and cap.page == expected
