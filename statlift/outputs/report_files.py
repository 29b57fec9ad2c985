"""Write one report's extracted tables into a (staging) folder, per the output contract.

Plain functions, no Prefect: the flow calls them inside tasks. docs/contract.md is the format.
"""
from __future__ import annotations

import csv
import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from statlift.extractors.table import CELL_COLUMNS, Extracted
from statlift.publish.uptodate import STATLIFT_VERSION
from statlift.schemas.specs import spec_for, spec_sha256

log = logging.getLogger(__name__)



def write_wide_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL,
                 encoding="utf-8")


def cells_frame(extracted: list[Extracted]) -> pd.DataFrame:
    frames = [e.cells for e in extracted if len(e.cells)]
    if not frames:
        return pd.DataFrame(columns=CELL_COLUMNS)
    cells = pd.concat(frames, ignore_index=True)
    cells["decimals"] = cells["decimals"].astype("Int64")
    return cells[CELL_COLUMNS]


def tables_document(report_id: str, sha: str, source_path: str, extracted: list[Extracted],
                    failures: dict[str, dict]) -> dict:
    return {
        "report_id": report_id, "source_sha256": sha, "source_path": source_path,
        "statlift_version": STATLIFT_VERSION,
        "spec_sha256": spec_sha256(spec_for(report_id)),
        "extracted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tables": {e.table_id: e.meta for e in extracted},
        "failed": failures,
    }


def write_report(out_dir: Path, report_id: str, sha: str, source_path: str,
                 extracted: list[Extracted], failures: dict[str, dict]) -> dict:
    """Wide CSVs, cells.csv/.parquet and tables.json for one report into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for e in extracted:
        write_wide_csv(e.wide, out_dir / f"{e.table_id}.csv")
    cells = cells_frame(extracted)
    cells.to_csv(out_dir / "cells.csv", index=False, lineterminator="\n", encoding="utf-8")
    doc = tables_document(report_id, sha, source_path, extracted, failures)
    with open(out_dir / "tables.json", "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return doc


def read_cells(report_dir: Path) -> pd.DataFrame | None:
    """The published tidy cells of a report, or None if there are none yet."""
    path = report_dir / "cells.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)
