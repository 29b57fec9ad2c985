"""The scheduled job: fetch every source (conditional requests), then re-extract what changed.

`statlift serve` serves this flow as a deployment with a cron schedule (weekly by default).
Unchanged sources cost almost nothing: a report whose build key (PDF sha256, spec fingerprint,
code fingerprint; publish/uptodate.py) equals the published one is not run, and the extraction
tasks are cached on the same key. The raw store, home and catalog come in as parameters from the
command line's Settings.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.states import State

from statlift.acquire.fetch import fetch_source
from statlift.errors import StatliftError
from statlift.flows.run import (
    DEFAULT_CATALOG,
    DEFAULT_HOME_DIR,
    ReportResult,
    final_state,
    make_task_runner,
    result_line,
    run_catalog,
    state_results,
)
from statlift.schemas.specs import load_catalog


@task(name="fetch-source", retries=0)
def fetch_task(report_id: str, url: str, raw_dir: str) -> dict:
    try:
        result = fetch_source(report_id, url, Path(raw_dir))
    except StatliftError as exc:
        return {"report_id": report_id, "ok": False, "error": str(exc), "code": exc.code}
    return {"report_id": report_id, "ok": True, "changed": bool(getattr(result, "changed", True)),
            "sha256": getattr(result, "sha256", None)}


@flow(name="statlift-update")
def update_catalog(report_ids: list[str] | None = None, out_dir: str = "processed",
                   strict: bool = True, fetch: bool = True, runner: str = "auto",
                   workers: int | None = None, address: str | None = None,
                   raw_dir: str | None = None, home: str = DEFAULT_HOME_DIR,
                   catalog: str = DEFAULT_CATALOG) -> State:
    """Fetch (when the catalog has URLs), then run the reports whose fetch succeeded.

    A failed fetch leaves raw/ as it was and fails that report (docs/exit-codes.md: exit 2, or 4
    when other reports were published): running on the current raw file instead would report a
    moved or broken URL as "unchanged" and a scheduler would never hear of it."""
    logger = get_run_logger()
    cat = load_catalog(catalog)
    raw = raw_dir or str(Path(home) / "raw")
    ids = report_ids or [r.report_id for r in cat.reports]
    failed: dict[str, ReportResult] = {}
    if fetch:
        for rid in ids:
            entry = cat.get(rid)
            if not entry.pdf_url:
                continue
            res = fetch_task(rid, entry.pdf_url, raw)
            if res["ok"]:
                logger.info("%s: fetched (%s)", rid, "new version" if res["changed"] else
                            "unchanged")
            else:
                failed[rid] = ReportResult(rid, "failed",
                                           f"fetch failed, nothing published: {res['error']}")
                logger.error("%s", result_line(failed[rid]))
    to_run = [rid for rid in ids if rid not in failed]
    # run_catalog(report_ids=[]) would run the whole catalog: call it only with reports to run
    ran: dict[str, ReportResult] = {}
    if to_run:
        state = run_catalog.with_options(
            task_runner=make_task_runner(runner, workers, address))(
            report_ids=to_run, out_dir=out_dir, strict=strict, raw_dir=raw, home=home,
            catalog=catalog, return_state=True)
        ran = {r.report_id: r for r in state_results(state)}
    return final_state([failed.get(rid) or ran[rid] for rid in ids])
