"""From table outcomes to a published report folder: stage, write, audit, diff, publish.

One route, from memory: the report's tables are written into a staging folder once (wide CSVs,
cells, tables.json), the Parquet files, the audit and the data package are made from the same
objects, the change log compares them with the previously published version, and the folder is
published atomically. Nothing reads back what this run has just written.

A table that failed (its outcome holds a named error) is listed under `failed` in tables.json.
When the report has no published version yet, its other tables are published ("partial"); when
it has one, that version stays byte-identical and this run's output is kept under `_rejected/`
to inspect ("failed"), so a bad copy never replaces good tables. A report none of whose tables
could be read publishes nothing ("failed"). With strict, unacknowledged audit findings reject
the run too. docs/contract.md says the same.

Writers never see a table with two columns or rows of one path (they would crash or silently
overwrite): `guard_outcome` turns such a table into a named `duplicate-paths` failure first.
"""
from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from statlift.errors import StatliftError
from statlift.model import ReportResult, TableOutcome, TablesDocument, text_frame
from statlift.outputs import report_files as assemble
from statlift.outputs.finish import finish_report
from statlift.outputs.processed import ReportText
from statlift.outputs.templates import counted
from statlift.publish import store as publish
from statlift.publish.diff import change_summary, diff_table_text, diff_tables, write_changes
from statlift.publish.uptodate import write_build_key

log = logging.getLogger(__name__)


def keep_rejected(staging: Path, processed_dir: Path, report_id: str) -> Path:
    """Move a staged run that must not be published to processed/_rejected/<id>-<utc time>."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = processed_dir / "_rejected" / f"{report_id}-{stamp}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging), str(dest))
    return dest


def _same_source(published: Path, sha: str) -> bool:
    path = published / "tables.json"
    if not path.exists():
        return False
    doc = TablesDocument.from_json(json.loads(path.read_text(encoding="utf-8")))
    return doc.source_sha256 == sha and not doc.failed


def _read_json(path: Path) -> dict | None:
    """A published JSON file, or None when it is missing or unreadable (the diff of the tables'
    texts then has nothing to compare with; the cells are still compared)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _same_cells(old: pd.DataFrame, new_text: pd.DataFrame) -> bool:
    """The published cells equal the new ones (compared as the CSV text users read)."""
    return new_text.equals(old)


def _duplicate(labels: Iterable[Hashable]) -> Hashable | None:
    """The first label that occurs twice, else None."""
    seen: set[Hashable] = set()
    for x in labels:
        if x in seen:
            return x
        seen.add(x)
    return None


def guard_outcome(report_id: str, outcome: TableOutcome) -> TableOutcome:
    """The outcome, or a `duplicate-paths` failure when its table has two columns, two rows or
    two cells with one path (the extractor raises this already; the writers must never see it,
    whoever made the outcome)."""
    t = outcome.table
    if t is None:
        return outcome
    dup = (_duplicate(t.meta.columns) or _duplicate(t.meta.rows)
           or _duplicate((c.row_path, c.column_path) for c in t.cells))
    if dup is None:
        return outcome
    what = " x ".join(dup) if isinstance(dup, tuple) else dup
    err = StatliftError("duplicate-paths", source=report_id, table=outcome.table_id,
                        page=t.meta.page, found=f"two or more with the path {what!r}",
                        hint="not published: the reader merged or dropped header or row levels")
    return TableOutcome(outcome.table_id, error={
        "code": err.code, "message": str(err), "table": err.table, "expected": err.expected,
        "found": err.found}, seconds=outcome.seconds)


@dataclass
class Staged:
    """A report written into its staging folder and audited, not yet published: what
    stage_outcomes computes from the outcomes before commit_staged decides. `unchanged`: the
    published cells are these already (nothing staged)."""

    report_id: str
    sha: str
    tables: int
    failures: dict[str, dict]
    has_previous: bool
    staging: Path | None = None
    audit: dict | None = None
    changes: int = 0
    change_words: str = ""
    unchanged: bool = False
    # the content written into the staging folder (its CSVs as text, tables.json), for the
    # report's DuckDB/site part made right after its publish (incremental.prepare_report)
    text: ReportText | None = field(default=None, repr=False, compare=False)

    def discard(self) -> None:
        """Remove the staging folder (a staged report that will not be committed)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None


def publish_outcomes(processed_dir: Path, report_id: str, sha: str, source_path: str,
                     outcomes: list[TableOutcome], strict: bool = False) -> ReportResult:
    """Stage, audit and (unless the run must be rejected) publish a report's outcomes."""
    staged = stage_outcomes(processed_dir, report_id, sha, source_path, outcomes)
    if isinstance(staged, ReportResult):
        return staged
    return commit_staged(processed_dir, staged, strict)


def stage_outcomes(processed_dir: Path, report_id: str, sha: str, source_path: str,
                   outcomes: list[TableOutcome]) -> Staged | ReportResult:
    """Everything before the decision, with no effect on the published report: its files are
    written into a fresh staging folder and audited, the changes against the published version
    counted. A ReportResult when nothing can be published (every table failed)."""
    outcomes = [guard_outcome(report_id, o) for o in outcomes]
    tables = [o.table for o in outcomes if o.table is not None]
    failures = {o.table_id: o.error for o in outcomes if o.error}
    if failures and not tables:  # nothing readable: nothing to publish or audit
        return ReportResult(report_id, "failed", f"all {len(failures)} table(s) failed: " +
                            "; ".join(e["message"] for e in failures.values()) +
                            "; nothing was published", 0, failures)
    published = processed_dir / report_id
    has_previous = (published / "tables.json").exists()
    old_cells = assemble.read_cells(published) if has_previous else None
    cells = assemble.cells_frame(tables)
    cells_text = text_frame(cells)
    staged = Staged(report_id, sha, len(tables), failures, has_previous)
    if old_cells is not None and not failures and _same_source(published, sha) and \
            _same_cells(old_cells, cells_text):
        staged.unchanged = True
        return staged
    staged.staging = publish.stage_dir(processed_dir, report_id)
    try:
        doc = assemble.tables_document(report_id, sha, source_path, tables, failures)
        content = assemble.write_report(staged.staging, tables, cells, doc)
        report = ReportText(content, cells_text,
                            {t.table_id: text_frame(t.to_frame()) for t in tables})
        staged.audit = finish_report(staged.staging, report_id, report)
        staged.text = report
        staged.changes, staged.change_words = _write_changes(staged.staging, old_cells,
                                                             cells_text, published, sha,
                                                             content)
    except Exception:
        staged.discard()
        raise
    return staged


def commit_staged(processed_dir: Path, staged: Staged, strict: bool = False) -> ReportResult:
    """Publish a staged report atomically, or keep it under _rejected/ and leave the published
    version as it is (a failed table over a published version; strict with unacknowledged
    findings)."""
    report_id, sha, failures = staged.report_id, staged.sha, staged.failures
    published = processed_dir / report_id
    if staged.unchanged:
        write_build_key(published, report_id, sha)  # same cells from this code: up to date
        return ReportResult(report_id, "unchanged", "same source, same cells; nothing published",
                            staged.tables, failures, None, 0)
    staging, audit, changes, has_previous = (staged.staging, staged.audit, staged.changes,
                                             staged.has_previous)
    assert staging is not None and audit is not None
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
                            staged.tables, failures, audit, changes)
    if strict and audit["unacknowledged"]:
        kept = keep_rejected(staging, processed_dir, report_id)
        return ReportResult(report_id, "failed", " / ".join(reasons) + f"; kept in {kept}",
                            staged.tables, failures, audit, changes)
    if not failures:  # build.json: the key of a complete build (publish/uptodate.py)
        write_build_key(staging, report_id, sha)
    publish.publish(staging, processed_dir, report_id)
    staged.staging = None  # used up
    status = "partial" if failures else ("updated" if has_previous else "published")
    msg = f"{staged.tables} tables published to {published}"
    if has_previous:
        msg = f"updated: {staged.change_words}; " + msg
    if failures:
        msg += "; " + reasons[0]
    msg += f"; audit: {counted(audit['checks'], 'check')}, " \
           f"{counted(audit['findings'], 'finding')} ({audit['unacknowledged']} not acknowledged)"
    return ReportResult(report_id, status, msg, staged.tables, failures, audit, changes)


def _write_changes(staging: Path, old_cells: pd.DataFrame | None, new_cells: pd.DataFrame,
                   published: Path, sha: str, doc: dict | None = None) -> tuple[int, str]:
    """changes.csv / CHANGES.md against the published version (carried over and extended);
    `new_cells`: this run's cells as text, as in cells.csv; `doc`: this run's tables.json,
    whose tables' texts are compared with the published one's (diff.diff_table_text). Returns
    the cells changed and the words for the summary line (diff.change_summary)."""
    if old_cells is None:
        return 0, ""
    diff = diff_tables(old_cells, new_cells)
    if doc is not None:
        texts = diff_table_text(_read_json(published / "tables.json"), doc)
        if len(texts):
            diff = pd.concat([diff, texts], ignore_index=True) if len(diff) else texts
    old_md = published / "CHANGES.md"
    if old_md.exists():
        shutil.copy2(old_md, staging / "CHANGES.md")
    old_sha = old_cells["source_sha256"].iloc[0] if len(old_cells) else ""
    if len(diff):
        write_changes(diff, staging, old_sha, sha, datetime.now(UTC))
    # relabels are counted apart, once per label: a renamed row is not "N cells changed"
    return change_summary(diff)
