"""`statlift extract-region` and `statlift discover`: one table's structure from a region, and
every table of a PDF.

    statlift extract-region PDF --page N --bbox x0,top,x1,bottom [--json] [--engine NAME]
    statlift discover PDF [--json]

Coordinates are PDF points with the origin at the top-left of the page (pdfplumber's), pages
count from 1. `python -m statlift.cli.region PDF --page N --bbox ... --json` runs extract-region
alone (the ICDAR scorer starts one process per region).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import yaml

from statlift.errors import EXIT_INPUT, EXIT_OK, StatliftError
from statlift.extractors.cellgrid import format_grid
from statlift.extractors.discover import discover_tables
from statlift.extractors.region import RegionSettings, extract_region
from statlift.extractors.specgen import starter_spec


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
                   help="auto (default), or force one engine: ruled, whitespace, fused")
    p.add_argument("--report", action="store_true",
                   help="also print the engine, features and quality (to stderr)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def add_extract_region_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    p = subparsers.add_parser("extract-region", parents=list(parents),
                              help="the cell structure of the table in a given region",
                              description=__doc__.split("\n\n")[0])
    _region_arguments(p)
    p.set_defaults(func=run_extract_region)
    return p


def run_extract_region(args) -> int:

    try:
        settings = RegionSettings(engine=args.engine)
    except ValueError as exc:
        print(f"statlift: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        table = extract_region(args.pdf, args.page, args.bbox, settings=settings)
    except StatliftError as exc:
        print(f"statlift: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps(table.to_json(), ensure_ascii=False))
    else:
        print(format_grid(table.to_grid()))
    if args.report:
        print(json.dumps(table.report(), default=list), file=sys.stderr)
    return EXIT_OK


def add_discover_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    p = subparsers.add_parser("discover", parents=list(parents),
                              help="find every table of a PDF: caption, page, box, shape, engine")
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

    try:
        found = discover_tables(args.pdf)
    except StatliftError as exc:
        print(f"statlift: {exc}", file=sys.stderr)
        return exc.exit_code
    if getattr(args, "spec", None):
        return write_starter_spec(args)
    if args.json:
        print(json.dumps([t.to_dict() for t in found], ensure_ascii=False))
        return EXIT_OK
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
    Path(args.spec).write_text(header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True,
                                                       width=100), encoding="utf-8")
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
                                     description=__doc__.split("\n\n")[0])
    _region_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return run_extract_region(args)


if __name__ == "__main__":
    sys.exit(main())
