"""Starter table specs for a new report: every captioned table, its header paths, row paths,
units and candidate cross-checks, for a person to review (`statlift discover PDF --spec`).

Captions are runs that start "TABLE n" / "Table n." or text on a filled title bar; a caption
counts only if a table grid reads under it. Callout figures become one `key-figures` entry.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from statlift.extractors.callouts import find_callouts
from statlift.extractors.clean import join_wrapped
from statlift.extractors.layout import Grid, LayoutError
from statlift.extractors.locate import locate_table
from statlift.extractors.pdfdoc import Document, PageText
from statlift.extractors.readers import read_located
from statlift.extractors.textlines import lines_of

log = logging.getLogger(__name__)
_NUMBERED = re.compile(r"^(TABLE|Table)\s+(\d+[A-Za-z]?)\b")
_TOTAL = re.compile(r"^(total|all\b)", re.I)


@dataclass
class Candidate:
    caption: str
    table_id: str
    page: int


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def _on_bar(page: PageText, run) -> bool:
    """Text on a title bar: a filled strip little taller than the text, starting at its left."""
    return any(r.x0 - 1 <= run.x0 <= r.x0 + 3 * run.size and run.x1 <= r.x1 + 1 and
               r.top - 1 <= run.top and run.bottom <= r.bottom + 1 and
               (r.bottom - r.top) <= 2.6 * run.size for r in page.rects)


def caption_candidates(doc: Document) -> list[Candidate]:
    seen: set[str] = set()
    out: list[Candidate] = []
    for page in doc.pages():
        for ln in lines_of(page):
            for run in ln.runs:
                m = _NUMBERED.match(run.text)
                if m and (run.bold or run.size > page.body_size):
                    cap = f"{m.group(1)} {m.group(2)}"
                    digits = re.match(r"\d+", m.group(2))
                    if digits is None:
                        continue
                    number = int(digits.group())
                    tid = f"table-{number:02d}"
                elif _on_bar(page, run) and len(run.text) > 3:
                    cap, tid = run.text, _slug(run.text)
                else:
                    continue
                if cap not in seen:
                    seen.add(cap)
                    out.append(Candidate(cap, tid, page.number))
    return out


def _leaf_pattern(cols: list[str], leaf: str) -> str:
    return leaf if leaf in cols else f"* | {leaf}"


def unit_rules(grid: Grid) -> tuple[str, list[dict]]:
    """Percent columns by header ('Percent', '%'), else percent rows by a printed '%'; rows
    printed with 'yrs.'/'mos.' are years/months; 'Number of ...' rows are counts."""
    rules: list[dict] = []
    cols = [c.path for c in grid.columns]
    texts = {(ri, ci): run.text for (ri, ci), run in grid.cells.items()}
    pct_leaf = next((c.split(" | ")[-1] for c in cols
                     if c.split(" | ")[-1].strip().lower() in ("percent", "%", "pct")), None)
    default = "count"
    if pct_leaf:
        rules.append({"columns": _leaf_pattern(cols, pct_leaf), "unit": "percent"})
    elif any(t.endswith("%") for t in texts.values()):
        default = "percent"
    for ri, row in enumerate(grid.rows):
        vals = [t for (r, _), t in texts.items() if r == ri]
        if any(v.endswith(("yrs.", "years")) for v in vals):
            rules.append({"rows": row.path, "unit": "years"})
        elif any(v.endswith(("mos.", "months")) for v in vals):
            rules.append({"rows": row.path, "unit": "months"})
        elif default == "percent" and (row.label.lower().startswith("number") or
                                       any("," in v for v in vals)):
            rules.append({"rows": row.path, "unit": "count"})
    return default, rules


def candidate_checks(grid: Grid, unit: str, rules: list[dict]) -> list[dict]:
    rows = [r.path for r in grid.rows]
    cols = [c.path for c in grid.columns]
    checks: list[dict] = []
    total = next((r for r in rows if _TOTAL.match(r)), None)
    count_leaf = next((c.split(" | ")[-1] for c in cols
                       if c.split(" | ")[-1].lower() in ("number", "n")), None)
    pct_leaf = next((c.split(" | ")[-1] for c in cols
                     if c.split(" | ")[-1].lower() in ("percent", "%")), None)
    count_cols = _leaf_pattern(cols, count_leaf) if count_leaf else None
    if any(" > " in r for r in rows):
        checks.append({"sums_to_total": {"axis": "children", "columns": count_cols or "*"}})
    if total and count_cols:
        checks.append({"sums_to_total": {"total": total, "columns": count_cols}})
        if pct_leaf:
            checks.append({"percent_matches_count": {
                "count": count_cols, "percent": _leaf_pattern(cols, pct_leaf),
                "base_row": total}})
    if unit == "percent":
        top = [r for r in rows if " > " not in r and not r.lower().startswith("number")]
        groups = sorted({r.split(" > ")[0] for r in rows if " > " in r})
        for g in groups:
            kids = [r for r in rows if r.startswith(g + " > ") and
                    not any(x["rows"] == r for x in rules if "rows" in x)]
            checks.append({"percents_sum_to_100": {"rows": kids}})
        if not groups and len(top) > 1:
            checks.append({"percents_sum_to_100": {"rows": top}})
    year_cols = [c for c in cols if re.fullmatch(r"(19|20)\d\d", c)]
    if "Total" in cols and year_cols:
        checks.append({"sums_to_total": {"axis": "columns", "total": "Total", "parts": "20*"}})
    return checks


def spec_entry(doc: Document, cand: Candidate) -> dict | None:
    region = locate_table(doc, cand.caption)
    if region is None:
        return None
    try:
        read = read_located(doc, region.page, region.body_bbox, region.body_lines)
    except LayoutError as exc:
        log.info("%s: no table grid under the caption (%s)", cand.caption, exc)
        return None
    grid = read.grid()
    if len(grid.rows) < 2 or len(grid.cells) < 2:
        return None
    unit, rules = unit_rules(grid)
    entry: dict[str, Any] = {"table_id": cand.table_id, "caption": cand.caption}
    if region.title:
        entry["title"] = region.title
    entry.update({"stub_header": grid.stub_header, "rows": [r.path for r in grid.rows],
                  "columns": [c.path for c in grid.columns]})
    if unit != "count":
        entry["default_unit"] = unit
    if rules:
        entry["units"] = rules
    checks = candidate_checks(grid, unit, rules)
    if checks:
        entry["checks"] = checks
    return entry


def callouts_entry(doc: Document) -> dict | None:
    """Big numbers with labels -> one `key-figures` entry anchored on the heading above them."""
    found = find_callouts(doc, (1, 0.0))
    if len(found) < 2:
        return None
    page_no, first, _ = found[0]
    page = doc.page(page_no)
    headings = [r for ln in lines_of(page) for r in ln.runs
                if r.bottom <= first.top and r.size > 1.15 * page.body_size and r.size < first.size
                and not r.text[:1].isdigit()]
    if not headings:
        return None
    anchor = max(headings, key=lambda r: r.bottom)
    rows = [join_wrapped([r.text for r in label]) for _, _, label in found]
    return {"table_id": "key-figures", "kind": "callouts", "caption": anchor.text,
            "title": "Key figures (callouts)", "columns": ["Value"], "rows": rows}


def starter_spec(pdf_path: str, report_id: str) -> dict:
    with Document.open(pdf_path) as doc:
        tables = [e for c in caption_candidates(doc) if (e := spec_entry(doc, c)) is not None]
        callouts = callouts_entry(doc)
    return {"report_id": report_id, "spec_version": 1,
            "tables": ([callouts] if callouts else []) + tables}
