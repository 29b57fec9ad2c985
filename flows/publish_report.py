"""From table outcomes to a published report folder: stage, write, publish atomically."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from flows import assemble, publish

log = logging.getLogger(__name__)


def publish_outcomes(processed_dir: Path, report_id: str, sha: str, source_path: str,
                     outcomes) -> "ReportResult":
    from flows.run import ReportResult

    extracted = [o.extracted for o in outcomes if o.extracted is not None]
    failures = {o.table_id: o.error for o in outcomes if o.error}
    published = processed_dir / report_id
    has_previous = (published / "tables.json").exists()
    staging = publish.stage_dir(processed_dir, report_id)
    try:
        assemble.write_report(staging, report_id, sha, source_path, extracted, failures)
        from flows.finish import finish_report
        finish_report(staging, processed_dir, report_id)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if failures and has_previous:
        kept = publish.keep_rejected(staging, processed_dir, report_id)
        return ReportResult(report_id, "failed",
                            f"{len(failures)} table(s) failed ({', '.join(failures)}); the "
                            f"published dataset is unchanged; this run's output is in {kept}",
                            len(extracted), failures)
    result = publish.publish(staging, processed_dir, report_id)
    status = "partial" if failures else "published"
    msg = f"{len(extracted)} tables published to {published}"
    if failures:
        msg += f"; {len(failures)} failed: {', '.join(failures)}"
    return ReportResult(report_id, status, msg, len(extracted), failures)
