"""audit.html: one self-contained page (inline CSS, crops as data URIs, no external requests)."""
from __future__ import annotations

import csv
from pathlib import Path

from statlift.validate.audit import esc

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{background:#12355b;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.85}main{padding:20px 28px;max-width:1200px}
.cards{display:flex;gap:12px;margin:0 0 18px}.card{background:#fff;border-radius:8px;padding:12px 16px;
box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:120px}.card b{display:block;font-size:22px}
.ok{color:#1a7f37}.warn{color:#b35900}.err{color:#c62828}.info{color:#52606d}
table{border-collapse:collapse;background:#fff}th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#eef1f5;font-weight:600}
.summary td,.summary th{text-align:left}.finding{background:#fff;border-radius:8px;margin:16px 0;padding:14px 18px;
box-shadow:0 1px 2px rgba(0,0,0,.08);border-left:5px solid #ff9f1c}.finding.error{border-left-color:#c62828}
.finding.info{border-left-color:#9aa5b1}.finding h3{margin:0 0 6px;font-size:15px}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;margin-right:6px;background:#eef1f5}
.badge.warning{background:#fff1dc;color:#8a4b00}.badge.error{background:#fde2e1;color:#9b1c1c}.badge.info{background:#e8ecf1}
td.culprit{background:#fde2e1;outline:2px solid #d62728;font-weight:700}td.involved{background:#fff1dc}
.grid{display:grid;grid-template-columns:minmax(0,1fr);gap:12px}
.grid img{max-width:100%;max-height:520px;border:1px solid #d5dae1}.tablewrap{overflow:auto;max-height:420px}
.small{font-size:12px;color:#52606d}code{background:#eef1f5;padding:0 4px;border-radius:3px}
"""


def _wide(out_dir: Path, table_id: str) -> list[list[str]]:
    path = out_dir / f"{table_id}.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _table_html(rows: list[list[str]], involved: set, culprit) -> str:
    """The table as extracted, reduced to the columns the check involves."""
    if not rows:
        return "<p class=small>(table not available)</p>"
    cols = {c for _, c in involved}
    keep = [0] + [i for i, h in enumerate(rows[0]) if i and h in cols]
    rows = [[r[i] for i in keep] for r in rows]
    head = "".join(f"<th>{esc(h)}</th>" for h in rows[0])
    body = []
    for r in rows[1:]:
        tds = [f"<td>{esc(r[0])}</td>"]
        for col, val in zip(rows[0][1:], r[1:]):
            cls = "culprit" if (r[0], col) == culprit else ("involved" if (r[0], col) in involved
                                                            else "")
            tds.append(f'<td class="{cls}">{esc(val)}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<div class=tablewrap><table><tr>{head}</tr>{''.join(body)}</table></div>"


def _finding_html(rec: dict, out_dir: Path, crops: dict) -> str:
    involved = {(c["row_path"], c["column_path"]) for c in rec["cells"]
                if c["table_id"] == rec["table_id"]}
    cul = rec["culprit"]
    culprit = (cul["row_path"], cul["column_path"]) if cul and \
        cul["table_id"] == rec["table_id"] else None
    sev = rec["severity"]
    ack = (f"<p class=small><b>Acknowledged:</b> {esc(rec['acknowledged'])}</p>"
           if rec["acknowledged"] else "")
    cul_txt = ""
    if cul:
        cul_txt = (f"<p><b>Most likely wrong cell:</b> {esc(cul['table_id'])} "
                   f"<code>{esc(cul['row_path'])} | {esc(cul['column_path'])}</code> printed "
                   f"<b>{cul['printed']:g}</b>; <b>{cul['value_that_fits']:g}</b> would make "
                   f"{cul['fixes']} failing check(s) hold and break {cul['breaks']}"
                   f"{'' if cul['unique'] else ' (not unique: another cell fits as well)'}.</p>")
    img = (f'<img alt="page crop of {esc(rec["table_id"])}" '
           f'src="data:image/png;base64,{crops[rec["id"]]}">' if rec["id"] in crops else "")
    exp = "n/a" if rec["expected"] is None else f"{rec['expected']:.4g}"
    return f"""<section class="finding {esc(sev)}" id="{esc(rec['id'])}">
<h3>{esc(rec['id'])} · {esc(rec['table_id'])} · <code>{esc(rec['check_id'])}</code></h3>
<p><span class="badge {esc(sev)}">{esc(sev)}</span><span class=badge>{esc(rec['class'])}</span>
{esc(rec['description'])}: printed <b>{rec['printed']:g}</b>, expected <b>{exp}</b>
(tolerance ±{rec['tolerance']:g}, from the printed precision).</p>{cul_txt}{ack}
<div class=grid><div>{_table_html(_wide(out_dir, rec['table_id']), involved, culprit)}</div>
<div>{img}<p class=small>Page {rec['cells'][0]['page'] if rec['cells'] else '?'}:
culprit boxed red, other cells of the check orange.</p></div></div></section>"""


def render_audit_html(doc: dict, tables: dict, out_dir: Path, crops: dict) -> str:
    s = doc["summary"]
    rows = []
    for table_id, t in s["tables"].items():
        meta = tables.get("tables", {}).get(table_id, {})
        status = ("ok", "clean") if not t["findings"] and not t["schema_failures"] else \
            ("warn", f"{t['findings']} finding(s)")
        note = f"<div class=small>Not additive by design: {esc(t['not_additive'])}</div>" \
            if t.get("not_additive") else ""
        rows.append(f"<tr><td><b>{esc(table_id)}</b> {esc(meta.get('title', ''))}{note}</td>"
                    f"<td>p{esc(meta.get('page', ''))}</td><td>{t['checks']}</td>"
                    f"<td>{t['passed']}</td><td class={status[0]}>{status[1]}</td></tr>")
    schema = "".join(f"<li>{esc(f['table_id'])}: {esc(f['check'])} on {esc(f['column'])}: "
                     f"{esc(f['failure'])}</li>" for f in doc["schema_failures"])
    findings = "".join(_finding_html(r, out_dir, crops) for r in doc["findings"]) or \
        "<p class=ok>No findings: every check holds within the printed precision.</p>"
    verdict = "ok" if s["unacknowledged"] == 0 else "warn"
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<title>statlift audit · {esc(s['report_id'])}</title><style>{CSS}</style></head><body>
<header><h1>Transcription audit · {esc(s['report_id'])}</h1>
<p>source sha256 {esc(s['source_sha256'])}</p></header><main>
<div class=cards><div class=card><b>{s['checks']}</b>checks run</div>
<div class=card><b class=ok>{s['passed']}</b>passed</div>
<div class=card><b class=warn>{s['findings']}</b>findings</div>
<div class=card><b class={verdict}>{s['unacknowledged']}</b>not acknowledged</div></div>
<h2>Tables</h2><table class=summary><tr><th>table</th><th>page</th><th>checks</th>
<th>passed</th><th>status</th></tr>{''.join(rows)}</table>
{f'<h2>Schema failures</h2><ul>{schema}</ul>' if schema else ''}
<h2>Findings</h2>
<p class=small><b>source inconsistency</b>: both engines and the page's text layer read the
printed value and the publication's own arithmetic does not hold (reported, never fixed).
<b>extraction suspect</b>: our readers disagree or a value was not confirmed.</p>
{findings}</main></body></html>"""
