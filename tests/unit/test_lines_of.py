"""textlines.lines_of groups a page's words into lines once: every call gives what
page_lines(page.words) gives, and what one caller does to its lines never reaches another's."""
from __future__ import annotations

from statlift.extractors.pdfdoc import Document
from statlift.extractors.textlines import Run, lines_of, page_lines
from statlift.settings import DEFAULT_HOME


def _shape(lines) -> list:
    return [(ln.text, ln.bbox if hasattr(ln, "bbox") else (ln.x0, ln.top, ln.x1, ln.bottom),
             [(r.printed, r.bbox) for r in ln.runs]) for ln in lines]


def test_lines_of_is_page_lines_and_each_caller_gets_its_own():
    pdf = next((DEFAULT_HOME / "raw" / "bjs-ncj250746").glob("*.pdf"))
    with Document.open(pdf) as doc:
        for number in range(1, doc.page_count + 1):
            page = doc.page(number)
            first = lines_of(page)
            assert _shape(first) == _shape(page_lines(page.words))
            # a reader reassigns and extends a line's runs and words (layout.py does)
            first[0].runs = [Run(first[0].words[:1])]
            first[0].words.append(first[0].words[0])
            first.pop()
            assert _shape(lines_of(page)) == _shape(page_lines(page.words))
