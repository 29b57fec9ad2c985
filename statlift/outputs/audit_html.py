"""audit.html: one self-contained page (the stylesheet inlined, crops as data URIs, no external
requests), rendered from templates/audit.html out of the run's memory: the audit document and
the report's tables as text (`ReportText`), nothing read back from the staged files."""
from __future__ import annotations

import pandas as pd

from statlift.outputs.catalog import citation, entries_by_id
from statlift.outputs.processed import ReportText
from statlift.outputs.templates import audit_status, header_rows, number, render, source_notes
from statlift.validate.crops import focus_in_crop, parse_box

Cell = tuple[str, str]  # (row_path, column_path)


def _rows(wide: pd.DataFrame | None) -> list[list[str]]:
    """A wide table as its CSV reads: the header row, then the rows."""
    if wide is None:
        return []
    return [[str(c) for c in wide.columns]] + [[str(v) for v in r] for r in wide.values.tolist()]


def printed_texts(cells: pd.DataFrame | None) -> dict[tuple[str, str, str], str]:
    """{(table_id, row_path, column_path): the cell's text as printed} from the cells."""
    if cells is None or not len(cells):
        return {}
    texts = cells["raw_text"].where(cells["raw_text"] != "", cells["missing_code"])
    return {k: t for k, t in zip(zip(cells["table_id"], cells["row_path"], cells["column_path"]),
                                 texts) if t != ""}


def _table(rows: list[list[str]], table_id: str, involved: set[Cell], culprits: set[Cell],
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
            cls = "culprit" if (r[0], col) in culprits else \
                ("involved" if (r[0], col) in involved else "")
            cells.append((printed.get((table_id, r[0], col), val), cls))
        body.append({"label": r[0], "cells": cells})
    return {"head": rows[0], "header_rows": header_rows([(h, "") for h in rows[0][1:]]),
            "rows": body}


def _candidate(c: dict, printed: dict) -> dict:
    key = (c["table_id"], c["row_path"], c["column_path"])
    return {"table_id": c["table_id"], "row_path": c["row_path"],
            "column_path": c["column_path"],
            "printed": printed.get(key) or number(c["printed"]),
            "fits": number(c["value_that_fits"])}


def _finding(rec: dict, report: ReportText, crops: dict, printed: dict,
             claims: dict[str, dict]) -> dict:
    table_id = rec["table_id"]
    involved = {(c["row_path"], c["column_path"]) for c in rec["cells"]
                if c["table_id"] == table_id}
    cul = rec["culprit"]
    candidates = [cul, *(cul.get("tied") or [])] if cul else []
    culprits = {(c["row_path"], c["column_path"]) for c in candidates
                if c["table_id"] == table_id}
    claim = claims.get(rec["id"])
    region = (report.doc.get("tables", {}).get(table_id) or {}).get("bbox") or None
    focus_cells = [c for c in rec["cells"] if c["table_id"] == table_id
                   and (claim is not None or not culprits
                        or (c["row_path"], c["column_path"]) in culprits)]
    focus = focus_in_crop(region, [b for c in focus_cells if (b := parse_box(c.get("bbox")))])
    out = {"id": rec["id"], "table_id": table_id, "check_id": rec["check_id"],
           "severity": rec["severity"], "cls": rec["class"], "description": rec["description"],
           "printed": number(rec["printed"]), "expected": number(rec["expected"], 4),
           "tolerance": number(rec["tolerance"]), "acknowledged": rec["acknowledged"],
           "crop": crops.get(rec["id"]), "cells_crop": crops.get(f"{rec['id']}:cells"),
           "page": rec["cells"][0]["page"] if rec["cells"] else "?",
           "table": _table(_rows(report.wides.get(table_id)), table_id, involved, culprits,
                           printed),
           "culprit": None, "tied": [], "claim": claim, "focus": focus}
    if claim is not None:
        out["page"] = claim["page"]
    if cul:
        out["culprit"] = dict(_candidate(cul, printed), fixes=cul["fixes"],
                              breaks=cul["breaks"], unique=cul["unique"])
        out["tied"] = [_candidate(c, printed) for c in candidates] if len(candidates) > 1 else []
    return out


def _claims(doc: dict) -> dict:
    """The claims section: counts by verdict, why the text was not checked, and every claim
    under its sentence (a sentence that states three shares is shown once, its three claims
    under it), in the order of the text."""
    s = doc["summary"]
    counts = s.get("claims") or {}
    sentences: dict[tuple, dict] = {}
    for c in doc.get("claims", []):
        item = dict(c, cells_text=", ".join(
            f"{x['table_id']} {x['raw_text'] or x['row_path']}" for x in c["cells"]))
        key = (c["page"], c["sentence"])
        sentences.setdefault(key, {"page": c["page"], "sentence": c["sentence"],
                                   "claims": []})["claims"].append(item)
    return {"counts": counts, "total": sum(counts.values()),
            "not_checked": s.get("claims_not_checked"),
            "sentences": list(sentences.values())}


def render_audit_html(doc: dict, report: ReportText, crops: dict,
                      entry: dict | None = None) -> str:
    """The page of one report's audit. `report`: its tables.json, cells and wide tables as text
    (from memory); `crops`: finding id -> base64 PNG; `entry` is its catalog entry (default:
    looked up in the catalog in use; a report the catalog does not list is shown by its id)."""
    s = doc["summary"]
    report_id = s["report_id"]
    tables = report.doc
    if entry is None:
        entry = entries_by_id().get(report_id, {})
    printed = printed_texts(report.cells)
    rows = []
    for table_id, t in s["tables"].items():
        meta = tables.get("tables", {}).get(table_id, {})
        rows.append({"table_id": table_id, "title": meta.get("title", ""),
                     "page": meta.get("page", ""), "checks": t["checks"], "passed": t["passed"],
                     "not_additive": t.get("not_additive") if t["checks"] else None,
                     "status": audit_status(doc, table_id)})
    claims = {c["finding"]: c for c in doc.get("claims", []) if c.get("finding")}
    return render("audit.html", title=f"statlift audit · {report_id}", report_id=report_id,
                  pub_title=entry.get("title") or report_id,
                  citation=citation(entry) if entry else "",
                  notes=source_notes(entry, s.get("source_sha256")),
                  sha256=s.get("source_sha256"), s=s, tables=rows,
                  schema_failures=doc["schema_failures"],
                  findings=[_finding(r, report, crops, printed, claims)
                            for r in doc["findings"]],
                  claims=_claims(doc))
