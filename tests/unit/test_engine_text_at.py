"""EngineReading.text_at looks among one band's cells (engines.BAND) instead of every cell: the
same answer as looking at every cell, for any point, cell layout and overlap."""
from __future__ import annotations

import math
import random

from statlift.extractors.engines import BAND, EngineCell, EngineReading


def _every_cell(cells: list[EngineCell], x: float, y: float) -> str | None:
    """text_at as it was: every cell that contains the point, the smallest first."""
    hits = sorted((c for c in cells if c.contains(x, y)),
                  key=lambda c: (c.x1 - c.x0) * (c.bottom - c.top))
    return hits[0].text if hits else None


def test_text_at_equals_looking_at_every_cell():
    rng = random.Random(2026)
    for _ in range(200):
        cells = []
        for i in range(rng.randint(0, 30)):
            x0, top = rng.uniform(0, 600), rng.uniform(-20, 800)
            # small cells, cells spanning many bands, cells on a band's edge
            height = rng.choice([0.0, 3.0, BAND, 2.5 * BAND, rng.uniform(0, 120)])
            if rng.random() < 0.2:
                top = math.floor(top / BAND) * BAND - 0.5
            cells.append(EngineCell(f"c{i}", x0, top, x0 + rng.uniform(0, 200), top + height))
        reading = EngineReading("test", cells, {})
        points = [(rng.uniform(-10, 810), rng.uniform(-30, 830)) for _ in range(40)]
        points += [((c.x0 + c.x1) / 2, y) for c in cells for y in (c.top - 0.5, c.bottom + 0.5)]
        for x, y in points:
            assert reading.text_at(x, y) == _every_cell(cells, x, y), (x, y)


def test_a_cell_without_a_finite_box_is_still_found():
    cells = [EngineCell("nan", 0, float("nan"), 10, 10), EngineCell("a", 0, 0, 10, 10)]
    reading = EngineReading("test", cells, {})
    assert reading.text_at(5, 5) == "a"
    assert reading.text_at(5, float("nan")) is None
