"""Imported by the fork server the worker processes are forked from (flows/pool.worker_context),
after statlift's flow module: Prefect's collections loaded there once.

Prefect imports its collections (the installed packages that register block types through the
`prefect.collections` entry point: prefect-dask, which imports dask.distributed, with statlift's
`dask` or `test` extras) the first time a process looks a block type up by its key, which a
worker does when it unpickles its first task's context: once in every worker (0.15-0.3 s of CPU
each, issue 15). Forked after this, each worker starts with them loaded. Not imported by the
command line, which does not need them for a run on threads."""
from prefect.plugins import load_prefect_collections

load_prefect_collections()
