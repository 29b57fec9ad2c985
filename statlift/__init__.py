"""statlift: tables of government statistical reports (PDF) as validated, citable datasets.

Python API over a published processed/ folder: `load`, `cells`, `tables`, `reports`.
"""
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
