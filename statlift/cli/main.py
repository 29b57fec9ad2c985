"""`statlift` — one command line for people, tests and schedules.

    statlift run [--report ID] [--source ID=PATH] [--out DIR]
    statlift audit [--report ID] [--strict]
    statlift fetch [--report ID]
    statlift serve [--cron EXPR]
    statlift extract-region PDF --page N --bbox x0,top,x1,bottom [--json]
    statlift discover PDF [--spec OUT.yaml]

Exit codes are documented in docs/exit-codes.md. An expected failure prints one clear message,
never a traceback.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from statlift.acquire.hashing import sha256_file
from statlift.acquire.rawstore import check_pdf, source_path
from statlift.cli.common import common_parser, parse_sources
from statlift.errors import EXIT_INPUT, EXIT_OK, EXIT_PARTIAL, StatliftError
from statlift.flows.server import (
    STARTUP_TIMEOUT,
    TIMEOUT_VAR,
    ServerExited,
    TemporaryServer,
    client_environment,
    configured_api_url,
    first_run,
    recorded_server,
    startup_timeout,
)
from statlift.publish import staging
from statlift.publish.runlock import output_lock
from statlift.publish.uptodate import UP_TO_DATE, build_key, up_to_date
from statlift.schemas.specs import Catalog, load_catalog, spec_for, spec_sha256
from statlift.settings import Settings, freeze_imports, get_settings, tune_process

# Each subcommand's module is imported only when that subcommand runs (or for --help): they
# import the stages they drive (pandas, pandera, the engines), and `statlift run` with nothing to
# do or with bad input answers before any of them loads (issue 15). Order: as --help lists them.
SUBCOMMANDS = {"audit": "statlift.cli.audit", "fetch": "statlift.cli.fetch",
               "serve": "statlift.cli.serve", "server": "statlift.cli.server",
               "extract-region": "statlift.cli.region",
               "discover": "statlift.cli.region", "verify": "statlift.cli.verify",
               "add": "statlift.cli.add"}


def say(message: str) -> None:
    """A progress line on stderr (what the run is doing while nothing else prints)."""
    print(f"statlift: {message}", file=sys.stderr, flush=True)


@dataclass
class Planned:
    """One report of `statlift run` after the checks the command line makes before Prefect
    starts: its PDF and sha256, or why it cannot run, and whether it is already published."""

    report_id: str
    pdf: Path | None = None
    sha: str | None = None
    error: StatliftError | None = None
    unchanged: bool = False


def plan_run(ids: list[str], sources: dict[str, str], catalog: Catalog, settings: Settings,
             out: Path) -> list[Planned]:
    """Each report's PDF checked (exists, a PDF with a text layer) and compared with the
    published build key: a hash per PDF, no Prefect, no PDF engine."""
    planned = []
    for rid in ids:
        item = Planned(rid)
        try:
            item.pdf = source_path(catalog.get(rid), sources, settings.raw_dir, settings.home)
            check_pdf(item.pdf, rid)
        except StatliftError as exc:
            item.error = exc
            planned.append(item)
            continue
        item.sha = sha256_file(item.pdf)
        item.unchanged = up_to_date(out / rid, build_key(item.sha, spec_sha256(
            spec_for(rid, catalog))))
        planned.append(item)
    return planned


def cmd_run(args) -> int:
    settings: Settings = args.settings
    catalog = load_catalog(settings.catalog)
    sources = parse_sources(args.sources)
    for rid in (args.reports or []) + list(sources):
        try:
            catalog.get(rid)
        except KeyError as exc:
            print(f"statlift: {exc.args[0]}", file=sys.stderr)
            return EXIT_INPUT
    # --source ID=PATH names the report it is for: without --report, only those reports run
    ids = args.reports or list(sources) or [r.report_id for r in catalog.reports]
    out = Path(args.out)
    if args.fetch:  # the raw files change during the run: the update flow checks them
        with output_lock(out):
            sweep_staging(out)
            return _orchestrate(args, ids, ids, settings, {})
    planned = plan_run(ids, sources, catalog, settings, out)
    bad_sources = [p for p in planned if p.error and p.report_id in sources]
    if bad_sources:  # the user's own input: nothing runs
        for p in bad_sources:
            print(f"statlift: {p.error}", file=sys.stderr)
        return EXIT_INPUT
    with output_lock(out):  # another run writing `out`: this one stops here (exit 5)
        return _run_planned(args, ids, planned, settings, out)


def _run_planned(args, ids: list[str], planned: list[Planned], settings: Settings,
                 out: Path) -> int:
    """The reports planned (plan_run): a line each when none needs the flow, else the flow."""
    sweep_staging(out)
    failed = {p.report_id: p for p in planned if p.error}
    to_run = [p.report_id for p in planned if not p.error and not p.unchanged]
    if not to_run and (failed or (out / "statlift.duckdb").exists()):
        # no flow run: nothing Prefect would do (its start-up is several seconds)
        for p in planned:
            print(_planned_line(p))
        return EXIT_OK if not failed else (EXIT_INPUT if len(failed) == len(planned)
                                           else EXIT_PARTIAL)
    # nothing stale but no DuckDB yet: the flow finds them unchanged and builds it
    return _orchestrate(args, ids, to_run or [p.report_id for p in planned if not p.error],
                        settings, failed, planned)


def sweep_staging(out: Path) -> None:
    """Remove the staging folders a killed run left in `out` (publish/staging.py), a line each."""
    for path in staging.sweep(out):
        say(f"removed {path}: a staging folder of a run that ended before it finished")


def _planned_line(p: Planned) -> str:
    if p.error is not None:
        return f"{p.report_id}: failed: {p.error}"
    return f"{p.report_id}: unchanged: {UP_TO_DATE}"


def _orchestrate(args, ids: list[str], to_run: list[str], settings: Settings,
                 failed: dict[str, Planned], planned: list[Planned] | None = None) -> int:
    """Start Prefect's temporary API server (unless one is configured or `statlift server` runs
    for this Prefect home), import the flows and read the PDFs while it boots, run the flow,
    print one line per report."""
    server = None
    configured = configured_api_url()
    kept = recorded_server() if configured is None else None
    if kept is not None:  # `statlift server` runs for this Prefect home (cli/server.py)
        os.environ.update(client_environment(kept))
        say(f"using Prefect's API server on {kept} (`statlift server`)")
    elif configured is None:
        db = first_run()
        server = TemporaryServer().start()
        # for Prefect and the worker processes (set after the server started: not its own)
        os.environ.update(client_environment(server.api_url))
        say(f"starting Prefect's temporary API server on {server.api_url} while the PDFs are "
            "read (`statlift server` left running in another terminal saves this step)")
        if db is not None:
            say(f"first run on this machine: Prefect creates its database {db} and sets up its "
                "tables (once, ~15 s)")
    pool = ahead = None
    ahead_jobs = [p for p in planned or [] if p.report_id in to_run and p.pdf]
    try:
        with orchestrator_errors():  # Prefect's API not answering: one clear error
            from statlift.flows.pool import EarlyProcessPool, runner_name

            runner = runner_name(args.runner, args.workers, reports=len(to_run))
            if runner == "processes" and not args.fetch:  # its workers start while the server
                # boots, forked from here once the flow module is imported (nothing run yet but
                # the plan: flows/pool.worker_context), and read the reports until it answers
                if server is not None and ahead_jobs:
                    # named before it is made: a SIGTERM in between still leaves `finally` a
                    # name to remove (staging.discard_scratch removes what there is)
                    ahead = staging.scratch_name(args.out, "read-ahead")
                    if not _made(ahead):
                        ahead = None
                pool = EarlyProcessPool(args.workers, read_ahead=ahead).start_early(fork=True)
            from statlift.flows import run as flows_run

            freeze_imports()  # the `statlift` program: every module a run needs is imported now
            try:
                if server is not None and ahead_jobs:
                    catalog = load_catalog(settings.catalog)
                    specs = {p.report_id: spec_for(p.report_id, catalog) for p in ahead_jobs}
                    total = sum(len(spec.tables) for spec in specs.values())
                    stored = sum(len(flows_run.stored_tables(specs[p.report_id], str(p.sha)))
                                 for p in ahead_jobs)
                    read = staged = None
                    going_on = ""
                    if pool is not None and ahead is not None:  # the workers, largest first
                        order = flows_run.largest_first([(p.report_id, Path(str(p.pdf)))
                                                          for p in ahead_jobs])
                        sha = {p.report_id: str(p.sha) for p in ahead_jobs}
                        read, staged, began = flows_run.read_ahead_in_pool(
                            pool, [(rid, str(pdf), sha[rid]) for rid, pdf in order],
                            str(args.out), str(settings.catalog), stop=server.settled)
                        going_on = (f"; the workers finish the {began} report"
                                    f"{'s' if began > 1 else ''} they began" if began else "")
                    elif runner == "threads":  # tasks run in this process: read ahead here
                        read = flows_run.read_ahead(
                            [(specs[p.report_id], str(p.pdf), str(p.sha)) for p in ahead_jobs],
                            stop=server.settled, out_dir=str(args.out))
                        staged = flows_run.staged_count()
                    if read is not None:
                        say(f"read {read} of {total} tables" + (
                            f" ({stored} of them in Prefect's result store: taken from there)"
                            if stored else "") + (
                            f" and audited {staged} of {len(ahead_jobs)} reports" if staged
                            else "") + " while Prefect's server started" + going_on)
                if server is not None:
                    server.wait(startup_timeout(), progress=lambda s: say(
                        f"waiting for Prefect's temporary API server ({s:.0f} s)"))
                with flow_settings(temporary=server is not None):
                    results = _run_flows(args, runner, to_run, settings, pool)
            finally:  # reports audited ahead that no task committed leave no staging folder
                flows_run.discard_staged()
    finally:  # a pool started early that the flow did not take (and shut down) stops here
        try:
            if pool is not None:
                pool.close()
        finally:
            # after the pool: no worker writes into it any more
            staging.discard_scratch(ahead)
    by_id = {r.report_id: r for r in results}
    for rid in ids:
        if rid in by_id:
            print(flows_run.result_line(by_id[rid], full=True))
        elif rid in failed:
            print(_planned_line(failed[rid]))
        else:
            print(f"{rid}: unchanged: {UP_TO_DATE}")
    statuses = {r.status for r in results} | ({"failed"} if failed else set())
    if statuses <= {"published", "unchanged", "updated"}:
        return EXIT_OK
    if statuses == {"failed"}:
        return EXIT_INPUT
    return EXIT_PARTIAL


def _made(folder: Path) -> bool:
    """Make `folder` (and its parent); False where it cannot be made (nothing is read ahead
    then; publishing into the output folder names the error)."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except OSError:
        return False
    return True


# Prefect settings statlift needs unless the user set them (the ephemeral server inherits them).
PREFECT_DEFAULTS = {
    "PREFECT_LOGGING_LEVEL": "INFO",
    # Prefect's temporary API server must answer within 20 s by default; on a busy 2-core machine
    # (four runs side by side, or CI running tests in parallel) its start measured longer and the
    # run failed before extracting anything.
    TIMEOUT_VAR: STARTUP_TIMEOUT,
    # statlift runs offline and on schedules: Prefect's usage telemetry fails there with an ERROR
    # in the log, and its session write contends for the run's SQLite database ("database is
    # locked"). Nothing about a user's reports leaves the machine.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def prefect_defaults() -> None:
    """Apply PREFECT_DEFAULTS where unset. An empty PREFECT_API_URL (`PREFECT_API_URL= statlift
    run`) means "no server": Prefect would take it for a URL and its event client would fail on
    every task with a traceback, so it is removed and the temporary server is used. A missing
    PREFECT_HOME folder is created (Prefect makes only the last level, then times out)."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if os.environ.get("PREFECT_API_URL", None) == "":
        del os.environ["PREFECT_API_URL"]
    if os.environ.get("PREFECT_HOME"):
        Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)


TEMPORARY_SERVER = "Prefect's temporary API server"


@contextmanager
def orchestrator_errors(server: str = TEMPORARY_SERVER) -> Iterator[None]:
    """A RuntimeError raised inside for Prefect's API not answering becomes its StatliftError
    (orchestrator_error, naming the server it started as `server`); any other goes on as it is
    (a bug to see in full)."""
    try:
        yield
    except RuntimeError as exc:
        error = orchestrator_error(exc, server)
        if error is None:
            raise
        raise error from exc


def orchestrator_error(exc: RuntimeError, server: str = TEMPORARY_SERVER):
    """A StatliftError for Prefect's API not answering (nothing was extracted or published),
    the server statlift started named as `server`; None for any other RuntimeError, which stays
    a bug to see in full."""
    msg = str(exc)
    if isinstance(exc, ServerExited):
        tail = exc.log_tail()
        return StatliftError(
            "orchestrator-unavailable", source=server,
            found=f"its process exited with code {exc.code} before answering" + (
                f"; its log {exc.log} ends: {tail}" if tail else
                f"; its log: {exc.log}" if exc.log else ""),
            hint="fix what the log names (Prefect's database in PREFECT_HOME, a port, a"
                 " package), or start `prefect server start` and set PREFECT_API_URL")
    if "ephemeral Prefect API server" in msg:
        return StatliftError(
            "orchestrator-unavailable", source=server,
            found=f"no answer within {startup_timeout():g} s (the machine may be busy)",
            hint=f"run again, raise {TIMEOUT_VAR}, or start `prefect server start` and set"
                 " PREFECT_API_URL")
    if msg.startswith("Failed to reach API at"):
        url = msg.removeprefix("Failed to reach API at").strip()
        return StatliftError(
            "orchestrator-unavailable", source=f"Prefect API {url}",
            found="no server answering there",
            hint="start the server (`prefect server start`) or unset PREFECT_API_URL to let"
                 " statlift start a temporary one")
    return None


HEARTBEAT_VARS = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


def flow_settings(temporary: bool):
    """Prefect settings for the flow run: with the temporary API server, no flow-run heartbeat
    (unless the user set its frequency). Prefect sends one every 180 s so that a server which
    outlives the run can mark it crashed when they stop; the temporary server ends with the
    run, and stopping the heartbeat's thread, which sleeps in 1 s steps, held every run's end
    up to 1 s (0.5 s on average; issue 15)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if not temporary or any(os.environ.get(v) for v in HEARTBEAT_VARS):
        return nullcontext()
    return temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


def _run_flows(args, runner: str, report_ids: list[str], settings: Settings,
               pool=None) -> list:
    """`run --fetch`: the update flow (fetch, then run); else the run flow. `runner` is a
    concrete runner name (runner_name); `pool` a process pool already started for it
    (flows/pool.py). The flows get the Settings' paths as parameters."""
    from statlift.flows.run import make_task_runner, run_catalog, state_results

    paths = {"raw_dir": str(settings.raw_dir), "home": str(settings.home),
             "catalog": str(settings.catalog)}
    if args.fetch:
        from statlift.flows.schedule import update_catalog
        state = update_catalog(report_ids=report_ids, out_dir=args.out, strict=args.strict,
                               runner=runner, workers=args.workers, address=args.address,
                               return_state=True, **paths)
    else:
        state = run_catalog.with_options(
            task_runner=pool or make_task_runner(runner, args.workers, args.address))(
            report_ids=report_ids, sources=parse_sources(args.sources), out_dir=args.out,
            strict=args.strict, return_state=True, **paths)
    return state_results(state)


def _wanted(argv: list[str] | None) -> set[str] | None:
    """The subcommand modules `argv` needs: the one of its subcommand; every module (None) when
    there is no argv, no subcommand (--help) or an unknown one (argparse lists them all)."""
    if argv is None:
        return None
    command = next((a for a in argv if not a.startswith("-")), None)
    if command == "run":
        return set()
    return {SUBCOMMANDS[command]} if command in SUBCOMMANDS else None


def build_parser(settings: Settings | None = None,
                 argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line; every subcommand finds the one Settings (read from the environment
    once, here) as `args.settings` and passes it, or the paths it names, down. With `argv`,
    only the module of its subcommand is imported."""
    settings = settings or get_settings()
    wanted = _wanted(argv)
    parser = argparse.ArgumentParser(prog="statlift", description=__doc__.split("\n\n")[0])
    parser.set_defaults(settings=settings)
    sub = parser.add_subparsers(dest="command", required=True)
    common = common_parser(settings)
    run = sub.add_parser("run", parents=[common], help="extract and publish the catalog")
    run.add_argument("--source", action="append", dest="sources", metavar="ID=PATH",
                     help="read report ID from this local PDF instead of raw/ (repeatable; "
                          "without --report, only these reports run)")
    run.add_argument("--runner", default=settings.runner,
                     choices=["auto", "threads", "processes", "dask"],
                     help="task runner: threads, processes (both cores) or dask (a cluster)")
    run.add_argument("--workers", type=int, default=None,
                     help="workers (default: the CPUs this process may use: its CPU affinity, "
                          "no more than its container's CPU limit)")
    run.add_argument("--address", default=settings.dask_address,
                     help="Dask scheduler address tcp://host:port (with --runner dask)")
    run.add_argument("--fetch", action="store_true",
                     help="download the catalog's sources first (what `statlift serve` runs)")
    run.add_argument("--strict", action="store_true",
                     help="publish only if the audit has no finding beyond the acknowledged")
    run.set_defaults(func=cmd_run)
    for name in dict.fromkeys(SUBCOMMANDS.values()):  # each module once, in --help's order
        if wanted is not None and name not in wanted:
            continue
        module = importlib.import_module(name)
        if name == "statlift.cli.add":
            module.register(sub, common, cmd_run)
        else:
            module.register(sub, common)
    return parser


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(settings, argv).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    prefect_defaults()
    try:
        return args.func(args)
    except StatliftError as exc:
        print(f"statlift: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_INPUT)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `statlift discover report.pdf | head`: the reader went away; not an error of ours.
        # stdout is pointed at devnull so that the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception:
        if _TERMINATED:  # SIGTERM's SystemExit, raised inside a library that wrapped it
            return 128 + _TERMINATED[0]
        raise


def entry() -> None:
    """The `statlift` program (console script and `python -m statlift.cli`): main(), then exit
    without the garbage collector's passes over every object at interpreter shutdown.

    At exit CPython runs its cycle collector over all that is left (pandas', Prefect's,
    pydantic's modules and their objects): 0.4 s of every run's end, after the last line was
    printed (issue 15). gc.freeze() moves every object into a generation the collector skips:
    exit handlers still run (Prefect's log and event workers flush, the temporary server
    stops), threads are still joined and every module's objects are still released; only
    reference cycles among them are left for the operating system to reclaim with the
    process. Not done inside main(), which tests and Python callers run in a process that
    goes on. The run itself uses statlift's collector thresholds and malloc setting
    (settings.tune_process)."""
    tune_process()
    signal.signal(signal.SIGTERM, _terminated)
    code = main()
    gc.freeze()
    sys.exit(code)


# the signal _terminated was called for: its SystemExit can be raised inside a library call that
# turns it into an exception of its own (pydantic-core's serializer does, during Prefect's import:
# seen as a traceback and exit 1 when SIGTERM came while Prefect was being imported), which main
# then answers with the signal's exit status all the same
_TERMINATED: list[int] = []


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler's timeout, `kill`) ends the program the way an exception does,
    not on the spot: `finally` blocks remove the run's staging folders and stop its worker
    processes, and the exit handlers stop Prefect's temporary server (on the spot, it was left
    running). Exit status 143 (128 + SIGTERM), as the shell reports a process it terminated.
    During a flow run Prefect's engine answers SIGTERM itself (the run ends Crashed).

    Not while this thread holds `logging`'s module lock: raised between the lock's acquire and
    the `try` that releases it, the exception left it held, and the next thread to log (Prefect's
    event-loop thread, at the flow's start) waited for it for ever while this one waited for
    that thread: a run stopped during its flow's start hung (docs/speed.md). The signal is sent
    again a moment later instead, to be raised once the lock is released."""
    _TERMINATED.append(signum)
    if _logging_lock_held():
        threading.Timer(SIGNAL_RETRY, os.kill, (os.getpid(), signum)).start()
        return
    raise SystemExit(128 + signum)


SIGNAL_RETRY = 0.05  # s before a SIGTERM that came inside logging's locked section is sent again


def _logging_lock_held() -> bool:
    """Whether this thread holds `logging`'s module lock (CPython's RLock: False elsewhere)."""
    owned = getattr(getattr(logging, "_lock", None), "_is_owned", None)
    return bool(owned()) if callable(owned) else False


if __name__ == "__main__":
    entry()
