"""Staging folders' names, and removing those of runs that were killed.

A report is written into `processed/.<report_id>.staging-<host>-<pid>-<random>/` and swapped in
when it is complete (publish/store.py). A run that ends any ordinary way removes its staging
folders; a run killed outright (SIGKILL, a power cut) cannot, and its folders stayed beside the
published ones for good. The machine's name and the process id in the name tell the next run
whose folder it is: `statlift run` removes those of this machine whose process has ended
(`sweep`) and leaves every other one alone (a run still writing, another user's, another
machine's, a name without a process id from an older statlift).

No pandas, no Prefect: the command line sweeps before it decides whether anything needs running.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

from statlift.fileio import unique_path
from statlift.flows.lifeline import running

STAGING = re.compile(r"^\.(?P<report>.+)\.staging-(?P<host>[\w.]+)-(?P<pid>\d+)-[0-9a-f]+$")


def host() -> str:
    """This machine's name as it goes into a staging folder's name: an output folder on a
    network share may hold another machine's staging folders, whose process ids mean nothing
    here."""
    return re.sub(r"[^\w.]", "_", socket.gethostname()) or "localhost"


def prefix(report_id: str) -> str:
    """The start of a new staging folder's name for `report_id`, made by this process."""
    return f".{report_id}.staging-{host()}-{os.getpid()}-"


def scratch_name(processed_dir: Path, name: str) -> Path:
    """A new folder's path in `processed_dir` (not made) for this process's own use during a
    run (the workers' read-ahead files: flows/run.py), named as a staging folder of this
    process so that a run killed outright leaves it to the next run's sweep; the run removes it
    itself."""
    return unique_path(Path(processed_dir), prefix(name))


# in a scratch folder, a file `<name>.<SCRATCH_OWNS>` holds the path of a staging folder the run
# still owns (a report a worker read ahead and no task took): discard_scratch removes both
SCRATCH_OWNS = "owns"


def discard_scratch(folder: Path | None) -> None:
    """Remove a run's scratch folder and every staging folder it says it owns (SCRATCH_OWNS).
    Needs nothing but this module: the command line calls it on its way out, whatever was
    interrupted (a SIGTERM inside an import left the flow module unimportable)."""
    if folder is None:
        return
    for owns in Path(folder).glob(f"*.{SCRATCH_OWNS}"):
        try:
            staged = Path(owns.read_text(encoding="utf-8"))
        except OSError:
            continue
        if STAGING.match(staged.name) and staged.parent == Path(folder).parent:
            shutil.rmtree(staged, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


def sweep(processed_dir: Path) -> list[Path]:
    """Remove the staging folders in `processed_dir` whose run has ended (POSIX: elsewhere a
    process cannot be asked whether it runs without signalling it); returns what was removed."""
    try:
        entries = list(Path(processed_dir).iterdir())
    except OSError:  # no output folder yet, or unreadable: nothing of ours to remove
        return []
    removed, here = [], host()
    for path in sorted(entries):
        found = STAGING.match(path.name)
        if found is None or found["host"] != here or not path.is_dir() or path.is_symlink():
            continue
        if running(int(found["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    return removed
