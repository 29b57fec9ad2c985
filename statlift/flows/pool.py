"""Prefect's process pool with its worker processes started before the flow (issue 15).

A worker process of Prefect's ProcessPoolTaskRunner starts when the flow submits its first
report and then imports statlift, Prefect, pandas and the engines (~2.4 s of CPU each) before
it reads a page; the command line instead starts them (`EarlyProcessPool.start_early`) while
Prefect's temporary API server boots, so that they import while the server starts and take the
flow's first reports at once. Each worker imports statlift's flow module once, at its start
(the pool's initializer), not at its first task.

Only Prefect's task runner is imported here: the command line starts the workers before it
imports statlift's flow module itself.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from prefect.task_runners import ProcessPoolTaskRunner

# the module a worker needs for its reports: imported by each worker process at its start
WORKER_MODULE = "statlift.flows.run"


def runner_name(runner: str = "auto", workers: int | None = None,
                reports: int | None = None) -> str:
    """The runner a run uses: `auto` is a process pool when there are several workers and at
    least three reports to run (a report per worker process: measured 1.2 x faster than threads at
    N = 10 and N = 50 on 2 cores, benchmarks/results/speed.md), else threads (for one or two
    reports the pool's start-up, ~3 s, eats the gain)."""
    if runner == "auto":
        workers = workers or os.cpu_count() or 1
        return "processes" if workers > 1 and (reports is None or reports >= 3) else "threads"
    if runner not in ("threads", "processes", "dask"):
        raise ValueError(f"unknown runner {runner!r}: use auto, threads, processes or dask")
    return runner


def import_worker_module() -> None:
    """The pool's initializer: each worker process imports WORKER_MODULE at its start."""
    importlib.import_module(WORKER_MODULE)


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
        super().__init__(max_workers=max_workers, initializer=import_worker_module)
        self._early = False

    def start_early(self) -> EarlyProcessPool:
        """Start the pool and every worker process now (each imports WORKER_MODULE)."""
        super().__enter__()
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
        super().__enter__()
        return self

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
