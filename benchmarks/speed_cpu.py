"""Where statlift's CPU goes, against the engines alone (issue 15: "measure first, with a profile
committed next to the results"). One command:

    python -m benchmarks.speed_cpu [--n 10]

CPU seconds (not wall: other load on the machine does not inflate them), each row a fresh
process over the same N reports (a synthetic catalog cycling through the shipped PDFs and the
content-unchanged re-typeset variants, as benchmarks.speed builds it):

1. the engines alone over every page of every PDF, one process (pdfplumber words + its
   text-strategy table finder, camelot stream; benchmarks.speed's script);
2. statlift's own work with no orchestrator, one process, by stage: imports, reading every
   page's words and rules, extracting the tables (camelot and pdfplumber's table finder timed
   apart), the audit (its crops and the running-text claims apart), writing the outputs, the
   report's DuckDB/site part (prepare_report), and the build after the last report;
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
import textwrap
import time
from pathlib import Path

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

# statlift's work in one process, by stage; argv[1] = the catalog. Prints one JSON line.
STAGES_SCRIPT = textwrap.dedent("""
    import json, sys, time, tempfile
    from pathlib import Path
    t0 = time.process_time()
    from statlift.acquire.hashing import sha256_file
    from statlift.extractors import engines
    from statlift.extractors.pdfdoc import Document, lent
    from statlift.extractors.table import extract_table
    from statlift.outputs.finish import build_downstream
    from statlift.outputs.incremental import prepare_report
    from statlift.publish.report import publish_outcomes
    from statlift.model import TableOutcome
    from statlift.schemas.specs import load_catalog, spec_for
    from statlift.validate import audit
    spent = {"imports": time.process_time() - t0}

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - t
        return wrapper

    for name in ("camelot", "pdfplumber"):
        engines.ENGINES[name] = timed(f"extract: {name} (engine)", engines.ENGINES[name])
    audit.write_crops = timed("audit: page crops (PDFium render, PNG)", audit.write_crops)
    audit.text_claims = timed("audit: running-text claims", audit.text_claims)

    def stage(name, fn, *a):
        t = time.process_time()
        out = fn(*a)
        spent[name] = spent.get(name, 0.0) + time.process_time() - t
        return out

    cat = load_catalog(sys.argv[1])
    out = Path(tempfile.mkdtemp())
    for entry in cat.reports:
        rid, pdf = entry.report_id, str(entry.embedded)
        report, sha = spec_for(rid, cat), sha256_file(pdf)
        doc = Document.open(pdf)
        stage("pages: words and rules (pdfplumber)", lambda: list(doc.pages()))
        outcomes = stage("extract: statlift's reading and checks",
                         lambda: [TableOutcome(t.table_id, extract_table(doc, report, t))
                                  for t in report.tables])
        with lent(doc):
            stage("audit and outputs", publish_outcomes, out, rid, sha, pdf, outcomes, False)
        doc.close()
        stage("report's DuckDB/site/dictionary part (prepare_report)", prepare_report,
              out, rid, cat)
    stage("build after the last report (build_downstream)", build_downstream, out)
    spent["total"] = time.process_time() - t0
    print(json.dumps(spent))
""")

NESTED = {  # stages timed inside another: subtracted from it in the table
    "extract: statlift's reading and checks": ("extract: camelot (engine)",
                                               "extract: pdfplumber (engine)"),
    "audit and outputs": ("audit: page crops (PDFium render, PNG)",
                          "audit: running-text claims"),
}


def stages(catalog: Path, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", STAGES_SCRIPT, str(catalog)], cwd=REPO,
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"stages script failed: {proc.stderr[-2000:]}")
    spent = json.loads(proc.stdout.strip().splitlines()[-1])
    for outer, inner in NESTED.items():
        spent[outer] -= sum(spent.get(k, 0.0) for k in inner)
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
        res["engines"] = measure([sys.executable, "-c", ENGINES_SCRIPT, "1", *pdfs])["cpu_seconds"]
        env = statlift_env(homes.fresh(), catalog)
        res["stages"] = stages(catalog, env)
        for key, extra in (("threads_1", ("--runner", "threads", "--workers", "1")),
                           ("default", ())):
            out = work / f"out-{key}"
            m = measure([sys.executable, "-m", "statlift.cli.main", "run", "--out", str(out),
                         *extra], statlift_env(homes.fresh(), catalog), ok=(0, 1))
            res[key] = {"cpu_seconds": m["cpu_seconds"], "seconds": m["seconds"]}
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
    plain, threads, default = st["total"], res["threads_1"]["cpu_seconds"], \
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
        f"| engines alone, every page, one process | {eng:.2f} | 1.00 |",
        f"| statlift's work, no orchestrator, one process | {plain:.2f} | {plain / eng:.2f} |",
        f"| `statlift run --runner threads --workers 1` | {threads:.2f} | {threads / eng:.2f} |",
        f"| `statlift run` (a process per worker, 2 workers) | {default:.2f} | "
        f"{default / eng:.2f} |", "",
        f"The orchestrator (Prefect's temporary server, its client, a task run per table) costs "
        f"{threads - plain:.2f} CPU s over the plain work; the worker processes another "
        f"{default - threads:.2f}.", "",
        "## statlift's work by stage (no orchestrator)", "",
        "| stage | CPU s | share |", "| --- | --- | --- |"]
    for k, v in sorted(((k, v) for k, v in st.items() if k != "total"), key=lambda kv: -kv[1]):
        lines.append(f"| {k} | {v:.2f} | {v / plain:.0%} |")
    lines += [f"| total | {plain:.2f} | |", "",
              "Nested stages are shown apart: 'statlift's reading and checks' excludes the two "
              "engines, 'audit and outputs' excludes the crops and the claims. The engines "
              "alone read each page once per library; statlift runs camelot and pdfplumber's "
              "table finder once per table on its box (a page with two tables is read twice "
              "by camelot), and reads every page's words once for the tables and the running "
              "text.", ""]
    (OUT / "speed-cpu.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
