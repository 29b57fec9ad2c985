"""Write one report's extracted tables into a (staging) folder, per the output contract.

Plain functions, no Prefect: the flow calls them inside tasks. docs/contract.md is the format.
"""
from __future__ import annotations

import csv
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from statlift.model import Table, TablesDocument, tables_cells_frame
from statlift.publish.uptodate import STATLIFT_VERSION
from statlift.schemas.specs import spec_for, spec_sha256

log = logging.getLogger(__name__)


def write_wide_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL,
                 encoding="utf-8")


def cells_frame(tables: list[Table]) -> pd.DataFrame:
    """The report's tidy cells (cells.csv), table after table."""
    return tables_cells_frame(tables)


def tables_document(report_id: str, sha: str, source_path: str, tables: list[Table],
                    failures: dict[str, dict]) -> TablesDocument:
    return TablesDocument(
        report_id=report_id, source_sha256=sha, source_path=source_path,
        statlift_version=STATLIFT_VERSION, spec_sha256=spec_sha256(spec_for(report_id)),
        extracted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tables={t.table_id: t.meta for t in tables}, failed=failures)


def write_report(out_dir: Path, tables: list[Table], cells: pd.DataFrame,
                 doc: TablesDocument) -> dict:
    """Wide CSVs, cells.csv and tables.json of one report into `out_dir`; returns tables.json's
    content."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for t in tables:
        write_wide_csv(t.to_frame(), out_dir / f"{t.table_id}.csv")
    cells.to_csv(out_dir / "cells.csv", index=False, lineterminator="\n", encoding="utf-8")
    content = doc.to_json()
    with open(out_dir / "tables.json", "w", encoding="utf-8") as fh:
        json.dump(content, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return content


def read_cells(report_dir: Path) -> pd.DataFrame | None:
    """The published tidy cells of a report (as text), or None if there are none yet."""
    path = report_dir / "cells.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)
