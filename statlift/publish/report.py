"""From table outcomes to a published report folder: stage, write, audit, diff, publish.

The published folder changes only when the whole run succeeded (and, with strict, validated);
otherwise it stays byte-identical and this run's output is kept under `_rejected/` to inspect.
"""
from __future__ import annotations

import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path

from statlift.outputs import report_files as assemble
from statlift.publish import store as publish
from statlift.publish.uptodate import write_build_key
from statlift.outputs.finish import finish_report

log = logging.getLogger(__name__)


def keep_rejected(staging: Path, processed_dir: Path, report_id: str) -> Path:
    """Move a staged run that must not be published to processed/_rejected/<id>-<utc time>."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest = processed_dir / "_rejected" / f"{report_id}-{stamp}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging), str(dest))
    return dest


def _same_source(published: Path, sha: str) -> bool:
    import json
    path = published / "tables.json"
    if not path.exists():
        return False
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc.get("source_sha256") == sha and not doc.get("failed")


def _same_cells(old, new) -> bool:
    """The published cells equal the new ones (compared as the CSV text users read)."""
    import io
    buf = io.StringIO()
    new.to_csv(buf, index=False, lineterminator="\n")
    buf.seek(0)
    import pandas as pd
    fresh = pd.read_csv(buf, dtype=str, keep_default_na=False)
    return fresh.equals(old)


def publish_outcomes(processed_dir: Path, report_id: str, sha: str, source_path: str,
                     outcomes, strict: bool = False):
    from statlift.flows.run import ReportResult

    extracted = [o.extracted for o in outcomes if o.extracted is not None]
    failures = {o.table_id: o.error for o in outcomes if o.error}
    published = processed_dir / report_id
    has_previous = (published / "tables.json").exists()
    old_cells = assemble.read_cells(published) if has_previous else None
    if old_cells is not None and not failures and _same_source(published, sha) and \
            _same_cells(old_cells, assemble.cells_frame(extracted)):
        write_build_key(published, report_id, sha)  # same cells from this code: up to date
        return ReportResult(report_id, "unchanged", "same source, same cells; nothing published",
                            len(extracted), failures, None, 0)
    staging = publish.stage_dir(processed_dir, report_id)
    try:
        assemble.write_report(staging, report_id, sha, source_path, extracted, failures)
        audit = finish_report(staging, processed_dir, report_id)
        changes, relabels = _write_changes(staging, old_cells, published, sha)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    reasons = []
    if failures:
        reasons.append(f"{len(failures)} table(s) failed: " + "; ".join(
            e["message"] for e in failures.values()))
    if strict and audit["unacknowledged"]:
        reasons.append(f"strict: {audit['unacknowledged']} audit finding(s) not acknowledged")
    if reasons and has_previous:
        kept = keep_rejected(staging, processed_dir, report_id)
        return ReportResult(report_id, "failed", " / ".join(reasons) +
                            f"; the published dataset is unchanged; this run is in {kept}",
                            len(extracted), failures, audit, changes)
    if strict and audit["unacknowledged"]:
        kept = keep_rejected(staging, processed_dir, report_id)
        return ReportResult(report_id, "failed", " / ".join(reasons) + f"; kept in {kept}",
                            len(extracted), failures, audit, changes)
    if not failures:  # build.json: the key of a complete build (publish/uptodate.py)
        write_build_key(staging, report_id, sha)
    publish.publish(staging, processed_dir, report_id)
    status = "partial" if failures else ("updated" if has_previous else "published")
    msg = f"{len(extracted)} tables published to {published}"
    if has_previous:
        msg = f"updated: {changes} cells changed, {relabels} labels renamed; " + msg
    if failures:
        msg += "; " + reasons[0]
    msg += f"; audit: {audit['checks']} checks, {audit['findings']} findings " \
           f"({audit['unacknowledged']} not acknowledged)"
    return ReportResult(report_id, status, msg, len(extracted), failures, audit, changes)


def _write_changes(staging: Path, old_cells, published: Path, sha: str) -> tuple[int, int]:
    """changes.csv / CHANGES.md against the published version (carried over and extended)."""
    if old_cells is None:
        return 0, 0
    from statlift.publish.diff import diff_tables, write_changes
    new_cells = assemble.read_cells(staging)
    diff = diff_tables(old_cells, new_cells)
    old_md = published / "CHANGES.md"
    if old_md.exists():
        shutil.copy2(old_md, staging / "CHANGES.md")
    old_sha = old_cells["source_sha256"].iloc[0] if len(old_cells) else ""
    if len(diff):
        write_changes(diff, staging, old_sha, sha, datetime.now(timezone.utc))
    # relabels are counted apart, once per label: a renamed row is not "N cells changed"
    renamed = diff[diff["kind"] == "relabelled"]
    labels = len(renamed.drop_duplicates(["table_id", "old", "new"])) if len(renamed) else 0
    return int((diff["kind"] != "relabelled").sum()), labels
