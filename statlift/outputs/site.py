"""A static HTML catalog of processed/: opens from disk, inline CSS and SVG, no scripts, no
external requests (links to the publishers' pages are plain links).

    site/index.html                      every report, its tables and their audit status
    site/<report_id>/<table_id>.html     title, notes, provenance (page, crop), downloads,
                                         audit status, a line chart for time series, the table
Links to the data are relative, so processed/ can be copied or served as it is.
"""
from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from statlift.outputs.catalog import citation, entries_by_id
from statlift.outputs.metadata import TableMeta, report_table_metas
from statlift.outputs.processed import (read_audit, read_cells_text, read_tables_json,
                                        report_dirs, typed_wide)
from statlift.outputs.site_chart import table_charts

log = logging.getLogger(__name__)

CSS = """
*{box-sizing:border-box}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
a{color:#0b5cad}header{background:#12355b;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:21px}header p{margin:4px 0 0;opacity:.85}header a{color:#cfe3ff}
main{padding:18px 28px 40px;max-width:1180px}
section.card{background:#fff;border-radius:8px;padding:14px 18px;margin:0 0 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:17px;margin:0 0 6px}h3{font-size:15px;margin:12px 0 6px}
.meta{color:#52606d;font-size:13px}table{border-collapse:collapse;background:#fff;margin:6px 0}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#eef1f5;font-weight:600}
table.list td,table.list th{text-align:left}
.unit{display:block;font-weight:400;color:#52606d;font-size:11px}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;background:#eef1f5;white-space:nowrap}
.badge.ok{background:#dcf5e3;color:#155724}.badge.warn{background:#fff1dc;color:#8a4b00}
.badge.err{background:#fde2e1;color:#9b1c1c}.dl a{margin-right:12px}
.notes{color:#3e4c59;font-size:13px}.missing{color:#9aa5b1}td.lvl1{padding-left:22px}
td.lvl2{padding-left:38px}
svg.chart{background:#fff;border:1px solid #e3e6ea;border-radius:6px;margin:6px 12px 6px 0}
svg .grid{stroke:#e3e6ea}svg .tick{font-size:11px;fill:#52606d}
svg .ct{font-size:12px;font-weight:600;fill:#1d2433}
img.crop{max-width:100%;border:1px solid #d5dae1}.wrap{overflow:auto}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def href(target: Path, page_dir: Path) -> str:
    """A relative, URL-quoted link from a page in `page_dir` to `target`."""
    return quote(Path(os.path.relpath(target, page_dir)).as_posix())


def page(title: str, header: str, body: str) -> str:
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header>{header}</header><main>{body}</main></body></html>\n")


def audit_badge(audit: dict | None, table_id: str | None = None) -> str:
    """OK / n findings / not audited, for a report or one of its tables."""
    if audit is None:
        return '<span class="badge">not audited</span>'
    findings = [f for f in audit.get("findings", [])
                if table_id is None or f.get("table_id") == table_id]
    summary = audit.get("summary", {})
    stats = summary.get("tables", {}).get(table_id, {}) if table_id else summary
    checks = f"{stats.get('passed', '?')}/{stats.get('checks', '?')} checks" if stats else ""
    if not findings:
        return f'<span class="badge ok">OK {esc(checks)}</span>'
    open_ = [f for f in findings if not f.get("acknowledged")]
    cls = "err" if open_ else "warn"
    text = f"{len(findings)} finding{'s' * (len(findings) != 1)}"
    text += f", {len(open_)} open" if open_ else ", acknowledged"
    return f'<span class="badge {cls}">{esc(text)}</span> <span class="meta">{esc(checks)}</span>'


def downloads(links: list[tuple[str, Path]], page_dir: Path) -> str:
    items = [f'<a href="{href(p, page_dir)}" download>{esc(label)}</a>'
             for label, p in links if p.exists()]
    return f'<p class="dl">Download: {" ".join(items)}</p>' if items else ""


def report_card(report_dir: Path, entry: dict, metas: list[TableMeta], site: Path) -> str:
    audit = read_audit(report_dir)
    doc = read_tables_json(report_dir)
    rows = []
    for m in metas:
        link = href(site / report_dir.name / f"{m.table_id}.html", site)
        rows.append(f"<tr><td><a href=\"{link}\">{esc(m.table_id)}</a></td><td>{esc(m.title)}"
                    f"</td><td>{esc(m.page)}</td><td>{len(m.rows)}×{len(m.value_fields)}</td>"
                    f"<td>{audit_badge(audit, m.table_id)}</td></tr>")
    pubs = [f'<a href="{esc(entry[k])}">{label}</a>' for k, label in
            (("landing_url", "publisher's page"), ("pdf_url", "PDF")) if entry.get(k)]
    files = [("datapackage.json", report_dir / "datapackage.json"),
             ("cells.csv", report_dir / "cells.csv"), ("cells.parquet",
                                                       report_dir / "cells.parquet"),
             ("audit report", report_dir / "audit.html")]
    return (f'<section class="card"><h2>{esc(entry.get("title") or report_dir.name)}</h2>'
            f'<p class="meta"><code>{esc(report_dir.name)}</code> · {esc(citation(entry))}'
            f'{" · " + " · ".join(pubs) if pubs else ""}</p>'
            f'<p class="meta">Extracted {esc(doc.get("extracted_at"))} from PDF sha256 '
            f'<code>{esc(str(doc.get("source_sha256"))[:16])}…</code> · audit: '
            f'{audit_badge(audit)}</p>{downloads(files, site)}'
            '<table class="list"><tr><th>table</th><th>title</th><th>page</th><th>shape</th>'
            f'<th>audit</th></tr>{"".join(rows)}</table></section>')


def index_page(processed: Path, site: Path, entries: dict[str, dict],
               metas: dict[str, list[TableMeta]]) -> str:
    cards = [report_card(processed / rid, entries.get(rid, {"report_id": rid}), ms, site)
             for rid, ms in metas.items()]
    db = processed / "statlift.duckdb"
    extra = downloads([("statlift.duckdb (all reports)", db)], site)
    n = sum(len(ms) for ms in metas.values())
    header = (f"<h1>statlift datasets</h1><p>{len(metas)} reports, {n} tables, "
              "extracted from the publishers' PDFs and checked against their own arithmetic</p>")
    return page("statlift datasets", header, extra + "".join(cards))


def _missing_codes(report_dir: Path, table_id: str) -> dict[tuple[str, str], str]:
    cells = read_cells_text(report_dir) if (report_dir / "cells.csv").exists() else None
    if cells is None:
        return {}
    sub = cells[(cells["table_id"] == table_id) & (cells["missing_code"] != "")]
    return {(r, c): code for r, c, code in zip(sub["row_path"], sub["column_path"],
                                               sub["missing_code"])}


def data_table(report_dir: Path, meta: TableMeta) -> str:
    frame = typed_wide(report_dir, meta.table_id, {})  # text, as published
    missing = _missing_codes(report_dir, meta.table_id)
    mixed = any(f.row_units for f in meta.value_fields)
    head = "".join(f"<th>{esc(f.name)}<span class=\"unit\">"
                   f"{esc('' if f.row_units else f.unit or '')}</span></th>"
                   for f in meta.value_fields)
    row_units = {r: u for f in meta.value_fields for r, u in f.row_units.items()}
    rows = []
    for _, r in frame.iterrows():
        path = str(r["row_path"])
        depth = min(path.count(" > "), 2)
        label = path.split(" > ")[-1]
        tds = []
        for f in meta.value_fields:
            text = r[f.name]
            code = missing.get((path, f.name))
            tds.append(f"<td>{esc(text)}</td>" if text != "" else
                       f'<td class="missing" title="missing">{esc(code or "")}</td>')
        unit = f'<span class="unit">{esc(row_units.get(path, ""))}</span>' if mixed else ""
        rows.append(f'<tr><td class="lvl{depth}" title="{esc(path)}">{esc(label)}{unit}</td>'
                    f'{"".join(tds)}</tr>')
    return (f'<div class="wrap"><table><tr><th>{esc(meta.stub_header)}</th>{head}</tr>'
            f'{"".join(rows)}</table></div>')


def findings_list(audit: dict | None, table_id: str) -> str:
    findings = [f for f in (audit or {}).get("findings", []) if f.get("table_id") == table_id]
    if not findings:
        return ""
    items = [f"<li><b>{esc(f.get('class'))}</b> ({esc(f.get('severity'))}"
             f"{', acknowledged' if f.get('acknowledged') else ''}): {esc(f.get('message'))}"
             "</li>" for f in findings]
    return f"<ul>{''.join(items)}</ul>"


def notes_block(meta: TableMeta) -> str:
    lines = list(meta.notes) + [f"{k} {v}" for k, v in meta.footnotes.items()]
    if meta.source:
        lines.append(meta.source)
    return "".join(f'<p class="notes">{esc(x)}</p>' for x in lines)


def provenance(report_dir: Path, meta: TableMeta, doc: dict, page_dir: Path) -> str:
    entry = doc.get("tables", {}).get(meta.table_id, {})
    crop = report_dir / "crops" / f"{meta.table_id}.png"
    facts = (f'<p class="meta">Page {esc(meta.page)} · caption “{esc(meta.caption)}” · '
             f'bbox {esc(entry.get("bbox"))} · readers {esc(entry.get("engine"))} · agreement '
             f'{esc(entry.get("agreement"))} · PDF sha256 <code>{esc(meta.source_sha256)}</code>'
             f' · statlift {esc(doc.get("statlift_version"))}, {esc(doc.get("extracted_at"))}'
             "</p>")
    if crop.exists():
        link = href(crop, page_dir)
        facts += (f'<p><a href="{link}">Page crop (PNG)</a></p>'
                  f'<img class="crop" src="{link}" alt="crop of page {esc(meta.page)}">')
    return facts


def table_page(report_dir: Path, meta: TableMeta, entry: dict, site: Path) -> str:
    page_dir = site / report_dir.name
    doc = read_tables_json(report_dir)
    audit = read_audit(report_dir)
    charts = table_charts(typed_wide(report_dir, meta.table_id, meta.kinds)
                          .set_index("row_path"), meta)
    files = [("CSV", report_dir / f"{meta.table_id}.csv"),
             ("Parquet", report_dir / f"{meta.table_id}.parquet"),
             ("all cells (CSV)", report_dir / "cells.csv")]
    header = (f'<p><a href="{href(site / "index.html", page_dir)}">← all datasets</a></p>'
              f"<h1>{esc(meta.title)}</h1><p>{esc(_cite(entry, meta, report_dir.name))}</p>")
    body = (f'<section class="card">{downloads(files, page_dir)}'
            f"<p>Audit: {audit_badge(audit, meta.table_id)}</p>"
            f"{findings_list(audit, meta.table_id)}</section>")
    if charts:
        body += f'<section class="card"><h2>Over time</h2>{"".join(charts)}</section>'
    body += (f'<section class="card"><h2>Table</h2>{data_table(report_dir, meta)}'
             f"{notes_block(meta)}</section>"
             f'<section class="card"><h2>Provenance</h2>'
             f"{provenance(report_dir, meta, doc, page_dir)}</section>")
    return page(f"{meta.title} — statlift", header, body)


def _cite(entry: dict, meta: TableMeta, report_id: str) -> str:
    if not entry:
        return f"{report_id}, {meta.caption or meta.table_id}, p. {meta.page}"
    return citation(entry, meta.caption or meta.table_id, meta.page)


def _entries(catalog: Any) -> dict[str, dict]:
    try:
        return entries_by_id(catalog)
    except (ImportError, OSError) as exc:
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
        (site / rid).mkdir(parents=True, exist_ok=True)
        for m in ms:
            (site / rid / f"{m.table_id}.html").write_text(
                table_page(processed / rid, m, entries.get(rid, {}), site), encoding="utf-8")
    site.mkdir(parents=True, exist_ok=True)
    index = site / "index.html"
    index.write_text(index_page(processed, site, entries, metas), encoding="utf-8")
    log.info("%s: %d reports, %d tables", index, len(metas),
             sum(len(m) for m in metas.values()))
    return index
