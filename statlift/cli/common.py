"""What the subcommands share: the catalog options (defined once) and `--source ID=PATH`."""
from __future__ import annotations

import argparse
import sys

from statlift.errors import EXIT_INPUT
from statlift.settings import Settings


def common_parser(settings: Settings) -> argparse.ArgumentParser:
    """Options shared by the subcommands that work on the catalog (defined once); defaults from
    the Settings the command line read once."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--report", action="append", dest="reports", metavar="ID",
                   help="report id from the catalog (repeatable; default: all)")
    p.add_argument("--out", default=str(settings.processed_dir), metavar="DIR",
                   help="published datasets folder (default: $STATLIFT_PROCESSED, else "
                        "processed/ in $STATLIFT_HOME)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def parse_sources(items: list[str] | None) -> dict[str, str]:
    """`--source ID=PATH` options as {ID: PATH}; a malformed one is a usage error (exit 2)."""
    out = {}
    for item in items or []:
        if "=" not in item:
            print(f"statlift: --source wants ID=PATH, got {item!r}", file=sys.stderr)
            raise SystemExit(EXIT_INPUT)
        rid, path = item.split("=", 1)
        out[rid] = path
    return out
