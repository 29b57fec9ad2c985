"""statlift: tables of government statistical reports (PDF) as validated, citable datasets.

Python API over a published processed/ folder: `load`, `cells`, `tables`, `reports`.

They live in statlift.api, which needs pandas; this package loads it on first use (PEP 562
module __getattr__), so that `statlift run` with nothing to do, `--help` and bad input answer
before pandas is imported (issue 15).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs: the names below, from statlift.api
    from statlift.api import (
        NotProcessedError,
        ProcessedDataError,
        StaleDataError,
        UnknownReportError,
        UnknownTableError,
        cells,
        load,
        reports,
        tables,
    )

__all__ = ["load", "cells", "tables", "reports", "UnknownReportError", "UnknownTableError",
           "ProcessedDataError", "NotProcessedError", "StaleDataError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("statlift.api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'statlift' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
