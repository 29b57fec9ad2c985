"""`statlift verify REPORT_ID TRANSCRIPTION [--table ID] [--map MAP.yaml] [--out DIR]`: audit
somebody else's transcription (a spreadsheet typed from the report, a published CSV) against
what the PDF prints.

Exit 0: every transcribed value matches; 1: mismatches, missing or unmatched values (listed in
verification.csv and verification.html); 2: unusable input (not a table, another report, an
empty file, nothing published to compare with).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from statlift.errors import EXIT_INPUT, StatliftError
from statlift.outputs.verification import write_verification
from statlift.schemas.specs import load_catalog, spec_for
from statlift.settings import get_settings
from statlift.validate.verify import LabelMap, load_published, read_transcription, verify


def cmd_verify(args) -> int:
    try:
        catalog = load_catalog()
        entry = catalog.get(args.report_id)
    except KeyError as exc:
        print(f"statlift verify: {exc.args[0]}", file=sys.stderr)
        return EXIT_INPUT
    except StatliftError as exc:
        print(f"statlift verify: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        published = load_published(Path(args.processed), args.report_id,
                                   spec_for(args.report_id, catalog), entry.title)
        typed = read_transcription(Path(args.transcription), list(published.tables), args.table)
        result = verify(args.report_id, typed, published.tables, LabelMap.load(args.map),
                        str(args.transcription))
        written = write_verification(result, published, Path(args.out))
    except StatliftError as exc:
        print(f"statlift verify: {exc}", file=sys.stderr)
        return exc.exit_code
    print(result.summary())
    print("written: " + ", ".join(str(p) for p in written))
    return result.exit_code


def register(sub, common=None) -> None:
    p = sub.add_parser("verify", help="check a transcription of a report against the PDF",
                       description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report_id", metavar="REPORT_ID", help="report id from the catalog")
    p.add_argument("transcription", metavar="TRANSCRIPTION",
                   help="wide CSV or XLSX laid out like the table, tidy CSV "
                        "(table_id,row_path,column_path,value), or a folder of CSVs named by "
                        "table id")
    p.add_argument("--table", metavar="ID", help="the table a wide file transcribes (default: "
                   "the file or sheet name)")
    p.add_argument("--map", metavar="MAP.yaml", help="explicit label mapping: {table_id: {rows: "
                   "{typed: printed}, columns: {typed: printed}}}")
    p.add_argument("--out", default="verification", metavar="DIR",
                   help="where verification.csv and verification.html go (default: "
                        "./verification)")
    p.add_argument("--processed", default=str(get_settings().processed_dir), metavar="DIR",
                   help="the published datasets to compare with (default: $STATLIFT_PROCESSED, "
                        "else processed/ in $STATLIFT_HOME)")
    p.set_defaults(func=cmd_verify)
