"""`statlift fetch [--report ID] [--source ID=PATH]`: download (or register) the raw PDFs.

Each source is checked (a real PDF with a text layer) before it is kept under
raw/<report_id>/<sha256>.pdf; raw/manifest.json records where it came from and which version
is current. A failed download changes nothing and names the source, what was expected and found.
"""
from __future__ import annotations

import sys
from pathlib import Path

from statlift.acquire.fetch import fetch_source, register_local_source
from statlift.cli.common import parse_sources
from statlift.errors import StatliftError
from statlift.schemas.specs import load_catalog


def cmd_fetch(args) -> int:
    catalog = load_catalog(args.settings.catalog)
    sources = parse_sources(args.sources)
    ids = args.reports or [r.report_id for r in catalog.reports]
    raw = Path(args.raw or args.settings.raw_dir)
    worst = 0
    for rid in ids + [s for s in sources if s not in ids]:
        try:
            entry = catalog.get(rid)
            if rid in sources:
                res = register_local_source(rid, Path(sources[rid]), raw)
            elif entry.pdf_url:
                res = fetch_source(rid, entry.pdf_url, raw)
            else:
                print(f"{rid}: no pdf_url in the catalog; nothing to fetch")
                continue
        except (StatliftError, KeyError) as exc:
            print(f"statlift fetch: {exc}", file=sys.stderr)
            worst = max(worst, getattr(exc, "exit_code", 2))
            continue
        print(f"{rid}: {getattr(res, 'status', 'ok')} {getattr(res, 'sha256', '')}")
    return worst


def register(sub, common) -> None:
    p = sub.add_parser("fetch", parents=[common], help="download or register the raw PDFs")
    p.add_argument("--source", action="append", dest="sources", metavar="ID=PATH",
                   help="register a local PDF as a version of report ID")
    p.add_argument("--raw", default=None,
                   help="raw archive folder (default: $STATLIFT_RAW, else raw/ in $STATLIFT_HOME)")
    p.set_defaults(func=cmd_fetch)
