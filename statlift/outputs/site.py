"""A static HTML catalog of processed/: opens from disk, inline CSS and SVG, no scripts, no
external requests (links to the publishers' pages are plain links). Rendered from
templates/site_index.html and templates/site_table.html with the shared stylesheet.

    site/index.html                      every report, its tables and their audit status
    site/<report_id>/<table_id>.html     title, notes, provenance (page, crop), downloads,
                                         audit status, a chart for time series, the table
Links to the data are relative, so processed/ can be copied or served as it is.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from statlift.frames import records
from statlift.outputs.catalog import citation, entries_by_id
from statlift.outputs.metadata import TableMeta, report_table_metas
from statlift.outputs.processed import (
    CELLS_CSV,
    read_audit,
    read_cells_text,
    read_tables_json,
    report_dirs,
    typed_wide,
)
from statlift.outputs.site_chart import table_charts
from statlift.outputs.templates import audit_status, header_rows, number, render, source_notes

log = logging.getLogger(__name__)


def href(target: Path, page_dir: Path) -> str:
    """A relative, URL-quoted link from a page in `page_dir` to `target`."""
    return quote(Path(os.path.relpath(target, page_dir)).as_posix())


def _links(links: list[tuple[str, Path]], page_dir: Path) -> list[tuple[str, str]]:
    return [(label, href(p, page_dir)) for label, p in links if p.exists()]


def report_card(report_dir: Path, entry: dict, metas: list[TableMeta], site: Path) -> dict:
    audit = read_audit(report_dir)
    doc = read_tables_json(report_dir)
    tables = [{"link": href(site / report_dir.name / f"{m.table_id}.html", site),
               "table_id": m.table_id, "title": m.title, "page": m.page,
               "shape": f"{len(m.rows)}×{len(m.value_fields)}",
               "status": audit_status(audit, m.table_id)} for m in metas]
    files = [("datapackage.json", report_dir / "datapackage.json"),
             ("cells.csv", report_dir / "cells.csv"),
             ("cells.parquet", report_dir / "cells.parquet"),
             ("audit report", report_dir / "audit.html")]
    return {"title": entry.get("title") or report_dir.name, "report_id": report_dir.name,
            "citation": citation(entry) if entry.get("title") else "",
            "notes": source_notes(entry, doc.get("source_sha256")),
            "extracted_at": doc.get("extracted_at"),
            "sha16": str(doc.get("source_sha256"))[:16], "status": audit_status(audit),
            "downloads": _links(files, site), "tables": tables}


def index_page(processed: Path, site: Path, entries: dict[str, dict],
               metas: dict[str, list[TableMeta]]) -> str:
    reports = [report_card(processed / rid, entries.get(rid, {"report_id": rid}), ms, site)
               for rid, ms in metas.items()]
    return index_from_cards(processed, site, reports)


def index_from_cards(processed: Path, site: Path, cards: list[dict]) -> str:
    """site/index.html from each report's card (report_card), in report order: the builder
    that keeps the cards of unchanged reports (outputs/incremental.py) renders the same page."""
    db = _links([("statlift.duckdb (all reports)", processed / "statlift.duckdb")], site)
    return render("site_index.html", title="statlift datasets", n_reports=len(cards),
                  n_tables=sum(len(c["tables"]) for c in cards), db=db, reports=cards)


def write_report_pages(processed: Path, site: Path, report_id: str, metas: list[TableMeta],
                       entry: dict) -> list[Path]:
    """site/<report_id>/<table_id>.html of one report; returns the pages written."""
    (site / report_id).mkdir(parents=True, exist_ok=True)
    pages = []
    for m in metas:
        page = site / report_id / f"{m.table_id}.html"
        page.write_text(table_page(processed / report_id, m, entry, site), encoding="utf-8")
        pages.append(page)
    return pages


def printed_cells(report_dir: Path, table_id: str) -> dict[tuple[str, str], tuple[str, bool]]:
    """{(row_path, column_path): (text as printed, is missing)} of a table, from cells.csv."""
    if not (report_dir / CELLS_CSV).exists():
        return {}
    cells = read_cells_text(report_dir)
    # the columns it needs as lists: a filtered frame of every column, its Series zipped value
    # by value, took 4 ms a table (issue 15)
    columns = (cells[c].tolist() for c in ("table_id", "row_path", "column_path", "raw_text",
                                           "missing_code"))
    return {(r, c): (code, True) if code else (raw, False)
            for t, r, c, raw, code in zip(*columns) if t == table_id}


def data_table(report_dir: Path, meta: TableMeta) -> dict:
    """The table's rows with each number as printed (`21,887`, `9.7%`); the wide CSV's text
    where cells.csv has no printed text."""
    frame = typed_wide(report_dir, meta.table_id, {})  # text, as published
    printed = printed_cells(report_dir, meta.table_id)
    row_units = {r: u for f in meta.value_fields for r, u in f.row_units.items()}
    paths = {str(p) for p in frame["row_path"]}
    rows: list[dict] = []
    open_groups: list[str] = []  # the group headings above the current row, by depth
    for r in records(frame):  # dicts, not a Series per row (iterrows: issue 15)
        path = str(r["row_path"])
        parts = path.split(" > ")
        # a group heading that prints no values (Table 5's "Sex", "Age") is no row of the
        # CSV: the page shows it once above its rows, as the table prints it
        for depth in range(len(parts) - 1):
            prefix = " > ".join(parts[:depth + 1])
            if prefix in paths or (len(open_groups) > depth and open_groups[depth] == prefix):
                continue
            del open_groups[depth:]
            open_groups.append(prefix)
            rows.append({"heading": True, "path": prefix, "depth": min(depth, 2),
                         "label": parts[depth]})
        cells = []
        for f in meta.value_fields:
            text, missing = printed.get((path, f.name), ("", False))
            if not text and not missing:
                text, missing = str(r[f.name]), r[f.name] == ""
            cells.append((text, missing))
        rows.append({"heading": False, "path": path, "depth": min(path.count(" > "), 2),
                     "label": path.split(" > ")[-1], "unit": row_units.get(path, ""),
                     "cells": cells})
    last = None  # a mixed table's row unit is said where it changes, not under every row
    for row in rows:
        if not row["heading"]:
            row["show_unit"], last = row["unit"] != last, row["unit"]
    head = [(f.name, "" if f.row_units else f.unit or "") for f in meta.value_fields]
    return {"head": head, "header_rows": header_rows(head),
            "mixed": any(f.row_units for f in meta.value_fields), "rows": rows}


def finding_line(rec: dict) -> str:
    """One finding in a sentence, numbers as printed (`26,785`, the culprit's printed text);
    the record's message when it lacks the fields to say it (an older audit.json)."""
    if "description" not in rec or "printed" not in rec:
        return str(rec.get("message", ""))
    text = f"{rec['description']}: printed {number(rec['printed'])}"
    if rec.get("expected") is not None:
        text += f", expected {number(rec['expected'], 4)}"
    if rec.get("tolerance") is not None:
        text += f" (tolerance ±{number(rec['tolerance'])})"
    cul = rec.get("culprit")
    if cul:
        raw = next((c.get("raw_text") for c in rec.get("cells", [])
                    if (c.get("table_id"), c.get("row_path"), c.get("column_path")) ==
                    (cul["table_id"], cul["row_path"], cul["column_path"])), None)
        text += (f"; most likely wrong: {cul['row_path']} | {cul['column_path']} printed "
                 f"{raw or number(cul['printed'])}, {number(cul['value_that_fits'])} would fit")
    return text


def agreement_text(value: Any) -> str:
    """The readers' agreement as the run's log line says it.

    >>> agreement_text(0.7292), agreement_text(1.0), agreement_text(None)
    ('agreement 73% of cells', 'agreement 100% of cells', 'agreement not recorded')
    """
    try:
        return f"agreement {float(value):.0%} of cells"
    except (TypeError, ValueError):
        return "agreement not recorded"


def box_text(bbox: Any) -> str:
    """A table's box on its page, in points from the top left (callout figures spread over a
    page have none).

    >>> box_text([49.0, 507.3, 562.0, 740.1]), box_text(None)
    ('box x 49–562, y 507.3–740.1 pt', 'no table box')
    """
    try:
        x0, top, x1, bottom = (number(v) for v in bbox)
    except (TypeError, ValueError):
        return "no table box"
    return f"box x {x0}–{x1}, y {top}–{bottom} pt"


def note_lines(meta: TableMeta) -> list[str]:
    lines = list(meta.notes) + [f"{k} {v}" for k, v in meta.footnotes.items()]
    return lines + [meta.source] if meta.source else lines


def table_page(report_dir: Path, meta: TableMeta, entry: dict, site: Path) -> str:
    page_dir = site / report_dir.name
    doc = read_tables_json(report_dir)
    audit = read_audit(report_dir)
    charts = table_charts(typed_wide(report_dir, meta.table_id, meta.kinds)
                          .set_index("row_path"), meta)
    files = [("CSV", report_dir / f"{meta.table_id}.csv"),
             ("Parquet", report_dir / f"{meta.table_id}.parquet"),
             ("all cells (CSV)", report_dir / "cells.csv")]
    table_doc = doc.get("tables", {}).get(meta.table_id, {})
    crop = report_dir / "crops" / f"{meta.table_id}.png"
    audit_html = report_dir / "audit.html"
    findings = [dict(f, line=finding_line(f),
                     audit_link=f"{href(audit_html, page_dir)}#{quote(str(f['id']))}"
                     if audit_html.exists() and f.get("id") else "")
                for f in (audit or {}).get("findings", []) if f.get("table_id") == meta.table_id]
    return render(
        "site_table.html", title=f"{meta.title} — statlift", meta=meta,
        index_link=href(site / "index.html", page_dir),
        cite=_cite(entry, meta, report_dir.name),
        notes=source_notes(entry, doc.get("source_sha256")),
        files=_links(files, page_dir), status=audit_status(audit, meta.table_id),
        findings=findings, charts=charts, table=data_table(report_dir, meta),
        note_lines=note_lines(meta),
        prov={"bbox": box_text(table_doc.get("bbox")), "engine": table_doc.get("engine"),
              "agreement": agreement_text(table_doc.get("agreement")),
              "version": doc.get("statlift_version"), "extracted_at": doc.get("extracted_at")},
        crop=href(crop, page_dir) if crop.exists() else None)


def _cite(entry: dict, meta: TableMeta, report_id: str) -> str:
    if not entry:
        return f"{report_id}, {meta.caption or meta.table_id}, p. {meta.page}"
    return citation(entry, meta.caption or meta.table_id, meta.page)


def site_entries(catalog: Any) -> dict[str, dict]:
    """The catalog's entries by report id as the site reads them ({} without a catalog)."""
    return _entries(catalog)


def _entries(catalog: Any) -> dict[str, dict]:
    try:
        return entries_by_id(catalog)
    except OSError as exc:
        log.debug("no catalog: %s", exc)
        return {}


def build_site(processed_dir: str | Path, out_dir: str | Path | None = None,
               catalog: Any = None) -> Path:
    """Write the static catalog; returns the path of its index.html."""
    processed = Path(processed_dir)
    site = Path(out_dir) if out_dir is not None else processed / "site"
    entries = _entries(catalog)
    metas = {d.name: report_table_metas(d) for d in report_dirs(processed)}
    for rid, ms in metas.items():
        write_report_pages(processed, site, rid, ms, entries.get(rid, {}))
    site.mkdir(parents=True, exist_ok=True)
    index = site / "index.html"
    index.write_text(index_page(processed, site, entries, metas), encoding="utf-8")
    log.info("%s: %d reports, %d tables", index, len(metas),
             sum(len(m) for m in metas.values()))
    return index
