"""Parquet copies of a report folder: <table_id>.parquet per wide table, cells.parquet and
tables.parquet, typed, with the schema (type, unit, description, header path) in each field's
metadata and the table's provenance in the file metadata (key `statlift`, JSON)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from statlift.outputs.metadata import (
    CELL_FIELDS,
    TABLE_FIELDS,
    FieldMeta,
    TableMeta,
    table_metas,
    table_rows,
)
from statlift.outputs.processed import ROW_PATH, ReportText, typed_cells, typed_wide_of

log = logging.getLogger(__name__)

META_KEY = b"statlift"


def field_metadata(f: FieldMeta) -> dict[bytes, bytes]:
    meta = {b"description": f.description.encode(), b"type": f.type.encode()}
    if f.unit:
        meta[b"unit"] = f.unit.encode()
    if f.header_path:
        meta[b"header_path"] = json.dumps(list(f.header_path), ensure_ascii=False).encode()
    if f.row_units:
        meta[b"row_units"] = json.dumps(f.row_units, ensure_ascii=False).encode()
    if f.footnotes:
        meta[b"footnotes"] = ";".join(f.footnotes).encode()
    return meta


def arrow_table(frame: pd.DataFrame, fields: list[FieldMeta], file_meta: dict) -> pa.Table:
    """`frame` as an Arrow table whose fields carry `fields`' metadata (matched by position)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = pa.schema([af.with_metadata(field_metadata(f))
                        for af, f in zip(table.schema, fields)],
                       metadata={**(table.schema.metadata or {}),
                                 META_KEY: json.dumps(file_meta, ensure_ascii=False).encode()})
    return table.cast(schema)


def table_file_meta(meta: TableMeta) -> dict:
    return {"report_id": meta.report_id, "table_id": meta.table_id, "title": meta.title,
            "caption": meta.caption, "page": meta.page, "stub_header": meta.stub_header,
            "notes": meta.notes, "footnotes": meta.footnotes, "source": meta.source,
            "source_sha256": meta.source_sha256, "units": meta.units}


def wide_arrow(report: ReportText, meta: TableMeta) -> pa.Table:
    frame = typed_wide_of(report, meta.table_id, meta.kinds)
    row = meta.fields[0]
    fields = [FieldMeta(ROW_PATH, "string", row.description)] + meta.value_fields
    return arrow_table(frame, fields, table_file_meta(meta))


def cells_arrow(cells_text: pd.DataFrame, doc: dict) -> pa.Table:
    cells = typed_cells(cells_text)
    cells = cells[[f.name for f in CELL_FIELDS]]
    return arrow_table(cells, CELL_FIELDS, {"report_id": doc.get("report_id"),
                                            "source_sha256": doc.get("source_sha256")})


def tables_arrow(doc: dict) -> pa.Table:
    names = [f.name for f in TABLE_FIELDS]
    frame = pd.DataFrame(table_rows(doc), columns=names)
    for f in TABLE_FIELDS:
        if f.type == "integer":
            frame[f.name] = pd.to_numeric(frame[f.name]).astype("Int64")
        elif f.type == "number":
            frame[f.name] = pd.to_numeric(frame[f.name]).astype("float64")
    return arrow_table(frame, TABLE_FIELDS, {"report_id": doc.get("report_id")})


def write_report_parquet(report_dir: str | Path, report: ReportText | None = None) -> list[Path]:
    """Write <table_id>.parquet, cells.parquet and tables.parquet; returns the paths.

    `report`: the folder's content when the caller has it in memory, else read from the folder."""
    report_dir = Path(report_dir)
    report = report or ReportText.read(report_dir)
    doc = report.doc
    written = []
    for meta in table_metas(report, report_dir.name):
        written.append(_write(wide_arrow(report, meta), report_dir / f"{meta.table_id}.parquet"))
    if report.cells is not None:
        written.append(_write(cells_arrow(report.cells, doc), report_dir / "cells.parquet"))
    written.append(_write(tables_arrow(doc), report_dir / "tables.parquet"))
    log.info("%s: %d parquet files", doc.get("report_id", report_dir.name), len(written))
    return written


def _write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def read_parquet_schema(path: str | Path) -> dict:
    """{"file": statlift file metadata, "fields": {name: field metadata}} of a Parquet file."""
    schema = pq.read_schema(path)
    file_meta = json.loads((schema.metadata or {}).get(META_KEY, b"{}"))
    fields = {f.name: {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
              for f in schema}
    return {"file": file_meta, "fields": fields}

