"""Every reader on boxes drawn at random over real pages (ICDAR 2013 EU, fixed seed): a table,
or a LayoutError that says why not, never another exception. Reading 3885 such boxes found the
layout reader's crash on a box with no words; this keeps a small fixed sample of that search."""
from __future__ import annotations

import random

import pytest

from statlift.extractors.layout import LayoutError
from statlift.extractors.pdfdoc import Document
from statlift.extractors.readers import READER_NAMES, read_region
from tests.unit.test_discover import ICDAR

PDFS = ["eu-001.pdf", "eu-004.pdf", "eu-015.pdf", "eu-021.pdf"]


def _boxes(width: float, height: float, rng: random.Random, n: int = 5):
    yield (0.0, 0.0, width, height)
    for _ in range(n):
        x0, top = rng.uniform(0, width), rng.uniform(0, height)
        x1, bottom = x0 + rng.uniform(5, 400), top + rng.uniform(5, 300)
        yield (x0, top, min(width, x1), min(height, bottom))


@pytest.mark.skipif(not ICDAR.exists(), reason="ICDAR 2013 EU subset not beside the repo")
@pytest.mark.parametrize("pdf", PDFS)
def test_random_boxes_read_or_say_why(pdf):
    rng = random.Random(pdf)
    with Document.open(str(ICDAR / pdf)) as doc:
        for number in range(1, min(doc.page_count, 2) + 1):
            page = doc.page(number)
            for box in _boxes(page.width, page.height, rng):
                for name in READER_NAMES:
                    try:
                        got = read_region(page, box, name=name)
                    except LayoutError:
                        continue
                    got.to_json()
                    got.to_grid()
