"""audit.html: one self-contained page (the stylesheet inlined, crops as data URIs, no external
requests), rendered from templates/audit.html."""
from __future__ import annotations

import csv
from pathlib import Path

from statlift.outputs.catalog import citation, entries_by_id
from statlift.outputs.processed import CELLS_CSV, read_cells_text
from statlift.outputs.templates import audit_status, number, render, source_notes


def _wide(out_dir: Path, table_id: str) -> list[list[str]]:
    path = out_dir / f"{table_id}.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def printed_texts(out_dir: Path) -> dict[tuple[str, str, str], str]:
    """{(table_id, row_path, column_path): the cell's text as printed} from cells.csv."""
    if not (out_dir / CELLS_CSV).exists():
        return {}
    cells = read_cells_text(out_dir)
    texts = cells["raw_text"].where(cells["raw_text"] != "", cells["missing_code"])
    return {k: t for k, t in zip(zip(cells["table_id"], cells["row_path"], cells["column_path"]),
                                 texts) if t != ""}


def _table(rows: list[list[str]], table_id: str, involved: set, culprit,
           printed: dict) -> dict | None:
    """The table as extracted, reduced to the columns the check involves, numbers as printed."""
    if not rows:
        return None
    cols = {c for _, c in involved}
    keep = [0] + [i for i, h in enumerate(rows[0]) if i and h in cols]
    rows = [[r[i] for i in keep] for r in rows]
    body = []
    for r in rows[1:]:
        cells = []
        for col, val in zip(rows[0][1:], r[1:]):
            cls = "culprit" if (r[0], col) == culprit else \
                ("involved" if (r[0], col) in involved else "")
            cells.append((printed.get((table_id, r[0], col), val), cls))
        body.append({"label": r[0], "cells": cells})
    return {"head": rows[0], "rows": body}


def _finding(rec: dict, out_dir: Path, crops: dict, printed: dict) -> dict:
    table_id = rec["table_id"]
    involved = {(c["row_path"], c["column_path"]) for c in rec["cells"]
                if c["table_id"] == table_id}
    cul = rec["culprit"]
    culprit = (cul["row_path"], cul["column_path"]) if cul and cul["table_id"] == table_id \
        else None
    out = {"id": rec["id"], "table_id": table_id, "check_id": rec["check_id"],
           "severity": rec["severity"], "cls": rec["class"], "description": rec["description"],
           "printed": number(rec["printed"]), "expected": number(rec["expected"], 4),
           "tolerance": number(rec["tolerance"]), "acknowledged": rec["acknowledged"],
           "crop": crops.get(rec["id"]),
           "page": rec["cells"][0]["page"] if rec["cells"] else "?",
           "table": _table(_wide(out_dir, table_id), table_id, involved, culprit, printed),
           "culprit": None}
    if cul:
        key = (cul["table_id"], cul["row_path"], cul["column_path"])
        out["culprit"] = {"table_id": cul["table_id"], "row_path": cul["row_path"],
                          "column_path": cul["column_path"],
                          "printed": printed.get(key) or number(cul["printed"]),
                          "fits": number(cul["value_that_fits"]), "fixes": cul["fixes"],
                          "breaks": cul["breaks"], "unique": cul["unique"]}
    return out


def render_audit_html(doc: dict, tables: dict, out_dir: Path, crops: dict,
                      entry: dict | None = None) -> str:
    """The page of one report's audit. `entry` is its catalog entry (default: looked up in the
    catalog in use; a report the catalog does not list is shown by its id)."""
    s = doc["summary"]
    report_id = s["report_id"]
    if entry is None:
        entry = entries_by_id().get(report_id, {})
    printed = printed_texts(out_dir)
    rows = []
    for table_id, t in s["tables"].items():
        meta = tables.get("tables", {}).get(table_id, {})
        rows.append({"table_id": table_id, "title": meta.get("title", ""),
                     "page": meta.get("page", ""), "checks": t["checks"], "passed": t["passed"],
                     "not_additive": t.get("not_additive") if t["checks"] else None,
                     "status": audit_status(doc, table_id)})
    return render("audit.html", title=f"statlift audit · {report_id}", report_id=report_id,
                  pub_title=entry.get("title") or report_id,
                  citation=citation(entry) if entry else "",
                  notes=source_notes(entry, s.get("source_sha256")),
                  sha256=s.get("source_sha256"), s=s, tables=rows,
                  schema_failures=doc["schema_failures"],
                  findings=[_finding(r, out_dir, crops, printed) for r in doc["findings"]])
