"""The one description of every published field: name, type, unit, description.

Data package, CSVW, Parquet, DuckDB, the Python API, the data dictionary and the site all take
their schema from here (PUDL's "metadata is the single source of the schema"). A wide table's
value columns are typed by their unit (counts are integers, everything else a number) and by what
is printed (a column whose text is not numeric stays a string).
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from statlift import model
from statlift.model import CELL_COLUMNS, DISAGREES_SUFFIX, UNCONFIRMED, UNREADABLE
from statlift.outputs.processed import (
    ROW_PATH,
    ReportText,
    cached,
    read_tables_json,
    seed,
    seed_files,
)

log = logging.getLogger(__name__)

MIXED = "mixed"
INTEGER_UNITS = ("count",)


@dataclass(frozen=True)
class FieldMeta:
    """One column of a published file (frictionless vocabulary for `type`)."""

    name: str
    type: str  # "string" | "integer" | "number"
    description: str
    unit: str | None = None  # count, percent, months, ...; "mixed" when rows differ
    header_path: tuple[str, ...] = ()
    footnotes: tuple[str, ...] = ()
    row_units: dict[str, str] = field(default_factory=dict)  # for mixed columns


@dataclass(frozen=True)
class TableMeta:
    """One extracted table: its provenance and the fields of its wide CSV."""

    report_id: str
    table_id: str
    title: str
    page: int | None
    stub_header: str
    fields: list[FieldMeta]  # the row path first, then one per leaf column
    notes: list[str]
    footnotes: dict[str, str]
    source: str
    source_sha256: str
    caption: str = ""
    rows: list[str] = field(default_factory=list)  # the row paths of the wide CSV

    @property
    def value_fields(self) -> list[FieldMeta]:
        return self.fields[1:]

    @property
    def db_name(self) -> str:
        return db_table_name(self.report_id, self.table_id)

    @property
    def units(self) -> dict[str, str | None]:
        return {f.name: f.unit for f in self.value_fields}

    @property
    def kinds(self) -> dict[str, str]:
        return {f.name: f.type for f in self.value_fields}


def slug(text: str) -> str:
    """`bjs-ncj250746` -> `bjs_ncj250746`: lower case, runs of other characters to `_`."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def db_table_name(report_id: str, table_id: str) -> str:
    """The DuckDB table name of a table.

    >>> db_table_name("bjs-ncj250746", "table-02")
    'bjs_ncj250746__table_02'
    """
    return f"{slug(report_id)}__{slug(table_id)}"


def _f(name: str, type_: str, description: str, unit: str | None = None) -> FieldMeta:
    return FieldMeta(name, type_, description, unit)


_CELL_FIELDS = [
    _f("report_id", "string",
       "Report id from the statlift catalog (statlift/schemas/catalog.yaml)."),
    _f("table_id", "string", "Table id within the report (the wide CSV is <table_id>.csv)."),
    _f("row_path", "string", "Row label path: hierarchy levels joined with ' > '."),
    _f("column_path", "string", "Column header path: header levels joined with ' | '."),
    _f("value", "number", "The printed number without separators, % or unit words; "
       "empty when the cell is missing (see missing_code)."),
    _f("unit", "string", "Unit of value: count, percent, months, years, days, rate, ..."),
    _f("raw_text", "string", "The cell's text as printed (e.g. '37,105', '31.4%')."),
    _f("missing_code", "string", "The printed missing-value symbol (e.g. '--'), else empty."),
    _f("footnotes", "string", "Footnote markers of the cell and its labels, ';'-joined."),
    _f("page", "integer", "1-based page of the PDF the cell is printed on."),
    _f("bbox", "string", "x0,top,x1,bottom of the cell in PDF points, origin top-left.", "pt"),
    _f("engines", "string", "Readers whose reading equals value, ';'-joined."),
    _f("source_sha256", "string", "SHA-256 of the source PDF."),
    _f("row_index", "integer", "0-based row position in the table."),
    _f("column_index", "integer", "0-based value-column position in the table."),
    _f("decimals", "integer", "Digits after the decimal point as printed."),
    _f("missing_meaning", "string", "What the missing-value symbol means, else empty."),
    # the wording is published (Parquet, data package, DuckDB); the vocabulary is model.FLAGS
    _f("flags", "string", f"';'-joined flags: {UNCONFIRMED} (no engine confirms the page's "
       f"reading), <engine>{DISAGREES_SUFFIX} (e.g. camelot{DISAGREES_SUFFIX}: that engine read "
       f"another value), {UNREADABLE} (the printed text is neither a number nor a known missing "
       "symbol)."),
]
# every column of cells.csv, in the model's order (a column without a description fails here)
_BY_NAME = {f.name: f for f in _CELL_FIELDS}
CELL_FIELDS = [_BY_NAME[name] for name in CELL_COLUMNS]
CELLS_PRIMARY_KEY = ["report_id", "table_id", "row_path", "column_path"]

TABLE_FIELDS = [
    _f("report_id", "string", "Report id from the statlift catalog."),
    _f("table_id", "string", "Table id within the report."),
    _f("title", "string", "Table title as printed."),
    _f("caption", "string", "Printed caption the table was located by (e.g. 'TABLE 7')."),
    _f("page", "integer", "1-based PDF page of the table."),
    _f("bbox", "string", "x0,top,x1,bottom of the table in PDF points, origin top-left.", "pt"),
    _f("stub_header", "string", "Printed header of the row label column (may be empty)."),
    _f("row_count", "integer", "Number of rows (row paths).", "count"),
    _f("column_count", "integer", "Number of value columns (leaf header paths).", "count"),
    _f("units", "string", "Units used in the table, ';'-joined."),
    _f("notes", "string", "Notes printed under the table, ' / '-joined."),
    _f("footnotes", "string", "Footnotes as 'marker: text', ' / '-joined."),
    _f("source", "string", "The table's printed source line."),
    _f("engine", "string", "Readers used for the table."),
    _f("agreement_ratio", "number", "Share of cells on which the readers agree (0-1).",
       "ratio"),
    _f("spec_version", "integer", "Version of the table spec used."),
    _f("path", "string", "The table's wide CSV, relative to the report folder."),
]
TABLES_PRIMARY_KEY = ["report_id", "table_id"]


def _is_number(text: str, integer: bool) -> bool:
    pattern = r"-?\d+" if integer else r"-?(\d+(\.\d*)?|\.\d+)"
    return re.fullmatch(pattern, text) is not None


def column_kind(values: list[str], units: set[str]) -> str:
    """"integer" for counts printed as whole numbers, "number" for other numbers, else
    "string". Empty cells do not count.

    >>> column_kind(["1031", "4579", ""], {"count"}), column_kind(["22.5"], {"percent"})
    ('integer', 'number')
    """
    present = [v for v in values if v != ""]
    if not all(_is_number(v, integer=False) for v in present):
        return "string"
    if units and units <= set(INTEGER_UNITS) and all(_is_number(v, True) for v in present):
        return "integer"
    return "number"


def describe_row_units(row_units: dict[str, str]) -> str:
    """The most common unit, then the rows that differ.

    >>> describe_row_units({"Sex > Male": "percent", "Sex > Female": "percent",
    ...                     "Age > Median age": "years"})
    'percent, except Age > Median age: years'
    """
    counts: dict[str, int] = {}
    for u in row_units.values():
        counts[u] = counts.get(u, 0) + 1
    main = max(counts, key=lambda u: counts[u]) if counts else ""
    others = [f"{r}: {u}" for r, u in row_units.items() if u != main]
    return main + (", except " + "; ".join(others) if others else "")


def _shared_marks(marks: Iterable[object]) -> tuple[str, ...]:
    """Footnote markers every cell of a row or column carries (so they belong to its label)."""
    sets = [set(filter(None, str(s).split(";"))) for s in marks]
    common = set.intersection(*sets) if sets else set()
    return tuple(sorted(common))


# a column's cells as table_meta reads them: (row_path, unit, footnotes) in the cells' order
ColumnCells = list[tuple[Any, Any, Any]]


def _value_field(table_title: str, name: str, values: list[str], cells: ColumnCells,
                 footnotes: dict[str, str]) -> FieldMeta:
    row_units = {row: unit for row, unit, _ in cells}
    units = set(row_units.values())
    unit = next(iter(units)) if len(units) == 1 else (MIXED if units else None)
    marks = _shared_marks(m for _, _, m in cells) if cells else ()
    desc = f"{table_title} — column {name!r}"
    if unit == MIXED:
        desc += f"; units by row: {describe_row_units(row_units)}"
    elif unit:
        desc += f"; unit: {unit}"
    for m in marks:
        desc += f"; footnote {m}: {footnotes.get(m, '')}".rstrip(": ")
    return FieldMeta(name, column_kind(values, units), desc, unit,
                     tuple(p.strip() for p in name.split(" | ")), marks,
                     row_units if unit == MIXED else {})


def _row_field(stub_header: str) -> FieldMeta:
    printed = f"; printed stub header: {stub_header!r}" if stub_header else ""
    return FieldMeta(stub_header or ROW_PATH, "string",
                     "Row label path (hierarchy levels joined with ' > ')" + printed)


def table_meta(report_id: str, source_sha256: str, table_id: str, entry: dict,
               wide: pd.DataFrame, cells: pd.DataFrame) -> TableMeta:
    """TableMeta of one table from its tables.json entry, wide CSV (text) and its cells."""
    by_col: dict[Any, ColumnCells] = {}
    if len(cells):
        for row, col, unit, marks in zip(cells["row_path"].tolist(),
                                         cells["column_path"].tolist(),
                                         cells["unit"].tolist(), cells["footnotes"].tolist()):
            by_col.setdefault(col, []).append((row, unit, marks))
    values = [wide.iloc[:, position].tolist() for position in range(wide.shape[1])]
    return table_meta_of(report_id, source_sha256, table_id, entry, list(wide.columns), values,
                         by_col)


def table_meta_of(report_id: str, source_sha256: str, table_id: str, entry: dict,
                  header: list, columns: list[list], by_col: dict[Any, ColumnCells]
                  ) -> TableMeta:
    """table_meta from lists: the wide table's `header` and its `columns` (the row paths first),
    its cells by column path. Read as lists (a table's cells grouped by column in one pass),
    not as a sub-frame per column with its values iterated one by one: a report of 10 tables
    took 83 ms that way, now 13 (issue 15)."""
    printed = model.TableMeta.from_json(entry)
    title = printed.title or printed.caption or table_id
    footnotes = dict(printed.footnotes)
    stub = printed.stub_header
    fields = [_row_field(stub)]
    fallback = _declared_units(entry)
    rows = columns[0] if columns else []
    for name, values in zip(header[1:], columns[1:]):
        col_cells = by_col.get(name, [])
        if not col_cells and fallback.get(name):
            col_cells = [(row, fallback[name], "") for row in rows]
        fields.append(_value_field(title, name, values, col_cells, footnotes))
    return TableMeta(report_id, table_id, title, printed.page, stub, fields,
                     list(printed.notes), footnotes, printed.source or "",
                     source_sha256, printed.caption, list(rows))


def _declared_units(entry: dict) -> dict[str, str]:
    """tables.json `units` as {column: unit} when it is a mapping or a single unit."""
    units = entry.get("units")
    if isinstance(units, dict):
        return {k: v for k, v in units.items() if isinstance(v, str)}
    if isinstance(units, list) and len(units) == 1:
        return {c: units[0] for c in entry.get("columns") or []}
    return {}


def report_table_metas(report_dir: Path, doc: dict | None = None) -> list[TableMeta]:
    """TableMeta of every table of a published report folder, in tables.json order."""
    doc = doc or read_tables_json(report_dir)
    return list(cached(_metas_key(report_dir, doc),
                       lambda: table_metas(ReportText.read(report_dir, doc), report_dir.name)))


def _metas_key(report_dir: Path, doc: dict) -> tuple:
    return "metas", str(report_dir), json.dumps(doc, sort_keys=True, default=str)


def seed_published(report_dir: Path, report: ReportText) -> None:
    """Inside `read_once`: what the readers of the report folder `report_dir` would parse from
    its files, taken from `report`, the content the run has just written there (its CSVs as
    text, its tables' metadata: processed.seed_files), so that the report's DuckDB, site and
    dictionary parts (incremental.prepare_report, in the worker that published it) are made
    without reading back and deriving again what the publish had in memory (issue 15).
    tests/unit/test_outputs_incremental.py checks that they equal what the files give."""
    seed_files(report_dir, report)
    metas = table_metas(report, report_dir.name)
    seed(_metas_key(report_dir, read_tables_json(report_dir)), metas)


def table_metas(report: ReportText, report_id: str = "") -> list[TableMeta]:
    """TableMeta of every table of a report (from its folder or from memory), in tables.json
    order; a table without its wide CSV is left out. Made once per ReportText (its `derived`):
    the Parquet files and the data package of one publish both ask (TableMeta is frozen)."""
    key = ("table_metas", report.doc.get("report_id", report_id))  # the id _table_metas uses
    if key not in report.derived:
        report.derived[key] = _table_metas(report, report_id)
    return list(report.derived[key])


def _table_metas(report: ReportText, report_id: str) -> list[TableMeta]:
    doc, cells = report.doc, report.cells
    by_table: dict[Any, dict[Any, ColumnCells]] = {}  # the report's cells, in one pass
    if cells is not None and len(cells):
        for table, row, col, unit, marks in zip(
                cells["table_id"].tolist(), cells["row_path"].tolist(),
                cells["column_path"].tolist(), cells["unit"].tolist(),
                cells["footnotes"].tolist()):
            by_table.setdefault(table, {}).setdefault(col, []).append((row, unit, marks))
    metas = []
    for table_id, entry in doc.get("tables", {}).items():
        if table_id not in report.wides:
            continue
        wide = report.wides[table_id]
        metas.append(table_meta_of(
            doc.get("report_id", report_id), doc.get("source_sha256", ""), table_id, entry,
            list(wide.columns), [wide.iloc[:, i].tolist() for i in range(wide.shape[1])],
            by_table.get(table_id, {})))
    return metas


def _join(items) -> str:
    return " / ".join(str(i) for i in items)


def table_rows(doc: dict) -> list[dict]:
    """tables.csv: one row per table of a tables.json (fields in TABLE_FIELDS order)."""
    tables = model.TablesDocument.from_json(doc)
    rows = []
    for table_id, e in tables.tables.items():
        rows.append({
            "report_id": tables.report_id, "table_id": table_id, "title": e.title,
            "caption": e.caption, "page": e.page, "bbox": ",".join(str(v) for v in e.bbox or ()),
            "stub_header": e.stub_header, "row_count": e.shape[0], "column_count": e.shape[1],
            "units": ";".join(sorted(e.units)), "notes": _join(e.notes),
            "footnotes": _join(f"{k}: {v}" for k, v in e.footnotes.items()),
            "source": e.source or "", "engine": e.engine, "agreement_ratio": e.agreement,
            "spec_version": e.spec_version, "path": f"{table_id}.csv"})
    return rows
