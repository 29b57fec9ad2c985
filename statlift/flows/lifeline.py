"""The processes a run starts end with it, however it ends.

A run that ends normally, by an exception, Ctrl-C or SIGTERM stops what it started (exit
handlers, `finally` blocks). A run killed outright (SIGKILL: the kernel's out-of-memory killer,
`timeout -s KILL`, a cancelled CI job) runs none of that, and left running, each holding its
memory: Prefect's temporary API server (also a port and Prefect's database), and with the
process pool its fork server and worker processes (a worker waits for work forever: it holds
its own queue's writing end; the fork server lives while a worker does). On a machine that
runs statlift on a schedule they piled up.

- Prefect's server is a child of the run: the kernel sends it SIGTERM when the run's process
  ends (Linux's PR_SET_PDEATHSIG, set between fork and exec: `server_preexec`).
- A worker (forked from the run itself on Linux, else from a fork server: flows/pool.py)
  watches the run's process (a pidfd, Linux 5.3+) from a thread that sleeps in the kernel, and
  exits when it ends (`exit_with`); a fork server then finds no client left and exits, and so
  does multiprocessing's resource tracker.

Elsewhere (macOS, Windows, older kernels) both do nothing: a killed run leaves them, as before.
What a killed run leaves on disk (staging folders, the server's empty log) carries its process
id, and the next run removes it when that process has ended (`running`).
Nothing here imports Prefect.
"""
from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def server_preexec() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen that gives the child SIGTERM when this process ends
    (or ends the child at once if this process is already gone); None where the platform has
    no such thing, or where this process runs threads (a preexec_fn is not safe with threads;
    the program starts the server before it starts any)."""
    prctl = _prctl()
    if prctl is None or threading.active_count() > 1:
        return None
    parent = os.getpid()

    def preexec() -> None:  # in the child, between fork and exec: no allocation, no import
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the run ended before the line above
            os._exit(1)

    return preexec


def exit_with(pid: int) -> bool:
    """Exit this process (status 1, no clean-up: nothing of it is published) as soon as process
    `pid` ends; watched from a daemon thread. True when the watch is set; False where the
    platform cannot watch a process that is not its parent."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:  # already gone
        os._exit(1)
    except (AttributeError, OSError):  # not Linux 5.3+
        return False

    def watch() -> None:
        waiter = select.poll()  # (not select.select: it cannot wait on descriptors >= 1024)
        waiter.register(fd, select.POLLIN)  # readable when the process ends
        while not waiter.poll():
            pass
        os._exit(1)

    threading.Thread(target=watch, name="statlift-lifeline", daemon=True).start()
    return True


def running(pid: int) -> bool:
    """Whether process `pid` exists (POSIX; another user's counts). Elsewhere always True: on
    Windows os.kill(pid, 0) would not ask, it would signal."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
