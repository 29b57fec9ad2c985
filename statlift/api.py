"""Read published statlift datasets from Python: typed frames with their provenance.

`processed_dir` defaults to the Settings' processed folder (STATLIFT_PROCESSED, else processed/
in STATLIFT_HOME, whose default is the clone): never the current directory. The Settings are read
once per call, here at the API's edge, and their paths passed down. A report whose processed
folder is missing, or was extracted from another PDF than the one raw/manifest.json names as
current, raises an error that names the folder looked in and says to run `statlift run` first.

    >>> import tempfile, statlift
    >>> from statlift.outputs.demo import write_demo_tree
    >>> processed = write_demo_tree(tempfile.mkdtemp()) / "processed"
    >>> df = statlift.load("bjs-ncj250746", "table-01", processed)
    >>> int(df.loc["Child sex trafficking", "2013 | Number"])
    1031
    >>> df.attrs["units"]["2013 | Percent"], df.attrs["page"]
    ('percent', 3)
    >>> try:
    ...     statlift.load("bjs-ncj250746", "table-99", processed)
    ... except statlift.UnknownTableError as exc:
    ...     print(exc)
    unknown table 'table-99' in bjs-ncj250746; valid: table-01, table-02
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from statlift.model import Manifest
from statlift.outputs.catalog import citation, entries_by_id
from statlift.outputs.metadata import TableMeta, db_table_name, report_table_metas, table_rows
from statlift.outputs.processed import (
    ROW_PATH,
    TABLES_JSON,
    read_cells_text,
    read_tables_json,
    report_dirs,
    typed_cells,
    typed_wide,
)
from statlift.settings import Settings, get_settings

log = logging.getLogger(__name__)

ENV_PROCESSED = "STATLIFT_PROCESSED"
ENV_RAW = "STATLIFT_RAW"


class UnknownReportError(KeyError):
    """The report id is neither in the catalog nor in processed/."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownTableError(KeyError):
    """The table id is not among the report's published tables."""

    def __str__(self) -> str:
        return str(self.args[0])


class ProcessedDataError(RuntimeError):
    """processed/ cannot be used as it is: run `statlift run` first."""


class NotProcessedError(ProcessedDataError, FileNotFoundError):
    """No published tables for the report (no tables.json)."""


class StaleDataError(ProcessedDataError):
    """The published tables come from another PDF than raw/manifest.json's current one."""


def processed_path(processed_dir: str | Path | None = None,
                   settings: Settings | None = None) -> Path:
    if processed_dir:
        return Path(processed_dir)
    return (settings or get_settings()).processed_dir


def _where(processed: Path, settings: Settings, given: bool) -> str:
    """How `processed` was chosen, for an error message."""
    if given:
        return f"{processed} (the processed_dir given)"
    if settings.processed:
        return f"{processed} (STATLIFT_PROCESSED)"
    return f"{processed} (processed/ in STATLIFT_HOME={settings.home})"


def _catalog() -> dict[str, dict]:
    try:
        return entries_by_id()
    except (ImportError, OSError) as exc:  # a copy of processed/ without the schemas
        log.debug("no catalog: %s", exc)
        return {}


def _current_sha(raw: Path, report_id: str) -> str | None:
    """raw/manifest.json's current sha256 of the report, None when there is no manifest."""
    path = raw / "manifest.json"
    if not path.exists():
        return None
    return Manifest.from_json(json.loads(path.read_text(encoding="utf-8"))).current(report_id)


def _run_hint(report_id: str) -> str:
    return f"run `statlift run --report {report_id}` first"


class _Where:
    """The folders one API call reads: processed/ and raw/, from the Settings read once."""

    def __init__(self, processed_dir: str | Path | None) -> None:
        self.settings = get_settings()
        self.processed = processed_path(processed_dir, self.settings)
        self.raw = self.settings.raw_dir
        self.described = _where(self.processed, self.settings, bool(processed_dir))


def _report(report_id: str, where: _Where) -> tuple[Path, dict]:
    """The report's folder and tables.json, checked to exist and to be current."""
    processed = where.processed
    report_dir = processed / report_id
    catalog = _catalog()
    if report_id not in catalog and not report_dir.is_dir():
        valid = sorted(set(catalog) | {d.name for d in report_dirs(processed)})
        raise UnknownReportError(f"unknown report {report_id!r}; valid: {', '.join(valid)}")
    if not (report_dir / TABLES_JSON).exists():
        looked = (f"nothing published in {where.described}" if not processed.is_dir() or
                  not report_dirs(processed) else f"{report_dir / TABLES_JSON} not found")
        raise NotProcessedError(f"{looked}: no published tables for {report_id}; "
                                f"{_run_hint(report_id)} (or set {ENV_PROCESSED} to the "
                                "processed/ folder)")
    doc = read_tables_json(report_dir)
    current = _current_sha(where.raw, report_id)
    if current and doc.get("source_sha256") != current:
        raise StaleDataError(
            f"{report_dir} is stale: extracted from the PDF with sha256 "
            f"{str(doc.get('source_sha256'))[:12]}…, but raw/manifest.json's current version is "
            f"{current[:12]}…; {_run_hint(report_id)}")
    return report_dir, doc


def _table_meta(report_dir: Path, doc: dict, table_id: str) -> TableMeta:
    tables = doc.get("tables", {})
    if table_id not in tables:
        raise UnknownTableError(f"unknown table {table_id!r} in {doc.get('report_id')}; "
                                f"valid: {', '.join(tables)}")
    for meta in report_table_metas(report_dir, {**doc, "tables": {table_id: tables[table_id]}}):
        return meta
    raise NotProcessedError(f"{report_dir / (table_id + '.csv')} not found; "
                            f"{_run_hint(doc.get('report_id', report_dir.name))}")


def load(report_id: str, table_id: str, processed_dir: str | Path | None = None
         ) -> pd.DataFrame:
    """One table, wide: indexed by row path, numeric columns as Int64 (counts) or float.

    `df.attrs` holds title, units (per column; "mixed" with `row_units` when rows differ),
    notes, footnotes, source, page, caption, stub_header, report_id, table_id,
    source_sha256, citation, db_table.
    """
    report_dir, doc = _report(report_id, _Where(processed_dir))
    meta = _table_meta(report_dir, doc, table_id)
    frame = typed_wide(report_dir, table_id, meta.kinds).set_index(ROW_PATH)
    entry = _catalog().get(report_id, {})
    frame.attrs = {
        "report_id": report_id, "table_id": table_id, "title": meta.title,
        "caption": meta.caption, "page": meta.page, "stub_header": meta.stub_header,
        "units": meta.units, "row_units": {f.name: f.row_units for f in meta.value_fields
                                           if f.row_units},
        "notes": meta.notes, "footnotes": meta.footnotes, "source": meta.source,
        "source_sha256": meta.source_sha256, "db_table": db_table_name(report_id, table_id),
        "citation": citation(entry, meta.title, meta.page) if entry else meta.title,
    }
    return frame


def cells(report_id: str | None = None, processed_dir: str | Path | None = None
          ) -> pd.DataFrame:
    """The tidy cells (docs/contract.md) of one report or of every published report, with
    `value` as float and page / indexes / decimals as Int64."""
    where = _Where(processed_dir)
    ids = [report_id] if report_id else [d.name for d in report_dirs(where.processed)]
    if not ids:
        raise NotProcessedError(f"nothing published in {where.described}; run `statlift run` "
                                f"first (or set {ENV_PROCESSED})")
    frames = [typed_cells(read_cells_text(_report(rid, where)[0])) for rid in ids]
    return pd.concat(frames, ignore_index=True)


def tables(processed_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per published table: report_id, table_id, title, page, units, notes, ...,
    db_table (its name in statlift.duckdb)."""
    where = _Where(processed_dir)
    rows = []
    for d in report_dirs(where.processed):
        _, doc = _report(d.name, where)
        rows += [dict(r, db_table=db_table_name(r["report_id"], r["table_id"]))
                 for r in table_rows(doc)]
    return pd.DataFrame(rows)


def reports(processed_dir: str | Path | None = None) -> pd.DataFrame:
    """The catalog's reports (and any other published one), with `processed` (bool) and
    `tables` (number of published tables)."""
    processed = processed_path(processed_dir, get_settings())
    entries = _catalog()
    published = {d.name: read_tables_json(d) for d in report_dirs(processed)}
    rows = []
    for rid in list(entries) + [r for r in published if r not in entries]:
        doc = published.get(rid)
        rows.append({**entries.get(rid, {"report_id": rid}), "processed": doc is not None,
                     "tables": len((doc or {}).get("tables", {})),
                     "source_sha256": (doc or {}).get("source_sha256")})
    return pd.DataFrame(rows)
