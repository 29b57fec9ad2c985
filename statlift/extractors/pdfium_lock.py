"""One process-wide lock around every PDFium call.

PDFium (pypdfium2) is not thread-safe: two threads in it at once crash the process (a segfault,
seen with the threads runner while camelot's lattice flavor rendered a page in a worker and the
flow checked the next report's PDF in the main thread). statlift calls PDFium in five places:
the fetch checks, the caption search's page-text prefilter, the callouts' second reading,
camelot lattice's page render and the audit's page crops; each holds this lock
(`pdfium_document` opens a file under it). Re-entrant, so a holder may call another holder.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium

PDFIUM_LOCK = threading.RLock()


@contextmanager
def pdfium_document(path: str | Path) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF with PDFium under the lock; closed (and the lock released) on exit."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(str(path))
        try:
            yield doc
        finally:
            doc.close()
