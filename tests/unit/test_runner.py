"""Which task runner `auto` picks, the process pool started before the flow (flows/pool.py),
and the per-build read cache of the downstream builders."""
from __future__ import annotations

import gc
import json
import os
import pickle
import pydoc
import signal
import subprocess
import sys

import prefect.context
import pytest
from prefect.context import TagsContext, serialize_context
from prefect.settings import get_current_settings

from statlift.extractors.lattice import opencv_threads
from statlift.flows import pool as pool_module
from statlift.flows.pool import (
    PREFECT_HYDRATED_CONTEXT,
    WORKER_MODULE,
    EarlyProcessPool,
    library_threads,
    worker_context,
    worker_hydrated_context,
    worker_state,
)
from statlift.flows.run import runner_name
from statlift.outputs.processed import read_once, read_text_csv


@pytest.mark.parametrize(("workers", "reports", "expected"), [
    (2, 2, "threads"),       # the two shipped reports: the pool's start-up eats the gain
    (2, 3, "processes"),     # a report per worker process
    (2, 50, "processes"),
    (1, 50, "threads"),      # one core: nothing to share out
])
def test_auto_runner(workers, reports, expected):
    assert runner_name("auto", workers, reports) == expected


def test_explicit_runner_is_kept_and_unknown_is_an_error():
    assert runner_name("threads", 2, 50) == "threads"
    assert runner_name("dask", 2, 1) == "dask"
    with pytest.raises(ValueError, match="unknown runner 'fork'"):
        runner_name("fork", 2, 2)


def test_early_pool_starts_every_worker_with_statlift_imported_and_hands_itself_to_the_flow():
    pool = EarlyProcessPool(max_workers=2).start_early()
    try:
        executor = pool._executor  # Prefect's ProcessPoolExecutor
        assert executor is not None
        started = set(executor._processes)  # both workers run before any report is submitted
        assert len(started) == 2
        seen = {executor.submit(worker_state).result(timeout=120) for _ in range(6)}
        assert {pid for pid, _ in seen} <= started
        assert all(imported for _, imported in seen), f"{WORKER_MODULE} not imported: {seen}"
        # each worker's OpenCV has its share of the cores, not every core
        threads = {executor.submit(opencv_threads).result(timeout=120) for _ in range(4)}
        assert threads == {library_threads(2)}
        # and Prefect hydrates each task's context through statlift's (settings built once)
        hydrate = {executor.submit(pydoc.locate, "prefect.context.hydrated_context").result(
            timeout=120) for _ in range(4)}
        assert hydrate == {worker_hydrated_context}
        method = executor._mp_context.get_start_method()
        if method in ("fork", "forkserver"):  # Linux, macOS
            # forked from the fork server that imported statlift once, not spawned from here
            # (fork from this process only when asked: start_early(fork=True), the next test)
            assert method == "forkserver"
            parents = {executor.submit(os.getppid).result(timeout=120) for _ in range(4)}
            assert os.getpid() not in parents and len(parents) == 1, parents
            # with Prefect's collections loaded there (flows/preload.py), not in each worker
            loaded = {executor.submit(eval, "__import__('prefect._internal.plugins.collections')"
                                            "._internal.plugins.collections._collections is not "
                                            "None").result(timeout=120) for _ in range(4)}
            assert loaded == {True}
            # and its objects frozen out of the collector's way (its exit took 0.55-0.7 s)
            frozen = {executor.submit(gc.get_freeze_count).result(timeout=120)
                      for _ in range(4)}
            assert min(frozen) > 100_000, frozen
        assert pool.started_early
        assert pool.duplicate() is pool  # what Prefect's flow engine enters
        twin = pickle.loads(pickle.dumps(pool))  # shipped with the flow to every task
        assert isinstance(twin, EarlyProcessPool) and not twin.started_early
        with pool as entered:  # the flow run: no "already started", the same processes
            assert entered is pool and set(entered._executor._processes) == started
        assert pool._executor is None and not pool.started_early  # the flow's end shuts it down
    finally:
        pool.close()
    pool.close()  # closed twice: nothing happens


def test_a_workers_task_context_is_prefects_with_the_settings_built_once(monkeypatch, tmp_path):
    """worker_hydrated_context, what a worker process hydrates each task's serialized context
    with: the settings and the rest of the context are what Prefect's own hydrated_context
    gives; Prefect's settings are built once for the same serialized settings, again for others
    (compared by value, as each task's copy arrives unpickled)."""
    built = []

    class Counted(prefect.context.SettingsContext):
        def __init__(self, **kwargs):
            built.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(prefect.context, "SettingsContext", Counted)
    monkeypatch.setattr(pool_module, "_SETTINGS_CONTEXTS", {})
    serialized = {**serialize_context(), "tags_context": {"current_tags": {"statlift"}}}
    assert serialized["settings_context"]

    def seen(hydrate, context) -> tuple:
        # a task's copy, as a worker gets it; a client given: none asked of Prefect (with no
        # API configured it would start a temporary server), and none used without a run
        with hydrate(pickle.loads(pickle.dumps(context)), client=object()):
            return (get_current_settings().model_dump(), TagsContext.get().current_tags,
                    prefect.context.SettingsContext.get())

    prefects = seen(PREFECT_HYDRATED_CONTEXT, serialized)
    assert len(built) == 1
    first, second = seen(worker_hydrated_context, serialized), \
        seen(worker_hydrated_context, serialized)
    assert first[:2] == second[:2] == prefects[:2] == (prefects[0], {"statlift"})
    assert len(built) == 2  # Prefect's own once, statlift's once for both tasks
    assert first[2] is not second[2]  # each task enters its own copy
    other = pickle.loads(pickle.dumps(serialized))
    other["settings_context"]["settings"]["home"] = str(tmp_path)
    assert prefects[0]["home"] != tmp_path
    assert seen(worker_hydrated_context, other)[0]["home"] == tmp_path
    assert len(built) == 3


def test_the_default_workers_are_the_cpus_this_process_may_use(monkeypatch):
    """Without --workers: settings.usable_cpus (affinity, the container's CPU limit), not the
    machine's cores; OpenCV's threads share out the same count."""
    from statlift.flows import run as run_module

    monkeypatch.setattr(pool_module, "usable_cpus", lambda: 1)
    monkeypatch.setattr(run_module, "usable_cpus", lambda: 1)
    assert runner_name("auto", None, 50) == "threads"  # one CPU: no pool
    assert run_module.make_task_runner("auto", None, reports=50)._max_workers == 1
    assert library_threads(1) == 1
    monkeypatch.setattr(pool_module, "usable_cpus", lambda: 3)
    monkeypatch.setattr(run_module, "usable_cpus", lambda: 3)
    assert runner_name("auto", None, 50) == "processes"
    runner = run_module.make_task_runner("auto", None, reports=50)
    assert isinstance(runner, EarlyProcessPool) and runner._max_workers == 3
    assert library_threads(1) == 3 and library_threads(3) == 1
    # the pool the command line starts early (cli/main.py: EarlyProcessPool(args.workers)),
    # where Prefect's own default would be the machine's cores; Prefect's setting still counts
    assert EarlyProcessPool()._max_workers == 3 and EarlyProcessPool(5)._max_workers == 5
    from prefect.settings import PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS, temporary_settings

    with temporary_settings({PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS: 4}):
        assert EarlyProcessPool()._max_workers == 4


def test_library_threads_share_the_cores_between_workers():
    assert library_threads(2, cores=2) == 1  # a report per core: no core left to share
    assert library_threads(1, cores=2) == 2
    assert library_threads(2, cores=8) == 4
    assert library_threads(16, cores=8) == 1
    assert library_threads(0, cores=1) == 1


def test_workers_are_forked_from_this_process_on_linux_when_asked_and_no_other_thread_runs():
    """fork on Linux when asked (the command line before its flow) from a process that runs
    only its main thread; otherwise a fork server that imports the worker module before it
    forks (threads running: a pool Prefect enters inside a running flow; not asked; macOS);
    spawn (Prefect's own way: a fresh interpreter per worker) where the platform has neither
    (Windows)."""
    every = ["spawn", "fork", "forkserver"]
    assert worker_context(every, "linux", threads=1, fork=True).get_start_method() == "fork"
    assert worker_context(every, "linux", threads=1).get_start_method() == "forkserver"
    assert worker_context(every, "linux", 3, fork=True).get_start_method() == "forkserver"
    assert worker_context(every, "darwin", 1, fork=True).get_start_method() == "forkserver"
    assert worker_context(["spawn"], "win32", 1, fork=True).get_start_method() == "spawn"


# run in a process of its own: pytest-xdist's worker runs threads, which rule fork out
FORKED_POOL = """
import json, os, signal, sys, threading
at_fork = []
os.register_at_fork(before=lambda: at_fork.append(threading.active_count()))
def terminated(signum, frame):  # as the command line has it (cli/main.py)
    raise SystemExit(143)
signal.signal(signal.SIGTERM, terminated)
from statlift.flows.pool import EarlyProcessPool, WORKER_MODULE, worker_state
before = set(sys.modules)
pool = EarlyProcessPool(max_workers=2).start_early(fork=True)  # as cli/main.py
try:
    executor = pool._executor
    def ask(fn):
        return sorted({executor.submit(fn).result(timeout=120) for _ in range(6)})
    print(json.dumps({
        "method": executor._mp_context.get_start_method(), "me": os.getpid(),
        "processes": sorted(executor._processes), "threads_at_fork": at_fork,
        "imported_here": WORKER_MODULE not in before and WORKER_MODULE in sys.modules,
        "parents": ask(os.getppid), "states": ask(worker_state),
        "sigterm": sorted({str(executor.submit(signal.getsignal, signal.SIGTERM).result(
            timeout=120)) for _ in range(6)}),
        "threads_now": threading.active_count(),
    }))
finally:
    pool.close()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is for Linux")
def test_the_command_lines_pool_forks_its_workers_before_any_thread_starts(tmp_path):
    """EarlyProcessPool.start_early from a process that runs only its main thread (the command
    line): the worker module imported here, then both workers forked from this process while
    no other thread runs (Prefect's own order starts its message-forwarding thread first), then
    the pool's threads; each worker has the module and takes SIGTERM's default action."""
    out = subprocess.run([sys.executable, "-c", FORKED_POOL], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PREFECT_HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["method"] == "fork"
    assert seen["imported_here"]
    assert len(seen["processes"]) == 2 and seen["parents"] == [seen["me"]]
    assert seen["threads_at_fork"] == [1, 1], seen["threads_at_fork"]
    assert {pid for pid, _ in seen["states"]} <= set(seen["processes"])
    assert all(imported for _, imported in seen["states"])
    assert seen["sigterm"] == [str(signal.SIG_DFL)]  # not the command line's handler
    assert seen["threads_now"] > 1  # Prefect's forwarding thread and the executor's, after


def test_a_pool_not_started_early_is_prefects_pool():
    pool = EarlyProcessPool(max_workers=2)
    twin = pool.duplicate()
    assert twin is not pool and isinstance(twin, EarlyProcessPool) and not twin.started_early
    pool.close()  # never started: nothing to shut down
    assert pool._executor is None


def test_read_once_parses_once_and_hands_out_copies(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("row,2019\nTotal,5\n", encoding="utf-8")
    with read_once():
        first = read_text_csv(path)
        first.loc[0, "2019"] = "changed by a caller"
        path.write_text("row,2019\nTotal,6\n", encoding="utf-8")
        assert read_text_csv(path).loc[0, "2019"] == "5"  # parsed once, caller's edit not kept
    assert read_text_csv(path).loc[0, "2019"] == "6"  # outside the block: read again
