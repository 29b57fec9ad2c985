"""The audit of one report: audit.json (every check, every finding, every claim of the text)
and a self-contained audit.html a person can act on in a minute (per-table summary, each finding
with the table rendered, the cells highlighted, and a crop of the PDF page with those cells
boxed; the claims the running text makes, each supported / contradicted / not resolvable).

    audit_report   cells + tables.json (+ the PDF's text) -> AuditReport, nothing written
    run_audit      the same, written: audit.json, audit.html, crops/
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from pdfplumber.utils.exceptions import PdfminerException

from statlift.acquire.hashing import sha256_file
from statlift.extractors.pdfdoc import open_document
from statlift.model import FINDING_CELL_FIELDS, AuditReport, Finding, TablesDocument
from statlift.outputs.audit_html import render_audit_html
from statlift.outputs.processed import ReportText
from statlift.schemas.specs import ReportSpec
from statlift.validate.checks import TEXT_CHECKS, half
from statlift.validate.claims import VERDICTS, Claim, report_narrative
from statlift.validate.crops import (
    INVOLVED,
    PROBLEM,
    Highlight,
    highlight_crops,
    parse_box,
    render_crop,
)
from statlift.validate.evaluate import (
    Candidate,
    Culprit,
    FailedCheck,
    acknowledgement,
    audit_cells,
    cell_records,
    classify_cells,
)
from statlift.validate.schema import validate_report

log = logging.getLogger(__name__)
TEXT_CHECK = "narrative_claims"  # the check id of a claim's finding: <table>/narrative_claims#C001
__all__ = ["audit_report", "run_audit", "render_crop", "finding_record"]


def _cell_record(m: dict) -> dict:
    return {k: (int(m[k]) if k == "page" else m[k]) for k in FINDING_CELL_FIELDS}


def _where(cell) -> str:
    return f"{cell[0]} [{cell[1]} | {cell[2]}]"


def finding_record(n: int, f: FailedCheck) -> Finding:
    c = f.culprit
    cells = tuple(_cell_record(m) for m in f.cells_meta)
    return Finding(
        id=f"F{n:03d}", check_id=f.equation.check_id, check=f.equation.check,
        table_id=f.equation.table_id, description=f.equation.description, cls=f.cls,
        severity=f.severity, acknowledged=f.acknowledged, expected=f.expected,
        printed=f.printed, tolerance=f.tolerance, cells=cells,
        culprit=None if c is None else {
            "table_id": c.cell[0], "row_path": c.cell[1], "column_path": c.cell[2],
            "printed": c.printed, "value_that_fits": c.suggested, "fixes": c.fixes,
            "breaks": c.breaks, "unique": c.unique,
            "tied": [{"table_id": t.cell[0], "row_path": t.cell[1], "column_path": t.cell[2],
                      "printed": t.printed, "value_that_fits": t.suggested} for t in c.tied]},
        message=_message(f))


def _message(f: FailedCheck) -> str:
    c = f.culprit
    text = (f"{f.equation.description}: printed {f.printed:g}, expected "
            f"{f.expected:.4g} (tolerance {f.tolerance:g})" if f.expected is not None
            else f"{f.equation.description} does not hold")
    if c is not None and c.tied:
        candidates: list[Culprit | Candidate] = [c, *c.tied]
        text += "; tied candidates, each fits as well: " + " or ".join(
            f"{_where(x.cell)} = {x.printed:g} ({x.suggested:g} would fit)"
            for x in candidates)
    elif c is not None:
        text += (f"; most likely wrong: {_where(c.cell)} = "
                 f"{c.printed:g}, {c.suggested:g} would fit")
    return text


# ------------------------------------------------------------------ claims of the running text

def table_boxes(tables: dict) -> dict[int, list[tuple[float, float, float, float]]]:
    """Page number -> the boxes of the tables printed on it (tables.json)."""
    boxes: dict[int, list[tuple[float, float, float, float]]] = {}
    for meta in TablesDocument.from_json(tables).tables.values():
        if meta.bbox and meta.page is not None:
            x0, top, x1, bottom = meta.bbox
            boxes.setdefault(meta.page, []).append((x0, top, x1, bottom))
    return boxes


def text_claims(cells: pd.DataFrame, tables: dict, pdf_path: str | None
                ) -> tuple[list[Claim], str | None]:
    """Every registered text check over the report's running text: (claims numbered C001, ...,
    None), or ([], why the text was not checked)."""
    path = pdf_path or tables.get("source_path")
    if not path or not Path(path).is_file():
        return [], f"the PDF the tables were read from is not available ({path or 'no path'})"
    expected = tables.get("source_sha256")
    if expected and sha256_file(path) != expected:
        return [], (f"{path} is not the PDF the tables were read from (sha256 "
                    f"{sha256_file(path)[:12]}..., expected {str(expected)[:12]}...)")
    try:
        with open_document(path) as doc:  # the flow's, when it lends it (pdfdoc.lent)
            passages = report_narrative(doc, table_boxes(tables))
    except PdfminerException as exc:
        return [], f"{path}: the text layer cannot be read ({exc})"
    claims = [c for check in TEXT_CHECKS.values() for c in check.run(passages, cells)]
    for n, claim in enumerate(claims, 1):
        claim.id = f"C{n:03d}"
    return claims, None


def _percent(text: str) -> float | None:
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return None


def claim_finding(n: int, claim: Claim, spec: ReportSpec, meta: dict) -> Finding:
    """A contradicted claim as a finding: of the table its numbers resolve to, classed like any
    other (a reader that did not confirm one of its cells makes it an extraction suspect)."""
    keys = [(r.table_id, r.row_path, r.column_path) for r in claim.cells]
    table_id = keys[0][0] if keys else None
    check_id = f"{table_id}/{TEXT_CHECK}#{claim.id}"
    cls = classify_cells(keys, meta)
    ack = acknowledgement(spec, table_id, check_id, keys) if table_id else None
    severity = "info" if ack else ("warning" if cls == "source inconsistency" else "error")
    number = claim.number.replace(",", "")
    decimals = len(number.split(".")[1]) if "." in number else 0
    description = f'page {claim.page}: the text states "{claim.stated}"'
    return Finding(
        id=f"F{n:03d}", check_id=check_id, check=TEXT_CHECK, table_id=table_id,
        description=description, cls=cls, severity=severity, acknowledged=ack,
        expected=_percent(claim.computed) if claim.kind in ("change", "share") else None,
        printed=float(number) if number else None, tolerance=half(decimals),
        cells=tuple(_cell_record(meta[k]) for k in keys if k in meta), culprit=None,
        message=f'{description} ("{claim.sentence}"): {claim.reason}')


# ------------------------------------------------------------------------------ the audit

def audit_report(spec: ReportSpec, cells: pd.DataFrame, tables: dict,
                 pdf_path: str | None = None) -> AuditReport:
    """Validate, cross-check and check the text's claims; write nothing.

    `cells`: the report's cells as in cells.csv (text); `tables`: tables.json's content;
    `pdf_path`: the PDF whose text is checked (default: tables.json's `source_path`)."""
    results, failed = audit_cells(spec, cells)
    schema_failures = validate_report(spec, cells)
    findings = [finding_record(i, f) for i, f in enumerate(failed, 1)]
    claims, not_checked = text_claims(cells, tables, pdf_path)
    meta = cell_records(cells)
    claim_docs = []
    for claim in claims:
        record = claim.to_json()
        record["finding"] = None
        if claim.verdict == "contradicted":
            finding = claim_finding(len(findings) + 1, claim, spec, meta)
            findings.append(finding)
            record["finding"] = finding.id
        claim_docs.append(record)
    per_table: dict[str, dict] = {}
    for r in results:
        counts = per_table.setdefault(r["table_id"], {"checks": 0, "passed": 0, "findings": 0})
        counts["checks"] += 1
        counts["passed"] += r["passed"]
    for f in findings:
        counts = per_table.setdefault(str(f.table_id), {"checks": 0, "passed": 0, "findings": 0})
        counts["findings"] += 1
    for t in spec.tables:
        entry = per_table.setdefault(t.table_id, {"checks": 0, "passed": 0, "findings": 0})
        entry["not_additive"] = t.not_additive
        entry["schema_failures"] = sum(1 for s in schema_failures if s["table_id"] == t.table_id)
    unack = [f for f in findings if not f.acknowledged]
    summary = {
        "report_id": spec.report_id, "source_sha256": tables.get("source_sha256"),
        "checks": len(results), "passed": sum(r["passed"] for r in results),
        "findings": len(findings), "unacknowledged": len(unack) + len(schema_failures),
        "by_class": dict(Counter(f.cls for f in findings)),
        "schema_failures": len(schema_failures),
        "claims": {v: sum(c.verdict == v for c in claims) for v in VERDICTS},
        "claims_not_checked": not_checked, "tables": per_table,
    }
    return AuditReport(summary, tuple(findings), tuple(schema_failures), tuple(results),
                       tuple(claim_docs))


def run_audit(spec: ReportSpec, report: ReportText, out_dir: Path,
              pdf_path: str | None = None) -> dict:
    """audit_report, written into `out_dir`: audit.json, audit.html and crops/; returns the
    summary. `report`: the report's tables.json, cells and wide tables as text, from memory."""
    if report.cells is None:
        raise ValueError(f"{spec.report_id}: the audit needs the report's cells")
    pdf_path = pdf_path or report.doc.get("source_path")
    out_dir.mkdir(parents=True, exist_ok=True)
    pages: dict = {}  # each page rendered once for the whole report
    # the tables' crops need no audit: rendered in a thread while the audit runs (PDFium's
    # render and the PNG encoding release the interpreter's lock: BJS's 10 crops and ~0.3 s of
    # Python work took 0.42-0.46 s side by side against 0.67 s one after the other)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="statlift-crops") as crops_pool:
        tables_done = crops_pool.submit(write_table_crops, out_dir, report.doc, str(pdf_path),
                                        pages)
        audit = audit_report(spec, report.cells, report.doc, pdf_path)
        tables_done.result()
    doc = audit.to_json()
    (out_dir / "audit.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False,
                                                   default=float) + "\n", encoding="utf-8")
    crops = finding_crops(report.doc, audit, str(pdf_path), pages)
    (out_dir / "audit.html").write_text(render_audit_html(doc, report, crops),
                                        encoding="utf-8")
    return dict(audit.summary)


def write_table_crops(out_dir: Path, tables: dict, pdf_path: str, pages: dict) -> None:
    """crops/<table_id>.png for every table; `pages`: rendered pages, shared with
    finding_crops (each page rendered once for the whole report)."""
    crops_dir = out_dir / "crops"
    crops_dir.mkdir(exist_ok=True)
    for table_id, meta in TablesDocument.from_json(tables).tables.items():
        if not meta.bbox or meta.page is None:
            continue
        png = render_crop(pdf_path, meta.page, meta.bbox, [], pages=pages)
        (crops_dir / f"{table_id}.png").write_bytes(png)


def finding_crops(tables: dict, audit: AuditReport, pdf_path: str, pages: dict
                  ) -> dict[str | int, str]:
    """A highlighted crop per finding (base64 for HTML): the check's cells boxed (the culprit
    and any tied candidate red), or for a contradicted claim its sentence boxed red, with a
    second crop `<id>:cells` of the cells it resolved to."""
    metas = TablesDocument.from_json(tables).tables
    claims = {c["finding"]: c for c in audit.claims if c.get("finding")}
    highlights = []
    for f in audit.findings:
        table = metas.get(str(f.table_id))
        red = _culprit_cells(f)
        boxes = tuple((box, PROBLEM if (c["row_path"], c["column_path"]) in red else INVOLVED)
                      for c in f.cells
                      if c["table_id"] == f.table_id and (box := parse_box(c["bbox"])))
        page = (table.page if table else None) or (f.cells[0]["page"] if f.cells else None)
        claim = claims.get(f.id)
        if claim is not None:
            if claim.get("box"):
                highlights.append(Highlight(f.id, claim["page"],
                                            ((tuple(claim["box"]), PROBLEM),)))
            if boxes and page is not None:
                highlights.append(Highlight(f"{f.id}:cells", page,
                                            tuple((b, INVOLVED) for b, _ in boxes),
                                            table.bbox if table else None))
        elif page is not None:
            highlights.append(Highlight(f.id, page, boxes, table.bbox if table else None))
    return highlight_crops(pdf_path, highlights, pages)


def _culprit_cells(f: Finding) -> set[tuple[str, str]]:
    """(row_path, column_path) of the culprit and every tied candidate of `f`."""
    c = f.culprit
    if not c:
        return set()
    return {(x["row_path"], x["column_path"]) for x in [c, *(c.get("tied") or [])]}
