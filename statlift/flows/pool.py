"""Prefect's process pool with its worker processes started before the flow (issue 15).

A worker process of Prefect's ProcessPoolTaskRunner starts when the flow submits its first
report, as a fresh interpreter (spawn), and then imports statlift, Prefect, pandas and the
engines (~2.4 s of CPU each) before it reads a page. The command line instead starts them
(`EarlyProcessPool.start_early`) while Prefect's temporary API server boots, so that they are
ready when the flow starts and take its first reports at once; and where the platform has a
fork server (Linux, macOS), the workers are forked from one that imported statlift's flow
module once (`worker_context`), instead of each importing it: two workers, one import.

Only Prefect's task runner is imported here: the command line starts the workers before it
imports statlift's flow module itself.
"""
from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import pickle
import sys
import types
from collections.abc import Iterator
from typing import Any

import prefect.context
import prefect.task_runners
from prefect.settings import get_current_settings
from prefect.task_runners import ProcessPoolTaskRunner

from statlift.flows.lifeline import exit_with
from statlift.settings import usable_cpus

# the module a worker needs for its reports: imported by each worker process at its start
WORKER_MODULE = "statlift.flows.run"
# where a worker sets OpenCV's threads (opencv_threads), by name: the command line imports this
# module before OpenCV, and the worker module has imported it by then
OPENCV_MODULE = "statlift.extractors.lattice"
# and what the fork server also imports before it forks them (Prefect's collections loaded, the
# fork server's objects frozen: flows/preload.py)
PRELOAD_MODULE = "statlift.flows.preload"


def runner_name(runner: str = "auto", workers: int | None = None,
                reports: int | None = None) -> str:
    """The runner a run uses: `auto` is a process pool when there are several workers and at
    least three reports to run (a report per worker process: measured 1.2 x faster than threads at
    N = 10 and N = 50 on 2 cores, benchmarks/results/speed.md), else threads (for one or two
    reports the pool's start-up, ~3 s, eats the gain)."""
    if runner == "auto":
        workers = workers or usable_cpus()
        return "processes" if workers > 1 and (reports is None or reports >= 3) else "threads"
    if runner not in ("threads", "processes", "dask"):
        raise ValueError(f"unknown runner {runner!r}: use auto, threads, processes or dask")
    return runner


def worker_context(available: list[str] | None = None) -> multiprocessing.context.BaseContext:
    """How worker processes start: forked from a fork server that imported WORKER_MODULE and
    PRELOAD_MODULE once, where the platform has one (`available`: multiprocessing's start
    methods; Linux and macOS have it), so that each worker begins with statlift, Prefect,
    pandas, the engines and Prefect's collections imported; else by spawn, Prefect's own choice
    (a fresh interpreter per worker, each importing them: ~2.4 CPU s). The fork server is a
    fresh interpreter itself (started the way spawn starts one, holding no thread or lock of the
    command line's), so a worker forked from it starts as clean as a spawned one."""
    methods = multiprocessing.get_all_start_methods() if available is None else available
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WORKER_MODULE, PRELOAD_MODULE])
    return context


@contextlib.contextmanager
def _prefect_start_method(context: multiprocessing.context.BaseContext) -> Iterator[None]:
    """ProcessPoolTaskRunner.__enter__ (prefect 3.8) takes `multiprocessing.get_context("spawn")`
    for its pool and its message queue: for the length of that call, the `multiprocessing`
    it sees answers `context` instead. Left to Prefect if it stops asking that way."""
    shim = types.SimpleNamespace(get_context=lambda method=None: context)
    saved = prefect.task_runners.multiprocessing
    prefect.task_runners.multiprocessing = shim  # type: ignore[assignment]
    try:
        yield
    finally:
        prefect.task_runners.multiprocessing = saved


def library_threads(workers: int, cores: int | None = None) -> int:
    """Threads each worker process lets a library's own pool use: the CPUs the run may use
    (settings.usable_cpus) shared out between its workers, at least one. statlift runs a
    report per worker, so with as many workers as cores the cores are already busy: OpenCV
    (camelot lattice's threshold and line search) spreading one page over every core then only
    adds its threads' hand-offs (measured on lattice over ruled pages: 13.6-14.8 CPU s with 2
    threads, 12.3-12.6 s with one, for the same wall time on an idle 2-core machine; issue 15)."""
    return max(1, (cores or usable_cpus()) // max(1, workers))


# Prefect's own hydrated_context, which worker_hydrated_context wraps
PREFECT_HYDRATED_CONTEXT = prefect.context.hydrated_context
_SETTINGS_CONTEXTS: dict[bytes, prefect.context.SettingsContext] = {}


@contextlib.contextmanager
def worker_hydrated_context(serialized_context: dict[str, Any] | None = None,
                            client: Any = None) -> Iterator[None]:
    """Prefect's hydrated_context (prefect/context.py), which a worker process enters for every
    task it runs (task_runners._run_task_in_subprocess), with its Prefect settings built once per
    worker: Prefect rebuilds them from the serialized context for every task, a pydantic-settings
    model of 54 nested parts each reading the whole environment again (~30 ms of CPU a task:
    1.5 CPU s of an N = 50 run, issue 15), though a run's pool serializes them once for all its
    tasks (ProcessPoolTaskRunner._cached_context). The same serialized settings (compared by
    value) give the context built from them the first time; each task enters a copy of it,
    then Prefect's own hydrated_context takes the rest of the serialized context as before
    (prefect is pinned: tests/unit/test_runner.py compares the two ways)."""
    context = serialized_context or {}
    settings = context.get("settings_context")
    rest = {k: v for k, v in context.items() if k != "settings_context"}
    if not settings or not rest:  # Prefect's own way (with nothing but settings it differs:
        # it sets logging up for any non-empty context)
        with PREFECT_HYDRATED_CONTEXT(serialized_context, client):
            yield
        return
    key = pickle.dumps(settings)
    if key not in _SETTINGS_CONTEXTS:
        _SETTINGS_CONTEXTS.clear()  # a worker serves one run: one entry
        _SETTINGS_CONTEXTS[key] = prefect.context.SettingsContext(**settings)
    with _SETTINGS_CONTEXTS[key].model_copy(), PREFECT_HYDRATED_CONTEXT(rest, client):
        yield


def start_worker(run_pid: int, threads: int | None = None) -> None:
    """The pool's initializer, in each worker process at its start: import WORKER_MODULE (a
    no-op when forked from the fork server, which imported it), give OpenCV `threads` threads
    (library_threads, through OPENCV_MODULE's opencv_threads; None: OpenCV's own choice), have
    Prefect hydrate each task's context with its settings built once (worker_hydrated_context),
    and exit when the run's process `run_pid` ends, even when it is killed outright
    (flows/lifeline.py)."""
    importlib.import_module(WORKER_MODULE)
    if threads is not None:
        importlib.import_module(OPENCV_MODULE).opencv_threads(threads)
    prefect.context.hydrated_context = worker_hydrated_context  # type: ignore[assignment]
    exit_with(run_pid)


def worker_state() -> tuple[int, bool]:
    """(pid, whether WORKER_MODULE is imported) of the process that runs it: what start_early
    submits to start each worker."""
    return os.getpid(), WORKER_MODULE in sys.modules


class EarlyProcessPool(ProcessPoolTaskRunner):
    """ProcessPoolTaskRunner whose workers import statlift's flow module when they start, and
    can be started before the flow run (start_early): the flow then runs on this very pool
    (Prefect enters a duplicate of a flow's task runner; this one hands out itself once
    started) and shuts it down when the flow ends. A pool started early that no flow took is
    shut down with close()."""

    def __init__(self, max_workers: int | None = None) -> None:
        # the pool's size: max_workers, else Prefect's setting, else the CPUs statlift may use
        # (Prefect's own default is the machine's cores: settings.usable_cpus says why not)
        configured = get_current_settings().tasks.runner.process_pool_max_workers
        super().__init__(max_workers=max_workers or configured or usable_cpus(),
                         initializer=start_worker)
        self._initargs = (os.getpid(), library_threads(self._max_workers))
        self._early = False

    def start_early(self) -> EarlyProcessPool:
        """Start the pool and every worker process now (each imports WORKER_MODULE)."""
        self._enter()
        executor = self._executor
        assert executor is not None
        for _ in range(self._max_workers):  # a submit starts a process while none is idle
            executor.submit(worker_state)
        self._early = True
        return self

    @property
    def started_early(self) -> bool:
        return self._early and self._started

    def duplicate(self) -> EarlyProcessPool:
        return self if self.started_early else super().duplicate()

    def __enter__(self) -> EarlyProcessPool:
        if self.started_early:  # the flow run takes the pool started before it
            return self
        self._enter()
        return self

    def _enter(self) -> None:
        with _prefect_start_method(worker_context()):
            super().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._early = False
        super().__exit__(*exc)

    def __reduce__(self) -> tuple:
        """Pickled as a pool not started: Prefect ships the flow (and so its task runner, this
        pool once started early) to the workers with every task, and a started pool holds its
        processes' message queue, which cannot be pickled. Workers never use it."""
        return type(self), (self._max_workers,)

    def close(self) -> None:
        """Shut the pool down if it is still running (a flow that never started)."""
        if self._started:
            self.__exit__(None, None, None)
