"""statlift's work without an orchestrator, stage by stage: what flows/run.py's report task does
for each report of a catalog (read every page's words, extract each table, publish_outcomes with
the Document lent to the audit, prepare_report), then build_downstream, in one process.

    python -m benchmarks.plain CATALOG OUT [--profile]

Prints one JSON line: per stage, the wall and the CPU seconds in total and per report
(`stages`: {name: {"wall", "cpu", "reports": {report_id: {"wall", "cpu"}}}}), imports included;
with --profile, a cProfile (cumulative) of the audit and writing (publish_outcomes) of every
report. Nested stages are timed apart: the camelot and pdfplumber engines inside the extraction,
the page crops and the running-text claims inside the audit. benchmarks.speed (the two shipped
reports' timeline) and benchmarks.speed_cpu (CPU by stage for N reports) both read it, so that
the sequence they measure is written once.
"""
from __future__ import annotations

import time

_T0 = (time.perf_counter(), time.process_time())

import argparse  # noqa: E402  (the imports are a stage: timed from _T0)
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

from statlift.acquire.hashing import sha256_file  # noqa: E402
from statlift.errors import StatliftError  # noqa: E402
from statlift.extractors import engines  # noqa: E402
from statlift.extractors.pdfdoc import Document, lent  # noqa: E402
from statlift.extractors.table import extract_table  # noqa: E402
from statlift.model import TableOutcome  # noqa: E402
from statlift.outputs.finish import build_downstream  # noqa: E402
from statlift.outputs.incremental import prepare_report  # noqa: E402
from statlift.publish.report import Staged, commit_staged, stage_outcomes  # noqa: E402
from statlift.schemas.specs import load_catalog, spec_for  # noqa: E402
from statlift.settings import DEFAULT_HOME  # noqa: E402
from statlift.validate import audit  # noqa: E402

PAGES = "pages: words and rules (pdfplumber)"
EXTRACT = "extract: statlift's reading and checks"
PUBLISH = "audit and outputs (publish_outcomes)"
PREPARE = "report's DuckDB/site/dictionary part (prepare_report)"
DOWNSTREAM = "build after the last report (build_downstream)"
NESTED = {  # stages timed inside another: subtracted from it
    EXTRACT: ("extract: camelot (engine)", "extract: pdfplumber (engine)"),
    PUBLISH: ("audit: page crops (PDFium render, PNG)", "audit: running-text claims"),
}


class Stages:
    """Wall and CPU seconds by stage, in total and by report."""

    def __init__(self) -> None:
        self.spent: dict[str, dict] = {}
        self.report: str | None = None

    def add(self, name: str, wall: float, cpu: float) -> None:
        st = self.spent.setdefault(name, {"wall": 0.0, "cpu": 0.0, "reports": {}})
        st["wall"] += wall
        st["cpu"] += cpu
        if self.report is not None:
            r = st["reports"].setdefault(self.report, {"wall": 0.0, "cpu": 0.0})
            r["wall"] += wall
            r["cpu"] += cpu

    def timed(self, name: str, fn: Callable, beside: bool = False) -> Callable:
        """`fn` timed as stage `name`. A stage timed inside another (NESTED) counts the CPU of
        its own thread only: the audit renders the tables' crops in a thread beside it, whose
        CPU the process's clock would count in whatever stage runs meanwhile. `beside`: `fn`
        is that thread's work, so its wall time is not counted either (it is not on the path
        the caller waits on)."""
        nested = any(name in inner for inner in NESTED.values())
        clock = time.thread_time if nested or beside else time.process_time

        def wrapper(*a, **k):
            wall, cpu = time.perf_counter(), clock()
            try:
                return fn(*a, **k)
            finally:
                self.add(name, 0.0 if beside else time.perf_counter() - wall, clock() - cpu)
        return wrapper

    def run(self, name: str, fn: Callable, *a):
        return self.timed(name, fn)(*a)

    def result(self) -> dict:
        for outer, inner in NESTED.items():
            if outer not in self.spent:
                continue
            for key in ("wall", "cpu"):
                self.spent[outer][key] -= sum(self.spent.get(k, {}).get(key, 0.0) for k in inner)
                for rid, r in self.spent[outer]["reports"].items():
                    r[key] -= sum(self.spent.get(k, {}).get("reports", {}).get(rid, {})
                                  .get(key, 0.0) for k in inner)
        return self.spent


def _outcome(doc: Document, report, spec) -> TableOutcome:
    try:
        return TableOutcome(spec.table_id, extract_table(doc, report, spec))
    except StatliftError as exc:
        return TableOutcome(spec.table_id, error={"code": exc.code, "message": str(exc)})


def _read_pages(doc: Document) -> None:
    for _ in doc.pages():
        pass


def _extract_all(doc: Document, report) -> list[TableOutcome]:
    return [_outcome(doc, report, t) for t in report.tables]


def _publish(out: Path, rid: str, sha: str, pdf: str, outcomes: list[TableOutcome]) -> Staged:
    """Stage and publish a report as the flow's report task does; the Staged report, whose
    content the report's DuckDB/site part takes (prepare_report's `published`)."""
    staged = stage_outcomes(out, rid, sha, pdf, outcomes)
    if not isinstance(staged, Staged):
        raise RuntimeError(f"{rid}: {staged.message}")
    commit_staged(out, staged, False)
    return staged


def replay(catalog_path: Path, out: Path, profile: bool = False) -> dict:
    stages = Stages()
    stages.add("imports", time.perf_counter() - _T0[0], time.process_time() - _T0[1])
    for name in ("camelot", "pdfplumber"):
        engines.ENGINES[name] = stages.timed(f"extract: {name} (engine)", engines.ENGINES[name])
    audit.write_table_crops = stages.timed(NESTED[PUBLISH][0], audit.write_table_crops,
                                           beside=True)
    audit.finding_crops = stages.timed(NESTED[PUBLISH][0], audit.finding_crops)
    audit.text_claims = stages.timed(NESTED[PUBLISH][1], audit.text_claims)
    prof = cProfile.Profile() if profile else None
    catalog = load_catalog(catalog_path)
    for entry in catalog.reports:
        rid, pdf = entry.report_id, str(DEFAULT_HOME / entry.embedded)  # relative: to the repo
        stages.report = rid
        report, sha = spec_for(rid, catalog), sha256_file(pdf)
        with Document.open(pdf) as doc:
            stages.run(PAGES, _read_pages, doc)
            outcomes = stages.run(EXTRACT, _extract_all, doc, report)
            if prof:
                prof.enable()
            with lent(doc):  # as the flow's report task does
                staged = stages.run(PUBLISH, _publish, out, rid, sha, pdf, outcomes)
            if prof:
                prof.disable()
        stages.run(PREPARE, prepare_report, out, rid, catalog, None, staged.text)
    stages.report = None
    stages.run(DOWNSTREAM, build_downstream, out)
    res: dict = {"stages": stages.result()}
    if prof:
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(30)
        res["publish_profile"] = text.getvalue()
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("catalog", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    print("PLAIN-JSON" + json.dumps(replay(args.catalog, args.out, args.profile)))
    return 0


def read_output(lines: list[str]) -> dict:
    """The JSON a `python -m benchmarks.plain` run printed."""
    line = next(text for text in lines if text.startswith("PLAIN-JSON"))
    return json.loads(line.removeprefix("PLAIN-JSON"))


if __name__ == "__main__":
    sys.exit(main())
