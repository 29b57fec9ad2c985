"""The Prefect flow: one flow run per `statlift run`, one task per report: its tables (each
cached in Prefect's result store), then the report's audit and atomic publish.

A report is the unit of work a worker takes: its PDF is opened and its pages parsed once, in the
worker that extracts and publishes it, and only a small ReportResult goes back (a task per table
on a process pool shipped every table's frames between processes and published them one after
the other in the flow: measured slower than one thread). Each table is cached on its build key
(PDF sha256, the table's spec, the code fingerprint: publish/uptodate.py) in Prefect's result
store, so a changed spec re-extracts only its table; not as a task run per table, which cost
more than reading the table (table_outcomes).

Where things are (raw store, home, catalog) comes in as flow parameters from the command line's
one Settings; nothing here reads statlift's environment.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

# fastapi's encoder and the flow and task engines: what Prefect imports only when a flow run
# starts (Flow.serialize_parameters imports fastapi per run: 0.13 s), imported with this module,
# which the command line imports while Prefect's temporary server boots (issue 15)
import fastapi.encoders  # noqa: F401
import prefect.flow_engine  # noqa: F401
import prefect.task_engine  # noqa: F401
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.results import get_result_store
from prefect.settings import PREFECT_TASKS_REFRESH_CACHE, get_current_settings
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from statlift.acquire.hashing import sha256_file
from statlift.acquire.rawstore import check_pdf, source_path
from statlift.errors import StatliftError
from statlift.extractors.pdfdoc import Document, lent
from statlift.extractors.table import extract_table
from statlift.fileio import write_atomic
from statlift.flows import pool as pools
from statlift.flows.pool import EarlyProcessPool, runner_name
from statlift.model import ReportResult, TableOutcome
from statlift.outputs.finish import build_downstream
from statlift.outputs.incremental import prepare_report
from statlift.outputs.processed import ReportText
from statlift.publish import staging
from statlift.publish.report import Staged, commit_staged, stage_outcomes
from statlift.publish.runlock import output_lock
from statlift.publish.uptodate import UP_TO_DATE, build_key, table_cache_key, up_to_date
from statlift.schemas.specs import (
    Catalog,
    ReportSpec,
    TableSpec,
    load_catalog,
    spec_for,
    spec_sha256,
    table_fingerprint,
)
from statlift.settings import (
    DEFAULT_HOME,
    SCHEMAS_DIR,
    freeze_imports,
    glibc,
    tune_process,
    usable_cpus,
)

# defaults of the flows' parameters, for a caller without Settings (the command line passes its)
DEFAULT_CATALOG = str(SCHEMAS_DIR / "catalog.yaml")
DEFAULT_HOME_DIR = str(DEFAULT_HOME)

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


# Tables read in this process before the flow started (read_ahead), by (report, table, PDF
# sha256, table fingerprint): the report task takes the outcome of the same key from here.
_READ_AHEAD: dict[tuple[str, str, str, str], TableOutcome] = {}


# Reports staged in this process before the flow started (read_ahead with an output folder), by
# (report, PDF sha256, output folder): the outcomes they were staged from and the Staged report.
_STAGED: dict[tuple[str, str, str], tuple[list[TableOutcome], Staged]] = {}


def read_ahead(jobs: list[tuple[ReportSpec, str, str]], stop: Callable[[], bool],
               out_dir: str | None = None) -> int:
    """Read the reports' tables in this process until `stop()` says the orchestrator is ready.

    The command line calls it while Prefect's temporary API server boots (~4 s, longer on a
    busy machine; flows/server.py), for a runner whose tasks run in this process (threads):
    the report tasks then take these outcomes instead of reading the PDF again (table_outcomes),
    and whatever is left is read by them as usual; they still log each table's line and store
    it in Prefect's result store. When every table is read and the server is still
    booting, the reports' other pages are read too (their words, which the audit's running-text
    checks take from the same open Document). Then, with `out_dir`, each report whose tables
    were all read is staged: written into a staging folder beside its published one and
    audited (publish.report.stage_outcomes, nothing published); its report task commits it
    (take_staged) when it ends up with the same outcomes, else discards it and stages anew.
    Returns the number of tables read."""
    read = 0
    ahead: dict[str, list[TableOutcome]] = {}  # each report's outcomes read here
    for report, path, sha in jobs:
        doc = shared_document(report.report_id, path, sha)
        outcomes = ahead.setdefault(report.report_id, [])
        stored = stored_tables(report, sha)
        for spec in report.tables:
            if stop():
                return read
            key = (report.report_id, spec.table_id, sha, table_fingerprint(report, spec))
            if spec.table_id in stored:
                continue  # its task reads it from Prefect's result store (the report is not
                # staged ahead: the task's outcome of it is not the one it would be staged from)
            try:
                _READ_AHEAD[key] = _extract(doc, report, spec)
            except Exception:  # a bug: left for the task, which fails where Prefect sees it
                continue
            outcomes.append(_READ_AHEAD[key])
            read += 1
    for report, path, sha in jobs:  # pure reading, no side effect: the audit would do it
        doc = shared_document(report.report_id, path, sha)
        for number in range(1, doc.page_count + 1):
            if stop():
                return read
            try:
                with doc.lock:
                    doc.page(number)
            except Exception:  # the audit meets it again and reports it where it belongs
                break
    if out_dir is None:
        return read
    for report, path, sha in jobs:
        if stop():
            return read
        if len(ahead[report.report_id]) == len(report.tables):  # every table read
            _stage_ahead(report.report_id, path, sha, out_dir, ahead[report.report_id])
    return read


def _stage_key(report_id: str, sha: str, out_dir: str) -> tuple[str, str, str]:
    return report_id, sha, str(Path(out_dir).resolve())


def _stage_ahead(rid: str, path: str, sha: str, out_dir: str,
                 outcomes: list[TableOutcome]) -> None:
    """Stage report `rid` from its every table's outcome read ahead (read_ahead)."""
    doc = shared_document(rid, path, sha)
    try:
        with doc.lock, lent(doc):
            staged = stage_outcomes(Path(out_dir), rid, sha, path, outcomes)
    except Exception:  # the report task stages it again, where Prefect sees what fails
        return
    if isinstance(staged, Staged):
        _STAGED[_stage_key(rid, sha, out_dir)] = (outcomes, staged)


def take_staged(report_id: str, sha: str, out_dir: str,
                outcomes: list[TableOutcome]) -> Staged | None:
    """The report staged ahead from these very outcomes (the task took every table read ahead,
    none from Prefect's result store), else None; a staged report of other outcomes is
    discarded."""
    entry = _STAGED.pop(_stage_key(report_id, sha, out_dir), None)
    if entry is None:
        return None
    ahead, staged = entry
    if len(ahead) == len(outcomes) and all(a is b for a, b in zip(ahead, outcomes)):
        return staged
    staged.discard()
    return None


def _pop_ahead(report_id: str, sha: str, out_dir: str
               ) -> tuple[dict[tuple[str, str, str, str], TableOutcome],
                          tuple[list[TableOutcome], Staged] | None]:
    """What this process read ahead of the report (its tables' outcomes by key) and staged from
    them, taken out of _READ_AHEAD and _STAGED."""
    tables = {}
    for key in list(_READ_AHEAD):  # a copy made at once: other reports' tasks pop theirs
        if key[0] == report_id and key[2] == sha:
            outcome = _READ_AHEAD.pop(key, None)
            if outcome is not None:
                tables[key] = outcome
    return tables, _STAGED.pop(_stage_key(report_id, sha, out_dir), None)


def _drop_ahead(report_id: str, sha: str, out_dir: str) -> None:
    """Forget what was read ahead of this report and remove its staging folder (the report's
    task ended without taking them: an error on the way)."""
    _, entry = _pop_ahead(report_id, sha, out_dir)
    if entry is not None:
        entry[1].discard()


def staged_count() -> int:
    """Reports staged ahead and not yet taken by their task."""
    return len(_STAGED)


def discard_staged() -> None:
    """Remove every staging folder read_ahead left uncommitted (the flow did not run them)."""
    while _STAGED:
        _, (_, staged) = _STAGED.popitem()
        staged.discard()


# What the pool's worker processes read ahead (read_ahead_in_pool): a file per report in a folder
# of the run (publish/staging.scratch_name), which the report's task takes in whichever worker
# runs it (take_ahead), not always the one that read the report.
AHEAD_POLL = 0.05  # s between the command line's questions to the server while workers read
AHEAD_WAIT = 600.0  # s a task waits at most for another worker still reading its report ahead
# in the command line: each report whose reading ahead a worker had begun when the server was
# ready, and its future (the flow submits those reports last: ahead_order)
_AHEAD_RUNNING: dict[str, Future] = {}


def _ahead_file(folder: Path, report_id: str, what: str = "pickle") -> Path:
    return folder / f"{report_id}.{what}"


def read_ahead_report(report_id: str, path: str, sha: str, out_dir: str, catalog: str,
                      folder: str) -> tuple[int, str | None]:
    """In a pool's worker process, before the report's task: read_ahead of one whole report
    (its tables, its pages, the report staged from them), written into the report's file in
    `folder` for the task (take_ahead), which waits while the report's `.reading` marker says
    this is still under way. Returns (tables read, the staging folder or None)."""
    report = spec_for(report_id, load_catalog(catalog))
    marker = _ahead_file(Path(folder), report_id, "reading")
    marker.touch()
    staged = None
    try:
        read = read_ahead([(report, path, sha)], stop=lambda: False, out_dir=out_dir)
        tables, staged = _pop_ahead(report_id, sha, out_dir)
        owned = staged[1].staging if staged is not None else None
        if owned is not None:  # for staging.discard_scratch
            write_atomic(_ahead_file(Path(folder), report_id, staging.SCRATCH_OWNS), str(owned))
        if tables:  # one pickle: the staged report's outcomes stay the very table outcomes
            write_atomic(_ahead_file(Path(folder), report_id),
                         pickle.dumps((sha, str(Path(out_dir).resolve()), tables, staged)))
    except BaseException:
        if staged is not None:
            staged[1].discard()
        raise
    finally:
        marker.unlink(missing_ok=True)
        release_document(report_id, path, sha)
        release_memory()
    return read, (str(owned) if owned is not None else None)


def take_ahead(report_id: str, sha: str, out_dir: str) -> None:
    """In the report's task: the file a pool's worker read the report ahead into
    (read_ahead_report), if this run's workers have one (pools.READ_AHEAD_FOLDER; waited for
    while another worker still writes it), moved into this process's read-ahead entries
    (_READ_AHEAD, _STAGED) for table_outcomes and take_staged, and removed. Nothing when there
    is none, or it is of another PDF or output folder, or unreadable: the task reads the report
    itself."""
    folder = pools.READ_AHEAD_FOLDER
    if folder is None:
        return
    marker = _ahead_file(Path(folder), report_id, "reading")
    waited = time.monotonic()
    while marker.exists() and time.monotonic() - waited < AHEAD_WAIT:
        time.sleep(0.02)
    path = _ahead_file(Path(folder), report_id)
    taken = path.with_name(f"{path.name}.{os.getpid()}")
    try:
        os.replace(path, taken)  # taken by this task alone
    except OSError:
        return
    try:
        ahead_sha, ahead_out, tables, staged = pickle.loads(taken.read_bytes())
    except Exception:
        return
    finally:
        taken.unlink(missing_ok=True)
        # the staging folder is this task's from here (committed, or discarded below or by
        # _drop_ahead), not the run's to remove at its end
        _ahead_file(Path(folder), report_id, staging.SCRATCH_OWNS).unlink(missing_ok=True)
    if (ahead_sha, ahead_out) != (sha, str(Path(out_dir).resolve())):
        if staged is not None:
            staged[1].discard()
        return
    _READ_AHEAD.update(tables)
    if staged is not None:
        _STAGED[_stage_key(report_id, sha, out_dir)] = staged


def read_ahead_in_pool(pool: EarlyProcessPool, jobs: list[tuple[str, str, str]], out_dir: str,
                       catalog: str, stop: Callable[[], bool]) -> tuple[int, int, int]:
    """The command line's read_ahead for a process pool started early: its workers read the
    reports (`jobs`: report id, PDF, sha256, in the order the flow submits them), a whole report
    each at a time (read_ahead_report), the first report of each whatever `stop()` says, then
    until it says the orchestrator is ready. The reports the workers have begun by then go on
    while the flow starts; the flow submits them last (ahead_order), so that the workers take
    every other report first. Returns (tables read, reports staged) of the reports finished by
    then, and how many the workers go on with."""
    folder = pool.read_ahead
    executor = pool._executor
    assert folder is not None and executor is not None
    pending = list(reversed(jobs))
    running: dict[Future, str] = {}
    read = staged = 0
    while pending or running:
        if len(pending) + pool._max_workers <= len(jobs) and stop():  # a report each first
            break
        while pending and len(running) < pool._max_workers:
            report_id, path, sha = pending.pop()
            running[executor.submit(read_ahead_report, report_id, path, sha, out_dir, catalog,
                                    str(folder))] = report_id
        done, _ = wait(running, timeout=AHEAD_POLL, return_when=FIRST_COMPLETED)
        for future in done:
            del running[future]
            try:
                tables, folder_staged = future.result()
            except Exception:  # a bug: left for the report's task, where Prefect sees it
                continue
            read += tables
            staged += folder_staged is not None
    _AHEAD_RUNNING.clear()
    _AHEAD_RUNNING.update({report_id: future for future, report_id in running.items()})
    return read, staged, len(running)


def ahead_order(jobs: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """`jobs` (report id, PDF) in the order to submit them, the reports a pool's worker is still
    reading ahead (read_ahead_in_pool) last: their tasks then find them read."""
    running = {rid for rid, future in _AHEAD_RUNNING.items() if not future.done()}
    return [j for j in jobs if j[0] not in running] + [j for j in jobs if j[0] in running]


def _extract(doc: Document, report: ReportSpec, spec: TableSpec) -> TableOutcome:
    started = time.perf_counter()
    try:
        with doc.lock:  # pdfminer is not thread-safe on one open file
            table = extract_table(doc, report, spec)
    except StatliftError as exc:
        return TableOutcome(spec.table_id, error=_error_dict(exc),
                            seconds=time.perf_counter() - started)
    return TableOutcome(spec.table_id, table, seconds=time.perf_counter() - started)


def table_outcomes(logger, report: ReportSpec, pdf_path: str, sha: str
                   ) -> list[TableOutcome]:
    """Every table of the report, each from Prefect's result store when this PDF, this table's
    spec and this code read it before (the table's cache key, publish/uptodate.py: a changed
    spec re-extracts only its table), else read now, and stored. A table read_ahead read comes
    before both (it is stored too).

    The tables are read inside the report's task run, not as a task run each: every task run
    costs Prefect's API server and client CPU (~60 ms over the two; a cold run of 10 reports
    spent 15 % less CPU this way, benchmarks/results/speed.md), and Prefect's cache is the same
    result store and key either way. PREFECT_TASKS_REFRESH_CACHE=true reads every table again."""
    # without Prefect's in-memory copy of what it writes: the task's store shares the flow run's
    # cache (up to 1,000 records), which kept every table's frames for the rest of the run in
    # the process that read them (the command line's, with the threads runner), for every full
    # collection (release_memory) to walk again; a later run reads the tables from storage
    store = get_result_store().model_copy(update={"cache_result_in_memory": False})
    refresh = bool(PREFECT_TASKS_REFRESH_CACHE.value())
    report_id = report.report_id
    outcomes = []
    for spec in report.tables:
        fingerprint = table_fingerprint(report, spec)
        key = table_cache_key(sha, spec.table_id, fingerprint, report_id)
        # read ahead: the same PDF, spec and code as the stored one, and the very object the
        # report was staged from (take_staged), so it comes first: taking the stored copy
        # instead discarded the staged report and audited it again in the task
        ahead = _READ_AHEAD.pop((report_id, spec.table_id, sha, fingerprint), None)
        cached = None if ahead is not None or refresh else _cached(logger, store, key)
        outcome = ahead or cached or _extract(shared_document(report_id, pdf_path, sha),
                                              report, spec)
        if cached is None:
            try:
                store.write(obj=outcome, key=key)
            except Exception as exc:  # the run goes on; the next one reads the table again
                logger.warning("%s %s: not stored in Prefect's result store (%s: %s)",
                               report_id, spec.table_id, type(exc).__name__, exc)
        (logger.error if outcome.error else logger.info)(
            "%s", _info_line(report_id, outcome) + (" (cached)" if cached is not None else
                                                    " (read ahead)" if ahead is not None else ""))
        outcomes.append(outcome)
    return outcomes


def stored_tables(report: ReportSpec, sha: str) -> set[str]:
    """The ids of the report's tables that Prefect's local result store holds for this PDF, spec
    and code (what read_ahead leaves to the tasks); none when PREFECT_TASKS_REFRESH_CACHE asks
    for every table to be read again, or the store is not local (_local_results)."""
    folder = None if PREFECT_TASKS_REFRESH_CACHE.value() else _local_results()
    if folder is None:
        return set()
    return {spec.table_id for spec in report.tables if (folder / table_cache_key(
        sha, spec.table_id, table_fingerprint(report, spec), report.report_id)).exists()}


def _local_results() -> Path | None:
    """The folder of Prefect's result store when it is local, as it is unless a storage block
    is configured (PREFECT_RESULTS_LOCAL_STORAGE_PATH; a key's record is the file of that name):
    read_ahead looks there without asking Prefect's server, which is still starting. Whatever
    the store really is (a block set on the server), the answer only decides what is read
    ahead: a table the task does not find stored, it reads."""
    results = get_current_settings().results
    if results.default_storage_block is not None:
        return None
    return Path(results.local_storage_path).expanduser()


def _cached(logger, store, key: str) -> TableOutcome | None:
    """The TableOutcome stored under `key`, or None (none stored, or unreadable: read again)."""
    try:
        if not store.exists(key):
            return None
        outcome = store.read(key).result
    except Exception as exc:
        logger.warning("cached table %s unreadable (%s: %s); read again", key,
                       type(exc).__name__, exc)
        return None
    return outcome if isinstance(outcome, TableOutcome) else None


def _error_dict(exc: StatliftError) -> dict:
    return {"code": exc.code, "message": str(exc), "table": getattr(exc, "table", None),
            "expected": exc.expected, "found": exc.found}


@task(name="report", task_run_name="{report_id}")
def report_task(report_id: str, pdf_path: str, sha: str, out_dir: str,
                strict: bool = False, catalog: str = DEFAULT_CATALOG) -> ReportResult:
    """Every table of one report (each cached in Prefect's result store), then its audit and
    atomic publish; the report's PDF is opened and each page parsed once for all of them."""
    logger = get_run_logger()
    worker_setup()
    cat = load_catalog(catalog)
    report = spec_for(report_id, cat)
    try:
        take_ahead(report_id, sha, out_dir)  # read by a pool's worker before the flow
        outcomes = table_outcomes(logger, report, pdf_path, sha)
        # staged ahead: audited while Prefect's server started, only the decision is left
        staged: Staged | ReportResult | None = take_staged(report_id, sha, out_dir, outcomes)
        if staged is None:  # the audit reads the report's text from the same Document
            with lent(shared_document(report_id, pdf_path, sha)):  # (pages parsed once)
                staged = stage_outcomes(Path(out_dir), report_id, sha, pdf_path, outcomes)
        result = staged if isinstance(staged, ReportResult) else \
            commit_staged(Path(out_dir), staged, strict)
    finally:
        release_document(report_id, pdf_path, sha)
        outcomes = []
        _drop_ahead(report_id, sha, out_dir)  # what an error left untaken
        release_memory()
    (logger.info if result.status in OK_STATUSES else logger.error)(
        "%s", result_line(result))
    if result.status in PREPARED_STATUSES:
        assert isinstance(staged, Staged)
        _prepare_outputs(logger, Path(out_dir), report_id, cat, staged.text)
    return result


# a report whose published files changed: its part of DuckDB, the site and the dictionary is made
# here, in the worker, so that the step after the last report only copies parts in
PREPARED_STATUSES = ("published", "updated", "partial")


def _prepare_outputs(logger, out_dir: Path, report_id: str, cat: Catalog,
                     published: ReportText | None = None) -> None:
    try:
        prepare_report(out_dir, report_id, cat, published=published)
    except Exception as exc:  # the report is published; the build after the last one redoes it
        logger.warning("%s: its outputs part was not prepared in the worker (%s: %s); the "
                       "build after the last report makes it", report_id,
                       type(exc).__name__, exc)


def worker_setup() -> None:
    """In a worker process of the run (a process pool's or Dask's), statlift's collector
    thresholds and malloc setting (settings.tune_process; the `statlift` program sets them for
    its own process) and, at its first report, its imported modules frozen out of the
    collector's way (settings.freeze_imports).
    Threads of the caller's process leave its settings alone."""
    if multiprocessing.parent_process() is not None:
        tune_process()
        freeze_imports()  # once: the worker's modules are imported (this module imports them)


def release_memory() -> None:
    """Hand a finished report's memory back to the system: a worker process that reads report
    after report otherwise keeps every freed page of the C heap (glibc's malloc_trim; elsewhere
    only the garbage collection)."""
    gc.collect()
    lib = glibc()
    if lib is not None:
        lib.malloc_trim(0)


@task(name="build-downstream")
def build_downstream_task(out_dir: str) -> None:
    """DuckDB over every published report, the static site and the data dictionary."""
    build_downstream(Path(out_dir))


def _info_line(report_id: str, o: TableOutcome) -> str:
    if o.error:  # the reason in full: once, in the report's result (result_line(full=True))
        return f"{report_id} {o.table_id} FAILED [{o.error.get('code')}]"
    assert o.table is not None
    m = o.table.meta
    shape = "x".join(str(v) for v in m.shape)
    return (f"{report_id} {o.table_id} p{m.page} {m.engine} {shape} "
            f"agreement {m.agreement:.0%}" + (f" relabels {len(m.relabels)}"
                                              if m.relabels else ""))


def make_task_runner(runner: str = "auto", workers: int | None = None,
                     address: str | None = None, reports: int | None = None):
    """threads, a process pool (a report per worker process) or a Dask cluster through
    prefect-dask (an address, or a local cluster when none is given); `auto`: runner_name().
    Worker processes reach the flow's Prefect API through PREFECT_API_URL, which the command
    line sets when it starts the temporary server (flows/server.py)."""
    workers = workers or usable_cpus()
    runner = runner_name(runner, workers, reports)
    if runner == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if runner == "processes":  # Prefect's process pool; the command line starts it early
        return EarlyProcessPool(max_workers=workers)
    from prefect_dask import DaskTaskRunner  # an optional extra: pip install statlift[dask]
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})


def largest_first(jobs: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """Reports in the order to submit them: the biggest PDF first, so that no worker is left
    with a big report at the end while the other core idles (ties keep the catalog order)."""
    return sorted(jobs, key=lambda j: -j[1].stat().st_size)


OK_STATUSES = ("published", "updated", "unchanged")


@flow(name="statlift-run", log_prints=False)
def run_catalog(report_ids: list[str] | None = None, sources: dict[str, str] | None = None,
                out_dir: str = "processed", strict: bool = False, raw_dir: str | None = None,
                home: str = DEFAULT_HOME_DIR, catalog: str = DEFAULT_CATALOG) -> State:
    """Extract every table of the chosen reports and publish each report atomically.

    The flow run ends Failed (its data: every report's ReportResult, logged once each, no
    traceback) when a report failed or was published partially; Completed otherwise. It holds
    the output folder for its length (publish/runlock.py: the command line that runs it holds it
    already; a run Prefect starts itself, as `statlift serve` does, takes it here); another run
    holding it fails this one with `run-in-progress` before anything is read."""
    with output_lock(Path(out_dir)):
        return _run_reports(report_ids, sources, out_dir, strict, raw_dir, home, catalog)


def _run_reports(report_ids: list[str] | None, sources: dict[str, str] | None, out_dir: str,
                 strict: bool, raw_dir: str | None, home: str, catalog: str) -> State:
    """run_catalog's body, inside its flow run."""
    logger = get_run_logger()
    cat: Catalog = load_catalog(catalog)
    sources = sources or {}
    raw = Path(raw_dir) if raw_dir else Path(home) / "raw"
    ids = report_ids or [r.report_id for r in cat.reports]
    results: list[ReportResult] = []
    jobs: list[tuple[str, Path]] = []
    for report_id in ids:
        entry = cat.get(report_id)
        try:
            pdf = source_path(entry, sources, raw, Path(home))
            check_pdf(pdf, report_id)
        except StatliftError as exc:
            results.append(ReportResult(report_id, "failed", str(exc)))
            logger.error("%s", result_line(results[-1]))
            continue
        jobs.append((report_id, pdf))
    submitted = []
    # submit every report first (all workers busy), the biggest first
    for report_id, pdf in ahead_order(largest_first(jobs)):
        sha = sha256_file(pdf)
        report: ReportSpec = spec_for(report_id, cat)
        if up_to_date(Path(out_dir) / report_id, build_key(sha, spec_sha256(report))):
            # same source, same spec, same code: the published dataset is what a run would
            # make; no task runs (Prefect's per-task cache lookups cost more than this check)
            results.append(ReportResult(report_id, "unchanged", UP_TO_DATE, len(report.tables)))
            continue
        submitted.append(report_task.submit(report_id, str(pdf), sha, out_dir, strict, catalog))
    results += [f.result() for f in submitted]
    results.sort(key=lambda r: ids.index(r.report_id))
    if any(r.status in ("published", "updated", "partial") for r in results) or \
            not (Path(out_dir) / "statlift.duckdb").exists():
        build_downstream_task(out_dir)
    create_markdown_artifact(markdown=run_summary_markdown(results, out_dir), key="statlift-run",
                             description="statlift run summary")
    return final_state(results)


def final_state(results: list[ReportResult]) -> State:
    """Completed when every report is published, updated or unchanged; else Failed, with a
    one-line message (the reasons were logged once per report)."""
    bad = [r for r in results if r.status not in OK_STATUSES]
    if not bad:
        return Completed(data=results)
    return Failed(data=results, message=f"{len(bad)} of {len(results)} report(s) not published "
                                        "as a whole: " + ", ".join(f"{r.report_id} ({r.status})"
                                                                   for r in bad))


def state_results(state: State) -> list[ReportResult]:
    """The ReportResults a run_catalog / update_catalog flow run ended with, Failed or not; the
    exception of a flow run that crashed (a bug, or Prefect's API gone) is raised."""
    data = state.result(raise_on_failure=False)
    if isinstance(data, BaseException):
        raise data
    return list(data)  # type: ignore[arg-type]


def short_message(r: ReportResult) -> str:
    """The message with each failed table's error named by table id and error code only."""
    msg = r.message
    for table_id, err in (r.failures or {}).items():
        if err and err.get("message"):
            msg = msg.replace(err["message"], f"{table_id} [{err.get('code')}]")
    return msg


def result_line(r: ReportResult, full: bool = False) -> str:
    """`report: status: message`, the status said once ('updated: 3 cells changed', not
    'updated: updated: 3 cells changed'). The log gets the short form (failed tables by id and
    error code); the full reasons are printed once, by the command line's summary (`full`) and in
    the run's summary artifact."""
    msg = r.message if full else short_message(r)
    if msg.startswith(f"{r.status}:"):
        return f"{r.report_id}: {msg}"
    return f"{r.report_id}: {r.status}: {msg}"


def run_summary_markdown(results: list[ReportResult], out_dir: str) -> str:
    lines = ["# statlift run", "", "| report | result | audit |", "| --- | --- | --- |"]
    for r in results:
        audit = "" if not r.audit else (f"{r.audit['checks']} checks, {r.audit['findings']} "
                                        f"findings ({r.audit['unacknowledged']} new)")
        html = Path(out_dir).resolve() / r.report_id / "audit.html"
        link = f" [audit]({html.as_uri()})" if html.exists() else ""
        result = result_line(r, full=True).split(": ", 1)[1].replace("|", "/")
        lines.append(f"| {r.report_id} | {result} | {audit}{link} |")
    return "\n".join(lines) + "\n"


def clear_outputs(out_dir: Path) -> None:  # used by tests
    if out_dir.exists():
        shutil.rmtree(out_dir)
