"""A run killed outright (SIGKILL) leaves no process behind: Prefect's temporary server, the fork
server and the pool's workers end with it (flows/lifeline.py). Linux only, as the mechanism."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from statlift.flows import lifeline
from tests.cli_runner import REPO, cli_command, cli_env

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl, pidfd")


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(stat.parent.name))
    return tree


def _descendants(pid: int, tree: dict[int, list[int]]) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; its new parent reaps it


def _wait_gone(pids: set[int], seconds: float = 30) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if _alive(p)}
        if not left:
            return left
        time.sleep(0.2)
    return {p for p in pids if _alive(p)}


@linux
def test_a_watched_process_exits_when_the_run_ends():
    run = subprocess.Popen(["sleep", "60"])
    code = ("import time; from statlift.flows.lifeline import exit_with; "
            f"assert exit_with({run.pid}); print('watching', flush=True); time.sleep(60)")
    worker = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    assert worker.stdout is not None and worker.stdout.readline().strip() == "watching"
    assert worker.poll() is None
    run.kill()
    run.wait()
    assert worker.wait(timeout=30) == 1


@linux
def test_the_servers_preexec_is_set_only_where_it_is_safe(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert callable(lifeline.server_preexec())
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # fork with threads: no hook
    assert lifeline.server_preexec() is None


@linux
def test_a_child_started_with_the_preexec_ends_with_its_parent(tmp_path):
    """A middle process starts a child with server_preexec() and is SIGKILLed: the child gets
    SIGTERM from the kernel."""
    code = ("import subprocess, sys, time; from statlift.flows import lifeline; "
            "p = subprocess.Popen(['sleep', '60'], preexec_fn=lifeline.server_preexec()); "
            "print(p.pid, flush=True); time.sleep(60)")
    middle = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    assert middle.stdout is not None
    child = int(middle.stdout.readline())
    assert _alive(child)
    middle.kill()
    middle.wait()
    assert _wait_gone({child}) == set()


@linux
@pytest.mark.slow
@pytest.mark.parametrize("runner", ["threads", "processes"])
def test_a_killed_run_leaves_no_process_behind(tmp_path, runner):
    """SIGKILL once the run has started everything it starts (Prefect's server; with the
    process pool also its workers, forked from the run itself on Linux, and multiprocessing's
    resource tracker): every one of them ends within 30 s. Without flows/lifeline.py the server
    and the workers kept running (and a fork server, where workers come from one)."""
    out = tmp_path / "processed"
    proc = subprocess.Popen(cli_command(["run", "--out", str(out), "--runner", runner,
                                         "--workers", "2"]),
                            cwd=REPO, env=cli_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if re.search(r"127\.0\.0\.1:\d+/api", line):
            break
    deadline = time.monotonic() + 120
    started: set[int] = set()
    while time.monotonic() < deadline:
        tree = _children()
        started = _descendants(proc.pid, tree)
        # the server; with the pool, its workers (python processes forked from the run)
        workers = {p for p in started if b"uvicorn" not in _cmdline(p)
                   and b"resource_tracker" not in _cmdline(p)}
        if started and (runner == "threads" or len(workers) >= 2):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the run did not start its processes: {sorted(started)}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    left = _wait_gone(started)
    commands = {p: _cmdline(p).replace(b"\0", b" ")[:120] for p in left}
    for pid in left:  # do not leave them to the next test either
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"still running after the run was killed: {commands}"


def test_the_empty_server_logs_of_ended_runs_are_removed_at_the_next_start(tmp_path):
    """A killed run cannot remove its server's log: the next run removes it when it is empty
    and its run has ended; a running run's log and a log with content stay."""
    from statlift.flows.server import LOG_PREFIX, sweep_logs

    ended = subprocess.Popen(["true"])
    ended.wait()
    dead = tmp_path / f"{LOG_PREFIX}{ended.pid}-ab_12cd.log"
    dead.write_text("")
    said = tmp_path / f"{LOG_PREFIX}{ended.pid}-ef34gh.log"
    said.write_text("ERROR: database is locked\n")
    live = tmp_path / f"{LOG_PREFIX}{os.getpid()}-ij56kl.log"
    live.write_text("")
    other = tmp_path / f"{LOG_PREFIX}notours.log"
    other.write_text("")
    assert sweep_logs(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (said, live, other))
