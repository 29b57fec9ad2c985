"""Which raw file is current for a report, and the checks a PDF must pass before we read it."""
from __future__ import annotations

import json
from pathlib import Path

from statlift.acquire.pdfcheck import validate_pdf_file
from statlift.errors import StatliftError
from statlift.schemas.specs import ReportEntry


def current_raw_path(raw_dir: Path, entry: ReportEntry, home: Path | None = None) -> Path:
    """raw/manifest.json's current version of the report, else the catalog's embedded file,
    relative to `home` (Settings.home; when not given, the folder that holds `raw_dir`, as in the
    default layout). The caller passes the paths: nothing here reads the environment."""
    manifest = raw_dir / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        rep = data.get("reports", {}).get(entry.report_id)
        if rep and rep.get("current"):
            for v in rep.get("versions", []):
                if v.get("sha256") == rep["current"]:
                    path = Path(v["path"])
                    return path if path.is_absolute() else raw_dir.parent / path
    return (home or raw_dir.parent) / entry.embedded


def source_path(entry: ReportEntry, sources: dict[str, str], raw_dir: Path, home: Path) -> Path:
    """The PDF a run reads for a report: `--source ID=PATH` (resolved), else the manifest's
    current raw file (current_raw_path). One function for the command line's checks and the
    flow, so that both name the same file."""
    if entry.report_id in sources:
        return Path(sources[entry.report_id]).expanduser().resolve()
    return current_raw_path(raw_dir, entry, home)


def check_pdf(path: Path, report_id: str) -> None:
    """Refuse what is not a readable PDF with a text layer, with a clear message."""
    if not path.exists():
        raise StatliftError("file-not-found", source=str(path), expected="a PDF file",
                            found="no such file", hint=f"check the path given for {report_id}")
    validate_pdf_file(path)
