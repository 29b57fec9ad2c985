"""Is a report's published dataset already what a run would make? A light check (no Prefect,
no PDF engines, no pandas) so that an unchanged catalog costs a hash per PDF, not a flow run."""
from __future__ import annotations

import json
from pathlib import Path

from statlift.acquire.hashing import sha256_file
from statlift.schemas.specs import spec_for, spec_sha256

STATLIFT_VERSION = "0.1.0"
UP_TO_DATE = "same source, same spec; nothing re-extracted, nothing published"


def up_to_date(published: Path, sha: str, spec_hash: str) -> bool:
    """The report folder was published from this source with this spec by this statlift."""
    try:
        doc = json.loads((published / "tables.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (doc.get("source_sha256") == sha and doc.get("spec_sha256") == spec_hash
            and doc.get("statlift_version") == STATLIFT_VERSION and not doc.get("failed"))


def stale_reports(report_ids: list[str], out_dir: str | Path) -> list[str]:
    """The reports a run would extract: current raw file or spec not the published ones (a
    report whose raw file is missing counts: the run will say why it fails)."""
    from statlift.acquire.rawstore import current_raw_path, raw_dir
    from statlift.schemas.specs import load_catalog

    out_dir = Path(out_dir)
    catalog = load_catalog()
    stale = []
    for rid in report_ids:
        pdf = current_raw_path(raw_dir(), catalog.get(rid))
        if not pdf.is_file() or not up_to_date(out_dir / rid, sha256_file(pdf),
                                               spec_sha256(spec_for(rid, catalog))):
            stale.append(rid)
    return stale

