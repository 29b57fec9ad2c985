"""statlift's benchmarks (`python -m benchmarks.<name>`). Where the shared data they read is:
the `shared/` folder beside the clone (the ICDAR 2013 EU subset and its scorer, for developers
and CI alike), unless ICDAR2013_DATA / ICDAR2013_TOOLS say otherwise."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
ICDAR2013_DATA = Path(os.environ.get("ICDAR2013_DATA") or SHARED / "benchmarks" / "icdar2013-eu")
ICDAR2013_TOOLS = Path(os.environ.get("ICDAR2013_TOOLS") or SHARED / "tools" / "icdar2013")
