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
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "results"
# The engines alone: every PDF opened once by each library, each page with tables read once by
# each (pdfplumber words + its text-strategy table finder, camelot stream). argv[1] = processes
# (the PDFs are shared out like statlift's workers share reports), then PDF::pages specs.
ENGINES_SCRIPT = textwrap.dedent("""
    import sys, warnings
    from multiprocessing import Pool

    def one(spec):
        import pdfplumber, camelot
        warnings.simplefilter("ignore")
        path, pages = spec.split("::")
        with pdfplumber.open(path) as pdf:
            for n in map(int, pages.split(",")):
                page = pdf.pages[n - 1]
                page.extract_words(extra_attrs=["size", "fontname"])
                page.find_tables({"vertical_strategy": "text", "horizontal_strategy": "text"})
        camelot.read_pdf(path, pages=pages, flavor="stream")

    if __name__ == "__main__":
        jobs, specs = int(sys.argv[1]), sys.argv[2:]
        if jobs == 1:
            for spec in specs:
                one(spec)
        else:
            with Pool(jobs, maxtasksperchild=20) as pool:
                pool.map(one, specs, chunksize=1)
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


@dataclass
class Source:
    """One PDF a synthetic catalog entry reads: a shipped report or a re-typeset variant."""
    name: str
    report_id: str  # whose spec reads it
    pdf: Path
    pages: list[int]  # pages that hold tables

    @property
    def spec(self) -> str:
        return f"{self.pdf}::{','.join(map(str, self.pages))}"


def sources(work: Path) -> list[Source]:
    """The shipped PDFs, then the content-unchanged re-typeset variants of tests/fixtures (other
    fonts, one column, unruled, tables on other pages): the same specs read all of them."""
    catalog = yaml.safe_load((REPO / "statlift" / "schemas" / "catalog.yaml").read_text())
    pages = table_pages()
    if not pages:
        raise SystemExit("run `statlift run` first: the benchmark reads which pages hold tables")
    out = []
    for rep in catalog["reports"]:
        pdf = (REPO / rep["embedded"]).resolve()
        found = [p for src, p in pages.items() if Path(src).name == pdf.name]
        if not found:
            raise SystemExit(f"processed/{rep['report_id']}/tables.json is not from {pdf.name}: "
                             "run `statlift run` first")
        out.append(Source(rep["report_id"], rep["report_id"], pdf, found[0]))
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from fixtures.typeset import make_variants
    except ImportError as exc:  # reportlab is a test extra
        print(f"speed: no re-typeset variants ({exc}); shipped PDFs only", file=sys.stderr)
        return out
    make_variants(work / "variants")
    manifest = json.loads((work / "variants" / "manifest.json").read_text())
    for name, v in manifest["variants"].items():
        if v["changes"]:  # revised, altered, broken: not the same content
            continue
        table_pages_ = sorted({p for t in v["tables"].values() for p in t["pages"]})
        out.append(Source(name, v["report_id"], work / "variants" / v["pdf"], table_pages_))
    return out


def synthetic_catalog(folder: Path, n: int, srcs: list[Source]) -> tuple[Path, list[Source]]:
    """N reports under new ids, cycling through the sources (shipped PDFs and variants)."""
    base = {r["report_id"]: r for r in
            yaml.safe_load((REPO / "statlift" / "schemas" / "catalog.yaml").read_text())["reports"]}
    reports, used = [], []
    for i in range(n):
        src = srcs[i % len(srcs)]
        entry = dict(base[src.report_id])
        entry["report_id"] = f"{src.report_id}-copy{i:03d}"
        entry["embedded"] = str(src.pdf)
        entry.pop("expected_sha256", None)  # a variant is another file
        reports.append(entry)
        used.append(src)
    path = folder / f"catalog-{n}.yaml"
    path.write_text(yaml.safe_dump({"catalog_version": 1, "reports": reports}))
    return path, used


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
    cmd = [sys.executable, "-m", "statlift.cli.main", "run", "--out", str(out), "--runner", runner,
           "--workers", str(workers)]
    return measure(cmd, statlift_env(work / f"prefect-{name}", catalog))


def engines(specs: list[str], jobs: int) -> dict:
    return measure([sys.executable, "-c", ENGINES_SCRIPT, str(jobs), *specs])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,10,50,200")
    ap.add_argument("--quick", action="store_true", help="sizes 1,10 only")
    ap.add_argument("--fixed-only", action="store_true",
                    help="re-measure only the two-report rows (engines, cold, warm) and keep "
                         "the catalog rows of the last results/speed.json")
    args = ap.parse_args(argv)
    sizes = [1, 10] if args.quick else [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="statlift-speed-"))
    srcs = sources(work)
    shipped = srcs[:2]
    res: dict = {"cores": os.cpu_count(), "pages_with_tables": sum(len(s.pages) for s in shipped),
                 "sources": [{"name": s.name, "report_id": s.report_id, "pages": s.pages}
                             for s in srcs]}
    res["engines_alone"] = engines([s.spec for s in shipped], 1)
    every = [f"{s.pdf}::{','.join(str(i) for i in range(1, 1 + _count(s.pdf)))}" for s in shipped]
    res["engines_alone_every_page"] = engines(every, 1)
    res["prefect_home_setup"] = prepare_home(work / "prefect-first")
    res["cold"] = run_statlift(work, "shipped", None, 2, "auto")
    cmd = [sys.executable, "-m", "statlift.cli.main", "run", "--out", str(work / "out-shipped")]
    res["warm"] = measure(cmd, statlift_env(work / "prefect-shipped"))
    if args.fixed_only:
        last = json.loads((OUT / "speed.json").read_text())
        res.update({k: last[k] for k in ("catalog", "catalog_warm", "one_worker",
                                        "threads_two") if k in last})
        res["catalog"] = {int(k): v for k, v in res["catalog"].items()}
        for key in ("catalog_warm", "one_worker", "threads_two"):
            if key in res:
                res[key] = {int(k): v for k, v in res[key].items()}
        res["catalog_rows_from"] = last.get("measured_at")
        res["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        shutil.rmtree(work, ignore_errors=True)
        write_results(res, sorted(res["catalog"]))
        return 0
    res["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    res["catalog"] = {}
    for n in sizes:
        cat, used = synthetic_catalog(work, n, srcs)
        workers = 2 if n > 1 else 1
        row = run_statlift(work, f"n{n}", cat, workers, "auto")
        row["workers"] = workers
        from statlift.flows.run import runner_name
        row["runner"] = runner_name("auto", workers, n)
        row["pages"] = sum(len(s.pages) for s in used)
        row["pages_per_s"] = round(row["pages"] / row["seconds"], 2)
        eng = engines([s.spec for s in used], workers)
        row["engines_alone_seconds"] = eng["seconds"]
        row["engines_alone_peak_rss_mib"] = eng["peak_rss_mib"]
        row["ratio_to_engines"] = round(row["seconds"] / eng["seconds"], 2)
        res["catalog"][n] = row
        # a warm rerun of the unchanged catalog
        if n == max(sizes):
            warm = measure([sys.executable, "-m", "statlift.cli.main", "run", "--out",
                            str(work / f"out-n{n}"), "--workers", "2"],
                           statlift_env(work / f"prefect-n{n}", cat))
            res["catalog_warm"] = {n: warm}
    one = max([n for n in sizes if n <= 50], default=None)
    if one and one > 1:
        cat, used = synthetic_catalog(work, one, srcs)
        row = run_statlift(work, f"n{one}-1w", cat, 1, "threads")
        row["engines_alone_seconds"] = engines([s.spec for s in used], 1)["seconds"]
        res["one_worker"] = {one: row}
        res["threads_two"] = {one: run_statlift(work, f"n{one}-t2", cat, 2, "threads")}
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


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def write_results(res: dict, sizes: list[int]) -> None:
    """speed.json (everything measured) and speed.md (the issue's ratios against its targets)."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "speed.json").write_text(json.dumps(res, indent=2) + "\n")
    e_all = res["engines_alone_every_page"]["seconds"]
    cold, warm = res["cold"]["seconds"], res["warm"]["seconds"]
    names = ", ".join(s["name"] for s in res["sources"])
    lines = ["# Speed", "",
             f"`python -m benchmarks.speed` on this machine ({res['cores']} cores). Ratios are "
             "the figures to compare; seconds are noisy. Engines alone = pdfplumber (words + "
             "text-strategy table finder) and camelot stream called directly on the same pages, "
             "each PDF opened once per library, shared out over the same number of processes "
             "as statlift's workers.", "",
             f"Synthetic catalogs cycle through {len(res['sources'])} PDFs read by the two "
             f"shipped specs: {names}.", "",
             "| measure | seconds | peak RSS MiB | ratio |", "| --- | --- | --- | --- |",
             f"| engines alone, pages with tables of the two reports ({res['pages_with_tables']}"
             f") | {res['engines_alone']['seconds']} | {res['engines_alone']['peak_rss_mib']} | |",
             f"| engines alone, every page of both PDFs, one process | {e_all} | "
             f"{res['engines_alone_every_page']['peak_rss_mib']} | 1.00 |",
             f"| one-time Prefect database setup (not in the runs below) | "
             f"{res['prefect_home_setup']['seconds']} | | |",
             f"| `statlift run` cold, two reports, whole process | {cold} | "
             f"{res['cold']['peak_rss_mib']} | {cold / e_all:.2f} x engines |",
             f"| `statlift run` warm (nothing changed) | {warm} | {res['warm']['peak_rss_mib']} | "
             f"{warm / cold:.2f} x cold, {warm / e_all:.2f} x engines |", "",
             "| N reports | workers (auto runner) | pages | seconds | pages/s | peak RSS MiB "
             "(process tree) | engines alone s | statlift / engines | time(N)/N s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n in sizes:
        r = res["catalog"][n]
        lines.append(f"| {n} | {r['workers']} ({r.get('runner', '')}) | {r['pages']} | "
                     f"{r['seconds']} | "
                     f"{r['pages_per_s']} | {r['peak_rss_mib']} | {r['engines_alone_seconds']} "
                     f"| {r['ratio_to_engines']} | {r['seconds'] / n:.2f} |")
    targets = []
    if 50 in res["catalog"]:
        r50 = res["catalog"][50]["ratio_to_engines"]
        targets.append(f"| cold N = 50 <= 1.3 x engines alone | {r50} | {_verdict(r50 <= 1.3)} |")
    targets.append(f"| two reports cold <= 2 x engines over every page | {cold / e_all:.2f} | "
                   f"{_verdict(cold / e_all <= 2)} |")
    targets.append(f"| two reports warm <= 0.3 x engines over every page | {warm / e_all:.2f} | "
                   f"{_verdict(warm / e_all <= 0.3)} |")
    if res.get("catalog_warm"):
        (n, w), = res["catalog_warm"].items()
        ratio = w["seconds"] / res["catalog"][n]["seconds"]
        targets.append(f"| warm rerun of the unchanged catalog (N = {n}) <= 5 % of cold | "
                       f"{ratio:.1%} ({w['seconds']} s) | {_verdict(ratio <= 0.05)} |")
    if res.get("one_worker"):
        (n, r), = res["one_worker"].items()
        speedup = r["seconds"] / res["catalog"][n]["seconds"]
        targets.append(f"| N = {n}: 2 workers >= 1.7 x faster than 1 ({r['seconds']} s) | "
                       f"{speedup:.2f} x | {_verdict(speedup >= 1.7)} |")
        targets.append(f"| (N = {n}, 1 worker / engines alone in one process) | "
                       f"{r['seconds'] / r['engines_alone_seconds']:.2f} | |")
        if res.get("threads_two"):
            t2 = res["threads_two"][n]
            targets.append(f"| (N = {n}, `--runner threads` with 2 workers) | {t2['seconds']} s "
                           f"= {r['seconds'] / t2['seconds']:.2f} x faster than 1 thread | |")
    big, small = max(sizes), min([s for s in sizes if s >= 10] or sizes)
    mem = res["catalog"][big]["peak_rss_mib"] / res["catalog"][small]["peak_rss_mib"]
    targets.append(f"| peak RSS N = {big} <= 1.5 x N = {small} | {mem:.2f} | "
                   f"{_verdict(mem <= 1.5)} |")
    if "catalog_rows_from" in res:  # a --fixed-only run
        lines += ["", "The two-report rows were re-measured with `--fixed-only`; the catalog "
                  f"rows are from the full run of {res['catalog_rows_from']}."]
    lines += ["", "## Targets (issue 7)", "", "| target | measured | |", "| --- | --- | --- |",
              *targets, ""]
    (OUT / "speed.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
