"""Prefect's process pool with its worker processes started before the flow (issue 15).

A worker process of Prefect's ProcessPoolTaskRunner starts when the flow submits its first
report, as a fresh interpreter (spawn), and then imports statlift, Prefect, pandas and the
engines (~2.4 s of CPU each) before it reads a page. The command line instead starts them
(`EarlyProcessPool.start_early`) while Prefect's temporary API server boots, so that they are
ready when the flow starts and take its first reports at once. How they start
(`worker_context`): on Linux, forked from the command line itself once it has imported statlift's
flow module and while it runs no thread but its main one (`EarlyProcessPool.start_early(fork=
True)`): two workers, no import of their own; otherwise forked from a fork server that imported
the flow module once (a pool Prefect enters inside a running flow, `statlift serve`; macOS), or
spawned (Windows).
"""
from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import prefect.context
import prefect.task_runners
from prefect.settings import get_current_settings
from prefect.task_runners import (
    ProcessPoolTaskRunner,
    TaskRunner,
    _initialize_process_pool_worker,
)

from statlift.flows.lifeline import exit_with
from statlift.settings import usable_cpus

# the module a worker needs for its reports: imported by each worker process at its start
WORKER_MODULE = "statlift.flows.run"
# where a worker sets OpenCV's threads (opencv_threads), by name: the command line imports this
# module before OpenCV, and the worker module has imported it by then
OPENCV_MODULE = "statlift.extractors.lattice"
# and what the workers' parent (this process, or the fork server) also imports before it forks
# them (Prefect's collections loaded, the parent's objects frozen: flows/preload.py)
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


def worker_context(available: list[str] | None = None, platform: str = sys.platform,
                   threads: int | None = None, fork: bool = False
                   ) -> multiprocessing.context.BaseContext:
    """How worker processes start, so that each begins with statlift, Prefect, pandas, the
    engines and Prefect's collections imported:
    - with `fork`, asked by a caller that has done nothing yet but import and read files (the
      command line before its flow: start_early), on Linux, while this process runs no thread
      but its main one (`threads`: how many it runs), forked from this process, which imports
      WORKER_MODULE and PRELOAD_MODULE first (EarlyProcessPool._enter_forked): a fork server
      would import them all again in an interpreter of its own (~2 CPU s) while the command line
      waits for it and Prefect's server boots beside both (issue 15). Not otherwise: a process
      that ran a library's thread pool (OpenCV's, for camelot lattice) or runs threads (a pool
      Prefect enters inside a running flow) leaves its children locks that no thread of theirs
      will release (a worker forked from a pytest process that had run lattice hung in
      OpenCV's setNumThreads), and threads started with `_thread` are not even counted;
    - else, and on macOS (where a forked child of a process that used Apple's frameworks may
      crash), a fork server that imported WORKER_MODULE and PRELOAD_MODULE once: a fresh
      interpreter itself (started the way spawn starts one, holding no thread or lock of this
      process), so that a worker forked from it starts as clean as a spawned one;
    - where the platform has neither (Windows; `available`: multiprocessing's start methods),
      spawn, Prefect's own choice: a fresh interpreter per worker, each importing them (~2.4 s
      of CPU)."""
    methods = multiprocessing.get_all_start_methods() if available is None else available
    threads = threading.active_count() if threads is None else threads
    if fork and platform.startswith("linux") and "fork" in methods and threads == 1:
        return multiprocessing.get_context("fork")
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


# the run's read-ahead folder (flows/run.py read_ahead_in_pool) in a worker of a pool that has
# one: where each report's task looks for what a worker read of it before the flow
READ_AHEAD_FOLDER: Path | None = None


def start_worker(run_pid: int, threads: int | None = None,
                 read_ahead: Path | None = None) -> None:
    """The pool's initializer, in each worker process at its start: import WORKER_MODULE (a
    no-op when forked from a process that imported it: worker_context), give OpenCV `threads`
    threads (library_threads, through OPENCV_MODULE's opencv_threads; None: OpenCV's own
    choice), have Prefect hydrate each task's context with its settings built once
    (worker_hydrated_context), and exit when the run's process `run_pid` ends, even when it is
    killed outright (flows/lifeline.py). A worker forked from the command line takes SIGTERM's
    default action, not the command line's handler (cli/main.py `_terminated`: an exception
    inside a task, which the pool would only hand back as the task's error). `read_ahead`: the
    run's read-ahead folder (READ_AHEAD_FOLDER)."""
    global READ_AHEAD_FOLDER
    READ_AHEAD_FOLDER = read_ahead
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
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

    def __init__(self, max_workers: int | None = None, read_ahead: Path | None = None) -> None:
        # the pool's size: max_workers, else Prefect's setting, else the CPUs statlift may use
        # (Prefect's own default is the machine's cores: settings.usable_cpus says why not)
        configured = get_current_settings().tasks.runner.process_pool_max_workers
        super().__init__(max_workers=max_workers or configured or usable_cpus(),
                         initializer=start_worker)
        # read_ahead: a folder for what the workers read before the flow (flows/run.py
        # read_ahead_in_pool), which each worker's tasks look in
        self.read_ahead = read_ahead
        self._initargs = (os.getpid(), library_threads(self._max_workers), read_ahead)
        self._early = False

    def start_early(self, fork: bool = False) -> EarlyProcessPool:
        """Start the pool and every worker process now (each with WORKER_MODULE imported);
        `fork`: forked from this process where worker_context allows it (the command line)."""
        self._enter(fork)
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

    def _enter(self, fork: bool = False) -> None:
        context = worker_context(fork=fork)
        if context.get_start_method() == "fork":
            self._enter_forked(context)
            return
        with _prefect_start_method(context):
            super().__enter__()

    def _enter_forked(self, context: multiprocessing.context.BaseContext) -> None:
        """Prefect's ProcessPoolTaskRunner.__enter__ (prefect 3.8, pinned) with the workers
        forked first: Prefect starts its message-forwarding thread before its executor, whose
        first submit forks the workers, so they would be forked beside a running thread. Here
        WORKER_MODULE and PRELOAD_MODULE are imported in this process (as the fork server does),
        the workers forked while only the main thread runs, then the thread and Prefect's
        resolver pool started."""
        importlib.import_module(WORKER_MODULE)
        importlib.import_module(PRELOAD_MODULE)
        TaskRunner.__enter__(self)
        self._subprocess_message_queue = context.Queue()
        try:
            self._executor = ProcessPoolExecutor(
                max_workers=self._max_workers, mp_context=context,
                initializer=_initialize_process_pool_worker,
                initargs=(self._subprocess_message_queue, self._initializer, self._initargs))
            # with fork, the executor's first submit forks every worker, then starts its own
            # thread (concurrent.futures.ProcessPoolExecutor._start_executor_manager_thread)
            self._executor.submit(worker_state)
            self._message_forwarding_thread = threading.Thread(
                target=self._forward_subprocess_messages,
                name="ProcessPoolTaskRunnerMessageForwarder", daemon=True)
            self._message_forwarding_thread.start()
            self._resolver_executor = ThreadPoolExecutor(max_workers=self._max_workers)
        except BaseException:
            if self._executor is not None:
                self._executor.shutdown(cancel_futures=True, wait=True)
                self._executor = None
            self._stop_message_forwarding()
            self._started = False
            raise

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
