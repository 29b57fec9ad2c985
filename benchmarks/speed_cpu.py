"""Where statlift's CPU goes, against the engines alone (issue 15: "measure first, with a profile
committed next to the results"). One command:

    python -m benchmarks.speed_cpu [--n 10]

CPU seconds (not wall: other load on the machine does not inflate them), each row a fresh
process over the same N reports (a synthetic catalog cycling through the shipped PDFs and the
content-unchanged re-typeset variants, as benchmarks.speed builds it):

1. the engines alone over every page of every PDF, one process (pdfplumber words + its
   text-strategy table finder, camelot stream; benchmarks.speed's script), before and after
   statlift's runs: the baseline is the mean of the two;
2. statlift's own work with no orchestrator, one process (benchmarks.plain), by stage:
   imports, reading every page's words and rules, extracting the tables (camelot and
   pdfplumber's table finder timed apart), the audit (its crops and the running-text claims
   apart), writing the outputs, the report's DuckDB/site part (prepare_report), and the build
   after the last report;
3. `statlift run --runner threads --workers 1` (Prefect's temporary server, one worker);
4. `statlift run` as a user runs it (a process per worker, 2 workers on this machine).

The differences 3 - 2 and 4 - 3 are what the orchestrator and the worker processes cost.
Writes benchmarks/results/speed-cpu.md and .json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import plain
from benchmarks.speed import (
    ENGINES_SCRIPT,
    OUT,
    REPO,
    Homes,
    load,
    machine,
    measure,
    sources,
    statlift_env,
    synthetic_catalog,
)


def stages(catalog: Path, out: Path, env: dict) -> dict:
    """CPU seconds by stage of statlift's work without an orchestrator (benchmarks.plain),
    publishing into `out`."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.plain", str(catalog), str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"benchmarks.plain failed: {proc.stderr[-2000:]}")
    spent = {k: v["cpu"] for k, v in plain.read_output(proc.stdout.splitlines())["stages"].items()}
    spent["total"] = sum(spent.values())
    return {k: round(v, 2) for k, v in spent.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10, help="reports in the synthetic catalog")
    args = ap.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="statlift-cpu-") as tmp:
        work = Path(tmp)
        homes = Homes(work)
        # a published output of the two shipped reports: the pages that hold tables
        first = work / "first"
        measure([sys.executable, "-m", "statlift.cli.main", "run", "--out", str(first)],
                statlift_env(homes.fresh()))
        srcs = sources(work, first)
        catalog, used = synthetic_catalog(work, args.n, srcs)
        pdfs = [f"{u.pdf}::{','.join(map(str, range(1, _pages(u.pdf) + 1)))}" for u in used]
        res: dict = {"started": started, "machine": machine(), "n": args.n,
                     "load_before": load(), "pdfs": sorted({u.name for u in used})}
        engines_cmd = [sys.executable, "-c", ENGINES_SCRIPT, "1", *pdfs]
        res["engines_runs"] = [measure(engines_cmd)["cpu_seconds"]]
        env = statlift_env(homes.fresh(), catalog)
        res["stages"] = stages(catalog, work / "out-plain", env)
        for key, extra in (("threads_1", ("--runner", "threads", "--workers", "1")),
                           ("default", ())):
            out = work / f"out-{key}"
            m = measure([sys.executable, "-m", "statlift.cli.main", "run", "--out", str(out),
                         *extra], statlift_env(homes.fresh(), catalog), ok=(0, 1))
            res[key] = {"cpu_seconds": m["cpu_seconds"], "seconds": m["seconds"],
                        "server_cpu_seconds": m["server_cpu_seconds"]}
        # the engines again after statlift's runs: this machine's speed for the same work moved
        # by up to 2 x between runs minutes apart; the baseline is the mean of both
        res["engines_runs"].append(measure(engines_cmd)["cpu_seconds"])
        res["engines"] = round(sum(res["engines_runs"]) / len(res["engines_runs"]), 2)
        res["load_after"] = load()
    write(res)
    return 0


def _pages(pdf: Path) -> int:
    import pdfplumber
    with pdfplumber.open(str(pdf)) as doc:
        return len(doc.pages)


def write(res: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "speed-cpu.json").write_text(json.dumps(res, indent=2) + "\n")
    eng, st = res["engines"], res["stages"]
    plain_cpu, threads, default = st["total"], res["threads_1"]["cpu_seconds"], \
        res["default"]["cpu_seconds"]
    m = res["machine"]
    lines = [
        "# Where statlift's CPU goes (issue 15)", "",
        f"`python -m benchmarks.speed_cpu --n {res['n']}` on {res['started']}, {m.get('cpu')}, "
        f"{m.get('cores')} cores; load average {res['load_before']} before, "
        f"{res['load_after']} after. CPU seconds of each process tree (other load does not "
        f"inflate them the way it inflates wall time). {res['n']} reports cycling through "
        f"{len(res['pdfs'])} PDFs (the shipped ones and re-typeset variants of them).", "",
        "| what ran | CPU s | x engines alone |", "| --- | --- | --- |",
        "| engines alone, every page, one process ("
        + (f"mean of the runs before and after statlift's: "
           f"{' and '.join(f'{e:.2f}' for e in res['engines_runs'])}"
           if len(res.get("engines_runs", [])) > 1 else "one run") + f") | {eng:.2f} | 1.00 |",
        f"| statlift's work, no orchestrator, one process | {plain_cpu:.2f} | "
        f"{plain_cpu / eng:.2f} |",
        f"| `statlift run --runner threads --workers 1` | {threads:.2f} | {threads / eng:.2f} |",
        f"| `statlift run` (a process per worker, 2 workers) | {default:.2f} | "
        f"{default / eng:.2f} |", "",
        f"The orchestrator (Prefect's temporary server, its client, a task run per report) costs "
        f"{threads - plain_cpu:.2f} CPU s over the plain work; a process per worker "
        f"{'another' if default >= threads else 'saves'} {abs(default - threads):.2f}"
        f"{'' if default >= threads else ' of it (one run each: within the noise or not)'}. "
        f"Of it, Prefect's API server process took "
        f"{res['threads_1'].get('server_cpu_seconds', 0):.2f} CPU s (one thread) and "
        f"{res['default'].get('server_cpu_seconds', 0):.2f} (2 worker processes): its boot "
        "(imports, database check) and its handling of the runs' states, events and logs.", "",
        "## statlift's work by stage (no orchestrator)", "",
        "| stage | CPU s | share |", "| --- | --- | --- |"]
    for k, v in sorted(((k, v) for k, v in st.items() if k != "total"), key=lambda kv: -kv[1]):
        lines.append(f"| {k} | {v:.2f} | {v / plain_cpu:.0%} |")
    lines += [f"| total | {plain_cpu:.2f} | |", "",
              "Nested stages are shown apart: 'statlift's reading and checks' excludes the two "
              "engines, 'audit and outputs (publish_outcomes)' excludes the crops and the "
              "claims. The engines alone read each page once per library; statlift lays out "
              "each page holding a table once for camelot and runs camelot and pdfplumber's "
              "table finder once per table on its box, and reads every page's words once for "
              "the tables and the running text.", ""]
    lines += floor_lines(res)
    (OUT / "speed-cpu.md").write_text("\n".join(lines))
    print("\n".join(lines))


# the stages that are the engines' own work inside statlift (the rest is statlift's: its reading
# and checks, the audit, the outputs, the crops, the DuckDB/site part, imports)
ENGINE_STAGES = (plain.PAGES, *plain.NESTED[plain.EXTRACT])


def floor_lines(res: dict) -> list[str]:
    """What the N-report ratio is made of: the engines' work inside statlift, statlift's own
    work, the orchestrator, each as a multiple of the engines alone; their sum is the CPU
    ratio, and on a machine whose cores are all busy the wall ratio follows it."""
    eng, st = res["engines"], res["stages"]
    inside = sum(st.get(k, 0.0) for k in ENGINE_STAGES)
    own = st["total"] - inside
    orchestrator = res["default"]["cpu_seconds"] - st["total"]
    return [
        "## What the ratio is made of", "",
        "| part | CPU s | x engines alone |", "| --- | --- | --- |",
        f"| the engines' work inside statlift (every page's words and rules, camelot, "
        f"pdfplumber's table finder) | {inside:.2f} | {inside / eng:.2f} |",
        f"| statlift's own work (its reading and checks, audit, outputs, crops, DuckDB/site "
        f"part, imports) | {own:.2f} | {own / eng:.2f} |",
        f"| the orchestrator and worker processes (`statlift run`, 2 workers, less the plain "
        f"work) | {orchestrator:.2f} | {orchestrator / eng:.2f} |",
        f"| `statlift run`, 2 workers | {res['default']['cpu_seconds']:.2f} | "
        f"{res['default']['cpu_seconds'] / eng:.2f} |", "",
        f"On a machine whose cores are all busy from start to end, the wall-time ratio at N "
        f"reports follows the CPU ratio. A ratio of 1.3 x leaves "
        f"{max(0.0, 1.3 - inside / eng):.2f} x of the engines' CPU for statlift's own work and "
        f"the orchestrator, which take {(own + orchestrator) / eng:.2f} x here. The engines' part "
        "inside statlift is not the same work as the engines alone: both read every page's "
        "words, but statlift reads ruled tables with camelot's lattice (which renders the page) "
        "and runs camelot and pdfplumber's table finder once per table on its box, where the "
        "engines alone run camelot stream and the table finder once per page.", ""]


if __name__ == "__main__":
    sys.exit(main())
