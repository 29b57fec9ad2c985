"""One run at a time per output folder.

Two runs that write one output folder at once (a scheduled run still going when the next one
starts, or someone's `statlift run` beside `statlift serve`) would each publish the same reports
and build the same DuckDB file and site, and the last to finish would win with a mix of both.
Each run therefore holds an exclusive lock on the output folder itself (flock on the folder's
descriptor: nothing is written into the folder, whose files stay the published ones) from its
input checks to its end; a second run finds it held, writes nothing, and says which process
holds it. The kernel drops the lock when its process ends, however it ends (even SIGKILL), so a
killed run never leaves a stale lock behind.

The lock is per process and re-entrant: `statlift run` takes it, then the flow it runs takes it
again (the flow takes it for itself when Prefect runs it without the command line, as
`statlift serve` does). Only POSIX systems lock (fcntl); elsewhere runs are not coordinated.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from statlift.errors import StatliftError

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

_HELD: dict[str, list[int]] = {}  # resolved folder -> [descriptor, depth]
_GUARD = threading.Lock()


@contextlib.contextmanager
def output_lock(out: Path, create: bool = True) -> Iterator[None]:
    """Hold the output folder `out` for the block (created if missing; with `create` False a
    missing folder is not locked: the caller has nothing there to write over); StatliftError
    `run-in-progress` when another process holds it."""
    out = Path(out)
    if fcntl is None or (not create and not out.is_dir()):  # (no fcntl: Windows)
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    key = str(out.resolve())
    with _GUARD:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
        else:
            fd = os.open(key, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise StatliftError(
                    "run-in-progress", source=str(out),
                    found=f"another statlift run writing it ({holder(Path(key))})") from None
            _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        with _GUARD:
            held = _HELD[key]
            held[1] -= 1
            if held[1] == 0:
                del _HELD[key]
                os.close(held[0])  # closing the descriptor releases the lock


def holder(folder: Path) -> str:
    """Who holds the lock on `folder`: its process id, command and start time where the system
    says (Linux: /proc/locks), else 'a process of this machine'."""
    pid = _holder_pid(folder)
    if pid is None:
        return "a process of this machine"
    words = [f"process {pid}"]
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        command = " ".join(" ".join(c.decode(errors="replace").split()) for c in cmd)
        words.append(f"`{command[:200]}`")
        started = _started(pid)
        if started is not None:
            words.append("since " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)))
    except OSError:
        pass
    return ", ".join(words)


def _holder_pid(folder: Path) -> int | None:
    try:
        st = os.stat(folder)
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:  # "1: FLOCK  ADVISORY  WRITE 8147 fe:00:2490384 0 EOF"
        parts = line.split()
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == dev and parts[4].isdigit():
            return int(parts[4])
    return None


def _started(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")
