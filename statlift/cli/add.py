"""`statlift add PDF --id REPORT_ID [--url URL] [--title TITLE]`: add a report in one command.

Copies the PDF into the raw store, writes a starter spec from its pages (what `discover --spec`
writes), adds the catalog entry, runs the report, and prints what to review: the units and
checks it guessed, and the audit's findings with the YAML to paste where they are the
publication's own. Nothing is written when the PDF or the id is unusable; a starter spec that
does not load is taken out of the catalog again.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from statlift.acquire.fetch import register_local_source
from statlift.acquire.pdfcheck import validate_pdf_file
from statlift.errors import EXIT_INPUT, StatliftError
from statlift.extractors.pdfium_lock import pdfium_document
from statlift.extractors.specgen import starter_spec
from statlift.schemas.onboard import (
    acknowledgement_yaml,
    catalog_entry,
    check_report_id,
    review_notes,
    write_report,
)
from statlift.schemas.specs import load_report_spec, read_catalog
from statlift.settings import get_settings


def _pdf_title(pdf: Path) -> str | None:
    with pdfium_document(pdf) as doc:
        title = (doc.get_metadata_dict().get("Title") or "").strip()
    return title or None


def _relative(path: Path, home: Path) -> str:
    try:
        return path.resolve().relative_to(home.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def cmd_add(args, run: Callable[[argparse.Namespace], int]) -> int:
    settings = get_settings()
    pdf = Path(args.pdf)
    try:
        known = [r.report_id for r in read_catalog(settings.catalog).reports]
        check_report_id(args.id, known)
        if not pdf.is_file():
            raise StatliftError("file-not-found", source=str(pdf), expected="the report's PDF",
                                found="no such file", hint="check the path")
        validate_pdf_file(pdf)
        spec = starter_spec(str(pdf), args.id)
        if not spec["tables"]:
            raise StatliftError("no-tables-found", source=str(pdf),
                                expected="captioned tables (\"TABLE 1\", \"Table 1.\", a title "
                                         "bar) or callout figures",
                                found="none on any page",
                                hint="check the PDF with `statlift discover`")
        stored = register_local_source(args.id, pdf, settings.raw_dir)
        title = args.title or _pdf_title(pdf) or f"{pdf.stem} (TODO title)"
        entry = catalog_entry(args.id, title, _relative(stored.path, settings.home),
                              stored.sha256, f"tables/{args.id}.yaml", args.url,
                              args.publisher, args.license)
        done = write_report(settings.catalog, entry, spec, pdf.name)
        try:
            read_catalog(settings.catalog)
            load_report_spec(done.spec_path)
        except (ValueError, yaml.YAMLError) as exc:
            done.undo()
            raise StatliftError("bad-starter-spec", source=str(done.spec_path),
                                expected="a starter spec that loads", found=str(exc)[:300],
                                hint="report this; nothing was added to the catalog") from exc
    except StatliftError as exc:
        print(f"statlift add: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"{args.id}: raw copy {stored.path}")
    print(f"{args.id}: starter spec {done.spec_path} ({len(spec['tables'])} tables)")
    print(f"{args.id}: catalog entry added to {settings.catalog}")
    print("review in the spec:")
    print("\n".join(review_notes(spec)))
    todo = [k for k, v in entry.items() if v == "TODO (edit)"]
    if todo:
        print(f"review in the catalog entry: {', '.join(todo)} (say TODO)")
    if args.no_run:
        print(f"next: statlift run --report {args.id}")
        return 0
    code = run(argparse.Namespace(
        reports=[args.id], sources=None, out=args.out, fetch=False, strict=False,
        runner="threads", workers=None, address=None, verbose=False, settings=settings))
    audit = Path(args.out) / args.id / "audit.json"
    if audit.is_file():
        findings = [f for f in json.loads(audit.read_text(encoding="utf-8"))["findings"]
                    if not f["acknowledged"]]
        if findings:
            print(f"{len(findings)} audit {'finding' if len(findings) == 1 else 'findings'} to "
                  f"look at in {audit.with_name('audit.html')}; where the page itself prints "
                  "it so, acknowledge it in the spec with a reason:")
            print(acknowledgement_yaml(findings))
    return code if code != EXIT_INPUT or audit.is_file() else EXIT_INPUT


def register(sub, common, run: Callable[[argparse.Namespace], int]) -> None:
    p = sub.add_parser("add", parents=[common], help="add a report: raw copy, starter spec, "
                       "catalog entry, first run", description=__doc__.split("\n\n")[0])
    p.add_argument("pdf", metavar="PDF", help="the report's PDF")
    p.add_argument("--id", required=True, metavar="REPORT_ID",
                   help="report id: lower-case letters, digits and dashes")
    p.add_argument("--url", help="the publisher's PDF URL (kept in the catalog, marked "
                   "unverified)")
    p.add_argument("--title", help="the publication's title (default: the PDF's metadata)")
    p.add_argument("--publisher", help="who publishes it")
    p.add_argument("--license", help="the publication's license")
    p.add_argument("--no-run", action="store_true", help="write the spec and entry only")
    p.set_defaults(func=lambda args: cmd_add(args, run))
