"""docs/data-dictionary.md, generated: every report, table, column (header path), unit,
footnote and source, and the checks that guard each table. Never edited by hand.

Input adapters (one small function each) turn what the caller has into TableMeta lists:
a processed/ folder (units read from cells.csv), tables.json documents, or table specs
(statlift.schemas.specs.ReportSpec: units from the spec's rules, check descriptions from its
checks).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from statlift.outputs.catalog import entries_by_id
from statlift.outputs.metadata import (
    TableMeta,
    describe_row_units,
    report_table_metas,
    table_meta,
    table_meta_of,
)
from statlift.outputs.processed import report_dirs

log = logging.getLogger(__name__)

Checks = Mapping[str, Mapping[str, list[str]]]  # report_id -> table_id -> descriptions


def metas_from_tables_json(doc: dict) -> list[TableMeta]:
    """Tables of one tables.json without its CSVs (units: tables.json's `units` if per column
    or single, else unknown)."""
    out = []
    for table_id, entry in doc.get("tables", {}).items():
        wide = pd.DataFrame([[r] + [""] * len(entry.get("columns") or [])
                             for r in entry.get("rows") or []],
                            columns=[entry.get("stub_header") or ""] + list(entry.get("columns")
                                                                          or []))
        cells = pd.DataFrame(columns=["row_path", "column_path", "unit", "footnotes"])
        out.append(table_meta(doc.get("report_id", ""), doc.get("source_sha256", ""), table_id,
                              entry, wide, cells))
    return out


def metas_from_spec(spec: Any) -> tuple[list[TableMeta], dict[str, list[str]]]:
    """Tables and check descriptions of a ReportSpec (schemas/specs.py)."""
    metas, checks = [], {}
    for t in spec.tables:
        rows = list(t.rows)
        by_col = {c: [(r, t.unit_for(r, c), "") for r in rows] for c in t.columns}
        header = [t.stub_header or "", *t.columns]
        columns = [rows, *([""] * len(rows) for _ in t.columns)]
        entry = {"title": t.title or t.caption, "caption": t.caption,
                 "stub_header": t.stub_header or "", "notes": [t.description] if t.description
                 else []}
        metas.append(table_meta_of(spec.report_id, "", t.table_id, entry, header, columns,
                                   by_col))
        checks[t.table_id] = [describe_check(c.check, c.args, c.reason) for c in t.checks]
    return metas, checks


def describe_check(name: str, args: Mapping, reason: str | None = None) -> str:
    """One line for a declared check.

    >>> describe_check("sums_to_total", {"total": "All", "columns": "* | Number"})
    'sums_to_total (total: All; columns: * | Number)'
    """
    text = name
    if args:
        text += " (" + "; ".join(f"{k}: {_arg(v)}" for k, v in args.items()) + ")"
    return text + (f" — {reason}" if reason else "")


def _arg(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_arg(v) for v in value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_arg(v)}" for k, v in value.items()) + "}"
    return str(value)


def collect_tables(source: Any) -> tuple[dict[str, list[TableMeta]], dict[str, dict]]:
    """{report_id: [TableMeta]} and spec checks from a processed/ path, a tables.json dict,
    a list or mapping of them, or ReportSpec objects."""
    if isinstance(source, (str, Path)):
        return {d.name: report_table_metas(d) for d in report_dirs(source)}, {}
    if isinstance(source, Mapping) and "tables" in source and "report_id" in source:
        source = [source]
    if isinstance(source, Mapping):
        source = list(source.values())
    if not isinstance(source, (list, tuple)):
        source = [source]
    tables, checks = {}, {}
    for item in source:
        if hasattr(item, "tables") and hasattr(item, "report_id"):
            tables[item.report_id], checks[item.report_id] = metas_from_spec(item)
        else:
            tables[item["report_id"]] = metas_from_tables_json(item)
    return tables, checks


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def report_section(entry: dict, report_id: str) -> list[str]:
    lines = [f"## `{report_id}` — {entry.get('title', '')}", ""]
    facts = [("Publisher", entry.get("publisher")),
             ("Series", " ".join(x for x in (entry.get("series"), entry.get("number")) if x)),
             ("Released", entry.get("released")), ("Revised", entry.get("revised")),
             ("Revision", entry.get("revision_note")), ("Data period", entry.get("data_period")),
             ("Report page", entry.get("landing_url")), ("PDF", entry.get("pdf_url")),
             ("License", entry.get("license")), ("Embedded copy", entry.get("embedded_note"))]
    lines += [f"- **{k}**: {v}" for k, v in facts if v]
    return lines + [""]


def table_section(meta: TableMeta, checks: list[str]) -> list[str]:
    lines = [f"### `{meta.report_id}` / `{meta.table_id}` — {meta.title}", ""]
    where = [f"page {meta.page}" if meta.page else "", f"caption `{meta.caption}`"
             if meta.caption else "", f"DuckDB table `{meta.db_name}`"]
    lines += ["; ".join(w for w in where if w) + ".", ""]
    stub = meta.stub_header or "(no stub header printed)"
    lines += [f"Rows ({len(meta.rows)}), stub header: {stub}:", ""]
    lines += [f"- {_cell(r)}" for r in meta.rows] + [""]
    lines += ["| column (header path) | unit | type | footnotes |", "| --- | --- | --- | --- |"]
    for f in meta.value_fields:
        unit = f.unit or ""
        if f.row_units:
            unit += f" ({describe_row_units(f.row_units)})"
        lines.append(f"| {_cell(f.name)} | {_cell(unit)} | {f.type} | "
                     f"{_cell(' '.join(f.footnotes))} |")
    lines.append("")
    for note in meta.notes:
        lines.append(f"> {note}")
    for mark, text in meta.footnotes.items():
        lines.append(f"> {mark} {text}")
    if meta.source:
        lines.append(f"> {meta.source}")
    if meta.notes or meta.footnotes or meta.source:
        lines.append("")
    if checks:
        lines += ["Checks:", ""] + [f"- {_cell(c)}" for c in checks] + [""]
    return lines


def render_data_dictionary(catalog: Any, tables: dict[str, list[TableMeta]],
                           checks: Checks | None = None) -> str:
    entries = entries_by_id(catalog)
    checks = checks or {}
    lines = ["# Data dictionary", "",
             "Generated by `statlift.outputs.dictionary.write_data_dictionary` from the catalog "
             "and the extracted tables; do not edit by hand.", ""]
    for report_id in list(entries) + [r for r in tables if r not in entries]:
        if report_id not in tables:
            continue
        lines += report_section(entries.get(report_id, {}), report_id)
        for meta in tables[report_id]:
            lines += table_section(meta, list(checks.get(report_id, {}).get(meta.table_id, [])))
    return "\n".join(lines).rstrip() + "\n"


def write_data_dictionary(catalog: Any, specs_or_tables_json: Any,
                          out_path: str | Path = "docs/data-dictionary.md",
                          checks: Checks | None = None) -> Path:
    """Write the data dictionary (Markdown); returns its path.

    `specs_or_tables_json`: a processed/ folder, one or more tables.json documents (a list or
    {report_id: doc}), or ReportSpec objects. `checks`: {report_id: {table_id: [text]}},
    added to the checks found in specs.
    """
    tables, spec_checks = collect_tables(specs_or_tables_json)
    merged: dict[str, dict[str, list[str]]] = {}
    for source in (spec_checks, checks or {}):
        for rid, per_table in source.items():
            for tid, texts in per_table.items():
                merged.setdefault(rid, {}).setdefault(tid, []).extend(texts)
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_data_dictionary(catalog, tables, merged), encoding="utf-8")
    log.info("%s: %d tables", path, sum(len(v) for v in tables.values()))
    return path
