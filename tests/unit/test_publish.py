"""Atomic publish: staged folders swap in whole, every version is kept, failures change nothing.

Disk-full and permission errors are simulated by patching the file operations publish uses; each
failure asserts the exact error code and that the published folder is byte-identical (a sha256 of
every file, versions included) and that no staging or backup folder is left behind.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from statlift.errors import StatliftError
from statlift.publish import store as pub
from statlift.publish.store import list_versions, publish, restore, stage_dir

REPORT = "bjs-ncj250746"
T1 = datetime(2026, 1, 5, 6, 0, 0, tzinfo=UTC)
T2 = datetime(2026, 2, 5, 6, 0, 0, tzinfo=UTC)


def _stage(processed: Path, sha: str, cells: str, *, report_id: str = REPORT,
           extra: dict[str, str] | None = None) -> Path:
    staging = stage_dir(processed, report_id)
    (staging / "tables.json").write_text(json.dumps({"report_id": report_id,
                                                     "source_sha256": sha}), encoding="utf-8")
    (staging / "cells.csv").write_text(cells, encoding="utf-8")
    (staging / "table-01.csv").write_text("Lead charge,2004\nAll,10\n", encoding="utf-8")
    (staging / "crops").mkdir()
    (staging / "crops" / "table-01.png").write_bytes(b"\x89PNG" + sha.encode())
    for name, text in (extra or {}).items():
        (staging / name).write_text(text, encoding="utf-8")
    return staging


def tree(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder, by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _outputs(folder: Path) -> dict[str, str]:
    return {k: v for k, v in tree(folder).items()
            if not k.startswith("versions/") and k != "versions.json"}


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    return tmp_path / "processed"


@pytest.fixture
def published_once(processed: Path) -> Path:
    publish(_stage(processed, "a" * 64, "cells v1\n"), processed, REPORT, now=T1)
    return processed / REPORT


def _leftovers(processed: Path) -> list[str]:
    return sorted(p.name for p in processed.iterdir() if p.name != REPORT)


# ---- the good path --------------------------------------------------------------------------

def test_stage_dir_is_fresh_hidden_and_beside_the_published_folder(processed):
    a, b = stage_dir(processed, REPORT), stage_dir(processed, REPORT)
    assert a != b and a.parent == b.parent == processed
    assert a.name.startswith(f".{REPORT}.staging-") and not any(a.iterdir())
    assert a.stat().st_dev == processed.stat().st_dev


def test_first_publish_swaps_in_and_keeps_a_version(processed):
    staging = _stage(processed, "a" * 64, "cells v1\n")
    staged = tree(staging)
    res = publish(staging, processed, REPORT, now=T1)
    folder = processed / REPORT
    assert not staging.exists() and _leftovers(processed) == []
    assert res.path == folder and res.previous is None
    assert res.version == "20260105T060000Z-aaaaaaaaaaaa" and res.versions == (res.version,)
    assert _outputs(folder) == staged
    assert tree(folder / "versions" / res.version) == staged  # a full copy, sub-folders too
    assert sorted(p.name for p in (folder / "versions").iterdir()) == [res.version]
    index = json.loads((folder / "versions.json").read_text(encoding="utf-8"))
    assert index["current"] == res.version and index["history"][0]["action"] == "publish"


def test_second_publish_replaces_outputs_and_keeps_both_versions(processed, published_once):
    first_version = tree(published_once / "versions")
    staging = _stage(processed, "b" * 64, "cells v2\n", extra={"CHANGES.md": "# Changes\n"})
    staged = tree(staging)
    res = publish(staging, processed, REPORT, now=T2)
    assert _outputs(published_once) == staged
    assert res.previous == "20260105T060000Z-aaaaaaaaaaaa"
    assert res.versions == (res.previous, "20260205T060000Z-bbbbbbbbbbbb")
    kept = tree(published_once / "versions")
    assert all(kept[k] == v for k, v in first_version.items())
    infos = list_versions(processed, REPORT)
    assert [(v.version, v.current, v.source_sha256) for v in infos] == [
        (res.previous, False, "a" * 64), (res.version, True, "b" * 64)]


def test_same_second_gets_a_distinct_version_name(processed, published_once):
    res = publish(_stage(processed, "a" * 64, "cells v1b\n"), processed, REPORT, now=T1)
    assert res.version == "20260105T060000Z-aaaaaaaaaaaa-2"


def test_restore_brings_back_an_old_version_without_adding_one(processed, published_once):
    v1 = list_versions(processed, REPORT)[0]
    v1_outputs = tree(v1.path)
    publish(_stage(processed, "b" * 64, "cells v2\n"), processed, REPORT, now=T2)
    res = restore(processed, REPORT, v1.version)
    assert _outputs(published_once) == v1_outputs
    assert res.version == v1.version and len(res.versions) == 2
    assert [v.current for v in list_versions(processed, REPORT)] == [True, False]
    assert _leftovers(processed) == []


def test_version_copies_do_not_follow_in_place_writes_to_published_files(processed,
                                                                        published_once):
    publish(_stage(processed, "b" * 64, "cells v2\n"), processed, REPORT, now=T2)
    with open(published_once / "cells.csv", "w", encoding="utf-8") as fh:  # same inode
        fh.write("edited in place\n")
    kept = [(v.path / "cells.csv").read_text() for v in list_versions(processed, REPORT)]
    assert kept == ["cells v1\n", "cells v2\n"]


def test_publish_without_keeping_a_version_still_keeps_the_old_ones(processed, published_once):
    res = publish(_stage(processed, "b" * 64, "cells v2\n"), processed, REPORT,
                  keep_versions=False, now=T2)
    assert res.version is None and res.versions == ("20260105T060000Z-aaaaaaaaaaaa",)
    assert (published_once / "versions" / res.versions[0] / "cells.csv").read_text() == "cells v1\n"


def test_two_rename_fallback_where_atomic_exchange_is_unavailable(processed, published_once,
                                                                  monkeypatch):
    monkeypatch.setattr(pub, "_exchange", lambda a, b: False)
    publish(_stage(processed, "b" * 64, "cells v2\n"), processed, REPORT, now=T2)
    assert (published_once / "cells.csv").read_text() == "cells v2\n"
    assert _leftovers(processed) == []


# ---- failures: the published folder stays byte-identical ------------------------------------

def _fails_cleanly(processed: Path, code: str, staging: Path | None, call) -> StatliftError:
    folder = processed / REPORT
    before = tree(folder) if folder.exists() else None
    with pytest.raises(StatliftError) as info:
        call()
    assert info.value.code == code, str(info.value)
    assert (tree(folder) if folder.exists() else None) == before
    if staging is not None:
        assert not staging.exists()
    assert _leftovers(processed) == []  # no staging, no backup folder left
    return info.value


def test_disk_full_while_copying_the_version_changes_nothing(processed, published_once,
                                                             monkeypatch):
    staging = _stage(processed, "b" * 64, "cells v2\n")

    def full(src, dst, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(shutil, "copy2", full)
    err = _fails_cleanly(processed, "disk-full", staging,
                         lambda: publish(staging, processed, REPORT, now=T2))
    assert err.exit_code == 3 and str(processed / REPORT) in str(err)
    assert "free some space" in str(err)


def test_disk_full_on_first_publish_leaves_no_folder(processed, monkeypatch):
    staging = _stage(processed, "a" * 64, "cells v1\n")
    monkeypatch.setattr(shutil, "copy2", lambda *a, **k: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    _fails_cleanly(processed, "disk-full", staging,
                   lambda: publish(staging, processed, REPORT, now=T1))
    assert not (processed / REPORT).exists()


def test_permission_denied_at_the_swap_changes_nothing(processed, published_once, monkeypatch):
    staging = _stage(processed, "b" * 64, "cells v2\n")

    def denied(a, b):
        raise PermissionError(errno.EACCES, "Permission denied", str(b))

    monkeypatch.setattr(pub, "_exchange", denied)
    err = _fails_cleanly(processed, "permission-denied", staging,
                         lambda: publish(staging, processed, REPORT, now=T2))
    assert err.exit_code == 3 and "permissions" in str(err)


def test_failed_second_rename_is_rolled_back(processed, published_once, monkeypatch):
    staging = _stage(processed, "b" * 64, "cells v2\n")
    monkeypatch.setattr(pub, "_exchange", lambda a, b: False)
    real = os.rename

    def rename(src, dst):
        if Path(src) == staging:  # the old folder was moved aside; putting the new one fails
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(pub.os, "rename", rename)
    _fails_cleanly(processed, "disk-full", staging,
                   lambda: publish(staging, processed, REPORT, now=T2))


def test_incomplete_staging_is_not_published(processed, published_once):
    staging = _stage(processed, "b" * 64, "cells v2\n")
    (staging / "cells.csv").unlink()
    err = _fails_cleanly(processed, "incomplete-output", staging,
                         lambda: publish(staging, processed, REPORT, now=T2))
    assert "missing cells.csv" in str(err)


def test_outputs_of_another_report_are_refused(processed, published_once):
    staging = _stage(processed, "b" * 64, "cells\n", report_id="ussc-cp-production-2021")
    err = _fails_cleanly(processed, "wrong-report", staging,
                         lambda: publish(staging, processed, REPORT, now=T2))
    assert "outputs of ussc-cp-production-2021" in str(err)


def test_restore_of_an_unknown_version(processed, published_once):
    err = _fails_cleanly(processed, "unknown-version", None,
                         lambda: restore(processed, REPORT, "20990101T000000Z-000000000000"))
    assert re.search(r"kept: 20260105T060000Z-a{12}", str(err))


def test_restore_refuses_paths_that_are_not_versions(processed, published_once):
    for name in ("..", ".", "../bjs-ncj250746"):
        _fails_cleanly(processed, "unknown-version", None,
                       lambda name=name: restore(processed, REPORT, name))


def test_restore_failing_midway_changes_nothing(processed, published_once, monkeypatch):
    v1 = list_versions(processed, REPORT)[0].version
    publish(_stage(processed, "b" * 64, "cells v2\n"), processed, REPORT, now=T2)
    monkeypatch.setattr(shutil, "copy2", lambda *a, **k: (_ for _ in ()).throw(
        PermissionError(errno.EACCES, "Permission denied")))
    _fails_cleanly(processed, "permission-denied", None, lambda: restore(processed, REPORT, v1))


# ---- modes: published folders and files as readable as every other output --------------------

@pytest.fixture(params=[0o022, 0o027, 0o077])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _modes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix() or ".": p.stat().st_mode & 0o777
            for p in [folder, *sorted(folder.rglob("*"))]}


def test_published_folder_and_files_take_the_umask_modes(processed, umask):
    """tempfile.mkdtemp made the staging folder, hence the published folder, 0700 whatever the
    umask, while every other output was 0755 / 0644."""
    publish(_stage(processed, "a" * 64, "cells v1\n"), processed, REPORT, now=T1)
    publish(_stage(processed, "b" * 64, "cells v2\n"), processed, REPORT, now=T2)
    modes = _modes(processed / REPORT)
    folders = {k for k in modes if (processed / REPORT / k).is_dir()}
    assert {"." , "crops", "versions"} <= folders and len(modes) > 10
    wrong = {k: oct(m) for k, m in modes.items()
             if m != (0o777 if k in folders else 0o666) & ~umask}
    assert not wrong, f"umask {oct(umask)}: {wrong}"


def test_restored_folder_takes_the_umask_modes(published_once, processed, umask):
    publish(_stage(processed, "b" * 64, "cells v2\n"), processed, REPORT, now=T2)
    first = list_versions(processed, REPORT)[0].version
    restore(processed, REPORT, first)
    assert (published_once.stat().st_mode & 0o777) == 0o777 & ~umask
    assert ((published_once / "versions.json").stat().st_mode & 0o777) == 0o666 & ~umask


def test_write_atomic_takes_the_umask_mode_and_leaves_no_temp_file(tmp_path, umask):
    from statlift.fileio import write_atomic

    target = tmp_path / "build.json"
    write_atomic(target, "{}\n")
    write_atomic(target, b"{\"a\": 1}\n", fsync=True)
    assert target.read_text() == '{"a": 1}\n'
    assert (target.stat().st_mode & 0o777) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["build.json"]


def test_write_atomic_removes_its_temp_file_on_error(tmp_path, monkeypatch):
    from statlift import fileio

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", no_space)
    with pytest.raises(OSError):
        fileio.write_atomic(tmp_path / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_the_next_run_removes_only_the_staging_folders_of_runs_that_ended(tmp_path):
    """A killed run cannot remove its staging folders: the process id in their names lets the
    next run remove those of ended runs, and leave a running one's and older names alone."""
    import subprocess

    from statlift.publish import staging

    processed = tmp_path / "processed"
    ours = stage_dir(processed, REPORT)  # this process: running
    assert staging.STAGING.match(ours.name)["pid"] == str(os.getpid())
    ended = subprocess.Popen(["true"])
    ended.wait()
    here = staging.host()
    dead = processed / f".{REPORT}.staging-{here}-{ended.pid}-0123456789ab"
    (dead / "sub").mkdir(parents=True)
    (dead / "sub" / "cells.csv").write_text("half written")
    old_style = processed / f".{REPORT}.staging-0123456789ab"  # no process id: left alone
    old_style.mkdir()
    # another machine's (a network share): its process ids mean nothing here
    elsewhere = processed / f".{REPORT}.staging-other_host-{ended.pid}-0123456789ab"
    elsewhere.mkdir()
    (processed / REPORT).mkdir()  # a published folder is never a staging folder
    assert staging.sweep(processed) == [dead]
    assert sorted(p.name for p in processed.iterdir()) == sorted(
        [ours.name, old_style.name, elsewhere.name, REPORT])
    assert staging.sweep(tmp_path / "missing") == []
