"""Adding a report to the catalog: its starter spec and its catalog entry, written as YAML a
person reviews (`statlift add`). Nothing here reads a PDF; the starter spec comes from
statlift.extractors.specgen, the raw copy from statlift.acquire.

Every write can be undone (`Onboarding.undo`): a report whose entry or spec does not load is
taken out again, so a failed `add` leaves the catalog as it was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from statlift.errors import StatliftError

REPORT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
TODO = "TODO (edit)"


def check_report_id(report_id: str, known: list[str]) -> None:
    if not REPORT_ID.match(report_id):
        raise StatliftError("bad-report-id", source="--id", expected="a report id of lower-case "
                            "letters, digits and dashes (e.g. bjs-ncj250746)",
                            found=repr(report_id), hint="choose another --id")
    if report_id in known:
        raise StatliftError("report-exists", source="--id", expected="a new report id",
                            found=f"{report_id!r} is already in the catalog",
                            hint="choose another --id, or `statlift run --report "
                                 f"{report_id}` to re-extract it")


def catalog_entry(report_id: str, title: str, embedded: str, sha256: str, spec: str,
                  url: str | None, publisher: str | None, license_: str | None) -> dict:
    """A catalog entry with every field the catalog knows; the unknown ones say TODO."""
    return {
        "report_id": report_id, "publisher": publisher or TODO, "title": title,
        "landing_url": None, "pdf_url": url, "urls_verified": False, "embedded": embedded,
        "expected_sha256": sha256,
        "embedded_note": "Added with `statlift add` from a local file.",
        "license": license_ or TODO, "spec": spec}


def starter_yaml(spec: dict, report_id: str, pdf_name: str) -> str:
    header = (f"# Starter spec for {report_id}, written by `statlift add` from {pdf_name}.\n"
              "# Review it: labels, units and checks are guesses from the page; acknowledge the\n"
              "# publication's own inconsistencies (see what `statlift add` printed).\n")
    return header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)


def append_entry(catalog_text: str, entry: dict) -> str:
    """The catalog's text with `entry` appended to its `reports:` list (comments kept)."""
    block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    indented = "".join("  " + line if line.strip() else line
                       for line in block.splitlines(keepends=True))
    return catalog_text.rstrip("\n") + "\n" + indented


@dataclass
class Onboarding:
    """What `add` wrote, to review or to undo."""

    catalog: Path
    catalog_before: str
    spec_path: Path
    written: list[Path] = field(default_factory=list)

    def undo(self) -> None:
        self.catalog.write_text(self.catalog_before, encoding="utf-8")
        for path in self.written:
            path.unlink(missing_ok=True)


def write_report(catalog: Path, entry: dict, spec: dict, pdf_name: str) -> Onboarding:
    """Write the starter spec next to the catalog (tables/<id>.yaml) and append the entry."""
    spec_path = catalog.parent / entry["spec"]
    if spec_path.exists():
        raise StatliftError("report-exists", source=str(spec_path), expected="no spec yet for "
                            f"{entry['report_id']}", found="a spec file already there",
                            hint="move it away or choose another --id")
    before = catalog.read_text(encoding="utf-8")
    done = Onboarding(catalog, before, spec_path)
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(starter_yaml(spec, entry["report_id"], pdf_name), encoding="utf-8")
    done.written.append(spec_path)
    catalog.write_text(append_entry(before, entry), encoding="utf-8")
    return done


def review_notes(spec: dict) -> list[str]:
    """What a person should look at in a starter spec: guessed units and checks per table."""
    lines = []
    for t in spec.get("tables", []):
        units = sorted({u.get("unit", "?") for u in t.get("units", []) or []})
        names = [next(iter(c)) if isinstance(c, dict) else str(c) for c in t.get("checks", [])]
        checks = [n if names.count(n) == 1 else f"{n} x{names.count(n)}"
                  for n in dict.fromkeys(names)]
        lines.append(f"  {t['table_id']}: {t.get('title') or t.get('caption') or ''}".rstrip())
        lines.append(f"      units guessed: {', '.join(units) or 'counts only'}; checks "
                     f"guessed: {', '.join(checks) or 'none (the table will show not checked)'}")
    return lines


def acknowledgement_yaml(findings: list[dict]) -> str:
    """YAML to paste under a table's `acknowledged:` for findings the publication itself has."""
    by_table: dict[str, list[dict]] = {}
    for f in findings:
        by_table.setdefault(f["table_id"], []).append(f)
    out = []
    for table_id, items in by_table.items():
        out.append(f"# table {table_id}: paste under its `acknowledged:` list once you have "
                   "checked the page")
        for f in items:
            cell = f.get("culprit") or (f.get("cells") or [{}])[0]
            out.append(yaml.safe_dump([{
                "check_id": f["check_id"],
                "cell": {"row": cell.get("row_path"), "column": cell.get("column_path")},
                "reason": f"{TODO}: why this is the publication's own number ({f['message']})",
            }], sort_keys=False, allow_unicode=True, width=100).rstrip())
    return "\n".join(out)
