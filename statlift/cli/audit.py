"""`statlift audit [--report ID] [--strict]`: re-run the checks on the published cells.

Exit 0: clean (only acknowledged findings); 1: findings beyond the acknowledged ones (always
with --strict; without it they are printed and the exit is 0 unless a finding is an extraction
suspect); 2: unusable input (nothing published yet, unreadable files).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from statlift.errors import StatliftError


def summary_text(summary: dict, findings: list[dict]) -> str:
    lines = [f"{summary['report_id']}: {summary['checks']} checks, {summary['passed']} passed, "
             f"{summary['findings']} findings ({summary['unacknowledged']} not acknowledged)"]
    for table_id, t in summary["tables"].items():
        mark = "ok " if not t["findings"] and not t.get("schema_failures") else "!! "
        lines.append(f"  {mark}{table_id:<22} {t['passed']:>4}/{t['checks']:<4} checks"
                     + (f"  {t['findings']} finding(s)" if t["findings"] else ""))
    for f in findings:
        tag = "ack" if f["acknowledged"] else f["severity"]
        lines.append(f"  [{tag}] {f['id']} {f['class']}: {f['message']}")
    return "\n".join(lines)


def audit_published(processed: Path, report_id: str) -> tuple[dict, list[dict]]:
    from statlift.schemas.specs import spec_for
    from statlift.validate.audit import run_audit

    folder = processed / report_id
    if not (folder / "tables.json").exists() or not (folder / "cells.csv").exists():
        raise StatliftError("not-published", source=str(folder),
                            expected="a published dataset (tables.json, cells.csv)",
                            found="nothing published", hint="run `statlift run` first")
    tables = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
    cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
    summary = run_audit(spec_for(report_id), cells, tables, tables["source_path"], folder)
    doc = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    return summary, doc["findings"]


def cmd_audit(args) -> int:
    from statlift.schemas.specs import load_catalog

    catalog = load_catalog()
    ids = args.reports or [r.report_id for r in catalog.reports]
    worst = 0
    for rid in ids:
        try:
            catalog.get(rid)
            summary, findings = audit_published(Path(args.out), rid)
        except (StatliftError, KeyError) as exc:
            print(f"statlift audit: {exc}", file=sys.stderr)
            worst = max(worst, 2)
            continue
        print(summary_text(summary, findings))
        new = [f for f in findings if not f["acknowledged"]]
        suspects = [f for f in new if f["class"] == "extraction suspect"]
        if (args.strict and (new or summary["schema_failures"])) or suspects:
            worst = max(worst, 1)
    return worst


def register(sub, common) -> None:
    p = sub.add_parser("audit", parents=[common], help="re-run the checks on published data")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 on any finding not acknowledged in the spec")
    p.set_defaults(func=cmd_audit)
