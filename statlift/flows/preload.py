"""Imported, after statlift's flow module, by the process the worker processes are forked from
(flows/pool.worker_context): the command line itself on Linux (EarlyProcessPool._enter_forked),
else the fork server. Prefect's collections loaded there once, then everything it holds frozen
out of the garbage collector's way (issue 15).

- Prefect imports its collections (the installed packages that register block types through
  the `prefect.collections` entry point: prefect-dask, which imports dask.distributed, with
  statlift's `dask` or `test` extras) the first time a process looks a block type up by its key,
  which a worker does when it unpickles its first task's context: once in every worker (0.15-0.3
  s of CPU each). Forked after this, each worker starts with them loaded. The command line does
  not import them for a run on threads.
- Frozen, the parent's objects are neither walked by the workers' collections nor copied into
  them page by page when a collection touches them. A fork server also outlives the run by its
  own exit, and holds the run's output open until it ends (it and the workers share the command
  line's stdout and stderr): its exit's garbage collection over every imported object took
  0.55-0.7 s after the run had printed its last line (`statlift run | tee`, the speed
  benchmark's timing); frozen, 0.05 s. The workers, forked from it, start with these objects
  frozen as well, as settings.freeze_imports would have them at their first report."""
from prefect.plugins import load_prefect_collections

from statlift.settings import freeze_imports, tune_process

load_prefect_collections()
tune_process()  # statlift's own process (what freeze_imports asks)
freeze_imports()
