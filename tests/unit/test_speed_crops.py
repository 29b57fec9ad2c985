"""The crops' PNG encoding (validate/crops.py PNG_COMPRESS_LEVEL, issue 15) changes only the
container: the same pixels as the slowest, smallest-searching encoding (zlib level 9)."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from statlift.validate import crops

REPO = Path(__file__).resolve().parents[2]
USSC_PDF = next((REPO / "raw" / "ussc-cp-production-2021").glob("*.pdf"))


def _pixels(png: bytes) -> tuple:
    with Image.open(io.BytesIO(png)) as im:
        return im.size, im.mode, im.tobytes()


def test_crop_pixels_do_not_depend_on_the_compress_level(monkeypatch):
    box = [((60.0, 60.0, 100.0, 80.0), crops.PROBLEM)]
    fast = crops.render_crop(str(USSC_PDF), 1, (50.0, 50.0, 300.0, 200.0), box)
    monkeypatch.setattr(crops, "PNG_COMPRESS_LEVEL", 9)
    slow = crops.render_crop(str(USSC_PDF), 1, (50.0, 50.0, 300.0, 200.0), box)
    assert crops.PNG_COMPRESS_LEVEL == 9 and fast != slow  # two encodings...
    assert _pixels(fast) == _pixels(slow)  # ...of one image
