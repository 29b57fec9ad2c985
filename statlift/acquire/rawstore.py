"""Which raw file is current for a report, and the checks a PDF must pass before we read it."""
from __future__ import annotations

import json
from pathlib import Path

from statlift.acquire.fetch import validate_pdf_file
from statlift.errors import StatliftError
from statlift.schemas.specs import ReportEntry
from statlift.settings import get_settings


def raw_dir() -> Path:
    """The raw archive: Settings.raw_dir ($STATLIFT_RAW, else $STATLIFT_HOME/raw). For the
    Prefect flows, which run in worker processes; the CLI passes its Settings' paths."""
    return get_settings().raw_dir


def current_raw_path(raw_dir: Path, entry: ReportEntry, home: Path | None = None) -> Path:
    """raw/manifest.json's current version of the report, else the catalog's embedded file
    (relative to `home`, Settings.home; read from the environment when not given)."""
    manifest = raw_dir / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        rep = data.get("reports", {}).get(entry.report_id)
        if rep and rep.get("current"):
            for v in rep.get("versions", []):
                if v.get("sha256") == rep["current"]:
                    path = Path(v["path"])
                    return path if path.is_absolute() else raw_dir.parent / path
    return (home or get_settings().home) / entry.embedded


def check_pdf(path: Path, report_id: str) -> None:
    """Refuse what is not a readable PDF with a text layer, with a clear message."""
    if not path.exists():
        raise StatliftError("file-not-found", source=str(path), expected="a PDF file",
                            found="no such file", hint=f"check the path given for {report_id}")
    validate_pdf_file(path)
