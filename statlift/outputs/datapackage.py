"""datapackage.json: a Frictionless Tabular Data Package over every CSV of a report folder.

Wide tables (typed by unit, keyed by row path), cells.csv (keyed by report, table, row and
column path; its table ids reference tables.csv), tables.csv (written here from tables.json) and
any other CSV found (changes.csv, ...) as text. Valid under `frictionless validate`. Also writes
a CSVW csv-metadata.json from the same metadata (statlift/outputs/csvw.py).
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from statlift.outputs.catalog import _as_dict
from statlift.outputs.csvw import write_csvw
from statlift.outputs.metadata import (
    CELL_FIELDS,
    CELLS_PRIMARY_KEY,
    TABLE_FIELDS,
    TABLES_PRIMARY_KEY,
    FieldMeta,
    TableMeta,
    column_kind,
    slug,
    table_metas,
    table_rows,
)
from statlift.outputs.processed import CELLS_CSV, ReportText, read_header

log = logging.getLogger(__name__)

DATAPACKAGE_JSON = "datapackage.json"
TABLES_CSV = "tables.csv"
PUBLIC_DOMAIN = {"name": "other-pd", "title": "Public domain",
                 "path": "https://www.copyright.gov/title17/92chap1.html#105"}
MISSING_VALUES = [""]


def write_tables_csv(report_dir: Path, tables_json: dict) -> Path:
    """tables.csv: one row per table of tables.json (columns: metadata.TABLE_FIELDS)."""
    path = Path(report_dir) / TABLES_CSV
    names = [f.name for f in TABLE_FIELDS]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for row in table_rows(tables_json):
            writer.writerow({k: "" if row[k] is None else row[k] for k in names})
    return path


def field_descriptor(f: FieldMeta) -> dict:
    out: dict[str, Any] = {"name": f.name, "type": f.type, "description": f.description}
    if f.unit:
        out["unit"] = f.unit
    if f.header_path:
        out["headerPath"] = list(f.header_path)
    if f.row_units:
        out["rowUnits"] = f.row_units
    if f.footnotes:
        out["footnotes"] = list(f.footnotes)
    return out


def _csv_resource(name: str, path: str, title: str, fields: list[FieldMeta],
                  labels: list[str], primary_key: list[str] | None = None) -> dict:
    """A tabular resource; a header with blank or repeated labels is read as a comment row and
    the schema's names are used instead (frictionless rejects blank labels)."""
    res: dict[str, Any] = {
        "name": name, "path": path, "profile": "tabular-data-resource", "title": title,
        "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "schema": {"fields": [field_descriptor(f) for f in fields],
                   "missingValues": MISSING_VALUES}}
    if primary_key:
        res["schema"]["primaryKey"] = primary_key
    if any(not label for label in labels) or len(set(labels)) != len(labels):
        res["dialect"] = {"header": False, "commentRows": [1]}
    return res


def _resource_name(table_id: str, taken: set[str]) -> str:
    name = slug(table_id).replace("_", "-") or "table"
    while name in taken or name in ("cells", "tables"):
        name += "-table"
    taken.add(name)
    return name


def wide_resource(meta: TableMeta, name: str, source: dict | None) -> dict:
    labels = [meta.stub_header] + [f.name for f in meta.value_fields]
    rows = meta.rows
    unique = len(set(rows)) == len(rows) and all(rows)
    fields = list(meta.fields)
    if not meta.stub_header or len(set(labels)) != len(labels):
        fields = _unique_names(fields)
    res = _csv_resource(name, f"{meta.table_id}.csv", meta.title, fields, labels,
                        [fields[0].name] if unique else None)
    if not unique:
        log.warning("%s %s: row paths are not unique; no primary key declared",
                    meta.report_id, meta.table_id)
    notes = list(meta.notes) + [f"{k} {v}" for k, v in meta.footnotes.items()]
    if notes:
        res["description"] = "\n".join(notes)
    res["statlift"] = {"report_id": meta.report_id, "table_id": meta.table_id,
                       "page": meta.page, "caption": meta.caption,
                       "stub_header": meta.stub_header, "footnotes": meta.footnotes,
                       "source_line": meta.source, "source_sha256": meta.source_sha256}
    if source:
        res["sources"] = [dict(source, title=f"{source['title']}, p. {meta.page}")]
    return res


def _unique_names(fields: list[FieldMeta]) -> list[FieldMeta]:
    """Field names for a header read as a comment row: `row_path` for a blank stub header,
    a `#n` suffix on repeated labels."""
    seen: dict[str, int] = {}
    out = []
    for i, f in enumerate(fields):
        name = f.name or ("row_path" if i == 0 else f"column {i}")
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} #{seen[name]}"
        out.append(FieldMeta(name, f.type, f.description, f.unit, f.header_path,
                             f.footnotes, f.row_units))
    return out


def cells_fields(cells_text: pd.DataFrame) -> list[FieldMeta]:
    """CELL_FIELDS, with `value` as a string if some printed value is not a number."""
    values = list(cells_text["value"])
    kind = column_kind(values, {"percent"})
    return [FieldMeta(f.name, kind, f.description) if f.name == "value" and kind != "number"
            else f for f in CELL_FIELDS]


def cells_resource(cells_text: pd.DataFrame) -> dict:
    res = _csv_resource("cells", CELLS_CSV, "All cells, tidy: one row per cell",
                        cells_fields(cells_text), list(cells_text.columns), CELLS_PRIMARY_KEY)
    res["schema"]["foreignKeys"] = [{"fields": TABLES_PRIMARY_KEY, "reference": {
        "resource": "tables", "fields": TABLES_PRIMARY_KEY}}]
    return res


def tables_resource() -> dict:
    """tables.csv as write_tables_csv writes it (its header: TABLE_FIELDS)."""
    return _csv_resource("tables", TABLES_CSV, "The report's tables (from tables.json)",
                         TABLE_FIELDS, [f.name for f in TABLE_FIELDS], TABLES_PRIMARY_KEY)


def other_resources(report_dir: Path, known: set[str], taken: set[str]) -> list[dict]:
    """Text-typed resources for the folder's other CSVs (changes.csv, audit tables, ...)."""
    out = []
    for path in sorted(report_dir.glob("*.csv")):
        if path.name in known:
            continue
        labels = read_header(path)
        fields = _unique_names([FieldMeta(label, "string", f"Column {label!r} of {path.name}")
                                for label in labels])
        out.append(_csv_resource(_resource_name(path.stem, taken), path.name, path.name,
                                 fields, labels))
    return out


def package_sources(entry: dict) -> list[dict]:
    pairs = [("pdf_url", "the report (PDF)"), ("landing_url", "the report's landing page"),
             ("csv_zip_url", "the publisher's tables (CSV, zip)"),
             ("ascii_url", "the report (text)")]
    label = " ".join(x for x in (entry.get("publisher"), entry.get("series"),
                                 entry.get("number")) if x)
    return [{"title": f"{label}: {what}", "path": entry[key]} for key, what in pairs
            if entry.get(key)]


def package_descriptor(entry: dict, tables_json: dict, resources: list[dict]) -> dict:
    sha = tables_json.get("source_sha256", "")
    license_ = dict(PUBLIC_DOMAIN, title=entry.get("license") or PUBLIC_DOMAIN["title"])
    contributors = [{"title": a, "role": "author"} for a in entry.get("authors") or []]
    contributors.append({"title": entry.get("publisher", ""), "role": "publisher"})
    description = (f"Tables of {entry.get('title', '')}, extracted by statlift "
                   f"{tables_json.get('statlift_version', '')} from the PDF with SHA-256 {sha}.")
    if entry.get("embedded_note"):
        description += " " + entry["embedded_note"]
    return {
        "profile": "tabular-data-package", "name": slug(entry["report_id"]).replace("_", "-"),
        "id": f"statlift:{entry['report_id']}:{sha[:12]}", "title": entry.get("title", ""),
        "description": description, "homepage": entry.get("landing_url") or None,
        "created": tables_json.get("extracted_at"),
        "keywords": [k for k in ("criminal justice", entry.get("publisher_short"),
                                 entry.get("series")) if k],
        "licenses": [license_], "sources": package_sources(entry),
        "contributors": contributors,
        "statlift": {"report_id": entry["report_id"], "source_sha256": sha,
                     "source_path": tables_json.get("source_path"),
                     "statlift_version": tables_json.get("statlift_version"),
                     "urls_verified": entry.get("urls_verified", False),
                     "released": entry.get("released"), "revised": entry.get("revised"),
                     "revision_note": entry.get("revision_note")},
        "resources": resources,
    }


def build_resources(report_dir: Path, entry: dict, tables_json: dict,
                    report: ReportText | None = None) -> list[dict]:
    """Resources of the report folder; `report`: its content when the caller has it in memory,
    else read from the folder."""
    report = report or ReportText.read(report_dir, tables_json)
    sources = package_sources(entry)
    taken: set[str] = set()
    metas = table_metas(report, report_dir.name)
    resources = [wide_resource(m, _resource_name(m.table_id, taken),
                               sources[0] if sources else None) for m in metas]
    known = {f"{m.table_id}.csv" for m in metas} | {TABLES_CSV}
    if report.cells is not None:
        resources.append(cells_resource(report.cells))
        known.add(CELLS_CSV)
    resources.append(tables_resource())
    return resources + other_resources(report_dir, known, taken | {"cells", "tables"})


def write_datapackage(report_dir: str | Path, catalog_entry: Any, tables_json: dict,
                      report: ReportText | None = None) -> Path:
    """Write tables.csv, datapackage.json and csv-metadata.json (CSVW) into `report_dir`;
    returns the datapackage.json path. `report`: the folder's content when the caller has it in
    memory (the run that writes it), else read from the folder."""
    report_dir = Path(report_dir)
    entry = _as_dict(catalog_entry)
    write_tables_csv(report_dir, tables_json)
    resources = build_resources(report_dir, entry, tables_json, report)
    package = {k: v for k, v in package_descriptor(entry, tables_json, resources).items()
               if v is not None}
    path = report_dir / DATAPACKAGE_JSON
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_csvw(report_dir, package)
    log.info("%s: datapackage.json with %d resources", entry["report_id"], len(resources))
    return path
