"""The audit of one report: audit.json (every check, every finding) and a self-contained
audit.html a person can act on in a minute (per-table summary, each finding with the table
rendered, the cells highlighted, and a crop of the PDF page with those cells boxed)."""
from __future__ import annotations

import base64
import io
import json
import logging
from collections import Counter
from pathlib import Path

import pandas as pd
from PIL import ImageDraw

from statlift.extractors.pdfium_lock import pdfium_document
from statlift.model import FINDING_CELL_FIELDS, AuditReport, Finding, TablesDocument
from statlift.outputs.audit_html import render_audit_html
from statlift.schemas.specs import ReportSpec
from statlift.validate.evaluate import FailedCheck, audit_cells
from statlift.validate.schema import validate_table

log = logging.getLogger(__name__)
SCALE = 2.0  # page crops at 144 dpi


def _bbox(text: str) -> tuple[float, ...] | None:
    try:
        return tuple(float(v) for v in str(text).split(","))
    except ValueError:
        return None


def render_crop(pdf_path: str, page: int, bbox, boxes: list[tuple[tuple, str]],
                margin: float = 8.0, pages: dict | None = None) -> bytes:
    """PNG of the page region `bbox` (points, top-left origin) with `boxes` drawn on it.

    `pages` caches rendered pages (number -> image) across calls: a report's tables and findings
    share a few pages, and rendering a page costs far more than cropping it."""
    pages = {} if pages is None else pages
    if page not in pages:
        with pdfium_document(pdf_path) as doc:
            pages[page] = doc[page - 1].render(scale=SCALE).to_pil().convert("RGB")
    image = pages[page]
    x0, top, x1, bottom = bbox
    left, upper = max(0, (x0 - margin) * SCALE), max(0, (top - margin) * SCALE)
    crop = image.crop((left, upper, min(image.width, (x1 + margin) * SCALE),
                       min(image.height, (bottom + margin) * SCALE)))  # a copy: page stays clean
    draw = ImageDraw.Draw(crop)
    for (bx0, btop, bx1, bbottom), colour in boxes:
        draw.rectangle([bx0 * SCALE - 3 - left, btop * SCALE - 2 - upper,
                        bx1 * SCALE + 3 - left, bbottom * SCALE + 2 - upper],
                       outline=colour, width=3)
    buf = io.BytesIO()
    crop.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def finding_record(n: int, f: FailedCheck) -> Finding:
    c = f.culprit
    cells = tuple({k: (int(m[k]) if k == "page" else m[k]) for k in FINDING_CELL_FIELDS}
                  for m in f.cells_meta)
    return Finding(
        id=f"F{n:03d}", check_id=f.equation.check_id, check=f.equation.check,
        table_id=f.equation.table_id, description=f.equation.description, cls=f.cls,
        severity=f.severity, acknowledged=f.acknowledged, expected=f.expected,
        printed=f.printed, tolerance=f.tolerance, cells=cells,
        culprit=None if c is None else {
            "table_id": c.cell[0], "row_path": c.cell[1], "column_path": c.cell[2],
            "printed": c.printed, "value_that_fits": c.suggested, "fixes": c.fixes,
            "breaks": c.breaks, "unique": c.unique},
        message=_message(f))


def _message(f: FailedCheck) -> str:
    c = f.culprit
    text = (f"{f.equation.description}: printed {f.printed:g}, expected "
            f"{f.expected:.4g} (tolerance {f.tolerance:g})" if f.expected is not None
            else f"{f.equation.description} does not hold")
    if c is not None:
        text += (f"; most likely wrong: {c.cell[0]} [{c.cell[1]} | {c.cell[2]}] = "
                 f"{c.printed:g}, {c.suggested:g} would fit")
    return text


def run_audit(spec: ReportSpec, cells: pd.DataFrame, tables: dict, pdf_path: str,
              out_dir: Path) -> dict:
    """Validate, cross-check, write audit.json + audit.html + crops/; return the summary.

    `cells`: the report's cells as in cells.csv (text); `tables`: tables.json's content."""
    results, failed = audit_cells(spec, cells)
    schema_failures = [f for t in spec.tables for f in validate_table(t, cells)]
    findings = [finding_record(i, f) for i, f in enumerate(failed, 1)]
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
        "schema_failures": len(schema_failures), "tables": per_table,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    report = AuditReport(summary, tuple(findings), tuple(schema_failures), tuple(results))
    doc = report.to_json()
    (out_dir / "audit.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False,
                                                   default=float) + "\n", encoding="utf-8")
    crops = write_crops(out_dir, tables, findings, pdf_path)
    (out_dir / "audit.html").write_text(render_audit_html(doc, tables, out_dir, crops),
                                        encoding="utf-8")
    return summary


def write_crops(out_dir: Path, tables: dict, findings: list[Finding], pdf_path: str) -> dict:
    """crops/<table_id>.png for every table; a highlighted crop per finding (base64 for HTML)."""
    crops_dir = out_dir / "crops"
    crops_dir.mkdir(exist_ok=True)
    metas = TablesDocument.from_json(tables).tables
    out = {}
    pages: dict = {}  # each page rendered once for the whole report
    for table_id, meta in metas.items():
        if not meta.bbox or meta.page is None:
            continue
        png = render_crop(pdf_path, meta.page, meta.bbox, [], pages=pages)
        (crops_dir / f"{table_id}.png").write_bytes(png)
    for f in findings:
        table = metas.get(str(f.table_id))
        culprit = f.culprit
        boxes = []
        for cell in f.cells:
            box = _bbox(cell["bbox"])
            if cell["table_id"] != f.table_id or not box:
                continue
            is_culprit = culprit and cell["row_path"] == culprit["row_path"] and \
                cell["column_path"] == culprit["column_path"]
            boxes.append((box, "#d62728" if is_culprit else "#ff9f1c"))
        bbox = (table.bbox if table else None) or _union([b for b, _ in boxes])
        if bbox is None:
            continue
        png = render_crop(pdf_path, (table.page if table else None) or f.cells[0]["page"], bbox,
                          boxes, pages=pages)
        out[f.id] = base64.b64encode(png).decode("ascii")
    return out


def _union(boxes):
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))
