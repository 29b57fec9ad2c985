"""The scorer's `--callable` entry: extract(pdf_path, page_number, bbox) -> {"cells": [...]}.

Reads through the reader registry (statlift/extractors/readers.py), as extract-region does.
STATLIFT_ENGINE=ruled|whitespace|fused forces one region reader (to measure each engine alone)."""
from __future__ import annotations

import os

from statlift.extractors.readers import read_region_file
from statlift.extractors.region import RegionSettings


def extract(pdf_path: str, page_number: int, bbox: tuple) -> dict:
    settings = RegionSettings(engine=os.environ.get("STATLIFT_ENGINE", "auto"))
    return read_region_file(pdf_path, page_number, bbox, settings).to_json()
