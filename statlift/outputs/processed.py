"""Reading a published processed/ tree (docs/contract.md): report folders, tables.json,
audit.json, the CSVs as text and as typed frames. Every downstream output reads through here.

`ReportText` is a report folder's content as its readers see it; the run that writes a report
builds it from memory (statlift/publish/report.py), so the Parquet files, the data package and
the audit are made without reading back the files it has just written; the builders over every
published report read it from the folder (`ReportText.read`)."""
from __future__ import annotations

import csv
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from statlift.model import CELL_INT_COLUMNS

log = logging.getLogger(__name__)

TABLES_JSON = "tables.json"
CELLS_CSV = "cells.csv"
AUDIT_JSON = "audit.json"
ROW_PATH = "row_path"


_LOCAL = threading.local()


@contextmanager
def read_once() -> Iterator[None]:
    """Inside the block (in this thread), each published CSV is parsed once and each typed wide
    table built once: the builders over every published report (DuckDB, site, dictionary) read
    the same tables several times over (measured at N = 50 reports: every table CSV parsed six
    times). Callers get copies, so nothing they change leaks into another builder. The files
    must not change inside the block. (The run that writes a report does not read it back: see
    ReportText.)"""
    outer = getattr(_LOCAL, "cache", None)
    if outer is None:
        _LOCAL.cache = {}
    try:
        yield
    finally:
        if outer is None:
            _LOCAL.cache = None


def cached(key: tuple, build):
    """build() once per key inside `read_once`, else every time."""
    cache = getattr(_LOCAL, "cache", None)
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]


def seed(key: tuple, value) -> None:
    """Inside `read_once`: what cached(key, ...) returns from now on, without building it."""
    cache = getattr(_LOCAL, "cache", None)
    if cache is not None:
        cache[key] = value


def seed_files(report_dir: Path, report: ReportText) -> None:
    """Inside `read_once`: the report folder's cells.csv and wide CSVs as `report` holds them
    (the text the run wrote into them: read_text_csv would parse the same frames)."""
    if report.cells is not None:
        seed(("csv", str(report_dir / CELLS_CSV)), report.cells)
    for table_id, wide in report.wides.items():
        seed(("csv", str(report_dir / f"{table_id}.csv")), wide)
    for key, frame in report.derived.items():  # typed as the Parquet files were (typed_wide_of)
        if key[0] == TYPED_WIDE:
            _, table_id, kinds_key = key
            seed(_wide_key(report_dir, table_id, kinds_key), frame)


def report_dirs(processed_dir: str | Path) -> list[Path]:
    """Published report folders (those holding a tables.json), sorted by report id."""
    root = Path(processed_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                  and (p / TABLES_JSON).exists())


def read_json(path: Path) -> dict:
    """A JSON file, parsed once inside `read_once` (the site reads a report's tables.json and
    audit.json once per table page): callers read it and never change it."""
    return cached(("json", str(path)), lambda: json.loads(path.read_text(encoding="utf-8")))


def read_tables_json(report_dir: Path) -> dict:
    return read_json(report_dir / TABLES_JSON)


def read_audit(report_dir: Path) -> dict | None:
    """audit.json of a report, or None when the report has not been audited."""
    path = report_dir / AUDIT_JSON
    return read_json(path) if path.exists() else None


def read_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def read_text_csv(path: Path) -> pd.DataFrame:
    """A CSV as strings, empty cells as "", columns positional-safe (a blank header stays "")."""
    return cached(("csv", str(path)), lambda: _read_text_csv(path)).copy()


def _read_text_csv(path: Path) -> pd.DataFrame:
    header = read_header(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, header=0,
                        names=[f"_{i}" for i in range(len(header))], encoding="utf-8")
    frame.columns = header
    return frame


def read_cells_text(report_dir: Path) -> pd.DataFrame:
    return read_text_csv(report_dir / CELLS_CSV)


def to_number(series: pd.Series, kind: str) -> pd.Series:
    """Strings of printed numbers to Int64 (kind "integer") or float64 (kind "number")."""
    numbers = pd.to_numeric(series.replace("", None), errors="raise")
    if kind == "integer":
        return numbers.astype("Int64")
    return numbers.astype("float64")


def typed_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """cells.csv with `value` as float, the index/page/decimals columns as Int64, text as str."""
    out = cells.copy()
    out["value"] = pd.to_numeric(out["value"].replace("", None), errors="coerce").astype(
        "float64")
    for col in CELL_INT_COLUMNS:
        if col in out:
            out[col] = to_number(out[col], "integer")
    return out


def typed_wide(report_dir: Path, table_id: str, kinds: dict[str, str]) -> pd.DataFrame:
    """A wide table with its first column renamed `row_path` and the value columns typed
    per `kinds` ({header path: "integer" | "number" | "string"})."""
    return cached(_wide_key(report_dir, table_id, _kinds_key(kinds)),
                  lambda: _typed_wide(report_dir, table_id, kinds)).copy()


def _kinds_key(kinds: dict[str, str]) -> tuple:
    return tuple(sorted(kinds.items()))


def _wide_key(report_dir: Path, table_id: str, kinds_key: tuple) -> tuple:
    """typed_wide's key in the read_once cache (seed_files seeds the same)."""
    return "wide", str(report_dir), table_id, kinds_key


def _typed_wide(report_dir: Path, table_id: str, kinds: dict[str, str]) -> pd.DataFrame:
    return type_wide(read_text_csv(report_dir / f"{table_id}.csv"), kinds)


TYPED_WIDE = "typed_wide"


def typed_wide_of(report: ReportText, table_id: str, kinds: dict[str, str]) -> pd.DataFrame:
    """type_wide of the report's wide table, made once per ReportText (its `derived`): the
    Parquet file typed it, and then the report's DuckDB part typed it again (seed_files hands
    it to typed_wide; issue 15). Callers must not change it."""
    key = (TYPED_WIDE, table_id, _kinds_key(kinds))
    if key not in report.derived:
        report.derived[key] = type_wide(report.wides[table_id], kinds)
    return report.derived[key]


def type_wide(text: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """A wide table's text frame with its first column renamed `row_path` and the value columns
    typed per `kinds`."""
    text = text.copy()
    columns = [ROW_PATH] + list(text.columns[1:])
    text.columns = columns
    for col in columns[1:]:
        kind = kinds.get(col, "string")
        if kind in ("integer", "number"):
            text[col] = to_number(text[col], kind)
    return text


@dataclass(frozen=True)
class ReportText:
    """A report folder's tables.json (`doc`), cells.csv and wide CSVs (`wides`, by table id) as
    their readers see them: every value a string, missing as ""."""

    doc: dict
    cells: pd.DataFrame | None
    wides: dict[str, pd.DataFrame] = field(default_factory=dict)
    # what is derived from it once for every reader of this object (metadata.table_metas: the
    # Parquet files and the data package of a report both need its tables' metadata)
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def read(cls, report_dir: Path, doc: dict | None = None) -> ReportText:
        """From a report folder (the tables tables.json lists whose CSV exists)."""
        doc = doc if doc is not None else read_tables_json(report_dir)
        cells = read_cells_text(report_dir) if (report_dir / CELLS_CSV).exists() else None
        wides = {}
        for table_id in doc.get("tables", {}):
            path = report_dir / f"{table_id}.csv"
            if not path.exists():
                log.warning("%s: tables.json lists %s but %s is missing", report_dir, table_id,
                            path.name)
                continue
            wides[table_id] = read_text_csv(path)
        return cls(doc, cells, wides)
