"""Is a report's published dataset already what a run would make? One key answers it, for the
up-to-date check here (no Prefect, no PDF engines, no pandas: an unchanged catalog costs a hash
per PDF, not a flow run) and for each table's entry in Prefect's result store (flows/run.py):

    BuildKey = (PDF sha256, spec fingerprint, code fingerprint), with the statlift version
               recorded beside them (and compared: a release changes the code anyway)

The code fingerprint (statlift/fingerprint.py) covers the code that decides the published files,
so a fix in the extractor re-extracts on the next run instead of serving the old cells. The key a
published folder was built with is in `processed/<report_id>/build.json`, written into the
staging folder just before the atomic publish (publish/report.py); a report published with
failed tables gets none, so the next run tries again.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from statlift.acquire.hashing import sha256_file
from statlift.acquire.rawstore import current_raw_path
from statlift.fileio import write_atomic
from statlift.fingerprint import STATLIFT_VERSION, code_fingerprint
from statlift.schemas.specs import Catalog, spec_for, spec_sha256

__all__ = ["BUILD_FILE", "STATLIFT_VERSION", "UP_TO_DATE", "BuildKey", "build_key",
           "read_build_key", "stale_reports", "table_cache_key", "up_to_date", "write_build_key"]

BUILD_FILE = "build.json"
UP_TO_DATE = "same source, same spec; nothing re-extracted, nothing published"


@dataclass(frozen=True)
class BuildKey:
    """What a published report was made from; equal keys make equal outputs."""

    source_sha256: str
    spec_sha256: str
    code_fingerprint: str
    statlift_version: str = STATLIFT_VERSION

    def token(self) -> str:
        return (f"{self.source_sha256}:{self.spec_sha256}:{self.code_fingerprint}:"
                f"{self.statlift_version}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def build_key(sha: str, spec_hash: str) -> BuildKey:
    """The key of this process's code for a source and a spec (or table) fingerprint."""
    return BuildKey(sha, spec_hash, code_fingerprint())


# the readable part of a table's cache key (its report and table ids) is cut to this length: the
# key is a file name in Prefect's local result store, which most file systems limit to 255 bytes
CACHE_KEY_READABLE = 100


def table_cache_key(sha: str, table_id: str, table_fingerprint: str, report_id: str) -> str:
    """The key of one table's extraction in Prefect's result store: the build key with the
    table's own spec fingerprint, so that a changed table spec re-extracts only that table. The
    report id is part of it: an extracted table carries its report's id in every cell, so two
    catalog entries of one PDF must not share a cached table.

    The key is a file name in Prefect's local result store: the report and table ids (cut to
    CACHE_KEY_READABLE characters, for a person looking in the folder) and the sha256 of every
    part, in letters, digits, '.', '_' and '-' only. The parts written out in full (three
    hashes, the version and separators: 210 characters) went over the 255-byte limit of a file
    name when the two ids came to more than 45 characters (the shipped USSC report's make 43),
    and the table was then never cached (a warning at every run); their ':' separators are not
    allowed in a file name on Windows."""
    parts = (report_id, table_id, build_key(sha, table_fingerprint).token())
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{report_id}.{table_id}")[:CACHE_KEY_READABLE]
    return f"extract-{readable}-{digest}"


def read_build_key(folder: Path) -> BuildKey | None:
    """The key a published folder was built with (None: none, or unreadable)."""
    try:
        return BuildKey(**json.loads((Path(folder) / BUILD_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_build_key(folder: Path, report_id: str, sha: str) -> BuildKey:
    """Write build.json for `report_id` made from the PDF `sha` into `folder` (the staging folder
    before publish; the published folder when a re-extraction gave the same cells). Written to a
    temp file and swapped in, so a reader never sees half a key."""
    folder = Path(folder)
    key = build_key(sha, spec_sha256(spec_for(report_id)))
    if read_build_key(folder) == key:
        return key
    write_atomic(folder / BUILD_FILE, key.to_json())
    return key


def up_to_date(published: Path, key: BuildKey) -> bool:
    """The report folder was published from this source, with this spec, by this code."""
    return read_build_key(published) == key


def stale_reports(report_ids: list[str], out_dir: str | Path, catalog: Catalog, raw_dir: Path,
                  home: Path) -> list[str]:
    """The reports a run would extract: the current raw file, the spec or the code is not what
    the published folder was built with (a report whose raw file is missing counts: the run will
    say why it fails)."""
    out_dir = Path(out_dir)
    stale = []
    for rid in report_ids:
        pdf = current_raw_path(raw_dir, catalog.get(rid), home)
        if not pdf.is_file() or not up_to_date(
                out_dir / rid, build_key(sha256_file(pdf), spec_sha256(spec_for(rid, catalog)))):
            stale.append(rid)
    return stale
