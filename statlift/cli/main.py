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
import logging
import os
import sys
from pathlib import Path

from statlift.cli import add as cli_add
from statlift.cli import audit as cli_audit
from statlift.cli import fetch as cli_fetch
from statlift.cli import region as cli_region
from statlift.cli import serve as cli_serve
from statlift.cli import verify as cli_verify
from statlift.cli.common import common_parser, parse_sources
from statlift.errors import EXIT_INPUT, EXIT_OK, EXIT_PARTIAL, StatliftError
from statlift.publish.uptodate import UP_TO_DATE, stale_reports
from statlift.schemas.specs import load_catalog
from statlift.settings import Settings, get_settings


def cmd_run(args) -> int:
    settings: Settings = args.settings
    catalog = load_catalog(settings.catalog)
    for rid in (args.reports or []) + list(parse_sources(args.sources)):
        try:
            catalog.get(rid)
        except KeyError as exc:
            print(f"statlift: {exc.args[0]}", file=sys.stderr)
            return EXIT_INPUT
    ids = args.reports or [r.report_id for r in catalog.reports]
    to_run = ids
    if not args.fetch and not args.sources:
        to_run = stale_reports(ids, args.out, catalog, settings.raw_dir, settings.home)
        if not to_run and (Path(args.out) / "statlift.duckdb").exists():
            # no flow run: Prefect's start-up is ~10 s
            for rid in ids:
                print(f"{rid}: unchanged: {UP_TO_DATE}")
            return EXIT_OK
    from statlift.flows.run import api_for_workers, runner_name

    runner = runner_name(args.runner, args.workers, reports=len(to_run))
    try:
        with api_for_workers(runner):
            results = _run_flows(args, runner)
    except RuntimeError as exc:
        error = orchestrator_error(exc)
        if error is None:
            raise
        raise error from exc
    for r in results:
        print(f"{r.report_id}: {r.status}: {r.message}")
    statuses = {r.status for r in results}
    if statuses <= {"published", "unchanged", "updated"}:
        return EXIT_OK
    if statuses == {"failed"}:
        return EXIT_INPUT
    return EXIT_PARTIAL


# Prefect settings statlift needs unless the user set them (the ephemeral server inherits them).
PREFECT_DEFAULTS = {
    "PREFECT_LOGGING_LEVEL": "INFO",
    # Prefect's temporary API server must answer within 20 s by default; on a busy 2-core machine
    # (four runs side by side, or CI running tests in parallel) its start measured longer and the
    # run failed before extracting anything.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
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


def orchestrator_error(exc: RuntimeError):
    """A StatliftError for Prefect's API not answering (nothing was extracted or published);
    None for any other RuntimeError, which stays a bug to see in full."""
    msg = str(exc)
    if "ephemeral Prefect API server" in msg:
        wait = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")
        return StatliftError(
            "orchestrator-unavailable", source="Prefect's temporary API server",
            found=f"no answer within {wait} s (the machine may be busy)",
            hint="run again, raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or start"
                 " `prefect server start` and set PREFECT_API_URL")
    if msg.startswith("Failed to reach API at"):
        url = msg.removeprefix("Failed to reach API at").strip()
        return StatliftError(
            "orchestrator-unavailable", source=f"Prefect API {url}",
            found="no server answering there",
            hint="start the server (`prefect server start`) or unset PREFECT_API_URL to let"
                 " statlift start a temporary one")
    return None


def _run_flows(args, runner: str):
    """`run --fetch`: the update flow (fetch, then run); else the run flow. `runner` is a
    concrete runner name (runner_name)."""
    if args.fetch:
        from statlift.flows.schedule import update_catalog
        return update_catalog(report_ids=args.reports, out_dir=args.out, strict=args.strict,
                              runner=runner, workers=args.workers, address=args.address)
    from statlift.flows.run import make_task_runner, run_catalog
    return run_catalog.with_options(
        task_runner=make_task_runner(runner, args.workers, args.address))(
        report_ids=args.reports, sources=parse_sources(args.sources), out_dir=args.out,
        strict=args.strict)


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The command line; every subcommand finds the one Settings (read from the environment
    once, here) as `args.settings` and passes it, or the paths it names, down."""
    settings = settings or get_settings()
    parser = argparse.ArgumentParser(prog="statlift", description=__doc__.split("\n\n")[0])
    parser.set_defaults(settings=settings)
    sub = parser.add_subparsers(dest="command", required=True)
    common = common_parser(settings)
    run = sub.add_parser("run", parents=[common], help="extract and publish the catalog")
    run.add_argument("--source", action="append", dest="sources", metavar="ID=PATH",
                     help="read report ID from this local PDF instead of raw/")
    run.add_argument("--runner", default=settings.runner,
                     choices=["auto", "threads", "processes", "dask"],
                     help="task runner: threads, processes (both cores) or dask (a cluster)")
    run.add_argument("--workers", type=int, default=None, help="workers (default: cores)")
    run.add_argument("--address", default=settings.dask_address,
                     help="Dask scheduler address tcp://host:port (with --runner dask)")
    run.add_argument("--fetch", action="store_true",
                     help="download the catalog's sources first (what `statlift serve` runs)")
    run.add_argument("--strict", action="store_true",
                     help="publish only if the audit has no finding beyond the acknowledged")
    run.set_defaults(func=cmd_run)
    for register in (cli_audit.register, cli_fetch.register, cli_serve.register,
                     cli_region.register, cli_verify.register):
        register(sub, common)
    cli_add.register(sub, common, cmd_run)
    return parser


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser(settings).parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
