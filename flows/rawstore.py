"""Which raw file is current for a report, and the checks a PDF must pass before we read it."""
from __future__ import annotations

import json
import os
from pathlib import Path

from extractors.errors import StatliftError
from schemas.specs import ReportEntry

REPO = Path(__file__).resolve().parent.parent


def raw_dir() -> Path:
    """The raw archive: $STATLIFT_RAW if set (tests, other deployments), else raw/ here."""
    return Path(os.environ.get("STATLIFT_RAW") or REPO / "raw")


def current_raw_path(raw_dir: Path, entry: ReportEntry) -> Path:
    """raw/manifest.json's current version of the report, else the catalog's embedded file."""
    manifest = raw_dir / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        rep = data.get("reports", {}).get(entry.report_id)
        if rep and rep.get("current"):
            for v in rep.get("versions", []):
                if v.get("sha256") == rep["current"]:
                    path = Path(v["path"])
                    return path if path.is_absolute() else raw_dir.parent / path
    return REPO / entry.embedded


def check_pdf(path: Path, report_id: str) -> None:
    """Refuse what is not a readable PDF with a text layer, with a clear message."""
    if not path.exists():
        raise StatliftError("file-not-found", source=str(path), expected="a PDF file",
                            found="no such file", hint=f"check the path given for {report_id}")
    try:
        from extractors.fetch import validate_pdf_file
    except ImportError:  # the fetch layer is optional for local runs
        head = path.read_bytes()[:5]
        if head != b"%PDF-":
            raise StatliftError("not-a-pdf", source=str(path), expected="a PDF (%PDF- header)",
                                found=repr(head), hint=f"point {report_id} at the report's PDF")
        return
    validate_pdf_file(path)
