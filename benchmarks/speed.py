"""How much statlift costs beyond the PDF engines themselves. One command:

    python -m benchmarks.speed [--sizes 1,10,50,200] [--quick]

In one run, on the same pages: (1) the engines alone (pdfplumber words + table finder and camelot
stream on every page that holds a table, as one process); (2) `statlift run` cold (fresh Prefect
home, no cache) as a process on the two shipped reports; (3) the same warm (nothing changed);
(4) a synthetic catalog of N reports (copies of the shipped PDFs under other ids) for each N,
with 2 workers and, for the largest N <= 50, with 1 worker. Wall time, pages/s and peak RSS of
the whole process tree. Results: benchmarks/results/speed.md and .json (ratios, not seconds,
are what to compare across machines).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "results"
ENGINES_SCRIPT = textwrap.dedent("""
    import sys, time, warnings
    import pdfplumber, camelot
    warnings.simplefilter("ignore")
    for spec in sys.argv[1:]:
        path, pages = spec.split("::")
        with pdfplumber.open(path) as pdf:
            for n in map(int, pages.split(",")):
                page = pdf.pages[n - 1]
                page.extract_words(extra_attrs=["size", "fontname"])
                page.find_tables({"vertical_strategy": "text", "horizontal_strategy": "text"})
        camelot.read_pdf(path, pages=pages, flavor="stream")
""")


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Wall seconds and peak RSS (MiB) of a command and all its children."""
    started = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def poll():
        nonlocal peak
        while not stop.is_set():
            try:
                procs = [proc] + proc.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    out, err = proc.communicate()
    stop.set()
    t.join()
    if proc.returncode not in (0,):
        raise RuntimeError(f"{cmd[:4]} exited {proc.returncode}: {err[-2000:]}")
    return {"seconds": round(time.perf_counter() - started, 2), "peak_rss_mib": round(peak / 2**20)}


def table_pages() -> dict[str, list[int]]:
    """Pages that hold tables, from the published tables.json (run `statlift run` first)."""
    out = {}
    for tables in (REPO / "processed").glob("*/tables.json"):
        doc = json.loads(tables.read_text())
        pages = sorted({p for t in doc["tables"].values() for p in (t.get("pages") or [t["page"]])})
        out[doc["source_path"]] = pages
    return out


def synthetic_catalog(folder: Path, n: int) -> Path:
    """N copies of the shipped reports under other ids (alternating BJS and USSC)."""
    base = yaml.safe_load((REPO / "schemas" / "catalog.yaml").read_text())
    reports = []
    for i in range(n):
        src = dict(base["reports"][i % len(base["reports"])])
        pdf = REPO / src["embedded"]
        src["report_id"] = f"{src['report_id']}-copy{i:03d}"
        src["embedded"] = str(pdf)
        reports.append(src)
    path = folder / f"catalog-{n}.yaml"
    path.write_text(yaml.safe_dump({"catalog_version": 1, "reports": reports}))
    return path


def statlift_env(home: Path, catalog: Path | None = None) -> dict:
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(home)
    env.pop("PREFECT_API_URL", None)
    if catalog:
        env["STATLIFT_CATALOG"] = str(catalog)
    return env


PREFECT_INIT = "from prefect import flow\n@flow\ndef init(): pass\ninit()\n"


def prepare_home(home: Path) -> dict:
    """A Prefect home with its database created (a one-time cost, measured on its own) and no
    cached results: what a user's second day looks like with a changed catalog."""
    return measure([sys.executable, "-c", PREFECT_INIT], statlift_env(home))


def run_statlift(work: Path, name: str, catalog: Path | None, workers: int,
                 runner: str) -> dict:
    prepare_home(work / f"prefect-{name}")
    out = work / f"out-{name}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "flows.cli", "run", "--out", str(out), "--runner", runner,
           "--workers", str(workers)]
    return measure(cmd, statlift_env(work / f"prefect-{name}", catalog))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,10,50,200")
    ap.add_argument("--quick", action="store_true", help="sizes 1,10 only")
    args = ap.parse_args(argv)
    sizes = [1, 10] if args.quick else [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="statlift-speed-"))
    pages = table_pages()
    if not pages:
        raise SystemExit("run `statlift run` first: the benchmark reads which pages hold tables")
    n_pages = sum(len(p) for p in pages.values())
    specs = [f"{pdf}::{','.join(map(str, p))}" for pdf, p in pages.items()]
    res: dict = {"pages_with_tables": n_pages}
    res["engines_alone"] = measure([sys.executable, "-c", ENGINES_SCRIPT, *specs])
    all_pages = [f"{pdf}::{','.join(str(i) for i in range(1, 1 + _count(pdf)))}" for pdf in pages]
    res["engines_alone_every_page"] = measure([sys.executable, "-c", ENGINES_SCRIPT, *all_pages])
    res["prefect_home_setup"] = prepare_home(work / "prefect-first")
    res["cold"] = run_statlift(work, "shipped", None, 2, "auto")
    cmd = [sys.executable, "-m", "flows.cli", "run", "--out", str(work / "out-shipped")]
    res["warm"] = measure(cmd, statlift_env(work / "prefect-shipped"))
    res["catalog"] = {}
    for n in sizes:
        cat = synthetic_catalog(work, n)
        row = run_statlift(work, f"n{n}", cat, 2, "processes" if n > 1 else "threads")
        per_report = n_pages / len(pages)
        row["pages_per_s"] = round(n * per_report / row["seconds"], 2)
        engines = measure([sys.executable, "-c", ENGINES_SCRIPT,
                           *[specs[i % len(specs)] for i in range(n)]])
        row["engines_alone_seconds"] = engines["seconds"]
        row["ratio_to_engines"] = round(row["seconds"] / engines["seconds"], 2)
        res["catalog"][n] = row
    one = max([n for n in sizes if n <= 50], default=None)
    if one and one > 1:
        res["one_worker"] = {one: run_statlift(work, f"n{one}-1w", synthetic_catalog(work, one),
                                               1, "threads")}
    shutil.rmtree(work, ignore_errors=True)
    write_results(res, sizes)
    return 0


def _count(pdf: str) -> int:
    import pypdfium2
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def write_results(res: dict, sizes: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "speed.json").write_text(json.dumps(res, indent=2) + "\n")
    e_all = res["engines_alone_every_page"]["seconds"]
    lines = ["# Speed", "", "`python -m benchmarks.speed` on this machine (2 cores). Ratios "
             "are the figures to compare; seconds are noisy.", "",
             "| measure | seconds | peak RSS MiB | ratio |", "| --- | --- | --- | --- |",
             f"| engines alone, pages with tables ({res['pages_with_tables']}) | "
             f"{res['engines_alone']['seconds']} | {res['engines_alone']['peak_rss_mib']} | |",
             f"| engines alone, every page of both PDFs | {e_all} | "
             f"{res['engines_alone_every_page']['peak_rss_mib']} | 1.00 |",
             f"| one-time Prefect database setup (not in the runs below) | "
             f"{res['prefect_home_setup']['seconds']} | | |",
             f"| statlift run cold (2 reports, process) | {res['cold']['seconds']} | "
             f"{res['cold']['peak_rss_mib']} | {res['cold']['seconds'] / e_all:.2f} x engines |",
             f"| statlift run warm | {res['warm']['seconds']} | {res['warm']['peak_rss_mib']} | "
             f"{res['warm']['seconds'] / res['cold']['seconds']:.2f} x cold, "
             f"{res['warm']['seconds'] / e_all:.2f} x engines |", "",
             "| N reports | seconds | pages/s | peak RSS MiB | statlift / engines alone | "
             "time(N)/N |", "| --- | --- | --- | --- | --- | --- |"]
    for n in sizes:
        r = res["catalog"][n]
        lines.append(f"| {n} | {r['seconds']} | {r['pages_per_s']} | {r['peak_rss_mib']} | "
                     f"{r['ratio_to_engines']} | {r['seconds'] / n:.2f} |")
    if res.get("one_worker"):
        (n, r), = res["one_worker"].items()
        two = res["catalog"][n]["seconds"]
        lines += ["", f"Both cores: N = {n} with 1 worker {r['seconds']} s, with 2 workers "
                  f"{two} s: speed-up {r['seconds'] / two:.2f}x."]
    big, small = max(sizes), min([s for s in sizes if s >= 10] or sizes)
    lines += ["", f"Memory: peak RSS at N = {big} is "
              f"{res['catalog'][big]['peak_rss_mib'] / res['catalog'][small]['peak_rss_mib']:.2f}"
              f" x that of N = {small}.", ""]
    (OUT / "speed.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
