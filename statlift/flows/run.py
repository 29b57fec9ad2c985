"""The Prefect flow: one flow run per `statlift run`, one task per report, inside it one cached
task per table, then the report's audit and atomic publish.

A report is the unit of work a worker takes: its PDF is opened and its pages parsed once, in the
worker that extracts and publishes it, and only a small ReportResult goes back (a task per table
on a process pool shipped every table's frames between processes and published them one after
the other in the flow: measured slower than one thread). The per-table tasks keep the cache on
(raw sha256, table spec, statlift version), so a changed spec re-extracts only its table.

Tasks are one call each into plain code (extractors/, flows/assemble.py, flows/publish.py).
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.context import TaskRunContext

from statlift.acquire.hashing import sha256_file
from statlift.errors import StatliftError
from statlift.extractors.pdfdoc import Document
from statlift.extractors.table import extract_table
from statlift.model import ReportResult, TableOutcome
from statlift.outputs.finish import build_downstream
from statlift.publish.report import publish_outcomes
from statlift.publish.uptodate import UP_TO_DATE, build_key, table_cache_key, up_to_date
from statlift.schemas.specs import (
    ReportEntry,
    ReportSpec,
    load_catalog,
    spec_for,
    spec_sha256,
    table_fingerprint,
)

_DOCS: dict[tuple[str, str, str], Document] = {}
_DOCS_LOCK = threading.Lock()


def shared_document(report_id: str, path: str, sha: str) -> Document:
    """The report's PDF, opened once in this process and shared by its table tasks; the report
    task closes it (release_document) when its tables are read, so memory stays flat. Keyed by
    report too: two reports of one file (catalog copies) never close each other's."""
    with _DOCS_LOCK:
        key = (report_id, path, sha)
        if key not in _DOCS:
            _DOCS[key] = Document.open(path)
        return _DOCS[key]


def release_document(report_id: str, path: str, sha: str) -> None:
    with _DOCS_LOCK:
        doc = _DOCS.pop((report_id, path, sha), None)
    if doc is not None:
        with doc.lock:
            doc.close()


def _table_cache_key(context: TaskRunContext, params: dict) -> str:
    # the build key (publish/uptodate.py) with the table's spec: raw sha256, the table's spec, the
    # code fingerprint of the extraction and output code; nothing else changes a table
    return table_cache_key(params["sha"], params["table_id"], params["fingerprint"])


@task(name="extract-table", cache_key_fn=_table_cache_key, persist_result=True,
      task_run_name="{report_id}/{table_id}")
def extract_table_task(report_id: str, pdf_path: str, sha: str, table_id: str,
                       fingerprint: str) -> TableOutcome:
    started = time.perf_counter()
    report = spec_for(report_id)
    spec = report.table(table_id)
    doc = shared_document(report_id, pdf_path, sha)
    try:
        with doc.lock:  # pdfminer is not thread-safe on one open file
            table = extract_table(doc, report, spec)
    except StatliftError as exc:
        return TableOutcome(table_id, error=_error_dict(exc),
                            seconds=time.perf_counter() - started)
    return TableOutcome(table_id, table, seconds=time.perf_counter() - started)


def _error_dict(exc: StatliftError) -> dict:
    return {"code": exc.code, "message": str(exc), "table": getattr(exc, "table", None),
            "expected": exc.expected, "found": exc.found}


def resolve_source(entry: ReportEntry, sources: dict[str, str]) -> Path:
    """The PDF to read: `--source ID=PATH`, else the manifest's current raw file."""
    if entry.report_id in sources:
        return Path(sources[entry.report_id]).resolve()
    from statlift.acquire.rawstore import current_raw_path, raw_dir
    return current_raw_path(raw_dir(), entry)


@task(name="report", task_run_name="{report_id}")
def report_task(report_id: str, pdf_path: str, sha: str, out_dir: str,
                strict: bool = False) -> ReportResult:
    """Every table of one report (each a cached task), then its audit and atomic publish."""
    logger = get_run_logger()
    report = spec_for(report_id)
    try:
        outcomes = [extract_table_task(report_id, pdf_path, sha, t.table_id,
                                       table_fingerprint(report, t)) for t in report.tables]
    finally:
        release_document(report_id, pdf_path, sha)
    for o in outcomes:
        (logger.error if o.error else logger.info)("%s", _info_line(report_id, o))
    try:
        result = publish_outcomes(Path(out_dir), report_id, sha, pdf_path, outcomes, strict)
    finally:
        del outcomes
        release_memory()
    logger.info("%s: %s", report_id, state_line(result))
    return result


def release_memory() -> None:
    """Hand a finished report's memory back to the system: a worker process that reads report
    after report otherwise keeps every freed page of the C heap (glibc's malloc_trim; elsewhere
    only the garbage collection)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@task(name="build-downstream")
def build_downstream_task(out_dir: str) -> None:
    """DuckDB over every published report, the static site and the data dictionary."""
    build_downstream(Path(out_dir))


def _info_line(report_id: str, o: TableOutcome) -> str:
    if o.error:
        return f"{report_id} {o.table_id} FAILED {o.error['message']}"
    m = o.table.meta
    shape = "x".join(str(v) for v in m.shape)
    return (f"{report_id} {o.table_id} p{m.page} {m.engine} {shape} "
            f"agreement {m.agreement:.0%}" + (f" relabels {len(m.relabels)}"
                                              if m.relabels else ""))


def runner_name(runner: str = "auto", workers: int | None = None,
                reports: int | None = None) -> str:
    """The runner `auto` stands for: a process pool when there are several cores and at least
    three reports to run (a report per worker process: measured 1.2 x faster than threads at
    N = 10 and N = 50 on 2 cores, benchmarks/results/speed.md), else threads (for one or two
    reports the pool's start-up, ~3 s, eats the gain)."""
    if runner == "auto":
        workers = workers or os.cpu_count() or 1
        return "processes" if workers > 1 and (reports is None or reports >= 3) else "threads"
    if runner not in ("threads", "processes", "dask"):
        raise ValueError(f"unknown runner {runner!r}: use auto, threads, processes or dask")
    return runner


def make_task_runner(runner: str = "auto", workers: int | None = None,
                     address: str | None = None, reports: int | None = None):
    """threads, a process pool (a report per worker process) or a Dask cluster through
    prefect-dask (an address, or a local cluster when none is given); `auto`: runner_name()."""
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    workers = workers or os.cpu_count() or 1
    runner = runner_name(runner, workers, reports)
    if runner == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if runner == "processes":
        return ProcessPoolTaskRunner(max_workers=workers)
    from prefect_dask import DaskTaskRunner
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})


@contextmanager
def api_for_workers(runner: str):
    """One Prefect API for the flow and its worker processes.

    Without PREFECT_API_URL, every process that runs a task would start its own temporary API
    server (seen: each process-pool worker and each local Dask worker started one, ~5 s each, on
    the same SQLite database). For `processes` and a local `dask` cluster the flow's temporary
    server is started here and its URL handed to the workers through the environment."""
    if runner not in ("processes", "dask") or os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()  # the one the flow would start; stopped at exit, after
    server.start()                   # Prefect's log and event workers have flushed to it
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)


@flow(name="statlift-run", log_prints=False)
def run_catalog(report_ids: list[str] | None = None, sources: dict[str, str] | None = None,
                out_dir: str = "processed", strict: bool = False) -> list[ReportResult]:
    """Extract every table of the chosen reports and publish each report atomically."""
    logger = get_run_logger()
    catalog = load_catalog()
    sources = sources or {}
    ids = report_ids or [r.report_id for r in catalog.reports]
    results: list[ReportResult] = []
    submitted = []
    for report_id in ids:  # submit every report first: all workers busy
        entry = catalog.get(report_id)
        try:
            pdf = resolve_source(entry, sources)
            from statlift.acquire.rawstore import check_pdf
            check_pdf(pdf, report_id)
        except StatliftError as exc:
            logger.error("%s", exc)
            results.append(ReportResult(report_id, "failed", str(exc)))
            continue
        sha = sha256_file(pdf)
        report: ReportSpec = spec_for(report_id)
        if up_to_date(Path(out_dir) / report_id, build_key(sha, spec_sha256(report))):
            # same source, same spec, same statlift: the published dataset is what a run would
            # make; no task runs (Prefect's per-task cache lookups cost more than this check)
            results.append(ReportResult(report_id, "unchanged", UP_TO_DATE, len(report.tables)))
            continue
        submitted.append(report_task.submit(report_id, str(pdf), sha, out_dir, strict))
    results += [f.result() for f in submitted]
    results.sort(key=lambda r: ids.index(r.report_id))
    if any(r.status in ("published", "updated", "partial") for r in results) or \
            not (Path(out_dir) / "statlift.duckdb").exists():
        build_downstream_task(out_dir)
    create_markdown_artifact(markdown=run_summary_markdown(results, out_dir), key="statlift-run",
                             description="statlift run summary")
    return results


def state_line(r: ReportResult) -> str:
    """'unchanged', 'updated: N cells changed' or 'failed: why' -- what a scheduler reports."""
    if r.status == "unchanged":
        return "unchanged"
    if r.status == "updated":
        return r.message.split(";")[0]
    if r.status in ("failed", "partial"):
        return f"{r.status}: {r.message}"
    return f"published: {r.tables} tables"


def run_summary_markdown(results: list[ReportResult], out_dir: str) -> str:
    lines = ["# statlift run", "", "| report | state | audit |", "| --- | --- | --- |"]
    for r in results:
        audit = "" if not r.audit else (f"{r.audit['checks']} checks, {r.audit['findings']} "
                                        f"findings ({r.audit['unacknowledged']} new)")
        html = Path(out_dir).resolve() / r.report_id / "audit.html"
        link = f" [audit]({html.as_uri()})" if html.exists() else ""
        lines.append(f"| {r.report_id} | {state_line(r)} | {audit}{link} |")
    return "\n".join(lines) + "\n"


def clear_outputs(out_dir: Path) -> None:  # used by tests
    if out_dir.exists():
        shutil.rmtree(out_dir)
