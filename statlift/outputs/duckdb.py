"""processed/statlift.duckdb: every published table in one DuckDB file.

- one table per extracted table, `<report>__<table>` (`bjs_ncj250746__table_02`): `row_path`
  then one typed column per header path, with COMMENT ON TABLE / COLUMN (title, page, notes,
  unit, header path);
- `cells`: the tidy cells of every report, `value` as DOUBLE next to its printed text;
- `reports` (the catalog), `tables` (tables.json) and `findings` (audit.json; empty when no
  report has been audited).

Built in a temporary file next to the target and renamed into place, so readers never see a
half-written database.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from statlift.model import AuditReport, TablesDocument
from statlift.outputs.catalog import catalog_entries
from statlift.outputs.metadata import (
    CELL_FIELDS,
    TABLE_FIELDS,
    FieldMeta,
    TableMeta,
    _f,
    db_table_name,
    report_table_metas,
    table_rows,
)
from statlift.outputs.processed import (
    ROW_PATH,
    read_audit,
    read_cells_text,
    read_tables_json,
    report_dirs,
    typed_cells,
    typed_wide,
)

log = logging.getLogger(__name__)

DB_NAME = "statlift.duckdb"
# How statlift writes every DuckDB file (the database and each report's part, `connect`), whatever
# DuckDB version pip installed:
# - storage_compatibility_version: DuckDB 2.x writes its newest storage format unless told, which
#   DuckDB 1.x refuses ("Trying to read a database file with version number 999"): R's or
#   Python's duckdb package of a user reading statlift.duckdb may well be 1.x. The v1.2.0 format
#   is read by DuckDB 1.2 and every later version (checked with duckdb 1.1.3: refused, 1.2.2 and
#   2.0.1: read; tests/unit/test_outputs_incremental.py checks each file's version and blocks).
# - default_block_size: DuckDB's default 256 KiB storage block held each small wide table on its
#   own: 1.8 MB a report, 109 MB at N = 50 for 20,686 rows, all written at every checkpoint. The
#   smallest block DuckDB allows (16 KiB; v1.2.0 format and later) makes that 9.5 MB (issue 15).
STORAGE_VERSION, BLOCK_SIZE = "v1.2.0", 16384
FILE_CONFIG = {"storage_compatibility_version": STORAGE_VERSION,
               "default_block_size": str(BLOCK_SIZE)}
SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}

DB_CELL_FIELDS = CELL_FIELDS[:5] + [
    _f("value_text", "string", "The value as written in cells.csv (keeps printed decimals).")
] + CELL_FIELDS[5:]
DB_TABLE_FIELDS = TABLE_FIELDS + [
    _f("db_table", "string", "Name of the table's DuckDB table."),
    _f("source_sha256", "string", "SHA-256 of the source PDF."),
    _f("extracted_at", "string", "When the table was extracted (UTC, ISO 8601)."),
]
FINDING_FIELDS = [
    _f("report_id", "string", "Report id."),
    _f("finding_id", "string", "Finding id within the report's audit (F001, ...)."),
    _f("check_id", "string", "Id of the check that failed (<table_id>/<check>#n)."),
    _f("table_id", "string", "Table the check belongs to."),
    _f("class", "string", "source inconsistency or extraction suspect."),
    _f("severity", "string", "error, warning or info."),
    _f("acknowledged", "boolean", "Acknowledged in the table spec with a reason."),
    _f("expected", "number", "Value the check expected."),
    _f("printed", "number", "Value printed in the report."),
    _f("message", "string", "Human-readable description of the finding."),
    _f("cell_count", "integer", "Number of cells the check involves.", "count"),
    _f("cells", "string", "The cells involved (JSON list with row/column path, page, bbox)."),
]
REPORT_FIELDS = [
    _f(name, "boolean" if name in ("urls_verified", "processed") else "string", desc)
    for name, desc in [
        ("report_id", "Report id."), ("publisher", "Publishing agency."),
        ("publisher_short", "Agency abbreviation."), ("series", "Publication series."),
        ("number", "Publication number (e.g. NCJ 250746)."), ("title", "Report title."),
        ("authors", "Authors, '; '-joined."), ("released", "Release date."),
        ("revised", "Revision date."), ("revision_note", "What the revision changed."),
        ("data_period", "Period the data cover."), ("landing_url", "Publisher's page."),
        ("pdf_url", "Publisher's PDF."), ("csv_zip_url", "Publisher's CSV tables (zip)."),
        ("urls_verified", "Whether the URLs were checked."),
        ("license", "License of the report."), ("expected_sha256", "SHA-256 of the PDF."),
        ("processed", "Whether processed/ holds the report's tables."),
        ("source_sha256", "SHA-256 of the PDF the published tables come from.")]]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: Any) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def create_table(con: duckdb.DuckDBPyConnection, name: str, fields: list[FieldMeta],
                 frame: pd.DataFrame, comment: str) -> None:
    """CREATE TABLE `name` with `fields`' types, insert `frame` (same column order), comment."""
    cols = ", ".join(f"{quote_ident(f.name)} {SQL_TYPES[f.type]}" for f in fields)
    con.execute(f"CREATE TABLE {quote_ident(name)} ({cols})")
    if len(frame):
        con.register("_statlift_frame", frame)
        con.execute(f"INSERT INTO {quote_ident(name)} SELECT * FROM _statlift_frame")
        con.unregister("_statlift_frame")
    con.execute(f"COMMENT ON TABLE {quote_ident(name)} IS {quote_literal(comment)}")
    for f in fields:
        con.execute(f"COMMENT ON COLUMN {quote_ident(name)}.{quote_ident(f.name)} IS "
                    f"{quote_literal(f.description)}")


def table_comment(meta: TableMeta) -> str:
    parts = [meta.title, f"{meta.report_id} {meta.table_id}, page {meta.page}"]
    parts += meta.notes
    parts += [f"{k} {v}" for k, v in meta.footnotes.items()]
    if meta.source:
        parts.append(meta.source)
    return " | ".join(p for p in parts if p)


def add_wide_table(con: duckdb.DuckDBPyConnection, report_dir: Path, meta: TableMeta) -> None:
    frame = typed_wide(report_dir, meta.table_id, meta.kinds)
    fields = [FieldMeta(ROW_PATH, "string", meta.fields[0].description)] + [
        FieldMeta(f.name, f.type, f"{f.description}; header path: {f.name}", f.unit)
        for f in meta.value_fields]
    create_table(con, meta.db_name, fields, frame, table_comment(meta))


def cells_frame(dirs: list[Path]) -> pd.DataFrame:
    names = [f.name for f in DB_CELL_FIELDS]
    frames = []
    for d in dirs:
        if not (d / "cells.csv").exists():
            continue
        text = read_cells_text(d)
        typed = typed_cells(text)
        typed["value_text"] = text["value"]
        frames.append(typed[names])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names)


def tables_frame(docs: list[dict]) -> pd.DataFrame:
    rows = []
    for doc in docs:
        tables = TablesDocument.from_json(doc)
        for row in table_rows(doc):
            rows.append(dict(row, db_table=db_table_name(row["report_id"], row["table_id"]),
                             source_sha256=tables.source_sha256,
                             extracted_at=tables.extracted_at))
    frame = pd.DataFrame(rows, columns=[f.name for f in DB_TABLE_FIELDS])
    return _typed(frame, DB_TABLE_FIELDS)


def finding_rows(report_id: str, audit: dict | None) -> list[dict]:
    """Rows of the `findings` table from one audit.json (none if absent)."""
    report = AuditReport.from_json(audit or {})
    return [{"report_id": report_id, "finding_id": f.id, "check_id": f.check_id,
             "table_id": f.table_id, "class": f.cls, "severity": f.severity,
             "acknowledged": bool(f.acknowledged), "expected": f.expected,
             "printed": f.printed, "message": f.message,
             "cell_count": len(f.cells),
             "cells": json.dumps([dict(c) for c in f.cells], ensure_ascii=False)}
            for f in report.findings]


def _typed(frame: pd.DataFrame, fields: list[FieldMeta]) -> pd.DataFrame:
    for f in fields:
        if f.type == "integer":
            frame[f.name] = pd.to_numeric(frame[f.name]).astype("Int64")
        elif f.type == "number":
            frame[f.name] = pd.to_numeric(frame[f.name]).astype("float64")
        elif f.type == "boolean":
            frame[f.name] = frame[f.name].astype("boolean")
        else:
            frame[f.name] = frame[f.name].astype(object)
    return frame


def reports_frame(catalog: Any, docs: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for e in catalog_entries(catalog):
        doc = docs.get(e["report_id"])
        rows.append(dict(e, authors="; ".join(e.get("authors") or []),
                         processed=doc is not None,
                         source_sha256=(doc or {}).get("source_sha256")))
    frame = pd.DataFrame(rows).reindex(columns=[f.name for f in REPORT_FIELDS])
    return _typed(frame, REPORT_FIELDS)


CELLS_COMMENT = "Every published cell of every report, tidy (docs/contract.md)"
TABLES_COMMENT = "Every extracted table (tables.json of each report)"
REPORTS_COMMENT = "The reports of the statlift catalog (statlift/schemas/catalog.yaml)"
FINDINGS_COMMENT = "Audit findings (audit.json of each report): failed cross-checks"
# the tables with rows of every report, in report order (the `reports` table is the catalog's)
SHARED_TABLES = {"cells": (DB_CELL_FIELDS, CELLS_COMMENT),
                 "tables": (DB_TABLE_FIELDS, TABLES_COMMENT),
                 "findings": (FINDING_FIELDS, FINDINGS_COMMENT)}


def findings_frame(rows: list[dict]) -> pd.DataFrame:
    return _typed(pd.DataFrame(rows, columns=[f.name for f in FINDING_FIELDS]), FINDING_FIELDS)


def insert_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    """Append `frame` (the table's column order) to the existing table `name`."""
    if len(frame):
        con.register("_statlift_frame", frame)
        con.execute(f"INSERT INTO {quote_ident(name)} SELECT * FROM _statlift_frame")
        con.unregister("_statlift_frame")


def insert_pending(con: duckdb.DuckDBPyConnection,
                   pending: dict[str, list[pd.DataFrame]]) -> None:
    """Insert the frames add_report left in `pending`, in order, one INSERT per table."""
    for name, frames in pending.items():
        if frames:
            insert_frame(con, name, frames[0] if len(frames) == 1 else
                         pd.concat(frames, ignore_index=True))
    pending.clear()


def create_shared_tables(con: duckdb.DuckDBPyConnection) -> None:
    """cells, tables and findings, empty, with their comments (add_report fills them)."""
    for name, (fields, comment) in SHARED_TABLES.items():
        create_table(con, name, fields, pd.DataFrame(columns=[f.name for f in fields]), comment)


def add_report(con: duckdb.DuckDBPyConnection, report_dir: Path, doc: dict,
               pending: dict[str, list[pd.DataFrame]] | None = None) -> dict:
    """One report's part of the database: its wide tables, and its rows appended to cells,
    tables and findings (which exist), or to `pending` ({table: frames}) for the caller to
    insert with other reports' (insert_pending). Returns what the incremental build keeps of
    it: the wide tables' names and the rows added to each shared table."""
    names = []
    for meta in report_table_metas(report_dir, doc):
        add_wide_table(con, report_dir, meta)
        names.append(meta.db_name)
    frames = {"cells": cells_frame([report_dir]), "tables": tables_frame([doc]),
              "findings": findings_frame(finding_rows(report_dir.name, read_audit(report_dir)))}
    for name, frame in frames.items():
        if pending is None:
            insert_frame(con, name, frame)
        elif len(frame):
            pending.setdefault(name, []).append(frame)
    return {"db_tables": names, "rows": {k: len(v) for k, v in frames.items()},
            "source_sha256": doc.get("source_sha256")}


def create_reports_table(con: duckdb.DuckDBPyConnection, catalog: Any,
                         docs: dict[str, dict]) -> None:
    """`reports`: the catalog, with whether (and from which PDF) each report is published;
    `docs`: {report_id: its tables.json, or at least its source_sha256}."""
    create_table(con, "reports", REPORT_FIELDS, reports_frame(catalog, docs), REPORTS_COMMENT)


def populate(con: duckdb.DuckDBPyConnection, processed_dir: Path, catalog: Any) -> int:
    """Create every table in `con`; returns the number of extracted tables."""
    dirs = report_dirs(processed_dir)
    docs = {d.name: read_tables_json(d) for d in dirs}
    n = 0
    for d in dirs:
        for meta in report_table_metas(d, docs[d.name]):
            add_wide_table(con, d, meta)
            n += 1
    create_table(con, "cells", DB_CELL_FIELDS, cells_frame(dirs),
                 "Every published cell of every report, tidy (docs/contract.md)")
    create_table(con, "tables", DB_TABLE_FIELDS, tables_frame(list(docs.values())),
                 "Every extracted table (tables.json of each report)")
    create_table(con, "reports", REPORT_FIELDS, reports_frame(catalog, docs),
                 "The reports of the statlift catalog (statlift/schemas/catalog.yaml)")
    findings = [r for d in dirs for r in finding_rows(d.name, read_audit(d))]
    frame = _typed(pd.DataFrame(findings, columns=[f.name for f in FINDING_FIELDS]),
                   FINDING_FIELDS)
    create_table(con, "findings", FINDING_FIELDS, frame,
                 "Audit findings (audit.json of each report): failed cross-checks")
    return n


def build_duckdb(processed_dir: str | Path, catalog: Any = None) -> Path:
    """Write processed_dir/statlift.duckdb atomically; returns its path.

    `catalog`: the Catalog model, its mapping, a list of entries, or None for
    statlift/schemas/catalog.yaml.
    """
    processed_dir = Path(processed_dir)
    target = processed_dir / DB_NAME
    tmp = processed_dir / f".{DB_NAME}.{os.getpid()}.tmp"
    _remove(tmp)
    try:
        con = connect(tmp)
        try:
            con.execute("BEGIN TRANSACTION")  # one commit, not one per statement (8 per table)
            n = populate(con, processed_dir, catalog)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    finally:
        _remove(tmp)
    log.info("%s: %d tables", target, n)
    return target


def connect(path: Path, **config: str) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file `path`, created with FILE_CONFIG if it is new; `config`:
    DuckDB settings of this connection."""
    return duckdb.connect(str(path), config={**FILE_CONFIG, **config})


# this process's in-memory DuckDB, to which file_connection attaches files (made at first use)
_MEMORY: list[duckdb.DuckDBPyConnection] = []
_MEMORY_LOCK = threading.Lock()


@contextmanager
def file_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection of its own whose default database is the DuckDB file `path` (created as
    FILE_CONFIG says if it is new), attached to this process's in-memory DuckDB and detached
    (its last changes checkpointed into the file) at the end. For a small file written per
    report (outputs/incremental.prepare_report): a DuckDB instance of its own (`connect`) cost
    ~25 ms of CPU to open, an ATTACH ~3 ms (issue 15). Threads each get their own connection
    and name for the file."""
    with _MEMORY_LOCK:
        if not _MEMORY:
            _MEMORY.append(duckdb.connect(":memory:"))
        con = _MEMORY[0].cursor()
    alias = quote_ident(f"statlift_file_{uuid.uuid4().hex}")
    try:
        con.execute(f"ATTACH {quote_literal(str(path))} AS {alias} "
                    f"(BLOCK_SIZE {BLOCK_SIZE}, STORAGE_VERSION {quote_literal(STORAGE_VERSION)})")
        try:
            con.execute(f"USE {alias}")
            yield con
            con.execute(f"CHECKPOINT {alias}")  # the file holds it all (no WAL beside it)
        finally:
            con.execute("USE memory")
            con.execute(f"DETACH {alias}")
    finally:
        con.close()


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        if p.exists():
            p.unlink()
