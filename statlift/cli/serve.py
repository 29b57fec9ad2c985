"""`statlift serve [--cron EXPR]`: serve the fetch-and-update flow on a schedule.

Needs a Prefect server (schedules do not run on the ephemeral API):
    prefect server start            # UI at http://127.0.0.1:4200
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    statlift serve --cron "0 6 * * 1"
"""
from __future__ import annotations

import os
import sys

from statlift.settings import DEFAULT_CRON


def cmd_serve(args) -> int:
    from statlift.flows.schedule import update_catalog

    if not os.environ.get("PREFECT_API_URL"):
        print("statlift serve: schedules need a Prefect server; start one with "
              "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api",
              file=sys.stderr)
        return 2
    settings = args.settings  # the paths go to the flow as parameters, not via the environment
    update_catalog.serve(name="statlift-scheduled", cron=args.cron or settings.cron,
                         parameters={"report_ids": args.reports, "out_dir": args.out,
                                     "strict": not args.no_strict, "fetch": not args.no_fetch,
                                     "raw_dir": str(settings.raw_dir), "home": str(settings.home),
                                     "catalog": str(settings.catalog)})
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("serve", parents=[common], help="run the update on a cron schedule")
    p.add_argument("--cron", default=None,
                   help=f"cron expression (default: $STATLIFT_CRON, else weekly: {DEFAULT_CRON!r})")
    p.add_argument("--no-strict", action="store_true", help="publish despite new findings")
    p.add_argument("--no-fetch", action="store_true", help="do not download, only re-extract")
    p.set_defaults(func=cmd_serve)
