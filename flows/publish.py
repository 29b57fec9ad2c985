"""Atomic publish of one report's outputs (plain functions, no Prefect).

Outputs are written to a staging folder beside the published one (same filesystem) and swapped
in with renames only when complete; every published version is kept under
processed/<report_id>/versions/ and can be restored. On any error the published folder is left
byte-identical and the staging folder removed.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from extractors.errors import StatliftError

log = logging.getLogger(__name__)
VERSIONS = "versions"


@dataclass
class PublishResult:
    report_id: str
    path: Path
    version: str


def stage_dir(processed_dir: Path, report_id: str) -> Path:
    processed_dir.mkdir(parents=True, exist_ok=True)
    staging = processed_dir / f".staging-{report_id}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return staging


def _version_name(staging: Path) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    sha = ""
    tables = staging / "tables.json"
    if tables.exists():
        sha = json.loads(tables.read_text(encoding="utf-8")).get("source_sha256", "")[:12]
    return f"{stamp}-{sha}" if sha else stamp


def _io_error(exc: OSError, where: Path) -> StatliftError:
    code = "disk-full" if exc.errno == errno.ENOSPC else (
        "permission-denied" if isinstance(exc, PermissionError) or exc.errno == errno.EACCES
        else "io-error")
    err = StatliftError(code, source=str(where), expected="to write the published dataset",
                        found=f"{type(exc).__name__}: {exc}",
                        hint="free disk space / fix permissions and run again; the previously "
                             "published dataset is unchanged")
    err.exit_code = 3
    return err


def publish(staging: Path, processed_dir: Path, report_id: str, *,
            keep_versions: bool = True) -> PublishResult:
    """Swap `staging` in as processed/<report_id>/, keeping the versions history."""
    target = processed_dir / report_id
    version = _version_name(staging)
    backup = processed_dir / f".old-{report_id}-{uuid.uuid4().hex[:8]}"
    try:
        if keep_versions:
            history = staging / VERSIONS
            if (target / VERSIONS).exists():
                shutil.copytree(target / VERSIONS, history, dirs_exist_ok=True)
            snapshot = history / version
            snapshot.mkdir(parents=True)
            for item in staging.iterdir():
                if item.name == VERSIONS:
                    continue
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, snapshot / item.name)
        if target.exists():
            os.replace(target, backup)
        try:
            os.replace(staging, target)
        except OSError:
            if backup.exists():
                os.replace(backup, target)
            raise
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _io_error(exc, target) from exc
    shutil.rmtree(backup, ignore_errors=True)
    log.info("published %s version %s", report_id, version)
    return PublishResult(report_id, target, version)


def list_versions(processed_dir: Path, report_id: str) -> list[str]:
    folder = processed_dir / report_id / VERSIONS
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def restore(processed_dir: Path, report_id: str, version: str) -> PublishResult:
    """Publish an earlier version again (itself atomically, as a new version)."""
    source = processed_dir / report_id / VERSIONS / version
    if not source.exists():
        raise StatliftError("unknown-version", source=str(source), expected="a published version",
                            found=f"none named {version!r}",
                            hint="versions: " + ", ".join(list_versions(processed_dir, report_id)))
    staging = stage_dir(processed_dir, report_id)
    for item in source.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, staging / item.name)
    return publish(staging, processed_dir, report_id)
