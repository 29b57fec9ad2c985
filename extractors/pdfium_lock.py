"""One process-wide lock around every PDFium call.

PDFium (pypdfium2) is not thread-safe: two threads in it at once crash the process (a segfault,
seen with the threads runner while camelot's lattice flavor rendered a page in a worker and the
flow checked the next report's PDF in the main thread). statlift calls PDFium in four places:
the fetch checks, the callouts' second reading, camelot lattice's page render and the audit's
page crops; each holds this lock. Re-entrant, so a holder may call another holder.
"""
from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()
