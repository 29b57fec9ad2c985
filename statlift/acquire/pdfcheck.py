"""The checks a PDF must pass before statlift reads it, on its first bytes and on the whole file.

In order: not empty, not an HTML page, `%PDF-` within the first KiB (and a PDF content type, for a
download), the closing `%%EOF`, opens with PDFium without a password, has pages, and has a text
layer on at least one page. Each failure is a StatliftError naming the file, what was expected
and what was found. Used on downloads (acquire/fetch.py), on local files before a run
(`--source ID=PATH`, `statlift add`) and before `discover` / `extract-region` read a file; light
to import (no network client) since `extract-region` starts one process per region.
"""
from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium

from statlift.errors import StatliftError
from statlift.extractors.pdfium_lock import PDFIUM_LOCK

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
HEAD_BYTES = 1024  # the PDF header may follow up to 1 KiB of junk (PDF 32000-1, Annex H)
PDF_CONTENT_TYPES = frozenset({
    "application/pdf", "application/x-pdf", "application/acrobat", "applications/vnd.pdf",
    "text/pdf", "text/x-pdf", "application/octet-stream", "binary/octet-stream",
    "application/download", "application/x-download", "application/force-download",
})
HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def check_pdf_head(head: bytes, source: str, content_type: str | None = None) -> None:
    """Refuse an empty body, an HTML page or anything without `%PDF-` in its first KiB."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not head:
        raise StatliftError("empty-file", source=source, found="an empty file (0 bytes)")
    sniff = head[:HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if ctype in HTML_CONTENT_TYPES or sniff.startswith((b"<!doctype html", b"<html", b"<head")):
        title = _html_title(head)
        found = f"an HTML page ({ctype or 'no content type'}" + (f", titled {title!r})" if title
                                                                 else ")")
        raise StatliftError("html-instead-of-pdf", source=source, found=found)
    if b"%PDF-" not in head[:HEAD_BYTES]:
        kind = f", content type {ctype}" if ctype else ""
        raise StatliftError("not-a-pdf", source=source,
                            found=f"a file starting with {head[:12]!r}{kind}")
    if ctype and ctype not in PDF_CONTENT_TYPES:
        raise StatliftError("not-a-pdf", source=source,
                            found=f"content type {ctype} (expected application/pdf)")


def _html_title(head: bytes) -> str | None:
    m = re.search(rb"<title[^>]*>(.*?)</title>", head, re.IGNORECASE | re.DOTALL)
    return m.group(1).decode("utf-8", "replace").strip()[:80] if m else None


def check_pdf_structure(path: Path, source: str | None = None) -> int:
    """Refuse a truncated, corrupt, password-protected or image-only PDF; return its page count."""
    source = source or str(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - HEAD_BYTES))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise StatliftError("truncated-pdf", source=source,
                            found=f"{size} bytes without the closing %%EOF marker")
    with PDFIUM_LOCK:
        doc = _open_pdfium(path, source)
        try:
            pages = len(doc)
            if pages == 0:
                raise StatliftError("corrupt-pdf", source=source, found="a PDF with no pages")
            if not any(_page_has_text(doc, i) for i in range(pages)):
                raise StatliftError("no-text-layer", source=source,
                                    found=f"{pages} page(s) with no text characters (only images "
                                          "or drawings: no text layer)")
        finally:
            doc.close()
    return pages


def _open_pdfium(path: Path, source: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY) \
                or "password" in str(exc).lower():
            raise StatliftError("encrypted-pdf", source=source,
                                found="a password-protected PDF") from None
        raise StatliftError("corrupt-pdf", source=source,
                            found=f"a file PDFium cannot open ({exc})") from None


def _page_has_text(doc: pdfium.PdfDocument, index: int) -> bool:
    page = doc[index]
    try:
        textpage = page.get_textpage()
        try:
            return textpage.count_chars() > 0
        finally:
            textpage.close()
    finally:
        page.close()


def validate_pdf_file(path: Path, source: str | None = None, *,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """Every check of a fetched body, applied to a local file; returns the page count."""
    path = Path(path)
    source = source or str(path)
    if not path.is_file():
        raise StatliftError("file-not-found", source=source,
                            found="a folder" if path.is_dir() else "no such file")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except PermissionError:
        raise StatliftError("permission-denied", source=source, expected="a readable file",
                            found="no read permission", hint="check the file's permissions",
                            exit_code=2) from None
    if size > max_bytes:
        raise StatliftError("too-large", source=source,
                            found=f"{size} bytes, more than the limit of {max_bytes}")
    check_pdf_head(head, source)
    return check_pdf_structure(path, source)
