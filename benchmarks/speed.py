"""How much statlift costs beyond the PDF engines themselves (issue 15). One command:

    python -m benchmarks.speed [--sizes 10,50,200] [--reps 3] [--quick]

Everything runs as separate processes on the real path (`python -m statlift.cli.main run`, with
Prefect's temporary API server as a user gets it), against the engines alone on the same pages:
pdfplumber (words + its text-strategy table finder) and camelot stream called directly, each PDF
opened once per library, shared out over as many processes as statlift has workers.

Measured, interleaved so that whatever else loads the machine weighs on both sides alike:

1. first run on a fresh machine (no Prefect database yet), two reports;
2. `reps` times: the engines over every page of the two PDFs, then `statlift run` cold (Prefect's
   database created beforehand, no cached results, empty output folder); medians and ratio;
3. `statlift run` with nothing changed, and with a missing `--source` file (answered before the
   orchestrator starts: target under 1 s);
4. synthetic catalogs of N reports (the shipped PDFs and re-typeset copies under other ids): for
   each N the engines with 2 processes, then statlift with 2 workers; for N = 50 also both with
   one, and a second interleaved pair of 2 then 1 (the 2-vs-1 ratio and the N = 50 ratio are
   each pair's mean), and in each pair one worker with everything it starts kept on one CPU
   (what a second core buys, beside the issue's measure); a warm rerun of the largest N;
5. the load average around each measurement, and a timeline of one cold run with the import
   times of the command line and of the flow module (benchmarks/results/speed-timeline.md).

Results: benchmarks/results/speed.md and speed.json (ratios, not seconds, compare across runs).
"""
from __future__ import annotations

import argparse
import ctypes
import functools
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml

from benchmarks import plain
from statlift.cli.main import PREFECT_DEFAULTS

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "results"
CATALOG = REPO / "statlift" / "schemas" / "catalog.yaml"
# The engines alone: every PDF opened once by each library, each page read once by each
# (pdfplumber words + its text-strategy table finder, camelot stream). argv[1] = processes
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
PREFECT_INIT = "from prefect import flow\n@flow\ndef init(): pass\ninit()\n"


def load() -> float:
    return round(os.getloadavg()[0], 2)


@functools.cache
def _become_subreaper() -> bool:
    """Linux: processes the measured command leaves running (Prefect's server shutting down,
    the workers' fork server) become this process's children when it exits, so that measure()
    can wait for them and count their CPU time; elsewhere they are not counted. Done once, by
    the first measure() (not at import)."""
    if not sys.platform.startswith("linux"):
        return False
    return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER


def _reap_orphans(before: set[int], timeout: float = 30.0) -> None:
    """Wait (up to `timeout` s) for the children this process gained during a measurement:
    the measured command's processes that outlived it. Their CPU time then counts."""
    deadline = time.monotonic() + timeout
    for child in psutil.Process().children():
        if child.pid in before:
            continue
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except (psutil.TimeoutExpired, psutil.Error):
            pass


def _role(p: psutil.Process) -> str | None:
    """"server" for Prefect's API server; "worker" for a worker process of a run's process
    pool: forked from the run itself (its command line's copy: Linux, flows/pool.py), from
    multiprocessing's fork server, or spawned as multiprocessing's child where there is neither
    (not the fork server itself or its resource tracker); None for any other child."""
    try:
        cmd = " ".join(p.cmdline())
        parent = p.parent()
        parent_cmd = " ".join(parent.cmdline()) if parent else ""
    except psutil.Error:
        return None
    if "uvicorn" in cmd:
        return "server"
    if (cmd == parent_cmd and "statlift" in cmd) or "multiprocessing.forkserver" in parent_cmd \
            or ("multiprocessing.spawn" in cmd and "resource_tracker" not in cmd):
        return "worker"
    return None


def measure(cmd: list[str], env: dict | None = None, ok: tuple[int, ...] = (0,),
            cwd: Path = REPO, cpus: set[int] | None = None) -> dict:
    """Wall seconds (until the command exits and its output ends) and peak RSS (MiB) of a
    command and all its children, its CPU seconds and those of the processes it left to end
    on their own (counted once they end), the load average before, and its output lines with
    the second each appeared at."""
    _become_subreaper()
    before = load()
    mine = {c.pid for c in psutil.Process().children()}
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # `cpus`: the command and every process it starts kept on these CPUs (Linux)
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    proc = psutil.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, preexec_fn=pin)
    peak = 0
    stop = threading.Event()
    server_cpu: dict[int, float] = {}  # pid of a Prefect API server child -> CPU s last seen
    worker_peak: dict[int, int] = {}  # pid of a run's worker process -> its peak RSS
    role: dict[int, str | None] = {}  # pid of a child -> "server", "worker" or None

    def poll():
        nonlocal peak
        while not stop.is_set():
            try:
                procs = [proc] + proc.children(recursive=True)
                rss = {p.pid: p.memory_info().rss for p in procs if p.is_running()}
                peak = max(peak, sum(rss.values()))
                for p in procs[1:]:
                    if p.pid not in role:
                        role[p.pid] = _role(p)
                    if role[p.pid] == "worker" and p.pid in rss:
                        worker_peak[p.pid] = max(worker_peak.get(p.pid, 0), rss[p.pid])
                    elif role[p.pid] == "server":
                        t = p.cpu_times()
                        server_cpu[p.pid] = t.user + t.system
            except psutil.Error:
                pass
            time.sleep(0.05)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append((round(time.perf_counter() - started, 2), line.rstrip()))
    proc.wait()
    seconds = round(time.perf_counter() - started, 2)
    _reap_orphans(mine)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop.set()
    t.join()
    # CPU seconds of the whole process tree (every process waited for by its parent): the work
    # done, which other load on the machine does not inflate the way it inflates wall time
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if proc.returncode not in ok:
        tail = "\n".join(text for _, text in lines[-30:])
        raise RuntimeError(f"{cmd[:6]} exited {proc.returncode}: {tail}")
    return {"seconds": seconds, "cpu_seconds": round(cpu, 2), "peak_rss_mib": round(peak / 2**20),
            # the biggest peak of one worker process of the run's pool (none: a run in one
            # process), what issue 15's "per worker" memory goal is about
            "worker_peak_rss_mib": round(max(worker_peak.values(), default=0) / 2**20),
            # the part of it Prefect's API server took (as last seen, <= 50 ms before it ended)
            "server_cpu_seconds": round(sum(server_cpu.values()), 2),
            "load_before": before, "exit": proc.returncode, "lines": lines}


def brief(m: dict) -> dict:
    """The measurement without its output lines, with when the flow run began and when the
    last report's result was logged (what comes after: DuckDB, site, dictionary, exit)."""
    out = {k: v for k, v in m.items() if k != "lines"}
    lines = m.get("lines", [])
    began = [s for s, text in lines if "Beginning flow run" in text]
    results = [s for s, text in lines if re.search(r"(INFO|ERROR).*\S+: (published|updated|"
                                                       r"unchanged|failed|partial)\b", text)]
    if began:
        out["flow_began"] = began[0]
    if results:
        out["last_report_done"] = results[-1]
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


def table_pages(processed: Path) -> dict[str, list[int]]:
    """Pages that hold tables, from the published tables.json files."""
    out = {}
    for tables in processed.glob("*/tables.json"):
        doc = json.loads(tables.read_text())
        pages = sorted({p for t in doc["tables"].values() for p in (t.get("pages") or [t["page"]])})
        out[doc["source_path"]] = pages
    return out


def sources(work: Path, processed: Path) -> list[Source]:
    """The shipped PDFs, then the content-unchanged re-typeset variants of tests/fixtures (other
    fonts, one column, unruled, tables on other pages): the same specs read all of them."""
    catalog = yaml.safe_load(CATALOG.read_text())
    pages = table_pages(processed)
    out = []
    for rep in catalog["reports"]:
        pdf = (REPO / rep["embedded"]).resolve()
        found = [p for src, p in pages.items() if Path(src).name == pdf.name]
        if not found:
            raise SystemExit(f"{processed}/{rep['report_id']}/tables.json is not from {pdf.name}")
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
    base = {r["report_id"]: r for r in yaml.safe_load(CATALOG.read_text())["reports"]}
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


def statlift_env(prefect_home: Path, catalog: Path | None = None) -> dict:
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(prefect_home)
    env.pop("PREFECT_API_URL", None)  # Prefect's temporary server, as a new user has it
    env.pop("PREFECT_PROFILES_PATH", None)
    env["PREFECT_LOGGING_LEVEL"] = "INFO"
    if catalog:
        env["STATLIFT_CATALOG"] = str(catalog)
    return env


class Homes:
    """Prefect homes with the database already created (the one-time setup, measured on its
    own) and no cached results: a copy of one template per run."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.template = work / "prefect-template"
        # the Prefect settings statlift sets (cli.main.PREFECT_DEFAULTS): without them, on a
        # slow machine, Prefect's telemetry write contended for the new database ("database is
        # locked") and its server's first start overran Prefect's 20 s limit
        env = {**PREFECT_DEFAULTS, **statlift_env(self.template)}
        self.setup = measure([sys.executable, "-c", PREFECT_INIT], env)
        self.count = 0

    def fresh(self) -> Path:
        self.count += 1
        home = self.work / f"prefect-{self.count}"
        home.mkdir()
        # the database (and its WAL files) and the memo of its block types' registration, as
        # a user's Prefect home holds them after the first run (without the memo, the server
        # registers every block type again at each start: ~1 CPU s)
        for db in [*self.template.glob("prefect.db*"), *self.template.glob("memo_store.toml")]:
            shutil.copy2(db, home / db.name)
        return home


def start_server(home: Path):
    """Prefect's API server as `prefect server start` would run it, for the runs that reuse one
    (the same process statlift starts as its temporary server; flows/server.py)."""
    from statlift.flows.server import TemporaryServer

    saved = dict(os.environ)
    os.environ.update({k: v for k, v in statlift_env(home).items() if k.startswith("PREFECT")})
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    try:
        server = TemporaryServer().start()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    server.wait(300)
    return server


def run_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "statlift.cli.main", "run", "--out", str(out), *extra]


def engines(specs: list[str], jobs: int) -> dict:
    return measure([sys.executable, "-c", ENGINES_SCRIPT, str(jobs), *specs])


def _count(pdf: Path) -> int:
    import pypdfium2
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def median(rows: list[dict], key: str = "seconds") -> float:
    return round(statistics.median(r[key] for r in rows), 2)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        names = re.findall(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = names[0].strip() if names else cpu
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(psutil.virtual_memory().total
                                                                   / 2**30, 1),
            "python": platform.python_version(), "os": platform.platform(terse=True)}


def import_times(module: str) -> list[tuple[str, float]]:
    """What `import module` costs (cumulative ms, -X importtime): the total, then each package
    it loads (top-level names, and statlift's stage packages), heaviest first."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    seen: dict[str, float] = {}
    total = 0.0
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)", line)
        if not m:
            continue
        name, ms = m.group(2), int(m.group(1)) / 1000
        if name == module:
            total = ms
        parts = name.split(".")
        if len(parts) == 1 or (parts[0] == "statlift" and len(parts) == 2):
            seen[name] = max(seen.get(name, 0.0), ms)
    top = sorted(((n, ms) for n, ms in seen.items() if n not in (module, "statlift")
                  and ms >= 20), key=lambda r: -r[1])[:15]
    return [(module, total)] + top


def profile_stages(work: Path) -> dict:
    """Each stage of the two shipped reports timed in one process (no Prefect; benchmarks.plain),
    with a cProfile of the audit and writing of both."""
    done = measure([sys.executable, "-m", "benchmarks.plain", str(CATALOG),
                    str(work / "out-profile"), "--profile"])
    return plain.read_output([text for _, text in done["lines"]])


TEXT_SUFFIXES = {".csv", ".json", ".html", ".md", ".yaml"}


def clone_processed(base: Path, folder: Path, n: int) -> tuple[Path, Path]:
    """A processed/ tree of N published reports without running N extractions, for profiling the
    builders over every report (DuckDB, site, dictionary): the report folders of one real run of
    the shipped catalog (`base`) copied under N catalog ids (their id replaced in the text files;
    binary files copied as they are), and a catalog of those ids. Returns (processed, catalog)."""
    base_catalog = {r["report_id"]: r for r in yaml.safe_load(CATALOG.read_text())["reports"]}
    ids = sorted(d.name for d in base.iterdir() if (d / "tables.json").exists())
    processed = folder / f"processed-{n}"
    reports = []
    for i in range(n):
        src = ids[i % len(ids)]
        rid = f"{src}-copy{i:03d}"
        entry = dict(base_catalog[src], report_id=rid)
        entry["embedded"] = str((REPO / entry["embedded"]).resolve())
        reports.append(entry)
        for path in (base / src).rglob("*"):
            if path.is_dir():
                continue
            dest = processed / rid / path.relative_to(base / src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix in TEXT_SUFFIXES:
                dest.write_text(path.read_text(encoding="utf-8").replace(src, rid),
                                encoding="utf-8")
            else:
                shutil.copy2(path, dest)
    catalog = folder / f"catalog-clones-{n}.yaml"
    catalog.write_text(yaml.safe_dump({"catalog_version": 1, "reports": reports}))
    return processed, catalog


DOWNSTREAM_SCRIPT = textwrap.dedent("""
    # build_downstream over a processed/ tree: CPU seconds and, when top > 0, a cProfile
    # (argv: processed, top, labels)
    import cProfile, io, json, pstats, resource, sys, time
    from pathlib import Path
    from statlift.outputs.finish import build_downstream
    processed, top = Path(sys.argv[1]), int(sys.argv[2])
    out = {"runs": []}
    for label in sys.argv[3:]:
        if label == "touch":  # one report changed: its tables.json rewritten with a new time
            first = sorted(p for p in processed.iterdir() if (p / "tables.json").exists())[0]
            doc = json.loads((first / "tables.json").read_text())
            doc["extracted_at"] = "2099-01-01T00:00:00+00:00"
            (first / "tables.json").write_text(json.dumps(doc, indent=2) + "\\n")
            continue
        prof = cProfile.Profile()
        cpu, wall = time.process_time(), time.perf_counter()
        if top:
            prof.enable()
        if label == "prepare-each":  # what the workers would do, report by report
            from statlift.outputs.incremental import prepare_report
            for d in sorted(p for p in processed.iterdir() if (p / "tables.json").exists()):
                prepare_report(processed, d.name)
        elif label == "full":
            try:
                build_downstream(processed, incremental=False)
            except TypeError:  # the code before the incremental build (--downstream-code)
                build_downstream(processed)
        else:
            build_downstream(processed)
        prof.disable()
        text = io.StringIO()
        if top:
            pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(top)
        out["runs"].append({"label": label, "cpu": time.process_time() - cpu,
                            "wall": time.perf_counter() - wall, "profile": text.getvalue()})
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import statlift
    out["statlift_from"] = statlift.__file__
    print("DOWNSTREAM-JSON" + json.dumps(out))
""")


def profile_downstream(base: Path, sizes: list[int], top: int = 25,
                       code: Path | None = None) -> dict:
    """build_downstream (the step after the last report) over N cloned reports: in one process
    a full build (every report read: the code before issue 15's incremental build); in another
    the incremental build with no record yet (first), again with nothing changed, and with one
    report's tables.json changed; in a third every report's parts prepared as the workers
    would (prepare_report, after its publish), then the build. CPU seconds and a cProfile of
    each, peak RSS of each process."""
    work = Path(tempfile.mkdtemp(prefix="statlift-downstream-"))
    res: dict[str, Any] = {}
    try:
        for n in sizes:
            processed, catalog = clone_processed(base, work, n)
            env = dict(os.environ, STATLIFT_CATALOG=str(catalog),
                       XDG_CACHE_HOME=str(work / "cache"))  # the build records
            if code:  # another checkout's statlift (e.g. the code before a change)
                env["PYTHONPATH"] = str(code)
            res[str(n)] = {}
            # a process each, for its peak RSS: the full build (every report read, the code
            # before the incremental build) in a copy; the incremental build's runs
            full, prepared = work / f"full-{n}", work / f"prepared-{n}"
            shutil.copytree(processed, full)
            shutil.copytree(processed, prepared)
            runs = [("full", full, ["full"])]
            if not code:
                runs += [("incremental", processed, ["first", "nothing-changed", "touch",
                                                     "one-changed"]),
                         ("prepared", prepared, ["prepare-each", "first"])]
            for name, folder, labels in runs:
                done = measure([sys.executable, "-c", DOWNSTREAM_SCRIPT, str(folder), str(top),
                                *labels], env, cwd=code or REPO)  # `-c` imports from cwd first
                line = next(text for _, text in done["lines"]
                            if text.startswith("DOWNSTREAM-JSON"))
                res[str(n)][name] = json.loads(line.removeprefix("DOWNSTREAM-JSON"))
            shutil.rmtree(full, ignore_errors=True)
            shutil.rmtree(prepared, ignore_errors=True)
            shutil.rmtree(processed, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,50,200")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the two-report pair")
    ap.add_argument("--quick", action="store_true", help="sizes 10 only, 1 repetition")
    ap.add_argument("--fixed-only", action="store_true",
                    help="only the two-report rows; keep the catalog rows of the last speed.json")
    ap.add_argument("--downstream", metavar="PROCESSED",
                    help="only profile build_downstream over N clones of the reports published "
                         "in PROCESSED (a `statlift run` output folder), for --sizes; prints "
                         "JSON")
    ap.add_argument("--top", type=int, default=0,
                    help="with --downstream: cProfile each run, print its top N functions "
                         "(the profiler adds ~70%% to the CPU seconds)")
    ap.add_argument("--downstream-code", type=Path,
                    help="with --downstream: the full build only, with the statlift package of "
                         "this folder (e.g. `git archive REV | tar -x -C DIR`)")
    args = ap.parse_args(argv)
    if args.downstream:
        sizes = [int(s) for s in args.sizes.split(",") if s]
        print(json.dumps(profile_downstream(Path(args.downstream), sizes, args.top,
                                            args.downstream_code), indent=1))
        return 0
    sizes = [10] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    reps = 1 if args.quick else args.reps
    work = Path(tempfile.mkdtemp(prefix="statlift-speed-"))
    res: dict = {"machine": machine(), "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                   time.gmtime()),
                 "load_start": list(os.getloadavg())}
    try:
        _measure_all(res, work, sizes, reps, args.fixed_only)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    res["load_end"] = list(os.getloadavg())
    write_results(res)
    return 0


def _measure_all(res: dict, work: Path, sizes: list[int], reps: int, fixed_only: bool) -> None:
    # 1. a fresh machine: no Prefect database yet (its one-time setup is in this run)
    first_out = work / "out-first"
    first = measure(run_cmd(first_out), statlift_env(work / "prefect-first"))
    res["first_run"] = brief(first)
    res["first_run_progress"] = [f"{s:5.1f} s  {text}" for s, text in first["lines"]
                                 if text.startswith("statlift: ")]
    srcs = sources(work, first_out)
    shipped = srcs[:2]
    res["sources"] = [{"name": s.name, "report_id": s.report_id, "pages": s.pages} for s in srcs]
    res["pages_with_tables"] = sum(len(s.pages) for s in shipped)
    every = [f"{s.pdf}::{','.join(str(i) for i in range(1, 1 + _count(s.pdf)))}" for s in shipped]
    res["pages_every"] = sum(len(e.split("::")[1].split(",")) for e in every)
    homes = Homes(work)
    res["prefect_db_setup"] = brief(homes.setup)
    # 2. two reports, interleaved: engines, statlift cold, statlift cold with a Prefect server
    # already running (PREFECT_API_URL, as the README suggests for frequent use), engines, ...
    pairs = []
    server_home = homes.fresh()
    server = start_server(server_home)
    try:
        for i in range(reps):
            eng = engines(every, 1)
            cold = measure(run_cmd(work / f"out-cold-{i}"), statlift_env(homes.fresh()))
            env = statlift_env(homes.fresh())  # its own result storage: no cached tables
            env["PREFECT_API_URL"] = server.api_url
            served = measure(run_cmd(work / f"out-served-{i}"), env)
            pairs.append({"engines": brief(eng), "cold": brief(cold),
                          "cold_running_server": brief(served)})
            if i == reps - 1:
                res["timeline"] = cold["lines"]
    finally:
        server.stop()
    res["two_reports"] = pairs
    # 3. nothing changed; a bad --source (both answered before the orchestrator)
    home = homes.fresh()
    res["warm"] = [brief(measure(run_cmd(work / "out-cold-0"), statlift_env(home)))
                   for _ in range(reps)]
    missing = work / "missing.pdf"
    res["bad_input"] = [brief(measure(run_cmd(work / "out-bad", "--source",
                                              f"bjs-ncj250746={missing}"),
                                      statlift_env(home), ok=(2,))) for _ in range(reps)]
    res["import_times"] = {m: import_times(m) for m in ("statlift.cli.main",
                                                         "statlift.flows.run")}
    res["stages"] = profile_stages(work)
    if fixed_only:
        last = json.loads((OUT / "speed.json").read_text())
        for key in ("catalog", "one_worker", "catalog_warm", "n50_pairs"):
            if key in last:
                res[key] = last[key]
        # the full run the rows come from (a --fixed-only run after another one keeps its source)
        res["catalog_rows_from"] = last.get("catalog_rows_from") or last.get("started_at")
        return
    # 4. catalogs: engines and statlift alternating, 2 workers; N = 50 also with one
    res["catalog"] = {}
    for n in sizes:
        cat, used = synthetic_catalog(work, n, srcs)
        eng = engines([s.spec for s in used], 2)
        row = brief(measure(run_cmd(work / f"out-n{n}", "--workers", "2"),
                            statlift_env(homes.fresh(), cat)))
        row["pages"] = sum(len(s.pages) for s in used)
        row["engines"] = brief(eng)
        row["ratio"] = round(row["seconds"] / eng["seconds"], 2)
        res["catalog"][str(n)] = row
        if n == max(sizes):
            res["catalog_warm"] = {str(n): brief(measure(
                run_cmd(work / f"out-n{n}", "--workers", "2"), statlift_env(homes.fresh(), cat)))}
        if n == 50:
            one = brief(measure(run_cmd(work / "out-n50-1w", "--workers", "1"),
                                statlift_env(homes.fresh(), cat)))
            one["engines"] = brief(engines([s.spec for s in used], 1))
            res["one_worker"] = {"50": one}
            # 2 vs 1 workers moves by ~0.2 from one run to the next: a second interleaved
            # pair (engines and statlift, 2 workers then 1), each pair's ratio reported and the
            # verdict on their mean
            n50 = [{**_pair(row, one), "one_core": _one_core(work, cat, homes)}]
            for _ in range(1, N50_PAIRS):
                shutil.rmtree(work / "out-n50-1w", ignore_errors=True)
                shutil.rmtree(work / f"out-n{n}", ignore_errors=True)
                two_eng = brief(engines([s.spec for s in used], 2))
                two = brief(measure(run_cmd(work / f"out-n{n}", "--workers", "2"),
                                    statlift_env(homes.fresh(), cat)))
                two["engines"] = two_eng
                one_eng = brief(engines([s.spec for s in used], 1))
                again = brief(measure(run_cmd(work / "out-n50-1w", "--workers", "1"),
                                      statlift_env(homes.fresh(), cat)))
                again["engines"] = one_eng
                n50.append({**_pair(two, again), "one_core": _one_core(work, cat, homes)})
            res["n50_pairs"] = n50
        shutil.rmtree(work / f"out-n{n}", ignore_errors=True)


N50_PAIRS = 2  # interleaved (2 workers, 1 worker) pairs at N = 50


def _one_core(work: Path, cat: Path, homes: Homes) -> float | None:
    """Seconds of `statlift run --workers 1` with the run and everything it starts (Prefect's
    server too) kept on one CPU: what a second core buys, besides the issue's measure (one
    worker against two on the same two cores, where the one-worker run's Prefect server and
    command line have the second core to themselves). None where CPUs cannot be pinned."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        return None
    out = work / "out-n50-1core"
    shutil.rmtree(out, ignore_errors=True)
    cpu = min(os.sched_getaffinity(0))
    m = measure(run_cmd(out, "--workers", "1"), statlift_env(homes.fresh(), cat),
                cpus={cpu})
    shutil.rmtree(out, ignore_errors=True)
    return m["seconds"]


def _pair(two: dict, one: dict) -> dict:
    """Seconds of one interleaved pair at N = 50 and its two ratios (statlift, engines)."""
    return {"two": two["seconds"], "one": one["seconds"],
            "engines_two": two["engines"]["seconds"], "engines_one": one["engines"]["seconds"],
            "speedup": round(one["seconds"] / two["seconds"], 3),
            "engines_speedup": round(one["engines"]["seconds"] / two["engines"]["seconds"], 3),
            "load_before": [two.get("load_before"), one.get("load_before")]}


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def write_results(res: dict) -> None:
    """speed.json (everything measured), speed.md (the issue's ratios against its targets) and
    speed-timeline.md (one cold run, line by line, and the import times)."""
    OUT.mkdir(parents=True, exist_ok=True)
    timeline = res.pop("timeline", [])
    (OUT / "speed.json").write_text(json.dumps(res, indent=2) + "\n")
    m = res["machine"]
    pairs = res["two_reports"]
    eng = median([p["engines"] for p in pairs])
    cold = median([p["cold"] for p in pairs])
    ratios = [round(p["cold"]["seconds"] / p["engines"]["seconds"], 2) for p in pairs]
    warm, bad = median(res["warm"]), median(res["bad_input"])
    loads = [p[k]["load_before"] for p in pairs for k in ("engines", "cold")]
    lines = ["# Speed", "",
             f"`python -m benchmarks.speed`, {res['started_at']} to {res['finished_at']} "
             f"(UTC), on {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, Python "
             f"{m['python']}. Load average (1 min) at the start {res['load_start'][0]:.2f}, at "
             f"the end {res['load_end'][0]:.2f}; before each two-report measurement "
             f"{min(loads):.2f} to {max(loads):.2f}"
             + (" (other work was running on the machine: the pairs are interleaved so that it "
                "weighs on both sides)." if max(loads + [res['load_start'][0]]) > 0.5 else
                " (an otherwise idle machine)."), "",
             "Engines alone = pdfplumber (words + text-strategy table finder) and camelot stream "
             "called directly on the same pages, each PDF opened once per library, in as many "
             "processes as statlift has workers, as one process from the Python start. statlift "
             "= `python -m statlift.cli.main run` as a process, with Prefect's temporary API "
             "server (the default path), Prefect's database already created, no cached results "
             "and an empty output folder. Ratios are the figures to compare; seconds are noisy.",
             "", "## Two reports", "",
             "| run | engines, every page (s) | statlift cold (s) | ratio | statlift cold, "
             "Prefect server already running (s) | ratio |",
             "| --- | --- | --- | --- | --- | --- |"]
    served = [p["cold_running_server"]["seconds"] for p in pairs]
    served_ratios = [round(s / p["engines"]["seconds"], 2) for s, p in zip(served, pairs,
                                                                            strict=True)]
    for i, p in enumerate(pairs, 1):
        lines.append(f"| {i} | {p['engines']['seconds']} | {p['cold']['seconds']} | "
                     f"{ratios[i - 1]} | {served[i - 1]} | {served_ratios[i - 1]} |")
    cpu_ratios = [p["cold"]["cpu_seconds"] / p["engines"]["cpu_seconds"] for p in pairs
                  if p["engines"].get("cpu_seconds")]
    lines += [f"| median | {eng} | {cold} | {statistics.median(ratios):.2f} | "
              f"{statistics.median(served):.2f} | {statistics.median(served_ratios):.2f} |", ""]
    if cpu_ratios:
        server = statistics.median(p["cold"].get("server_cpu_seconds", 0) for p in pairs)
        lines += [f"CPU seconds of the whole process tree (not inflated by other load the way "
                  f"wall time is): statlift cold / engines = {statistics.median(cpu_ratios):.2f}"
                  f" (median; statlift "
                  f"{statistics.median(p['cold']['cpu_seconds'] for p in pairs):.1f} s, of "
                  f"which Prefect's temporary server {server:.1f} s, engines "
                  f"{statistics.median(p['engines']['cpu_seconds'] for p in pairs):.1f} s).",
                  ""]
    lines += [f"Pages: {res['pages_every']} in the two PDFs, {res['pages_with_tables']} with "
              f"tables. Peak RSS of statlift's process tree "
              f"{max(p['cold']['peak_rss_mib'] for p in pairs)} MiB (engines "
              f"{max(p['engines']['peak_rss_mib'] for p in pairs)} MiB).", "",
              "| also measured | seconds |", "| --- | --- |",
              f"| first run on a fresh machine (no Prefect database), two reports | "
              f"{res['first_run']['seconds']} |",
              f"| Prefect's one-time database setup alone | "
              f"{res['prefect_db_setup']['seconds']} |",
              f"| `statlift run`, nothing changed (median of {len(res['warm'])}) | {warm} |",
              f"| `statlift run --source ID=missing.pdf` (median of {len(res['bad_input'])}) | "
              f"{bad} |", "",
              "What the first run prints while Prefect sets up its database (seconds since "
              "start):", "", "```", *res.get("first_run_progress", []), "```", ""]
    targets = [f"| two reports cold, whole process, <= 2 x engines alone | "
               f"{statistics.median(ratios):.2f} x (median of {len(ratios)} interleaved pairs; "
               f"with a Prefect server already running "
               f"{statistics.median(served_ratios):.2f} x) | "
               f"{_verdict(statistics.median(ratios) <= 2)} |",
               f"| bad input answered before the orchestrator, < 1 s | {bad} s | "
               f"{_verdict(bad < 1)} |",
               f"| nothing changed answered before the orchestrator, < 1 s | {warm} s | "
               f"{_verdict(warm < 1)} |"]
    if res.get("catalog"):
        lines += ["## Catalogs of N reports", "",
                  f"Synthetic catalogs cycle through {len(res['sources'])} PDFs read by the two "
                  "shipped specs: " + ", ".join(s["name"] for s in res["sources"]) + ".", "",
                  "| N | workers | pages with tables | engines alone (s) | statlift (s) | ratio "
                  "| CPU s: statlift / engines (of it Prefect's server) | flow began at (s) "
                  "| after the last report (s) "
                  "| peak RSS MiB (tree / biggest worker) | s per report | load before |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

        def row(n: str, workers: int, r: dict, eng: dict) -> str:
            tail = (f"{r['seconds'] - r['last_report_done']:.1f}" if "last_report_done" in r
                    else "")
            cpu = (f"{r['cpu_seconds']:.0f} / {eng['cpu_seconds']:.0f} = "
                   f"{r['cpu_seconds'] / eng['cpu_seconds']:.2f}" if eng.get("cpu_seconds")
                   else "")
            if r.get("server_cpu_seconds"):
                cpu += f" (server {r['server_cpu_seconds']:.0f})"
            rss = str(r["peak_rss_mib"])
            if r.get("worker_peak_rss_mib"):
                rss += f" / {r['worker_peak_rss_mib']}"
            return (f"| {n} | {workers} | {res['catalog'][n]['pages']} | {eng['seconds']} | "
                    f"{r['seconds']} | {r['seconds'] / eng['seconds']:.2f} | {cpu} | "
                    f"{r.get('flow_began', '')} | {tail} | {rss} | "
                    f"{r['seconds'] / int(n):.2f} | {r['load_before']} |")

        for n, r in sorted(res["catalog"].items(), key=lambda kv: int(kv[0])):
            lines.append(row(n, 2, r, r["engines"]))
        one = res.get("one_worker", {}).get("50")
        if one:
            lines.append(row("50", 1, one, one["engines"]))
        lines.append("")
        pairs = res.get("n50_pairs")
        if pairs:  # each pair's 2-worker run against its own engines run, minutes apart
            n50 = [p["two"] / p["engines_two"] for p in pairs]
            mean = sum(n50) / len(n50)
            each = ", ".join(f"{r:.2f} x ({p['two']} s vs {p['engines_two']} s)"
                             for r, p in zip(n50, pairs, strict=True))
            targets.append(f"| N = 50 cold <= 1.3 x engines alone (same pages, same 2 "
                           f"workers) | {mean:.2f} x, the mean of {len(pairs)} interleaved "
                           f"pairs: {each} | {_verdict(mean <= 1.3)} |")
        elif "50" in res["catalog"]:
            r50 = res["catalog"]["50"]["ratio"]
            targets.append(f"| N = 50 cold <= 1.3 x engines alone (same pages, same 2 "
                           f"workers) | {r50} x | {_verdict(r50 <= 1.3)} |")
        if pairs:
            mean = sum(p["speedup"] for p in pairs) / len(pairs)
            each = ", ".join(f"{p['speedup']:.2f} x ({p['one']} s vs {p['two']} s; engines "
                             f"{p['engines_speedup']:.2f} x)" for p in pairs)
            targets.append(f"| N = 50: 2 workers >= 1.7 x faster than 1 | {mean:.2f} x, the "
                           f"mean of {len(pairs)} interleaved pairs: {each} | "
                           f"{_verdict(mean >= 1.7)} |")
            cores = [(p["one_core"], p["two"]) for p in pairs if p.get("one_core")]
            if cores:
                gain = sum(one / two for one, two in cores) / len(cores)
                each = ", ".join(f"{one / two:.2f} x ({one} s vs {two} s)" for one, two in cores)
                targets.append(f"| (N = 50: 2 workers on 2 cores against 1 worker with its "
                               f"Prefect server and command line kept on 1 core: what the "
                               f"second core buys) | {gain:.2f} x, the mean of {len(cores)}: "
                               f"{each} | |")
        elif one:
            speedup = one["seconds"] / res["catalog"]["50"]["seconds"]
            eng_speedup = one["engines"]["seconds"] / res["catalog"]["50"]["engines"]["seconds"]
            targets.append(f"| N = 50: 2 workers >= 1.7 x faster than 1 | {speedup:.2f} x "
                           f"(the engines alone: {eng_speedup:.2f} x) | "
                           f"{_verdict(speedup >= 1.7)} |")
        sizes = sorted(int(n) for n in res["catalog"])
        if len(sizes) > 1:
            big, small = str(sizes[-1]), str(sizes[0])
            b, sm = res["catalog"][big], res["catalog"][small]
            mem = b["peak_rss_mib"] / sm["peak_rss_mib"]
            targets.append(f"| memory flat: peak RSS of the process tree N = {big} <= 1.3 x "
                           f"N = {small} (2 workers) | {mem:.2f} x ({b['peak_rss_mib']} / "
                           f"{sm['peak_rss_mib']} MiB) | {_verdict(mem <= 1.3)} |")
            if b.get("worker_peak_rss_mib") and sm.get("worker_peak_rss_mib"):
                per = b["worker_peak_rss_mib"] / sm["worker_peak_rss_mib"]
                targets.append(f"| memory flat per worker: the biggest worker's peak RSS "
                               f"N = {big} <= 1.3 x N = {small} | {per:.2f} x "
                               f"({b['worker_peak_rss_mib']} / {sm['worker_peak_rss_mib']} "
                               f"MiB) | {_verdict(per <= 1.3)} |")
        if res.get("catalog_warm"):
            (n, w), = res["catalog_warm"].items()
            targets.append(f"| (warm rerun of the unchanged N = {n} catalog) | {w['seconds']} s"
                           f" = {w['seconds'] / res['catalog'][n]['seconds']:.1%} of cold | |")
    if "catalog_rows_from" in res:
        lines += [f"The catalog rows are from the full run of {res['catalog_rows_from']} "
                  "(`--fixed-only` re-measured the two-report rows).", ""]
    lines += ["## Targets (issue 15)", "", "| target | measured | |", "| --- | --- | --- |",
              *targets, "",
              "A timeline of one cold two-report run and the import times are in "
              "[speed-timeline.md](speed-timeline.md).", ""]
    (OUT / "speed.md").write_text("\n".join(lines))
    tl = ["# Timeline of one cold `statlift run` (two reports)", "",
          f"From `python -m benchmarks.speed`, {res['finished_at']}: each output line with the "
          "second it appeared at (Prefect's 'Finished in state Completed()' lines of single "
          "tasks left out).", "", "```"]
    tl += [f"{s:6.2f}  {text[:160]}" for s, text in timeline
           if not text.endswith("Finished in state Completed()")]
    tl += ["```", "", "## Import times (cumulative ms, `python -X importtime`)", ""]
    for module, rows in res.get("import_times", {}).items():
        tl += [f"`import {module}`: {rows[0][1]:.0f} ms; the heaviest packages it loads:", "",
               "| package | ms |", "| --- | --- |", *[f"| {n} | {ms:.0f} |" for n, ms in rows[1:]],
               ""]
    stages = res.get("stages")
    if stages:
        st = stages["stages"]

        def wall(names: tuple[str, ...], rid: str) -> float:
            return sum(st.get(n, {}).get("reports", {}).get(rid, {}).get("wall", 0.0)
                       for n in names)

        extract = (plain.PAGES, plain.EXTRACT, *plain.NESTED[plain.EXTRACT])
        publish = (plain.PUBLISH, *plain.NESTED[plain.PUBLISH])
        tl += ["## Where a report's time goes (one process, no Prefect; `benchmarks.plain`)", "",
               "| stage | seconds |", "| --- | --- |",
               f"| imports (statlift stages, pandas, engines) | {st['imports']['wall']:.2f} |"]
        for rid in st[plain.PUBLISH]["reports"]:
            tl += [f"| {rid}: read its pages and extract every table | "
                   f"{wall(extract, rid):.2f} |",
                   f"| {rid}: audit and write every output (publish_outcomes) | "
                   f"{wall(publish, rid):.2f} |",
                   f"| {rid}: its DuckDB/site/dictionary part (prepare_report) | "
                   f"{wall((plain.PREPARE,), rid):.2f} |"]
        tl += [f"| DuckDB, site and dictionary over both (build_downstream) | "
               f"{st[plain.DOWNSTREAM]['wall']:.2f} |", "",
               "cProfile of publish_outcomes for both reports (cumulative):", "", "```",
               *[ln.rstrip()[:150] for ln in stages["publish_profile"].splitlines()
                 if ln.strip()][:45], "```", ""]
    (OUT / "speed-timeline.md").write_text("\n".join(tl))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
