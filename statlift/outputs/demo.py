"""A tiny processed/ tree in the output contract's format (docs/contract.md), for examples,
doctests and the tests of the downstream outputs.

Two reports with the catalog's real ids, two tables each. BJS table-01's cells are the published
ones the README example queries (child sex trafficking, 2013: 1,031 of 4,579, 22.5%); every other
number is made up and says so in the table notes. It has a percent column, a months and a years
column, a row-wise mixed-unit table, a hierarchy, footnotes and a missing value printed `--`.

    >>> from statlift.outputs.demo import write_demo_tree
    >>> import tempfile
    >>> root = write_demo_tree(tempfile.mkdtemp())
    >>> sorted(p.name for p in (root / "processed").iterdir())
    ['bjs-ncj250746', 'ussc-cp-production-2021']
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from statlift.model import CELL_COLUMNS

MADE_UP = "Demo data: apart from the 2013 columns of BJS table 1, these numbers are made up."
SHA = {"bjs-ncj250746": "5902eaae77531c48686e0adfd530cfbf663c824bc213af3c0ba35b4b2e3b8541",
       "ussc-cp-production-2021":
           "01bd6b4f63c2583dd19a815dc9c2785b80912bdeea341748e3e035314890a4c7"}
MISSING = {"--": "Less than 0.05%"}


@dataclass
class DemoTable:
    """One table: rows of (row path, [printed cell text]) under leaf column header paths."""

    table_id: str
    title: str
    page: int
    stub_header: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    units: dict[str, str]  # "row:<path>" or "col:<path>" -> unit; the rest is count
    notes: list[str] = field(default_factory=list)
    footnotes: dict[str, str] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)  # row or column path -> marker
    source: str = ""

    def unit(self, row: str, col: str) -> str:
        return self.units.get(f"row:{row}") or self.units.get(f"col:{col}") or "count"


def demo_tables() -> dict[str, list[DemoTable]]:
    """The demo tables by report id."""
    bjs_src = "Source: Executive Office for U.S. Attorneys, National LIONS database, 2004-2013."
    t1_cols = ["2004–2013 | Number", "2004–2013 | Percent", "2004 | Number", "2004 | Percent",
               "2013 | Number", "2013 | Percent"]
    t1 = DemoTable(
        "table-01", "Suspects referred to U.S. attorneys with commercial sexual exploitation of "
        "children offense as lead charge, 2004–2013", 3, "Lead charge", t1_cols,
        [("All commercial sexual exploitation of children offenses",
          ["37,105", "100%", "2,000", "100%", "4,579", "100%"]),
         ("Child pornography production", ["3,000", "8.1", "200", "10.0", "700", "15.3"]),
         ("Child pornography possession/receipt/distribution",
          ["26,785", "72.2", "1,500", "75.0", "2,848", "62.2"]),
         ("Child sex trafficking", ["7,320", "19.7", "300", "15.0", "1,031", "22.5"])],
        {f"col:{c}": "percent" for c in t1_cols if "Percent" in c},
        notes=["Note: Details may not sum to totals due to rounding.", MADE_UP],
        footnotes={"a": "Includes sex trafficking of children by force, fraud or coercion."},
        marks={"Child sex trafficking": "a"}, source=bjs_src)
    years = [str(y) for y in range(2004, 2009)]
    t2 = DemoTable(
        "table-02", "Suspects in matters referred for child sex trafficking, by year, 2004–2008",
        4, "", years,
        [("Number of suspects", ["300", "352", "410", "398", "467"]),
         ("Percent female", ["12.0", "11.4", "--", "9.8", "10.7"]),
         ("Percent under age 18", ["0.7", "1.1", "0.5", "0.8", "0.4"])],
        {"row:Percent female": "percent", "row:Percent under age 18": "percent"},
        notes=["-- Less than 0.05%.", MADE_UP], footnotes={"*": "Fiscal years."},
        marks={"2004": "*"}, source=bjs_src)
    ussc_src = "Source: United States Sentencing Commission, FY 2019 Datafile."
    u1 = DemoTable(
        "sexual-contact", "Sexual Contact During Production", 1, "", ["N", "%"],
        [("Total §2G2.1 Offenders", ["512", "100.0%"]),
         ("Offenses Involving Sexual Contact", ["330", "64.5%"]),
         ("Offenses Involving Sexual Contact > Offender sexually contacted a victim",
          ["250", "48.8%"]),
         ("Offenses Involving Sexual Contact > Victim(s) engaged in sexual contact",
          ["80", "15.6%"]),
         ("No sexual contact of a victim", ["182", "35.5%"])],
        {"col:%": "percent"}, notes=[MADE_UP],
        footnotes={"*": "Offenders sentenced under §2G2.1."}, marks={"N": "*"}, source=ussc_src)
    u2 = DemoTable(
        "sentences", "Sentence length and age of production offenders", 2, "Offender group",
        ["Offenders | N", "Average sentence | Months", "Median age | Years"],
        [("All production offenders", ["512", "275.2 mos.", "39 yrs."]),
         ("Contact offenders", ["330", "301.0 mos.", "41 yrs."]),
         ("Non-contact offenders", ["182", "228.0 mos.", "35 yrs."])],
        {"col:Average sentence | Months": "months", "col:Median age | Years": "years"},
        notes=[MADE_UP], source=ussc_src)
    return {"bjs-ncj250746": [t1, t2], "ussc-cp-production-2021": [u1, u2]}


def _parse(text: str) -> tuple[str, int | None, str]:
    """(value, decimals, missing code) of a printed cell."""
    if text in MISSING:
        return "", None, text
    body = text.replace(",", "").replace("%", "").replace(" mos.", "").replace(" yrs.", "")
    decimals = len(body.split(".")[1]) if "." in body else 0
    return body, decimals, ""


def _cell_records(report_id: str, t: DemoTable) -> list[dict]:
    records = []
    for ri, (row, texts) in enumerate(t.rows):
        for ci, (col, text) in enumerate(zip(t.columns, texts)):
            value, decimals, code = _parse(text)
            marks = [m for m in (t.marks.get(row), t.marks.get(col)) if m]
            x0, top = 200.0 + 60 * ci, 120.0 + 14 * ri
            records.append({
                "report_id": report_id, "table_id": t.table_id, "row_path": row,
                "column_path": col, "value": value, "unit": t.unit(row, col), "raw_text": text,
                "missing_code": code, "footnotes": ";".join(marks), "page": t.page,
                "bbox": f"{x0:.1f},{top:.1f},{x0 + 30:.1f},{top + 9:.1f}",
                "engines": "" if code else "words;pdfplumber;camelot-stream",
                "source_sha256": SHA[report_id], "row_index": ri, "column_index": ci,
                "decimals": "" if decimals is None else decimals,
                "missing_meaning": MISSING.get(code, ""), "flags": ""})
    return records


def _table_meta(t: DemoTable) -> dict:
    return {"title": t.title, "caption": f"TABLE {t.table_id[-1]}" if t.table_id[-1].isdigit()
            else t.title, "caption_number": t.table_id[-1] if t.table_id[-1].isdigit() else None,
            "page": t.page, "bbox": [54.0, 100.0, 558.0, 300.0], "stub_header": t.stub_header,
            "columns": t.columns, "rows": [r for r, _ in t.rows], "notes": t.notes,
            "footnotes": t.footnotes, "source": t.source, "spec_version": 1,
            "engine": "words+pdfplumber+camelot-stream", "shape": [len(t.rows), len(t.columns)],
            "agreement": 1.0, "relabels": [],
            "units": sorted({t.unit(r, c) for r, _ in t.rows for c in t.columns})}


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_demo_report(report_dir: Path, report_id: str, tables: list[DemoTable]) -> None:
    """One report folder: wide CSVs, cells.csv and tables.json."""
    report_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for t in tables:
        cells = _cell_records(report_id, t)
        records += cells
        wide = [[row] + [_parse(x)[0] for x in texts] for row, texts in t.rows]
        _write_csv(report_dir / f"{t.table_id}.csv", [t.stub_header] + t.columns, wide)
    _write_csv(report_dir / "cells.csv", CELL_COLUMNS,
               [[r[c] for c in CELL_COLUMNS] for r in records])
    doc = {"report_id": report_id, "source_sha256": SHA[report_id],
           "source_path": f"raw/{report_id}/{SHA[report_id]}.pdf", "statlift_version": "0.1.0",
           "extracted_at": "2024-01-01T00:00:00+00:00",
           "tables": {t.table_id: _table_meta(t) for t in tables}, "failed": {}}
    (report_dir / "tables.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")


def demo_audit() -> dict:
    """audit.json of the BJS demo report: one acknowledged source inconsistency."""
    cell = {"table_id": "table-01", "row_path": "Child pornography production",
            "column_path": "2004–2013 | Percent", "raw_text": "8.1", "page": 3,
            "bbox": "260.0,134.0,290.0,143.0", "engines": "words", "flags": ""}
    return {"summary": {"report_id": "bjs-ncj250746", "checks": 12, "passed": 11, "findings": 1,
                        "unacknowledged": 0,
                        "tables": {"table-01": {"checks": 8, "passed": 7, "findings": 1},
                                   "table-02": {"checks": 4, "passed": 4, "findings": 0}}},
            "findings": [{"id": "F001", "check_id": "table-01/percent_matches_count#1",
                          "table_id": "table-01", "class": "source inconsistency",
                          "severity": "warning", "acknowledged": True, "cells": [cell],
                          "expected": 8.085, "printed": 8.1,
                          "message": "demo finding: printed 8.1, expected 8.085"}]}


def write_demo_tree(root: str | Path, with_audit: bool = True) -> Path:
    """`root/processed/<report_id>/...` for both demo reports and `root/raw/manifest.json`
    whose current sha256 matches them (so the API sees them as fresh); returns `root`."""
    root = Path(root)
    processed = root / "processed"
    for report_id, tables in demo_tables().items():
        write_demo_report(processed / report_id, report_id, tables)
    if with_audit:
        (processed / "bjs-ncj250746" / "audit.json").write_text(
            json.dumps(demo_audit(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest = {"manifest_version": 1, "reports": {
        rid: {"current": sha, "versions": [{"sha256": sha, "path": f"raw/{rid}/{sha}.pdf"}]}
        for rid, sha in SHA.items()}}
    (root / "raw").mkdir(parents=True, exist_ok=True)
    (root / "raw" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                                encoding="utf-8")
    return root
