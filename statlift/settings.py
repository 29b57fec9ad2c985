"""Every setting of statlift in one object, read from `STATLIFT_*` environment variables.

    STATLIFT_HOME        the project folder holding raw/ and processed/ (default: the folder this
                         package was installed from, i.e. the clone for `pip install -e .`)
    STATLIFT_RAW         raw store (default: $STATLIFT_HOME/raw)
    STATLIFT_PROCESSED   published datasets (default: $STATLIFT_HOME/processed)
    STATLIFT_CATALOG     catalog YAML (default: the catalog shipped in statlift/schemas/)
    STATLIFT_RUNNER      auto | threads | processes | dask
    STATLIFT_DASK_ADDRESS, STATLIFT_CRON

None of the defaults depends on the current directory. `get_settings()` reads the environment
when called (tests and the CLI change it); code below the CLI takes a `Settings` argument.
"""
from __future__ import annotations

import ctypes
import functools
import gc
import math
import os
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMAS_DIR = PACKAGE_DIR / "schemas"
DEFAULT_HOME = PACKAGE_DIR.parent
DEFAULT_CRON = "0 6 * * 1"  # Mondays 06:00

Runner = Literal["auto", "threads", "processes", "dask"]


class Settings(BaseSettings):
    """statlift's configuration; every field can be set as STATLIFT_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="STATLIFT_", frozen=True, extra="ignore",
                                      env_ignore_empty=True)

    home: Path = DEFAULT_HOME
    raw: Path | None = None
    processed: Path | None = None
    catalog: Path = SCHEMAS_DIR / "catalog.yaml"
    runner: Runner = "auto"
    dask_address: str | None = None
    cron: str = DEFAULT_CRON

    @property
    def raw_dir(self) -> Path:
        return Path(self.raw or self.home / "raw")

    @property
    def processed_dir(self) -> Path:
        return Path(self.processed or self.home / "processed")


def get_settings() -> Settings:
    """The settings as the environment says now (empty variables count as unset)."""
    return Settings()


def user_cache_dir() -> Path:
    """The user's cache folder ($XDG_CACHE_HOME, else ~/.cache): records that only save work
    (the downstream build record of outputs/incremental.py); deleting them costs a rebuild."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def usable_cpus(proc_cgroup: Path = Path("/proc/self/cgroup"),
                cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may use, at least one: those it may run on (its affinity, which
    `taskset` and a container's cpuset set), no more than its cgroup's CPU limit rounded up (a
    container's `--cpus`, a Kubernetes pod's CPU limit). The default number of workers of a run
    and what their libraries' threads share (flows/pool.py). os.cpu_count() counts the machine's
    cores: in a pod limited to 2 CPUs on a 64-core node it would start 64 worker processes of
    ~400 MiB each to share 2 CPUs (issue 15)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(proc_cgroup, cgroup_root)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


def cgroup_cpu_limit(proc_cgroup: Path = Path("/proc/self/cgroup"),
                     cgroup_root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPUs the CPU quota of this process's cgroup allows (the lowest along its path, the
    cgroup itself and each parent): cgroup v2's `cpu.max` ("200000 100000": 2 CPUs; "max": no
    limit), v1's `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: no limit). None where there is
    no limit or nothing to read (not Linux, no cgroup file system). In a container the cgroup
    file system usually shows the container's own cgroup at its root, which the walk reaches."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # v2: one hierarchy
            mounts = [cgroup_root]
        elif "cpu" in controllers.split(","):  # v1: the cpu controller's hierarchy
            mounts = [cgroup_root / controllers, cgroup_root / "cpu"]
        else:
            continue
        rel = Path(path.strip("/"))
        for mount in mounts:
            for folder in [mount / rel, *[mount / p for p in rel.parents]]:
                limit = _quota(folder)
                if limit is not None:
                    limits.append(limit)
    return min(limits) if limits else None


def _quota(folder: Path) -> float | None:
    """CPUs allowed by the quota files in one cgroup folder (see cgroup_cpu_limit)."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota = (folder / "cpu.cfs_quota_us").read_text().strip()
        period = (folder / "cpu.cfs_period_us").read_text().strip()
        return None if int(quota) < 0 else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


# The cycle collector's thresholds in statlift's own processes (the `statlift` program and the
# worker processes of its runs), instead of CPython's (700, 10, 10). Reading a page makes tens
# of thousands of small objects (pdfplumber's characters), and with the default first
# threshold every 700 of them start a collection, and every hundred collections a full one
# over everything the process holds (pandas', Prefect's modules...): 0.57 CPU s of a two-report
# run's 5.8, against 0.17 s with these; peak memory unchanged (benchmarks.plain under both,
# 2026-12-06). Each report's end still collects in full (flows.run.release_memory).
BATCH_GC_THRESHOLDS = (10_000, 10, 10)


_GC = {"tuned": False, "frozen": False}


# glibc's malloc serves a block of at least this size from its own mapping, returned to the
# system when the block is freed. glibc starts at this same 128 KiB but raises the threshold
# each time such a block is freed (up to 32 MiB), so that after the first report a worker's
# big buffers (pages' rasters, numpy arrays, Parquet's and DuckDB's) all come from the heap,
# and the small blocks left alive among them (caches, records that outlive a report) keep the
# freed pages from going back: a worker's heap, after each report's malloc_trim, grew from 224
# to 355 MiB over 25 reports under Prefect with 56 MiB in use (mallinfo2, 2026-12-07). With
# the threshold fixed it stays at 79-94 MiB (resident 262-311 MiB per worker, flat), at no CPU
# cost (benchmarks.plain, 10 reports, 2 interleaved pairs: 37.4 / 33.7 s default, 36.4 / 32.8 s).
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def tune_process() -> None:
    """Use BATCH_GC_THRESHOLDS in this process (only statlift's own processes call it), and
    keep big blocks out of the C heap (fix_mmap_threshold)."""
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    _GC["tuned"] = True
    fix_mmap_threshold()


@functools.cache
def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (its malloc controls: mallopt, malloc_trim), else None
    (macOS, musl, Windows: statlift leaves their allocators as they are)."""
    try:
        lib = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None


def fix_mmap_threshold() -> bool:
    """Fix glibc malloc's mmap threshold at MMAP_THRESHOLD (mallopt turns its raising off), so
    that a process reading report after report returns each report's big blocks to the system
    and stays flat. False where the C library is not glibc (nothing changed there)."""
    lib = glibc()
    return lib is not None and bool(lib.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def freeze_imports() -> None:
    """In statlift's own processes (tune_process called), once, when the modules a run needs are
    imported and before any report is read: gc.freeze() moves every object that exists now
    (Prefect's, pandas', pydantic's modules: ~200,000 objects) into a generation the collector
    never walks again. Each full collection then covers only what the run made: the one at each
    report's end (flows.run.release_memory) fell from ~0.07-0.2 s to a few ms (issue 15).
    Nothing is lost: module objects live as long as the process anyway. Callers that go on
    (tests, Python code calling main()) never called tune_process and are left alone."""
    if _GC["tuned"] and not _GC["frozen"]:
        gc.freeze()
        _GC["frozen"] = True
