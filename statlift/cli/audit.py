"""`statlift audit [--report ID] [--strict] [--republish]`: re-run the checks on the published
cells.

Read-only by default: the checks run in memory on the published cells.csv and tables.json and
the result is printed; nothing is written. `--republish` writes a fresh audit (audit.json,
audit.html, crops/) and publishes it the way `statlift run` does: the published folder is copied
into a staging folder, the new audit is written there and the staging folder is swapped in
atomically by publish/store.py (a new version is added).

Exit 0: clean (only acknowledged findings); 1: findings beyond the acknowledged ones (always
with --strict; without it they are printed and the exit is 0 unless a finding is an extraction
suspect); 2: unusable input (nothing published yet, unreadable files).
"""
from __future__ import annotations

import contextlib
import json
import shutil
import sys
from pathlib import Path

from statlift.errors import StatliftError
from statlift.publish.runlock import output_lock
from statlift.schemas.specs import Catalog, ReportSpec, load_catalog, spec_for

# what a republish writes anew; the rest of the published folder is carried over as it is
AUDIT_OUTPUTS = ("audit.json", "audit.html", "crops")
VERSION_ENTRIES = ("versions", "versions.json")


def summary_text(summary: dict, findings: list[dict]) -> str:
    from statlift.outputs.templates import counted

    lines = [(f"{summary['report_id']}: {counted(summary['checks'], 'check')}, "
              f"{summary['passed']} passed, {counted(summary['findings'], 'finding')} "
              f"({summary['unacknowledged']} not acknowledged)")]
    for table_id, t in summary["tables"].items():
        mark = "ok " if not t["findings"] and not t.get("schema_failures") else "!! "
        lines.append(f"  {mark}{table_id:<22} {t['passed']:>4}/{t['checks']:<4} checks"
                     + (f"  {counted(t['findings'], 'finding')}" if t["findings"] else "")
                     + (f"  {counted(t['schema_failures'], 'schema failure')}"
                        if t.get("schema_failures") else ""))
    claims = summary.get("claims") or {}
    if summary.get("claims_not_checked"):
        lines.append(f"  claims of the text: not checked ({summary['claims_not_checked']})")
    elif claims:
        lines.append("  claims of the text: " + ", ".join(f"{n} {v}" for v, n in claims.items()))
    for f in findings:
        tag = "ack" if f["acknowledged"] else f["severity"]
        lines.append(f"  [{tag}] {f['id']} {f['class']}: {f['message']}")
    return "\n".join(lines)


def read_published(folder: Path):
    """tables.json and cells.csv (as text) of a published report."""
    import pandas as pd

    if not (folder / "tables.json").exists() or not (folder / "cells.csv").exists():
        raise StatliftError("not-published", source=str(folder),
                            expected="a published dataset (tables.json, cells.csv)",
                            found="nothing published", hint="run `statlift run` first")
    tables = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
    cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
    return tables, cells


def check_in_memory(spec: ReportSpec, cells, tables: dict) -> tuple[dict, list[dict]]:
    """The audit's summary and findings, as run_audit writes them into audit.json, computed
    without writing anything (no audit files, no crops): validate/audit.py's audit_report."""
    from statlift.validate.audit import audit_report

    doc = audit_report(spec, cells, tables).to_json()
    return doc["summary"], doc["findings"]


def audit_published(processed: Path, report_id: str,
                    catalog: Catalog | None = None) -> tuple[dict, list[dict]]:
    """Re-run the checks on a published report; writes nothing."""
    tables, cells = read_published(processed / report_id)
    return check_in_memory(spec_for(report_id, catalog), cells, tables)


def republish_audit(processed: Path, report_id: str,
                    catalog: Catalog | None = None) -> tuple[dict, list[dict]]:
    """Write a fresh audit into a staged copy of the published folder and publish it atomically
    (publish/store.py: a new version; on any error the published folder is unchanged)."""
    from statlift.outputs.processed import ReportText
    from statlift.publish import store
    from statlift.validate.audit import run_audit

    folder = processed / report_id
    tables, _ = read_published(folder)
    report = ReportText.read(folder, tables)  # the published report is this command's input
    staging = store.stage_dir(processed, report_id)
    try:
        for entry in sorted(folder.iterdir()):
            if entry.name in AUDIT_OUTPUTS + VERSION_ENTRIES:
                continue
            if entry.is_dir():
                shutil.copytree(entry, staging / entry.name)
            else:
                shutil.copy2(entry, staging / entry.name)
        summary = run_audit(spec_for(report_id, catalog), report, staging,
                            tables["source_path"])
        doc = json.loads((staging / "audit.json").read_text(encoding="utf-8"))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    store.publish(staging, processed, report_id)
    return summary, doc["findings"]


def cmd_audit(args) -> int:
    catalog = load_catalog(args.settings.catalog)
    ids = args.reports or [r.report_id for r in catalog.reports]
    check = republish_audit if args.republish else audit_published
    # --republish publishes into the output folder: one writer at a time (publish/runlock.py)
    with output_lock(Path(args.out), create=False) if args.republish else \
            contextlib.nullcontext():
        return _audit_each(args, ids, check, catalog)


def _audit_each(args, ids: list[str], check, catalog) -> int:
    worst = 0
    for rid in ids:
        try:
            catalog.get(rid)
            summary, findings = check(Path(args.out), rid, catalog)
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
    p = sub.add_parser("audit", parents=[common],
                       help="re-run the checks on published data (read-only)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 on any finding not acknowledged in the spec")
    p.add_argument("--republish", action="store_true",
                   help="write the new audit files and publish them atomically (a new version)")
    p.set_defaults(func=cmd_audit)
