"""camelot's lattice on the window around the table's region instead of the whole page (issue 15).

statlift asks lattice for one ruled table at a time, with its box as `table_regions`. camelot
then thresholds the whole page image (300 dpi: 8 million pixels for a letter page), masks
everything outside the regions to zero and runs its morphology and contour search over the
whole page, twice (vertical and horizontal lines): three quarters of lattice's time, spent
mostly on pixels it has just set to zero.

`RegionLattice` does the same steps on a window: the regions' pixels plus a margin wider than
anything those steps look at (the threshold's block, the line-detecting structuring element,
the dilations), so that every pixel inside the regions, and every pixel the morphology can
reach from them, sees exactly the neighbourhood it sees on the whole page; outside the window
the masks are zero, as camelot's are there. The line masks, line segments and tables are
camelot's: tests/unit/test_engines_camelot.py compares statlift's lattice readings with
camelot.read_pdf's, and tests/unit/test_lattice_window.py the masks and segments pixel for
pixel with camelot's own steps. Anything this does not cover (no regions, table_areas, a
rotated page, the vector engine, a page rendered upstream, a region beyond the image's top or
left edge) is camelot's own `_generate_table_bbox`.
"""
from __future__ import annotations

import cv2
import numpy as np
from camelot.image_processing import (
    extract_lines_from_contours,
    find_contours,
    find_joints,
    process_image,
)
from camelot.parsers.lattice import Lattice
from camelot.utils import bbox_from_str, scale_image, scale_pdf

Rect = tuple[int, int, int, int]  # x, y, width, height in image pixels, top-left origin


def opencv_threads(threads: int | None = None) -> int:
    """OpenCV's thread count in this process, set to `threads` first when given (a run's worker
    processes: flows/pool.library_threads)."""
    if threads is not None:
        cv2.setNumThreads(threads)
    return cv2.getNumThreads()


def line_element(shape: tuple[int, int], direction: str, line_scale: int) -> np.ndarray:
    """camelot's structuring element for `direction` on an image of `shape` (the whole page's:
    its size follows the page, not the window; image_processing.create_structuring_element)."""
    if direction == "vertical":
        return cv2.getStructuringElement(cv2.MORPH_RECT, (1, shape[0] // line_scale))
    return cv2.getStructuringElement(cv2.MORPH_RECT, (shape[1] // line_scale, 1))


def window_of(regions: list[Rect], shape: tuple[int, int], margin: int) -> Rect | None:
    """The regions' bounding box widened by `margin`, inside the image; None when a region
    starts above or left of the image (camelot's mask slices would count from the far edge)
    or is empty."""
    if not regions or any(x < 0 or y < 0 or w <= 0 or h <= 0 for x, y, w, h in regions):
        return None
    height, width = shape
    x0 = max(0, min(x for x, _, _, _ in regions) - margin)
    y0 = max(0, min(y for _, y, _, _ in regions) - margin)
    x1 = min(width, max(x + w for x, _, w, _ in regions) + margin)
    y1 = min(height, max(y + h for _, y, _, h in regions) + margin)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1 - x0, y1 - y0


def window_threshold(image: np.ndarray, window: Rect, process_background: bool,
                     blocksize: int, c: int) -> np.ndarray:
    """camelot's adaptive_threshold of the window's pixels (grey, inverted unless the lines are
    in the background, Gaussian adaptive threshold): the same values as the whole page's
    wherever the block around a pixel lies inside the window."""
    x, y, w, h = window
    gray = cv2.cvtColor(np.ascontiguousarray(image[y:y + h, x:x + w]), cv2.COLOR_BGR2GRAY)
    if not process_background:
        gray = np.invert(gray)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                 blocksize, c)


def window_lines(threshold: np.ndarray, window: Rect, regions: list[Rect],
                 shape: tuple[int, int], direction: str, line_scale: int, iterations: int,
                 erode_iterations: int) -> tuple[np.ndarray, list]:
    """camelot's find_lines(threshold of the page, regions, direction, ...) from the window's
    threshold: the page-sized mask (zero outside the window) and the lines, in page pixels."""
    x0, y0, w, h = window
    mask = np.zeros(threshold.shape, dtype=np.uint8)
    for x, y, rw, rh in regions:  # camelot's apply_region_mask, in window coordinates
        mask[y - y0:y - y0 + rh, x - x0:x - x0 + rw] = 1
    masked = np.multiply(threshold, mask)
    processed = process_image(masked, line_element(shape, direction, line_scale), iterations,
                              erode_iterations)
    contours, _ = cv2.findContours(processed.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0))
    page = np.zeros(shape, dtype=processed.dtype)
    page[y0:y0 + h, x0:x0 + w] = processed
    return page, extract_lines_from_contours(contours, direction)


class RegionLattice(Lattice):
    """camelot's Lattice parser whose page image is processed on the window around
    `table_regions` (this module's docstring); everything else is Lattice's."""

    def _generate_table_bbox(self):
        if (self._resolve_engine() == "vector" or self.table_areas is not None
                or self.table_regions is None or self.rotation
                or self._render_cache.get(self.page)):
            return super()._generate_table_bbox()
        image = self.icb.to_array(self.filename, self.page)
        height, width = image.shape[:2]
        image_scalers = (width / float(self.pdf_width), height / float(self.pdf_height),
                         self.pdf_height)
        pdf_scalers = (self.pdf_width / float(width), self.pdf_height / float(height), height)
        regions = []
        for area in self.table_regions:  # Lattice's scale_areas
            bbox_from_str(area)
            x1, y1, x2, y2 = (float(v) for v in area.split(","))
            x1, y1, x2, y2 = scale_pdf((x1, y1, x2, y2), image_scalers)
            regions.append((x1, y1, abs(x2 - x1), abs(y2 - y1)))
        # a pixel's threshold reads blocksize // 2 pixels around it; erosion and each dilation
        # reach half the element's length: a margin of whole elements covers them all
        element = max(height, width) // self.line_scale
        margin = element * (2 + self.iterations + self.erode_iterations) + self.threshold_blocksize
        window = window_of(regions, (height, width), margin)
        if window is None:
            return super()._generate_table_bbox()
        self.image_path = None
        self.pdf_image = image
        # the window's threshold, where camelot keeps the page's (only its debug plots read it)
        self.threshold = window_threshold(image, window, self.process_background,
                                          self.threshold_blocksize, self.threshold_constant)
        vertical_mask, vertical_segments = window_lines(
            self.threshold, window, regions, (height, width), "vertical", self.line_scale,
            self.iterations, self.erode_iterations)
        horizontal_mask, horizontal_segments = window_lines(
            self.threshold, window, regions, (height, width), "horizontal", self.line_scale,
            self.iterations, self.erode_iterations)
        if self._resolve_engine() == "combined":  # Lattice._detect_line_masks
            v_vec, h_vec = self._augment_masks_with_vector_lines(vertical_mask, horizontal_mask,
                                                                 image_scalers)
            self._vector_segments = v_vec + h_vec
            vertical_segments = vertical_segments + v_vec
            horizontal_segments = horizontal_segments + h_vec
        contours = find_contours(vertical_mask, horizontal_mask)
        table_bbox = find_joints(contours, vertical_mask, horizontal_mask)
        [self.table_bbox_parses, self.vertical_segments, self.horizontal_segments] = (
            scale_image(table_bbox, vertical_segments, horizontal_segments, pdf_scalers))
        self._compute_table_anchors()
