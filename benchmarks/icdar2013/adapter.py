"""The scorer's `--callable` entry: extract(pdf_path, page_number, bbox) -> {"cells": [...]}.

Reads through the reader registry (statlift/extractors/readers.py), as extract-region does.
STATLIFT_ENGINE=layout|ruled|whitespace|fused forces one reader (to measure each alone)."""
from __future__ import annotations

import os

from statlift.extractors.readers import read_region_file
from statlift.extractors.region import RegionSettings


def extract(pdf_path: str, page_number: int, bbox: tuple) -> dict:
    name = os.environ.get("STATLIFT_ENGINE", "auto")
    settings = RegionSettings(engine="auto" if name == "layout" else name)
    return read_region_file(pdf_path, page_number, bbox, settings,
                            "layout" if name == "layout" else None).to_json()
