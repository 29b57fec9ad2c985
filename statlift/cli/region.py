"""`statlift extract-region` and `statlift discover`: one table's structure from a region, and
every table of a PDF.

    statlift extract-region PDF --page N --bbox x0,top,x1,bottom [--json] [--engine NAME]
                            [--diagnostics]
    statlift discover PDF [--json] [--spec OUT.yaml]

Coordinates are PDF points with the origin at the top-left of the page (pdfplumber's), pages
count from 1. `python -m statlift.cli.region PDF --page N --bbox ... --json` runs extract-region
alone (the ICDAR scorer starts one process per region).

Both commands first check the file as `statlift run` checks a source (acquire/pdfcheck.py): a
missing path, a folder, an empty file, a non-PDF, a damaged or password-protected PDF and a PDF
without a text layer (scanned pages) each end with one message naming the file, what was expected
and what was found, and exit 2.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import yaml

from statlift.acquire.pdfcheck import validate_pdf_file
from statlift.errors import EXIT_INPUT, EXIT_OK, StatliftError, error_from_os
from statlift.extractors.cellgrid import format_grid
from statlift.extractors.discover import discover_tables
from statlift.extractors.layout import LayoutError
from statlift.extractors.readers import read_region_file
from statlift.extractors.region import RegionSettings
from statlift.extractors.specgen import starter_spec

EXTRACT_REGION_HELP = "the cell structure of the table in a given region of one page"
EXTRACT_REGION_DESCRIPTION = """\
Read the cell structure (rows, columns, spanning cells, text) of the table
inside one box of one page of a PDF and print it as a grid, or as JSON with
--json. The box is in PDF points with the origin at the page's top-left
corner (pdfplumber's coordinates; `statlift discover PDF` prints the box of
every table it finds); pages count from 1. No catalog entry or table spec is
needed: this is the reader on its own, as the ICDAR 2013 benchmark scores it."""
EXTRACT_REGION_EPILOG = """\
examples:
  statlift extract-region report.pdf --page 3 --bbox 50,120,560,400
  statlift extract-region report.pdf --page 3 --bbox 50,120,560,400 --json --diagnostics

--diagnostics was called --report before; --report still works here, but
everywhere else --report ID names a report of the catalog.

exit codes: 0 read; 2 unusable input (a missing, empty or non-PDF file, no
text layer, a page out of range, a bad box); see docs/exit-codes.md."""

DISCOVER_DESCRIPTION = """\
Find every table of a PDF and print one line per table: page, box (PDF
points, origin top-left; what extract-region takes), rows x columns, ruled or
not, the engine that reads it best, and its caption. With --spec, write a
starter table spec for a new report instead (`statlift add` does this and
more in one command)."""
DISCOVER_EPILOG = """\
exit codes: 0 read (also when no table was found); 2 unusable input (a
missing, empty or non-PDF file, or a scan without a text layer: run OCR
first); see docs/exit-codes.md."""

# Hints for the file checks that fit these commands (the defaults talk about --source ID=PATH).
_HINTS = {
    "file-not-found": "check the path",
    "empty-file": "the file is empty; download the PDF again",
    "no-text-layer": "the pages hold no text to read (scanned images or drawings only); run "
                     "OCR (ocrmypdf) and pass the result",
    "encrypted-pdf": "decrypt it (qpdf --decrypt) and pass the result",
}


def check_input_pdf(path: str) -> None:
    """The checks `statlift run` applies to a source (acquire/pdfcheck.py), on a local file of
    any size, with hints for a file given on the command line."""
    try:
        validate_pdf_file(Path(path), max_bytes=sys.maxsize)
    except StatliftError as exc:
        if exc.code not in _HINTS:
            raise
        raise StatliftError(exc.code, source=exc.source, expected=exc.expected, found=exc.found,
                            hint=_HINTS[exc.code], exit_code=exc.exit_code) from None


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 4:
        raise argparse.ArgumentTypeError(f"--bbox wants x0,top,x1,bottom (4 numbers), got {text!r}")
    return vals  # type: ignore[return-value]


def _region_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pdf", help="the PDF file")
    p.add_argument("--page", type=int, required=True, help="1-based page number")
    p.add_argument("--bbox", type=_bbox, required=True, metavar="x0,top,x1,bottom",
                   help="table region in PDF points, origin top-left")
    p.add_argument("--json", action="store_true",
                   help='print {"cells": [{row, col, row_span, col_span, text}]}')
    p.add_argument("--engine", default="auto",
                   help="auto (default), or force one reader: layout (text lines, as `statlift "
                        "run` reads a table), ruled, whitespace, fused")
    p.add_argument("--diagnostics", action="store_true",
                   help="also print the engine chosen, the features of the region and the "
                        "quality of each engine's reading, as JSON on stderr")
    p.add_argument("--report", action="store_true", dest="diagnostics",
                   help=argparse.SUPPRESS)  # the old spelling of --diagnostics
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def add_extract_region_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    p = subparsers.add_parser("extract-region", parents=list(parents), help=EXTRACT_REGION_HELP,
                              description=EXTRACT_REGION_DESCRIPTION, epilog=EXTRACT_REGION_EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    _region_arguments(p)
    p.set_defaults(func=run_extract_region)
    return p


def run_extract_region(args) -> int:
    try:
        settings = RegionSettings(engine="auto" if args.engine == "layout" else args.engine)
    except ValueError as exc:
        print(f"statlift: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        check_input_pdf(args.pdf)
        table = read_region_file(args.pdf, args.page, args.bbox, settings,
                                 "layout" if args.engine == "layout" else None)
    except StatliftError as exc:
        print(f"statlift: {exc}", file=sys.stderr)
        return exc.exit_code
    except LayoutError as exc:  # --engine layout on a box with no row of values
        print(f"statlift: {args.pdf} page {args.page} box {args.bbox}: the layout reader found "
              f"no table ({exc}); try --engine auto", file=sys.stderr)
        return EXIT_INPUT
    if args.json:
        print(json.dumps(table.to_json(), ensure_ascii=False))
    else:
        print(format_grid(table.to_grid()))
    if not any(c.text for c in table.cells):
        print(f"statlift: {args.pdf} page {args.page} box {args.bbox}: no printed words in the "
              "box (`statlift discover` prints the box of every table)", file=sys.stderr)
    if args.diagnostics:
        cut = table.region
        print(json.dumps({"reader": table.reader, **(cut.report() if cut else {})},
                         default=list), file=sys.stderr)
    return EXIT_OK


def add_discover_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    p = subparsers.add_parser("discover", parents=list(parents),
                              help="find every table of a PDF: caption, page, box, shape, engine",
                              description=DISCOVER_DESCRIPTION, epilog=DISCOVER_EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pdf", help="the PDF file")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("--spec", metavar="OUT.yaml",
                   help="write a starter table spec for a new report (tables by caption, "
                        "header paths, units, candidate checks) for a person to review")
    p.add_argument("--report-id", default=None,
                   help="report id for the starter spec (default: the PDF's file name)")
    p.set_defaults(func=run_discover)
    return p


def run_discover(args) -> int:
    """One reading of the PDF: with --spec the spec generator's (extractors/specgen.py), which
    prints what it wrote; without, discover_tables'."""
    try:
        check_input_pdf(args.pdf)
        if getattr(args, "spec", None):
            return write_starter_spec(args)
        found = discover_tables(args.pdf)
    except StatliftError as exc:
        print(f"statlift: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps([t.to_dict() for t in found], ensure_ascii=False))
        return EXIT_OK
    if not found:
        print(f"statlift: {args.pdf}: no tables found (no text aligned in columns and no frame "
              "of drawn rules on any page)", file=sys.stderr)
    for t in found:
        x0, top, x1, bottom = t.bbox
        print(f"p{t.page}  {x0:.0f},{top:.0f},{x1:.0f},{bottom:.0f}  {t.shape[0]}x{t.shape[1]}  "
              f"{'ruled' if t.ruled else 'unruled'}  {t.engine}  {t.caption or '-'}")
    return EXIT_OK


def write_starter_spec(args) -> int:
    """`discover --spec`: the captioned tables as a spec YAML (see extractors/specgen.py)."""
    report_id = args.report_id or Path(args.pdf).stem
    spec = starter_spec(args.pdf, report_id)
    header = (f"# Starter spec for {report_id}, written by `statlift discover --spec` from "
              f"{Path(args.pdf).name}.\n# Review it: labels, units and checks are guesses "
              "from the page; add acknowledged findings with reasons.\n")
    text = header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
    try:
        Path(args.spec).write_text(text, encoding="utf-8")
    except OSError as exc:
        err = error_from_os(exc, args.spec, "writing the starter spec")
        raise StatliftError(err.code, source=args.spec, expected="a writable --spec path",
                            found=err.found, hint="check that its folder exists and is writable",
                            exit_code=err.exit_code) from None
    print(f"{args.spec}: {len(spec['tables'])} tables "
          f"({', '.join(t['table_id'] for t in spec['tables'])})")
    return EXIT_OK


def register(subparsers, common=None) -> None:
    """Mount extract-region and discover under `statlift` (`common` carries catalog options
    that these commands do not use)."""
    add_extract_region_parser(subparsers)
    add_discover_parser(subparsers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m statlift.cli.region",
                                     description=EXTRACT_REGION_DESCRIPTION,
                                     epilog=EXTRACT_REGION_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _region_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return run_extract_region(args)


if __name__ == "__main__":
    sys.exit(main())
