"""Does the shipped spec read a report the publisher re-typeset in a way nobody tried? Typeset
the golden content of both shipped reports many ways drawn at random (tests/fixtures/randomized.py:
fonts and sizes, one or two columns, ruled / unruled / partly ruled / full grid, header wrapping,
spanner rules, indents, caption style, table order, page breaks, stacked callouts), extract every
table with the shipped spec in-process (as tests/integration/test_reference_reports.py does) and
compare it with the golden wide CSV cell by cell, labels included.

    python -m benchmarks.retypeset [--copies 200] [--seed 2026] [--jobs 2] [--role development]

Writes benchmarks/results/retypeset.md and .json (--name STEM, --out DIR elsewhere); `--role`
says whether copies of the seed were looked at while the reader was written. A copy is exact
when every table of it equals its golden CSV as read back from CSV. A table that is not exact
gets one kind, the first that applies: caption not found, shape mismatch (a named
[shape-mismatch] error or a frame of another shape), wrong header path, wrong row path, wrong
value; any other named error is `error [<code>]`, anything else `exception <Type>`. Nothing
inside one copy stops the run.
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
OUT = REPO / "benchmarks" / "results"
sys.path.insert(0, str(REPO / "tests"))  # the fixtures package (tests/fixtures)

from fixtures.randomized import AXES, build_copy, draw_copies, draw_copy, layout_problems  # noqa: E402

from statlift.errors import StatliftError  # noqa: E402
from statlift.extractors.pdfdoc import Document  # noqa: E402
from statlift.extractors.readers import READER_NAMES  # noqa: E402
from statlift.extractors.table import extract_table  # noqa: E402
from statlift.schemas.specs import spec_for  # noqa: E402

EXACT = "exact"
ROLES = {
    "held-out": "No copy of this seed was looked at while the reader was written: a held-out "
                "figure.",
    "development": "Copies of this seed were looked at (failures debugged) while the reader was "
                   "written: a development figure; see the held-out seed next to it "
                   "(benchmarks/results/retypeset.*.md).",
}
KINDS = ["caption not found", "shape mismatch", "wrong header path", "wrong row path",
         "wrong value"]  # then "error [<code>]", "exception <Type>", "typeset failed <Type>"


def _wide(result) -> pd.DataFrame:
    """The wide DataFrame of what extract_table returns (the Table model; `Extracted.wide`
    before it)."""
    return result.to_frame() if hasattr(result, "to_frame") else result.wide


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """The wide CSV as a user reads it back (as the reference-report test compares it)."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)


_GOLDEN: dict[tuple[str, str], pd.DataFrame] = {}


def golden(rid: str, table_id: str) -> pd.DataFrame:
    key = (rid, table_id)
    if key not in _GOLDEN:
        _GOLDEN[key] = pd.read_csv(GOLDEN / rid / f"{table_id}.csv", dtype=str,
                                   keep_default_na=False)
    return _GOLDEN[key]


def compare(got: pd.DataFrame, want: pd.DataFrame) -> tuple[str, int, str]:
    """(kind, exact cells, detail) of a read wide table against its golden one. A cell (the
    row label cells included) is exact when the same position holds the same text under the
    same column header and on the same row label; another shape gives no exact cells."""
    if got.shape != want.shape:
        return "shape mismatch", 0, f"expected {want.shape}, found {got.shape}"
    g, w = got.to_numpy(dtype=object), want.to_numpy(dtype=object)
    same_col = [a == b for a, b in zip(got.columns, want.columns)]
    same_row = [a == b for a, b in zip(g[:, 0], w[:, 0])]
    exact = sum(1 for i in range(w.shape[0]) for j in range(w.shape[1])
                if g[i, j] == w[i, j] and same_col[j] and same_row[i])
    if not all(same_col):
        bad = [(b, a) for a, b, s in zip(got.columns, want.columns, same_col) if not s]
        return "wrong header path", exact, (f"{len(bad)} headers, e.g. {bad[0][0]!r} read as "
                                           f"{bad[0][1]!r}")
    if not all(same_row):
        bad = [(b, a) for a, b, s in zip(g[:, 0], w[:, 0], same_row) if not s]
        return "wrong row path", exact, (f"{len(bad)} rows, e.g. {bad[0][0]!r} read as "
                                        f"{bad[0][1]!r}")
    if exact < w.size:
        i, j = next((i, j) for i in range(w.shape[0]) for j in range(w.shape[1])
                    if g[i, j] != w[i, j])
        return "wrong value", exact, (f"{w.size - exact} cells, e.g. {w[i, 0]!r} x "
                                     f"{want.columns[j]!r}: {w[i, j]!r} read as {g[i, j]!r}")
    return EXACT, exact, ""


def _error_kind(err: BaseException) -> str:
    if isinstance(err, StatliftError):
        return {"caption-not-found": "caption not found",
                "shape-mismatch": "shape mismatch"}.get(err.code, f"error [{err.code}]")
    return f"exception {type(err).__name__}"


def _short_trace(err: BaseException) -> str:
    tb = traceback.format_exception(type(err), err, err.__traceback__)
    return "".join(tb[-3:])[-600:]


def score_table(doc, spec, table_spec, keep_frame: bool = False) -> dict:
    want = golden(spec.report_id, table_spec.table_id)
    out: dict = {"cells": int(want.size)}
    try:
        got = _as_read(_wide(extract_table(doc, spec, table_spec)))
    except Exception as err:  # noqa: BLE001 - every failure of one table is counted, by kind
        kind = _error_kind(err)
        detail = str(err) if isinstance(err, StatliftError) else _short_trace(err)
        return {**out, "kind": kind, "exact_cells": 0, "detail": detail[:600]}
    kind, exact, detail = compare(got, want)
    out.update(kind=kind, exact_cells=exact, detail=detail)
    if keep_frame:
        out["frame"] = got
    return out


def score_copy(index: int, seed: int, report_id: str, workdir: str,
               keep_frames: bool = False, reader: str | None = None) -> dict:
    """Typeset copy `index` of run `seed`, extract every table of it, compare with the goldens.
    Never raises: whatever goes wrong is a table's (or the copy's) kind."""
    t0 = time.perf_counter()
    copy = draw_copy(index, seed, report_id)
    res: dict = {"name": copy.name, "index": index, "report_id": report_id,
                 "draws": copy.draws, "tables": {}}
    try:
        spec = spec_for(report_id)
        pdf = build_copy(copy, workdir)
        res["layout_problems"] = layout_problems(pdf)  # a fixture fault, not a reader's
    except Exception as err:  # noqa: BLE001
        res.update(exact=False, seconds=round(time.perf_counter() - t0, 2),
                   typeset_error=f"{type(err).__name__}: {err}"[:400])
        return res
    try:
        with Document.open(pdf) as doc:
            for t in spec.tables:
                if reader and t.kind == "table":  # every grid table read by this reader
                    t = t.model_copy(update={"reader": reader})
                res["tables"][t.table_id] = score_table(doc, spec, t, keep_frames)
    except Exception as err:  # noqa: BLE001 - opening/closing the PDF: every table unread
        for t in spec.tables:
            res["tables"].setdefault(t.table_id, {
                "cells": int(golden(report_id, t.table_id).size), "exact_cells": 0,
                "kind": _error_kind(err), "detail": _short_trace(err)})
    finally:
        for p in (pdf, pdf.with_suffix(".layout.json")):
            p.unlink(missing_ok=True)
    res["exact"] = all(t["kind"] == EXACT for t in res["tables"].values())
    res["seconds"] = round(time.perf_counter() - t0, 2)
    return res


def _worker(args: tuple) -> dict:
    index, seed, rid, workdir, reader = args
    return score_copy(index, seed, rid, workdir, reader=reader)


def _crashed(index: int, seed: int, rid: str, err: BaseException) -> dict:
    copy = draw_copy(index, seed, rid)
    spec = spec_for(rid)
    return {"name": copy.name, "index": index, "report_id": rid, "draws": copy.draws,
            "exact": False, "seconds": 0.0, "tables": {
                t.table_id: {"cells": int(golden(rid, t.table_id).size), "exact_cells": 0,
                             "kind": f"exception {type(err).__name__}",
                             "detail": "the worker process died on this copy"}
                for t in spec.tables}}


def run(copies: int, seed: int, jobs: int, progress: bool = True,
        reader: str | None = None) -> list[dict]:
    """Score `copies` copies (reports in turn) with `jobs` processes (1: in this process)."""
    todo = [(c.index, seed, c.report_id) for c in draw_copies(copies, seed)]
    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="statlift-retypeset-") as tmp:
        if jobs <= 1:
            for i, s, rid in todo:
                results[i] = score_copy(i, s, rid, tmp, reader=reader)
                _tick(progress, len(results), len(todo), results[i])
            return [results[i] for i, _, _ in todo]
        for attempt in range(2):  # a pool broken by a dying worker: retry the rest once
            pending = [t for t in todo if t[0] not in results]
            if not pending:
                break
            try:
                with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
                    futs = {pool.submit(_worker, (*t, tmp, reader)): t for t in pending}
                    for fut, t in futs.items():
                        try:
                            results[t[0]] = fut.result()
                        except BrokenProcessPool:
                            raise
                        except Exception as err:  # noqa: BLE001
                            results[t[0]] = _crashed(*t, err)
                        _tick(progress, len(results), len(todo), results[t[0]])
            except BrokenProcessPool as err:
                if attempt == 1:
                    for t in todo:
                        results.setdefault(t[0], _crashed(*t, err))
    return [results[i] for i, _, _ in todo]


def _tick(progress: bool, done: int, total: int, res: dict) -> None:
    if progress:
        bad = {t: r["kind"] for t, r in res["tables"].items() if r["kind"] != EXACT}
        print(f"[{done}/{total}] {res['name']} {res['seconds']:.1f}s "
              f"{'exact' if res['exact'] else bad or res.get('typeset_error')}",
              file=sys.stderr, flush=True)


# ---------------------------------------------------------------- summary


def summarize(results: list[dict]) -> dict:
    n = len(results)
    exact = sum(r["exact"] for r in results)
    cells = sum(t["cells"] for r in results for t in r["tables"].values())
    cells_ok = sum(t["exact_cells"] for r in results for t in r["tables"].values())
    kinds: Counter = Counter()
    per_table: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        if r.get("typeset_error"):
            kinds["typeset failed"] += 1
        for tid, t in r["tables"].items():
            per_table[f"{r['report_id']} {tid}"][t["kind"]] += 1
            if t["kind"] != EXACT:
                kinds[t["kind"]] += 1
    by_option: dict[str, dict] = {}
    for axis in AXES:
        groups: dict[str, list[bool]] = defaultdict(list)
        for r in results:
            if axis in r["draws"]:
                groups[str(r["draws"][axis])].append(r["exact"])
        by_option[axis] = {v: {"copies": len(x), "exact": sum(x),
                               "exact_share": round(sum(x) / len(x), 4)}
                           for v, x in groups.items()}
    by_report = {}
    for rid in sorted({r["report_id"] for r in results}):
        rs = [r for r in results if r["report_id"] == rid]
        by_report[rid] = {"copies": len(rs), "exact": sum(r["exact"] for r in rs),
                          "exact_share": round(sum(r["exact"] for r in rs) / len(rs), 4)}
    tables_total = sum(len(r["tables"]) for r in results)
    tables_exact = sum(t["kind"] == EXACT for r in results for t in r["tables"].values())
    return {
        "copies": n, "exact_copies": exact, "exact_copy_share": round(exact / max(1, n), 4),
        "cells": cells, "exact_cells": cells_ok,
        "exact_cell_share": round(cells_ok / max(1, cells), 4),
        "tables": tables_total, "exact_tables": tables_exact,
        "exceptions": sum(v for k, v in kinds.items() if k.startswith("exception")),
        "copies_with_layout_problems": sum(bool(r.get("layout_problems")) for r in results),
        "failures_by_kind": dict(kinds.most_common()),
        "by_report": by_report,
        "by_table": {k: dict(v) for k, v in sorted(per_table.items())},
        "by_option": by_option,
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render_markdown(meta: dict, summary: dict, results: list[dict]) -> str:
    s = summary
    lines = [
        "# Randomized re-typeset copies",
        "",
        (f"`python -m benchmarks.retypeset --copies {meta['copies']} --seed {meta['seed']} "
        f"--jobs {meta['jobs']}"
        + ("" if meta.get("role", "held-out") == "held-out" else f" --role {meta['role']}")
        + (f" --name {meta['name']}" if meta.get("name", "retypeset") != "retypeset" else "")
        + (f" --reader {meta['reader']}" if meta.get("reader", "the spec's (layout)")
           != "the spec's (layout)" else "")
        + f"` on {meta['date']} ({meta['machine']['nproc']} cores, "
        f"{meta['seconds']:.0f} s). Each copy is one of the two shipped reports typeset from "
        "the golden content with options drawn at random (tests/fixtures/randomized.py); every "
        "table is extracted with the shipped spec (`extract_table`, in-process) and compared "
        "with the golden wide CSV cell by cell, labels included. "
        + ROLES[meta.get("role", "held-out")]),
        "",
        "| copies | every cell exact | tables exact | cells exact | exceptions |",
        "| --- | --- | --- | --- | --- |",
        (f"| {s['copies']} | {s['exact_copies']} ({_pct(s['exact_copy_share'])}) | "
        f"{s['exact_tables']} / {s['tables']} | {s['exact_cells']} / {s['cells']} "
        f"({_pct(s['exact_cell_share'])}) | {s['exceptions']} |"),
        "",
        ("A cell is exact when the same position holds the same text under the same column "
        "header and on the same row label (so a wrong header path costs its whole column, "
        "and a shape mismatch or an error the whole table). Target (issue 13): every cell "
        "exact on at least 97% of copies, and never a traceback. Copies whose layout puts a "
        "table off its page or over another (a fixture fault, not the reader's): "
        f"{s['copies_with_layout_problems']}."),
        "",
        "## By report",
        "",
        "| report | copies | every cell exact |",
        "| --- | --- | --- |",
        *[f"| {rid} | {v['copies']} | {v['exact']} ({_pct(v['exact_share'])}) |"
          for rid, v in s["by_report"].items()],
        "",
        "## Failures by kind (tables)",
        "",
        "| kind | tables |",
        "| --- | --- |",
        *([f"| {k} | {v} |" for k, v in s["failures_by_kind"].items()] or ["| (none) | 0 |"]),
        "",
        "## By table",
        "",
        "| table | exact | failures |",
        "| --- | --- | --- |",
    ]
    for tid, kinds in s["by_table"].items():
        total = sum(kinds.values())
        bad = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()) if k != EXACT)
        lines.append(f"| {tid} | {kinds.get(EXACT, 0)} / {total} | {bad or '-'} |")
    lines += ["", "## Exact copies by option value", "",
              "| option | value | copies | every cell exact |", "| --- | --- | --- | --- |"]
    for axis, vals in s["by_option"].items():
        for v, x in sorted(vals.items()):
            lines.append(f"| {axis} | {v} | {x['copies']} | {x['exact']} "
                         f"({_pct(x['exact_share'])}) |")
    fails = [(r["name"], tid, t["kind"], t["detail"]) for r in results
             for tid, t in r["tables"].items() if t["kind"] != EXACT]
    lines += ["", f"## Failures ({len(fails)} tables; first 40)", "",
              ("Rebuild one copy: `build_copy(draw_copy(index, seed, report_id), dir)` "
              "(tests/fixtures/randomized.py); its options are in the JSON."), "",
              "| copy | table | kind | detail |", "| --- | --- | --- | --- |"]
    for name, tid, kind, detail in fails[:40]:
        d = " ".join(str(detail).split()).replace("|", "\\|")[:220]
        lines.append(f"| {name} | {tid} | {kind} | {d} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.retypeset",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=200, help="copies, the two reports in turn")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes (1: in this process)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--role", choices=sorted(ROLES), default="held-out",
                    help="whether copies of this seed were looked at while the reader was written")
    ap.add_argument("--reader", choices=READER_NAMES,
                    help="read every grid table with this registered reader instead of the "
                         "one its spec names (the shipped specs: layout)")
    ap.add_argument("--name", default="retypeset",
                    help="output file stem (e.g. retypeset.seed2027)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    results = run(args.copies, args.seed, args.jobs, progress=not args.quiet,
                  reader=args.reader)
    seconds = round(time.perf_counter() - t0, 1)
    summary = summarize(results)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {"nproc": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version()},
            "seed": args.seed, "copies": args.copies, "jobs": args.jobs, "seconds": seconds,
            "generator": "tests/fixtures/randomized.py", "axes": AXES, "role": args.role,
            "reader": args.reader or "the spec's (layout)",
            "name": args.name}
    args.out.mkdir(parents=True, exist_ok=True)
    slim = [{k: v for k, v in r.items()} for r in results]
    (args.out / f"{args.name}.json").write_text(json.dumps(
        {**meta, "summary": summary, "copies_detail": slim}, indent=1, ensure_ascii=False,
        default=str) + "\n", encoding="utf-8")
    (args.out / f"{args.name}.md").write_text(render_markdown(meta, summary, results),
                                          encoding="utf-8")
    print(f"{summary['exact_copies']}/{summary['copies']} copies exact "
          f"({_pct(summary['exact_copy_share'])}), cells {_pct(summary['exact_cell_share'])}, "
          f"failures {summary['failures_by_kind']}, {seconds} s -> {args.out / args.name}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
