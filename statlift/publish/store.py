"""Atomic publish of one report's outputs, keeping every published version. Plain functions.

    processed/<report_id>/                       the published folder: what readers see
    processed/<report_id>/versions/<version>/    a copy of each published version,
                                                 version = <UTC time>-<first 12 of source sha256>
    processed/<report_id>/versions.json          {"current", "versions": [...], "history": [...]}
    processed/.<report_id>.staging-<host>-<pid>-XXXX/   a run being written (same filesystem;
                                                 a killed run's is removed by the next run,
                                                 publish/staging.py)

`publish` completes the staged folder first: the old versions are carried over (hard links,
copies where links are not possible), the staged files are copied in as the new version and the
index is written. Only then is it swapped with the published folder in one step (Linux
renameat2(RENAME_EXCHANGE); elsewhere two renames, the first undone if the second fails) and the
old folder removed. Until the swap nothing under processed/<report_id>/ is written, so on any
error (disk full, permission denied) the published folder is byte-identical to before, the
staging folder is removed and a typed StatliftError is raised.

Version copies are real copies, not links to the published files, so that a later in-place write
to a published file cannot change a version.
"""
from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from statlift.errors import StatliftError, error_from_os
from statlift.fileio import create_temp_dir, write_atomic
from statlift.model import TablesDocument, Version, VersionEvent, VersionIndex
from statlift.publish import staging

log = logging.getLogger(__name__)

VERSIONS = "versions"
INDEX = "versions.json"
REQUIRED_FILES = ("tables.json", "cells.csv")
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@dataclass(frozen=True)
class PublishResult:
    report_id: str
    path: Path                 # the published folder
    version: str | None        # the version now published (None: published without a version)
    previous: str | None       # the version published before, if any
    versions: tuple[str, ...]  # every kept version, oldest first
    published_at: str


@dataclass(frozen=True)
class VersionInfo:
    version: str
    path: Path
    published_at: str
    source_sha256: str | None
    current: bool


def stage_dir(processed_dir: Path, report_id: str) -> Path:
    """A fresh, empty staging folder next to the published one (hidden, same filesystem), with
    the umask's mode: it becomes the published folder, which must be as readable as the rest."""
    processed_dir = Path(processed_dir)
    try:
        processed_dir.mkdir(parents=True, exist_ok=True)
        return create_temp_dir(processed_dir, staging.prefix(report_id))
    except OSError as exc:
        raise error_from_os(exc, str(processed_dir), "creating a staging folder") from None


def publish(staging: Path, processed_dir: Path, report_id: str, *, keep_versions: bool = True,
            required: tuple[str, ...] = REQUIRED_FILES,
            now: datetime | None = None) -> PublishResult:
    """Swap a complete staged folder in as processed/<report_id>; the staging folder is used up.

    keep_versions=False publishes without adding a version copy (old versions are still kept).
    """
    staging, processed_dir = Path(staging), Path(processed_dir)
    published = processed_dir / report_id
    when = (now or datetime.now(UTC)).astimezone(UTC)

    def complete() -> tuple[VersionIndex, VersionIndex]:
        sha = _check_staging(staging, processed_dir, report_id, required)
        index = read_index(published)
        version = _version_name(when, sha, index) if keep_versions else None
        _carry_versions(published, staging)
        if version:
            _copy_tree(staging, staging / VERSIONS / version, skip_top=(VERSIONS, INDEX))
        return index, _next_index(index, when, "publish", version,
                                  Version(version, _iso(when), sha) if version else None)

    index, new_index = _complete_and_swap(staging, published, complete, f"publishing {report_id}")
    log.info("%s: published version %s", report_id, new_index.current or "(unversioned)")
    return _result(report_id, published, new_index, index.current, when)


def restore(processed_dir: Path, report_id: str, version: str) -> PublishResult:
    """Publish a kept version again (atomically, like `publish`); no new version is added."""
    processed_dir = Path(processed_dir)
    published = processed_dir / report_id
    index = read_index(published)
    source = published / VERSIONS / version
    if version not in index.names() or not source.is_dir():
        known = ", ".join(index.names()) or "none"
        raise StatliftError("unknown-version", source=str(published / VERSIONS),
                            found=f"no version {version!r} (kept: {known})")
    when = datetime.now(UTC)
    staging = stage_dir(processed_dir, report_id)

    def complete() -> tuple[VersionIndex, VersionIndex]:
        os.rmdir(staging)
        _copy_tree(source, staging)
        _carry_versions(published, staging)
        return index, _next_index(index, when, "restore", version, None)

    _, new_index = _complete_and_swap(staging, published, complete,
                                      f"restoring {report_id} {version}")
    log.info("%s: restored version %s", report_id, version)
    return _result(report_id, published, new_index, index.current, when)


def list_versions(processed_dir: Path, report_id: str) -> list[VersionInfo]:
    """The kept versions of a report, oldest first (only those whose folder exists)."""
    published = Path(processed_dir) / report_id
    index = read_index(published)
    out = []
    for v in index.versions:
        path = published / VERSIONS / v.version
        if path.is_dir():
            out.append(VersionInfo(v.version, path, v.published_at, v.source_sha256,
                                   v.version == index.current))
    return out


def read_index(published: Path) -> VersionIndex:
    """versions.json of a published folder, or an empty index."""
    path = Path(published) / INDEX
    if not path.exists():
        return VersionIndex()
    return VersionIndex.from_json(json.loads(path.read_text(encoding="utf-8")))


# ---- steps ----------------------------------------------------------------------------------

def _complete_and_swap(staging: Path, published: Path,
                       complete: Callable[[], tuple[VersionIndex, VersionIndex]],
                       doing: str) -> tuple[VersionIndex, VersionIndex]:
    """Complete the staging folder (`complete` returns the old and the new index), write the new
    index into it and swap it in as `published`. On any error the staging folder is removed and
    `published` is untouched; an OSError becomes a StatliftError naming `published` and `doing`."""
    try:
        index, new_index = complete()
        _write_json(staging / INDEX, new_index.to_json())
        _swap(staging, published)
    except OSError as exc:
        _discard(staging)
        raise error_from_os(exc, str(published), doing) from None
    except BaseException:
        _discard(staging)
        raise
    return index, new_index


def _check_staging(staging: Path, processed_dir: Path, report_id: str,
                   required: tuple[str, ...]) -> str:
    """Refuse an incomplete or misplaced staging folder; return the source sha256 it states."""
    missing = [name for name in required if not (staging / name).is_file()]
    if not staging.is_dir() or missing:
        raise StatliftError("incomplete-output", source=str(staging),
                            expected="a staged report folder with " + ", ".join(required),
                            found="no such folder" if not staging.is_dir()
                            else "missing " + ", ".join(missing))
    if staging.stat().st_dev != processed_dir.stat().st_dev:
        raise StatliftError("publish-failed", source=str(staging),
                            expected=f"a staging folder on the filesystem of {processed_dir}",
                            found="another filesystem", hint="create it with stage_dir()")
    if (staging / VERSIONS).exists() or (staging / INDEX).exists():
        raise StatliftError("incomplete-output", source=str(staging),
                            expected="run outputs only", found=f"{VERSIONS}/ or {INDEX}",
                            hint="versions are added by publish(); do not write them")
    doc = _tables_doc(staging)
    if doc is not None and doc.report_id not in ("", report_id):
        raise StatliftError("wrong-report", source=str(staging / "tables.json"),
                            expected=f"outputs of {report_id}",
                            found=f"outputs of {doc.report_id}")
    return (doc.source_sha256 if doc is not None else None) or _tree_digest(staging)


def _tables_doc(staging: Path) -> TablesDocument | None:
    path = staging / "tables.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise StatliftError("incomplete-output", source=str(path), expected="valid JSON",
                            found=f"a damaged file ({exc})") from None
    return TablesDocument.from_json(doc) if isinstance(doc, dict) else None


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _version_name(when: datetime, sha: str, index: VersionIndex) -> str:
    base = f"{when.strftime('%Y%m%dT%H%M%SZ')}-{sha[:12]}"
    taken = set(index.names())
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _carry_versions(published: Path, staging: Path) -> None:
    """Hard-link the published folder's version copies into the staging folder."""
    old = published / VERSIONS
    (staging / VERSIONS).mkdir(exist_ok=True)
    if not old.is_dir():
        return
    for entry in sorted(old.iterdir()):
        if entry.is_dir():
            _copy_tree(entry, staging / VERSIONS / entry.name, copy=_link_or_copy)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise
        shutil.copy2(src, dst)  # filesystems without hard links


def _copy_file(src: Path, dst: Path) -> None:
    shutil.copy2(src, dst)


def _copy_tree(src: Path, dst: Path, skip_top: tuple[str, ...] = (),
               copy: Callable[[Path, Path], None] = _copy_file) -> None:
    """Copy a folder, leaving out the named top-level entries; stops at the first error with
    the OSError itself (shutil.copytree would go on and fold the errno into shutil.Error)."""
    dst.mkdir(parents=True)
    for entry in sorted(src.iterdir()):
        if entry.name in skip_top:
            continue
        if entry.is_dir() and not entry.is_symlink():
            _copy_tree(entry, dst / entry.name, copy=copy)
        else:
            copy(entry, dst / entry.name)


def _next_index(index: VersionIndex, when: datetime, action: str, current: str | None,
                added: Version | None) -> VersionIndex:
    return VersionIndex(current, index.versions + ((added,) if added else ()),
                        index.history + (VersionEvent(_iso(when), action, current),))


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def _swap(new: Path, published: Path) -> None:
    """Put `new` in place of `published` in one step; the old folder is removed afterwards."""
    if not published.exists():
        os.rename(new, published)
        return
    if _exchange(new, published):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old folder
        return
    old = published.with_name(f".{published.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(published, old)
    try:
        os.rename(new, published)
    except BaseException:
        os.rename(old, published)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _result(report_id: str, published: Path, index: VersionIndex, previous: str | None,
            when: datetime) -> PublishResult:
    return PublishResult(report_id, published, index.current, previous,
                         tuple(index.names()), _iso(when))
