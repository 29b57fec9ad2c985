"""The scorer's `--callable` entry: extract(pdf_path, page_number, bbox) -> {"cells": [...]}.

STATLIFT_ENGINE=ruled|whitespace forces one engine (to measure each engine alone)."""
from __future__ import annotations

import os

from statlift.extractors.region import RegionSettings, extract_region


def extract(pdf_path: str, page_number: int, bbox: tuple) -> dict:
    settings = RegionSettings(engine=os.environ.get("STATLIFT_ENGINE", "auto"))
    return extract_region(pdf_path, page_number, bbox, settings=settings).to_json()
