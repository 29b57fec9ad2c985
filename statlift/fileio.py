"""Writing files and folders whole, with the modes the user's umask gives (no I/O policy here).

`tempfile.mkstemp` and `tempfile.mkdtemp` create 0600 files and 0700 folders whatever the umask,
so a temp file swapped into place, or a temp folder published, would be private while every other
output is readable (0644 / 0755 under the usual umask 022). These helpers create their temp files
and folders with `os.open(..., 0o666)` / `os.mkdir(..., 0o777)` instead, which the kernel masks
with the umask like any other new file, without changing or reading the process' umask (which
other threads share).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.json", '{"x": 1}\\n')
    >>> (folder / "a.json").read_text()
    '{"x": 1}\\n'
    >>> sorted(p.name for p in folder.iterdir())  # no temp file left behind
    ['a.json']
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

_TRIES = 100


def unique_path(folder: Path, prefix: str, suffix: str = "") -> Path:
    """A new name in `folder` (not made): `prefix`, 12 random hex digits, `suffix`."""
    return Path(folder) / f"{prefix}{uuid.uuid4().hex[:12]}{suffix}"


def create_temp_file(folder: str | Path, prefix: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """Like tempfile.mkstemp (a new file, opened for writing, never an existing one), but with
    the umask's mode instead of 0600. Returns (file descriptor, path)."""
    for _ in range(_TRIES):
        path = unique_path(Path(folder), prefix, suffix)
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name in {folder}")


def create_temp_dir(folder: str | Path, prefix: str) -> Path:
    """Like tempfile.mkdtemp (a new, empty folder), but with the umask's mode instead of 0700."""
    for _ in range(_TRIES):
        path = unique_path(Path(folder), prefix)
        try:
            os.mkdir(path, 0o777)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp folder name in {folder}")


def write_atomic(path: str | Path, data: str | bytes, *, fsync: bool = False) -> None:
    """Write `data` (text as UTF-8, newlines as given) to a temp file next to `path` and swap it
    in with os.replace: a reader sees the old file or the new one, never half of one. The temp
    file is removed on any error, which is raised as is (OSError: the caller names it)."""
    path = Path(path)
    fd, tmp = create_temp_file(path.parent, f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
