"""camelot's lattice steps on the window around the table's regions (extractors/lattice.py) give,
pixel for pixel, the line masks and line segments camelot's own steps give on the whole page:
regions in the page, at its edges, two at once, with dilations and erosions (issue 15)."""
from __future__ import annotations

import warnings

import camelot
import numpy as np
import pytest
from camelot.image_processing import adaptive_threshold, find_lines

from statlift.extractors import engines
from statlift.extractors.engines import camelot_tables
from statlift.extractors.lattice import window_lines, window_of, window_threshold
from statlift.extractors.pdfdoc import Document

# regions as fractions of the page (x0, top, x1, bottom): inside, touching every edge of the
# page, a thin band at the bottom edge, two regions at once
REGIONS = [
    [(0.05, 0.10, 0.95, 0.50)],
    [(0.0, 0.0, 1.0, 1.0)],
    [(0.30, 0.85, 1.0, 1.0)],
    [(0.05, 0.10, 0.45, 0.30), (0.50, 0.60, 0.95, 0.90)],
]
SETTINGS = [(40, 0, 0), (15, 0, 0), (15, 2, 0), (40, 2, 2)]  # line_scale, dilations, erosions


@pytest.fixture(scope="module")
def page_image(variant_pdfs):
    """The page image camelot's lattice thresholds, of a page with two ruled tables."""
    from camelot.backends.image_conversion import ImageConversionBackend

    path = variant_pdfs["bjs-ruled-grid-reordered"]
    return engines.lattice_render(ImageConversionBackend(), str(path), 2)


@pytest.fixture(scope="module")
def page_threshold(page_image):
    """camelot's threshold of the whole page."""
    return adaptive_threshold(page_image, process_background=False, blocksize=15, c=-2)[1]


def _pixels(image, fractions):
    height, width = image.shape[:2]
    out = []
    for x0, top, x1, bottom in fractions:
        x, y = int(x0 * width), int(top * height)
        out.append((x, y, int(x1 * width) - x, int(bottom * height) - y))
    return out


@pytest.mark.parametrize("fractions", REGIONS)
@pytest.mark.parametrize("line_scale,iterations,erosions", SETTINGS)
def test_window_masks_and_lines_are_camelots(page_image, page_threshold, fractions, line_scale,
                                             iterations, erosions):
    regions = _pixels(page_image, fractions)
    shape = page_image.shape[:2]
    element = max(shape) // line_scale
    window = window_of(regions, shape, element * (2 + iterations + erosions) + 15)
    assert window is not None
    threshold = window_threshold(page_image, window, False, 15, -2)
    x, y, w, h = window
    for rx, ry, rw, rh in regions:  # the threshold is the page's inside every region
        inside = (slice(ry - y, ry - y + rh), slice(rx - x, rx - x + rw))
        assert np.array_equal(threshold[inside], page_threshold[ry:ry + rh, rx:rx + rw])
    found = 0
    for direction in ("vertical", "horizontal"):
        want_mask, want_lines = find_lines(page_threshold, regions=regions, direction=direction,
                                           line_scale=line_scale, iterations=iterations,
                                           erode_iterations=erosions)
        got_mask, got_lines = window_lines(threshold, window, regions, shape, direction,
                                           line_scale, iterations, erosions)
        assert got_mask.dtype == want_mask.dtype and np.array_equal(got_mask, want_mask)
        assert got_lines == want_lines
        found += len(want_lines)
    assert found > 0  # the page's rules were found: masks of zeros would prove nothing


def test_window_is_the_regions_widened_inside_the_image():
    assert window_of([(100, 200, 50, 60)], (1000, 800), 30) == (70, 170, 110, 120)
    assert window_of([(10, 20, 50, 60), (400, 900, 500, 300)], (1000, 800), 30) == \
        (0, 0, 800, 1000)
    # camelot's mask would slice from the image's far edge: the window is not used
    assert window_of([(-5, 20, 50, 60)], (1000, 800), 30) is None
    assert window_of([(5, 20, 0, 60)], (1000, 800), 30) is None
    assert window_of([], (1000, 800), 30) is None


def test_lattice_outside_the_window_is_camelots_own(monkeypatch, variant_pdfs):
    """A region beyond the page's top-left edge is read by camelot's own
    Lattice._generate_table_bbox; either way the tables are camelot.read_pdf's."""
    calls = []
    real = camelot.parsers.lattice.Lattice._generate_table_bbox

    def spy(self):
        calls.append(self.table_regions)
        return real(self)

    monkeypatch.setattr(camelot.parsers.lattice.Lattice, "_generate_table_bbox", spy)
    path = variant_pdfs["bjs-ruled-grid-reordered"]
    with Document.open(path) as doc, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = doc.page(1)
        edge = f"-20,{page.height + 20:.1f},{page.width:.1f},{page.height / 2:.1f}"
        inside = f"30,{page.height - 50:.1f},{page.width - 30:.1f},{page.height / 2:.1f}"
        for area in (edge, inside):
            kwargs = {"table_regions": [area], "line_scale": 40}
            got = camelot_tables(doc, 1, "lattice", kwargs)
            want = camelot.read_pdf(str(path), pages="1", flavor="lattice", **kwargs)
            assert [t.df.values.tolist() for t in got] == [t.df.values.tolist() for t in want]
    # camelot's own for the edge region (and for read_pdf's two), the window for the other
    assert calls.count([edge]) == 2 and calls.count([inside]) == 1
