"""A HELD-OUT ICDAR 2013 benchmark for the region reader (`statlift extract-region`): tables
it was never tuned on, scored with the competition's own scorer against camelot stream.

    python -m benchmarks.heldout [--seed 3031] [--copies 100] [--out DIR] [--cmd-sample 6]

What the set is: copies of the two shipped reports' tables typeset by our own randomized
typesetter (tests/fixtures/randomized.py) with a seed never used before (3031; the
development seeds are 2026 and 2027). The region reader was developed on the ICDAR 2013 EU
subset and never looked at these copies, so this is a held-out figure for it; it is NOT a
figure on real publications of other publishers (every table is in one of the two reports' house
styles, drawn by one program).

The ground truth of every table is what the typesetter DREW, taken from its own knowledge:
the header cells with their spans (`bjstable.header_cells`, the function that draws them), the
stub header, the printed body lines (`bjstable._printed_lines`: group headings get a line of
their own), the printed values, and the region box it placed (`body_bbox` of the copy's
`.layout.json`: header + body, no caption, no title, no notes). Never from an extractor.
The USSC callouts (key figures: big numbers in boxes, not a grid) are left out.

Cells are written in the ICDAR 2013 format that shared/tools/icdar2013/dataset.py
reads, one document per table (NAME.pdf is a symbolic link to the copy's PDF), so the
scorer's macro figures are per table. Scoring runs the shared scorer (run.py) unchanged:
`--callable benchmarks.icdar2013.adapter:extract` (what extract-region runs),
`--method camelot-stream` and `--method plumber-text`; `--cmd` with `statlift.cli.region`
on a small sample proves the CLI gives the same cells.

Writes benchmarks/results/heldout.md and heldout.json (--name STEM for another name).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from benchmarks import ICDAR2013_TOOLS
from benchmarks.icdar2013.__main__ import run_scorer as icdar_run_scorer

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
TOOLS = ICDAR2013_TOOLS
SEED = 3031  # held out: never used while the readers were written (2026, 2027 were)
DEV_SEEDS = (2026, 2027)
PAGE_HEIGHT = 792.0
MARGIN = 0.005  # an F1 difference above this is a win / loss

CMD = (f"{sys.executable} -m statlift.cli.region {{pdf}} --page {{page}} "
       f"--bbox {{x0}},{{top}},{{x1}},{{bottom}} --json")
METHODS = {
    "statlift": ["--callable", "benchmarks.icdar2013.adapter:extract"],
    "camelot-stream": ["--method", "camelot-stream"],
    "plumber-text": ["--method", "plumber-text"],
}


# Read by hand after the seed-3031 run of 2026-12-05, on copies of ANOTHER seed (4041: copies
# 000, 001, 006, 010, 026 of `--seed 4041 --copies 40`), so the held-out set was not used to
# study the reader; the reader (statlift/) was not changed. Shown in the report for SEED only.
FINDINGS = [
    "Where no column is drawn, `auto` reads the region with the layout reader (the one "
    "`statlift run` uses); on copies of seed 4041 this took the reader from micro F1 0.788 to "
    "0.988 (the region readers cut headers wrapped over several lines into one cell per line, "
    "joined the stub head to the first column head, and merged every row of some monospace "
    "tables while scoring them 0.96 on quality). Full grids keep the cells their rules cut.",
    "Three changes read off those copies, each a rule of page geometry rather than of a table: "
    "a group heading printed on a line of its own is a row of its own in the cells (it was only "
    "in its rows' paths); a label wrapped flush over two lines is one label when rows indented "
    "under it follow or it ends the table (USSC 'Offenses Involving Sexual / Contact'); header "
    "leaves sit on the last "
    "header row and the lowest spanner reaches down to them (where they are printed).",
    "What is left on those copies: footnote marks on labels ('levelc') are moved into the "
    "footnote field by design and so differ from the drawn text; a wrapped row label read as "
    "two rows (BJS table 2 in Courier, 'Department of Justice (DOJ)'); header cells of a USSC "
    "full grid in Courier placed one row off.",
    "Not tables: discover reads pie-chart labels (ICDAR eu-015) as one-row tables; a rule "
    "that asks for two body rows loses seven real one-row tables of the EU set, so none is "
    "applied.",
]


class GroundTruthError(ValueError):
    """The typesetter's record of a table does not give a sound ground truth."""


@dataclass(frozen=True)
class GTCell:
    r0: int
    c0: int
    r1: int
    c1: int
    text: str
    role: str  # "header", "stub-header", "label", "heading", "value"
    bbox: tuple | None = None  # pdfplumber (x0, top, x1, bottom) where the typesetter knows it


# ---------------------------------------------------------------- ground truth


def _label_text(text: str, marks: str) -> str:
    """The label as drawn by bjstable._label: inline marks after the text, letters raised."""
    inline = "".join(m for m in marks if not m.isalpha())
    sup = "".join(m for m in marks if m.isalpha())
    return text + inline + sup


def table_cells(content, placed: dict | None = None,
                span_up: bool = True) -> tuple[int, list[GTCell]]:
    """(header rows, cells) of one drawn table, from the typesetter's own knowledge.

    Column 0 is the stub (row labels), column j + 1 the j-th leaf column. BJS tables: the
    header cells of `header_cells` with their spans (a top segment of a shorter path spans
    the empty header rows above it, as the grid variant draws it); the stub header spans all
    header rows; every printed body line is a row. USSC tables: one header row of leaf names,
    one row per data row. `placed`: the table's entry of the copy's .layout.json (value-cell
    boxes). `span_up=False`: the other convention (a check that the comparison does not hang
    on it): the stub header and a head with no spanner above sit in the row they are printed
    in (the bottom one) and span no rows."""
    from tests.fixtures.bjstable import _printed_lines, header_cells

    if content.kind != "table":
        raise GroundTruthError(f"{content.report_id} {content.table_id}: kind {content.kind!r} "
                               "is not a grid table")
    boxes = {}
    for c in (placed or {}).get("cells", []):
        boxes[(c["row_path"], c["column_path"])] = tuple(c["bbox"])
    cells: list[GTCell] = []
    ussc = content.report_id.startswith("ussc")
    if ussc:  # titlebar_table_block: leaf names only, no stub header
        depth = 1
        for j, col in enumerate(content.columns):
            cells.append(GTCell(0, j + 1, 0, j + 1, col[-1], "header"))
        lines = [(r.path, r) for r in content.rows]
    else:
        depth, heads = header_cells(content)
        for h in heads:
            r0 = 0 if (h.extends_up and span_up) else h.row
            cells.append(GTCell(r0, h.first + 1, h.row, h.last + 1, h.text, "header"))
        if content.stub_header.strip():
            r0 = 0 if span_up else depth - 1
            cells.append(GTCell(r0, 0, depth - 1, 0, content.stub_header, "stub-header"))
        lines = _printed_lines(content)
    for i, (path, row) in enumerate(lines):
        r = depth + i
        if row is None:
            marks = content.heading_marks.get(path, "")
            cells.append(GTCell(r, 0, r, 0, _label_text(path[-1], marks), "heading"))
            continue
        label = path[-1] if ussc else _label_text(path[-1], row.marks)
        cells.append(GTCell(r, 0, r, 0, label, "label"))
        for j, raw in enumerate(row.cells):
            if not raw.strip():
                continue
            key = (" > ".join(row.path), " | ".join(content.columns[j]))
            cells.append(GTCell(r, j + 1, r, j + 1, raw, "value", boxes.get(key)))
    _check_cells(content, cells)
    return depth, cells


def _check_cells(content, cells: list[GTCell]) -> None:
    """No two cells overlap; every span is sound."""
    taken: dict[tuple[int, int], str] = {}
    for c in cells:
        if c.r1 < c.r0 or c.c1 < c.c0 or c.r0 < 0 or c.c0 < 0:
            raise GroundTruthError(f"{content.report_id} {content.table_id}: bad span {c}")
        for r in range(c.r0, c.r1 + 1):
            for k in range(c.c0, c.c1 + 1):
                if (r, k) in taken:
                    raise GroundTruthError(
                        f"{content.report_id} {content.table_id}: cell {c.text!r} overlaps "
                        f"{taken[(r, k)]!r} at row {r} column {k}")
                taken[(r, k)] = c.text


def region_text_problems(pdf: str | Path, page: int, region: tuple,
                         cells: list[GTCell]) -> list[str]:
    """[] when the characters pdfplumber finds in `region` (page 1-based, pdfplumber
    coordinates) are exactly the characters of the ground-truth cells (as the metric sees
    them: letters and digits): the region holds the table and nothing else, and the cells say
    what was drawn. Else what differs."""
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        words = doc.pages[page - 1].crop(region).extract_words()
    drawn = Counter("".join(_norm(w["text"]) for w in words))
    truth = Counter("".join(_norm(c.text) for c in cells))
    out = []
    if truth - drawn:
        out.append(f"in the ground truth, not in the region: {''.join(sorted(truth - drawn))!r}")
    if drawn - truth:
        out.append(f"in the region, not in the ground truth: {''.join(sorted(drawn - truth))!r}")
    return out


def _norm(text: str) -> str:
    """The metric's normalisation (NFKC, letters and digits only)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text or "") if ch.isalnum())


def _bbox_xml(b: tuple, indent: str) -> str:
    x0, top, x1, bottom = b
    return (f'{indent}<bounding-box x1="{x0:.2f}" y1="{PAGE_HEIGHT - bottom:.2f}" '
            f'x2="{x1:.2f}" y2="{PAGE_HEIGHT - top:.2f}"/>\n')


def write_icdar(out_dir: Path, name: str, page: int, region: tuple, cells: list[GTCell]) -> None:
    """NAME-reg.xml (one table, one region) and NAME-str.xml (its cells), ICDAR 2013 format;
    `region` in pdfplumber coordinates (x0, top, x1, bottom), written bottom-left as ICDAR."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    reg = (head + f'<document filename="{name}-reg.xml">\n <table id="1">\n'
           f'  <region id="1" page="{page}">\n' + _bbox_xml(region, "   ")
           + "  </region>\n </table>\n</document>\n")
    parts = [head, f'<document filename="{name}-str.xml">\n <table id="1">\n',
             f'  <region col-increment="0" id="1" page="{page}" row-increment="0">\n']
    for i, c in enumerate(cells, 1):
        span = f'start-row="{c.r0}" start-col="{c.c0}"'
        if c.r1 != c.r0:
            span += f' end-row="{c.r1}"'
        if c.c1 != c.c0:
            span += f' end-col="{c.c1}"'
        parts.append(f'   <cell id="{i}" {span}>\n')
        if c.bbox:
            parts.append(_bbox_xml(c.bbox, "    "))
        parts.append(f"    <content>{escape(c.text)}</content>\n   </cell>\n")
    parts.append("  </region>\n </table>\n</document>\n")
    (out_dir / f"{name}-reg.xml").write_text(reg, encoding="utf-8")
    (out_dir / f"{name}-str.xml").write_text("".join(parts), encoding="utf-8")


def build_set(seed: int, copies: int, out_dir: Path, log=print) -> list[dict]:
    """Typeset `copies` copies of `seed` into out_dir/pdf and write one ICDAR document per grid
    table into out_dir; -> one manifest entry per table."""
    from tests.fixtures.content import load_report
    from tests.fixtures.randomized import build_copy, draw_copies, layout_problems
    from tests.fixtures.typeset import golden_dir

    pdf_dir = out_dir / "pdf"
    pdf_dir.mkdir(parents=True, exist_ok=True)
    contents = {}
    manifest = []
    for copy in draw_copies(copies, seed):
        pdf = build_copy(copy, pdf_dir)
        problems = layout_problems(pdf)
        if problems:  # an unfair copy (a table off its page): left out, and said so
            log(f"{copy.name}: left out: {'; '.join(problems)}")
            continue
        info = json.loads(pdf.with_suffix(".layout.json").read_text(encoding="utf-8"))
        if copy.report_id not in contents:
            contents[copy.report_id] = load_report(copy.report_id, golden_dir())
        for tid, content in contents[copy.report_id].items():
            if content.kind != "table":
                continue
            placed = info["tables"].get(tid)
            if not placed or "body_bbox" not in placed:
                raise GroundTruthError(f"{copy.name} {tid}: the layout file has no body box")
            depth, cells = table_cells(content, placed)
            name = f"{copy.name}-{tid}"
            link = out_dir / f"{name}.pdf"
            if link.exists() or link.is_symlink():
                link.unlink()
            link.symlink_to(Path("pdf") / pdf.name)
            region = tuple(placed["body_bbox"])
            problems = region_text_problems(pdf, placed["page"], region, cells)
            if problems:
                raise GroundTruthError(f"{name}: {'; '.join(problems)}")
            write_icdar(out_dir, name, placed["page"], region, cells)
            manifest.append({
                "doc": name, "copy": copy.name, "report_id": copy.report_id, "table_id": tid,
                "page": placed["page"], "region": list(region), "header_rows": depth,
                "rows": 1 + max(c.r1 for c in cells), "cols": 1 + max(c.c1 for c in cells),
                "cells": len(cells), "spanning": sum(c.r1 > c.r0 or c.c1 > c.c0 for c in cells),
                "draws": copy.draws,
            })
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


# ---------------------------------------------------------------- scoring


def run_scorer(data: Path, args: list[str], only: str | None = None,
               env_extra: dict[str, str] | None = None) -> dict:
    """One run of the shared scorer (run.py, not copied); -> its --out JSON."""
    return icdar_run_scorer(str(TOOLS), str(data), args, only, env_extra)


# each reader forced (the adapter's STATLIFT_ENGINE), to see whether auto's choice loses to one
ALTERNATIVES = ("layout", "fused", "whitespace", "ruled")


def alternatives(data: Path, statlift: list[dict]) -> dict:
    """Per table: does another reader beat the one `auto` chose by more than 0.05 F1?"""
    auto = {r["doc"]: f1_of(r) for r in statlift}
    forced: dict[str, dict[str, float]] = {}
    summary = {}
    for name in ALTERNATIVES:
        res = run_scorer(data, METHODS["statlift"], env_extra={"STATLIFT_ENGINE": name})
        forced[name] = {r["doc"]: f1_of(r) for r in res["records"]}
        summary[name] = round(res["summary"]["micro_f1"], 4)
    beaten: Counter[str] = Counter()
    for doc, f in auto.items():
        best = max(forced, key=lambda n: forced[n][doc])
        if forced[best][doc] > f + 0.05:
            beaten[best] += 1
    return {"micro_f1_forced": summary, "tables": len(auto),
            "auto_beaten_by_more_than_0.05": sum(beaten.values()),
            "beaten_by": dict(beaten.most_common())}


def f1_of(r: dict) -> float:
    return 2 * r["correct"] / (r["gt"] + r["found"]) if r["found"] and r["gt"] else 0.0


def _output_cells(output) -> list[tuple[int, int, int, int, str]]:
    """(r0, c0, r1, c1, text) of a scorer record's `output` (the extractor's JSON)."""
    sys.path.insert(0, str(TOOLS))
    import run as scorer_run  # the scorer's own reader of extractor output

    return [(c.r0, c.c0, c.r1, c.c1, c.text) for c in scorer_run.to_cells(output) if not c.empty]


def diagnose(gt_xml: Path, output, header_rows: int) -> tuple[str, str]:
    """(kind, one line) for a table statlift got wrong, the first kind that applies:

    - region: the output's text is not the drawn text (words missing, or words from outside);
    - else, if drawn cells were split or joined: by where most of them are: a header cell
      (header structure), a body cell cut over several columns or joined with its right
      neighbour (column split: a wrapped label or a unit read as a column), a body cell cut
      over several rows or joined with the one below (row split);
    - else (every cell intact, placed wrong): by where most lost adjacency relations are: one
      end in the header (header structure), a horizontal one (column split), a vertical one
      (row split)."""
    sys.path.insert(0, str(TOOLS))
    import dataset
    import metric

    gt = [c for c in dataset._cells(_region_el(gt_xml)) if not c.empty]
    found = [metric.Cell(*c) for c in _output_cells(output)] if output is not None else []
    if not found:
        return "region", "nothing found in the region"
    shape = (f"found {1 + max(c.r1 for c in found)} x {1 + max(c.c1 for c in found)}, drawn "
             f"{1 + max(c.r1 for c in gt)} x {1 + max(c.c1 for c in gt)}")
    chars_gt = Counter("".join(metric.norm(c.text) for c in gt))
    chars_found = Counter("".join(metric.norm(c.text) for c in found))
    if chars_gt != chars_found:
        drawn = Counter(t for c in gt for t in _tokens(c.text))
        read = Counter(t for c in found for t in _tokens(c.text))
        missing, extra = sorted(drawn - read), sorted(read - drawn)
        return "region", (f"{sum((chars_gt - chars_found).values())} drawn characters missing "
                          f"({' '.join(missing[:3])!r}), {sum((chars_found - chars_gt).values())}"
                          f" foreign ({' '.join(extra[:3])!r}); {shape}")
    found_norm = Counter(metric.norm(c.text) for c in found)
    broken: Counter = Counter()
    example: dict[str, str] = {}
    for c in gt:
        n = metric.norm(c.text)
        if not n or found_norm[n]:
            continue
        if c.r0 < header_rows:
            kind = "header structure"
        else:
            parts = [f for f in found if metric.norm(f.text) and metric.norm(f.text) in n]
            whole = [f for f in found if n in metric.norm(f.text)]
            if whole:  # joined with a neighbour: which one?
                f = whole[0]
                same_row = [g for g in gt if g is not c and g.r0 == c.r0
                            and metric.norm(g.text) and metric.norm(g.text) in metric.norm(f.text)]
                kind = "column split" if same_row else "row split"
            else:
                kind = ("row split" if len({f.r0 for f in parts}) > 1 else "column split")
        broken[kind] += 1
        example.setdefault(kind, c.text.replace("\n", " ")[:40])
    if broken:
        kind, _ = broken.most_common(1)[0]
        spread = ", ".join(f"{k} {v}" for k, v in broken.most_common())
        return kind, f"{sum(broken.values())} drawn cells cut or joined ({spread}), e.g. " \
            f"{example[kind]!r}; {shape}"
    head = {metric.norm(c.text) for c in gt if c.r0 < header_rows}
    body = {metric.norm(c.text) for c in gt if c.r0 >= header_rows}
    lost = metric.relations(gt) - metric.relations(found)
    wrong = metric.relations(found) - metric.relations(gt)
    kinds: Counter = Counter()
    for (a, b, d), n in (lost + wrong).items():
        in_head = (a in head and a not in body) or (b in head and b not in body)
        kinds["header structure" if in_head else "column split" if d == "h" else "row split"] += n
    if not kinds:
        return "header structure", f"spans differ only; {shape}"
    kind, _ = kinds.most_common(1)[0]
    spread = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
    return kind, f"cells intact, misplaced: {sum(lost.values())} relations lost, " \
        f"{sum(wrong.values())} wrong ({spread}); {shape}"


def _tokens(text: str) -> list[str]:
    """Words of a text as the metric sees them (NFKC, runs of letters and digits)."""
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text or ""))


def _region_el(gt_xml: Path):
    import xml.etree.ElementTree as ET

    region = ET.parse(gt_xml).getroot().find("table/region")
    if region is None:
        raise GroundTruthError(f"{gt_xml}: no table region")
    return region


def other_convention(manifest: list[dict], records: dict[str, list[dict]]) -> dict:
    """Micro F1 of every method against the ground truth in the other convention
    (`table_cells(span_up=False)`), scored in-process by the shared metric on the outputs the
    scorer recorded."""
    from tests.fixtures.content import load_report
    from tests.fixtures.typeset import golden_dir

    sys.path.insert(0, str(TOOLS))
    import metric

    contents: dict[str, dict] = {}
    out = {}
    for method, recs in records.items():
        by_doc = {r["doc"]: r for r in recs}
        total = metric.Score()
        for m in manifest:
            if m["report_id"] not in contents:
                contents[m["report_id"]] = load_report(m["report_id"], golden_dir())
            _, cells = table_cells(contents[m["report_id"]][m["table_id"]], span_up=False)
            gt = [metric.Cell(c.r0, c.c0, c.r1, c.c1, c.text) for c in cells]
            r = by_doc[m["doc"]]
            found = [metric.Cell(*c) for c in _output_cells(r["output"])] \
                if r["output"] is not None else []
            total += metric.compare(gt, found)
        out[method] = round(total.f1, 4)
    return out


def compare(records: dict[str, list[dict]]) -> dict:
    """Per-table comparison of statlift with camelot stream (F1 difference > MARGIN)."""
    st = {r["doc"]: r for r in records["statlift"]}
    cs = {r["doc"]: r for r in records["camelot-stream"]}
    out: Counter = Counter()
    for doc, r in st.items():
        d = f1_of(r) - f1_of(cs[doc])
        out["wins" if d > MARGIN else "losses" if d < -MARGIN else "ties"] += 1
    return dict(out)


def cmd_check(data: Path, docs: list[str], callable_recs: dict) -> dict:
    """The CLI path (`--cmd statlift.cli.region`) on a sample: the same cells as --callable?"""
    only = "^(" + "|".join(docs) + ")$"
    res = run_scorer(data, ["--cmd", CMD], only)
    same = []
    for r in res["records"]:
        a = _output_cells(r["output"]) if r["output"] is not None else None
        b = callable_recs[r["doc"]]["output"]
        same.append(a == (_output_cells(b) if b is not None else None))
    return {"tables": len(res["records"]), "same_cells": sum(same),
            "wall_seconds": res["wall_seconds"], "docs": docs}


def _fmt_row(name: str, s: dict) -> str:
    return (f"| {name} | {s['micro_p']:.3f} | {s['micro_r']:.3f} | {s['micro_f1']:.3f} | "
            f"{s['macro_p']:.3f} | {s['macro_r']:.3f} | {s['macro_f1']:.3f} | {s['errors']} |")


def report(result: dict) -> str:
    s, cmp_ = result["summary"], result["statlift_vs_stream"]
    n = result["tables"]
    lines = [
        "# Held-out ICDAR 2013 benchmark: extract-region vs camelot stream",
        "",
        f"Run {result['date']} on {result['machine']} ({result.get('code', '?')}); "
        f"`python -m benchmarks.heldout --seed "
        f"{result['seed']} --copies {result['copies']}`; {result['wall_seconds']:.0f} s in all "
        f"(typesetting {result['build_seconds']:.0f} s).",
        "",
        "**What this set is.** Synthetic copies of the two shipped reports' tables (BJS NCJ "
        "250746: 10 tables; USSC production overview: 3 N/% tables; the USSC key-figure callouts "
        "are not a grid and are left out), typeset by our own randomized typesetter "
        "(tests/fixtures/randomized.py: fonts and sizes, one or two columns, ruled / unruled / "
        "partly ruled / full grid, header wrapping, spanner rules, indents, ...) with seed "
        f"{result['seed']}, which is held out: no copy of it was looked at while the readers "
        f"were written (the typesetter's development seeds are "
        f"{', '.join(map(str, DEV_SEEDS))}; copies of seed 4041 were read to diagnose). What "
        "it holds out differs by reader. The region readers (rules, gaps) were developed on the "
        "ICDAR 2013 EU subset, never on these tables. The layout reader, which `auto` takes "
        "where no column is drawn (and which `statlift run` uses), was developed on the shipped "
        "reports and on re-typeset copies of them: for it this set is new typesetting of the "
        "tables it was developed on, not new tables, and its figure here is closer to a "
        "development figure than to a held-out one. It is not a figure on real publications of "
        "other publishers: every table is in one of two house styles, drawn by one program, "
        "with clean text; the content (labels, numbers, header structure) is the same 13 "
        "tables over and over in different typesetting. For tables that no reader was "
        "developed on, see the ICDAR 2013 EU cross-validated and rules-hidden figures "
        "(benchmarks/icdar2013/results.md).",
        "",
        "**Ground truth** is what the typesetter drew, from its own knowledge (never from an "
        "extractor): header cells with their spans (a spanning header is one spanning cell; a "
        "column head with no spanner above spans the empty header rows above it; the stub head "
        "spans all header rows), every printed body line (group headings are rows with a label "
        "only), the printed values; the region is the box it placed: header + body, no "
        "caption, no title, no notes. One ICDAR document per table, so the macro figures are "
        "means over tables. Scored by the shared scorer shared/tools/icdar2013/run.py "
        "(adjacency relations, micro = pooled relations).",
        "",
        f"## Scores ({n} tables from {result['copies_used']} copies)",
        "",
        "| method | micro P | micro R | micro F1 | macro P | macro R | macro F1 | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    label = {"statlift": "statlift extract-region (`--callable benchmarks.icdar2013.adapter:"
             "extract`)", "camelot-stream": "camelot stream", "plumber-text": "pdfplumber text"}
    for m, agg in s.items():
        lines.append(_fmt_row(label[m], agg))
    lines += [
        "",
        f"Per table, statlift vs camelot stream (F1 difference > {MARGIN}): "
        f"**{cmp_.get('wins', 0)} wins, {cmp_.get('ties', 0)} ties, {cmp_.get('losses', 0)} "
        f"losses** of {n}. statlift scores F1 = 1.000 on {result['statlift_perfect']} tables, "
        f"stream on {result['stream_perfect']}.",
        "",
    ]
    oc = result["other_convention_micro_f1"]
    lines += ["Convention check: with the stub head and the heads without a spanner above placed "
              "in the row they are printed in (no row span), micro F1 is "
              + ", ".join(f"{k} {v:.3f}" for k, v in oc.items()) + ".", ""]
    st_f1, cs_f1 = s["statlift"]["micro_f1"], s["camelot-stream"]["micro_f1"]
    ahead = st_f1 > cs_f1 and cmp_.get("wins", 0) > cmp_.get("losses", 0)
    lines += [f"**Issue 13's held-out target** (ahead of camelot stream on micro F1 and on most "
              f"tables): **{'met' if ahead else 'not met'}** on this set: micro F1 {st_f1:.3f} vs "
              f"{cs_f1:.3f}; ahead on {cmp_.get('wins', 0)} of {n} tables, behind on "
              f"{cmp_.get('losses', 0)}.", ""]
    al = result.get("alternatives")
    if al:
        lines += ["Each reader forced on every table (micro F1): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in al["micro_f1_forced"].items())
                  + f". `auto`'s choice is beaten by more than 0.05 F1 by another reader on "
                  f"{al['auto_beaten_by_more_than_0.05']} of {al['tables']} tables"
                  + (" (by " + ", ".join(f"{k} {v}" for k, v in al["beaten_by"].items()) + ")"
                     if al["beaten_by"] else "") + ".", ""]
    cc = result.get("cmd_check")
    if cc:
        lines += [f"CLI path: `--cmd '{CMD.split(' ', 1)[1]}'` on {cc['tables']} tables gives the "
                  f"same cells as the callable on {cc['same_cells']} of them.", ""]
    lines += ["## By report and by rules", "",
              "| group | tables | statlift micro F1 | stream micro F1 | wins | ties | losses |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for g in result["groups"]:
        lines.append(f"| {g['group']} | {g['tables']} | {g['statlift_f1']:.3f} | "
                     f"{g['stream_f1']:.3f} | {g['wins']} | {g['ties']} | {g['losses']} |")
    for heading, key in (("Worst tables for statlift", "worst"),
                         ("Biggest losses to camelot stream", "biggest_losses")):
        lines += ["", f"## {heading} (the worst copy of each table design)", "",
                  "| table | typeset | statlift F1 | stream F1 | kind | why |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {w['doc']} | {w['typeset']} | {w['statlift_f1']:.3f} | "
                  f"{w['stream_f1']:.3f} | {w['kind']} | {w['why']} |" for w in result[key]]
    lines += ["", "Kinds of every loss to stream: "
              + ", ".join(f"{k} {v}" for k, v in result["loss_kinds"].items()) + "."]
    lines += ["", "Kinds of every table below F1 1.000 for statlift: "
              + ", ".join(f"{k} {v}" for k, v in result["imperfect_kinds"].items()) + ".", ""]
    if result["seed"] == SEED:
        lines += ["## What the worst tables show", "",
                  "Read by hand on copies of a development seed (4041), not on this set. "
                  "This set's summary tables were seen once before the three changes named below "
                  "were made (they showed the same kinds as seed 4041); none of its tables "
                  "was read to make them.", ""]
        lines += [f"- {x}" for x in FINDINGS] + [""]
    if result.get("notes"):
        lines += ["## Notes", ""] + [f"- {x}" for x in result["notes"]] + [""]
    return "\n".join(lines)


def _code_state() -> str:
    """The commit the reader was run at, and whether statlift/ had uncommitted changes."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else "?"

    dirty = [ln for ln in git("status", "--porcelain", "--", "statlift").splitlines() if ln]
    state = f", statlift/ with {len(dirty)} uncommitted changed files" if dirty \
        else ", statlift/ clean"
    return f"commit {git('rev-parse', '--short', 'HEAD')}{state}"


def _one_per_table(rows: list[dict]) -> list[dict]:
    """The first row of each table design (doc names end in the table id)."""
    seen, out = set(), []
    for r in rows:
        tid = r["doc"].split("-", 3)[3]
        if tid not in seen:
            seen.add(tid)
            out.append(r)
    return out


def _typeset(draws: dict) -> str:
    """The drawn options that matter most to a table reader, in a few words."""
    out = [draws["rules"], draws["layout"], draws["font"]]
    if "header_wrap" in draws:
        out += [f"wrap {draws['header_wrap']}", f"spanner rule {draws['spanner']}"]
    return ", ".join(out)


def _group_rows(manifest: list[dict], records: dict) -> list[dict]:
    st = {r["doc"]: r for r in records["statlift"]}
    cs = {r["doc"]: r for r in records["camelot-stream"]}
    groups: dict[str, list[str]] = {}
    for m in manifest:
        short = "BJS" if m["report_id"].startswith("bjs") else "USSC"
        groups.setdefault(short, []).append(m["doc"])
        groups.setdefault(f"{short}, rules {m['draws']['rules']}", []).append(m["doc"])
        groups.setdefault(f"{short}, font {m['draws']['font']}", []).append(m["doc"])
        groups.setdefault(f"{short} {m['table_id']}", []).append(m["doc"])
    out = []
    for g in sorted(groups):
        docs = groups[g]

        def micro(recs, docs=docs):
            c = sum(recs[d]["correct"] for d in docs)
            return 2 * c / max(1, sum(recs[d]["gt"] + recs[d]["found"] for d in docs))

        cmp_ = compare({"statlift": [st[d] for d in docs], "camelot-stream": [cs[d] for d in docs]})
        out.append({"group": g, "tables": len(docs), "statlift_f1": micro(st),
                    "stream_f1": micro(cs), **{k: cmp_.get(k, 0) for k in ("wins", "ties",
                                                                         "losses")}})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--out", type=Path, help="dataset directory (default: a temporary one)")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--name", default="heldout")
    ap.add_argument("--cmd-sample", type=int, default=6, help="tables run through the CLI too")
    ap.add_argument("--no-plumber", action="store_true")
    ap.add_argument("--worst", type=int, default=13)
    a = ap.parse_args(argv)
    if a.seed in DEV_SEEDS:
        print(f"warning: seed {a.seed} is a development seed, not held out", file=sys.stderr)
    if not (TOOLS / "run.py").is_file():
        raise SystemExit(f"the shared scorer is not at {TOOLS}/run.py (set ICDAR2013_TOOLS)")
    t0 = time.perf_counter()
    tmp = None
    if a.out is None:
        tmp = tempfile.mkdtemp(prefix="heldout-")
        a.out = Path(tmp)
    data = a.out
    data.mkdir(parents=True, exist_ok=True)
    try:
        notes: list[str] = []
        manifest = build_set(a.seed, a.copies, data, log=lambda s: notes.append(s))
        build_s = time.perf_counter() - t0
        print(f"typeset {a.copies} copies, {len(manifest)} tables in {build_s:.0f} s",
              file=sys.stderr)
        methods = {k: v for k, v in METHODS.items() if not (a.no_plumber and k == "plumber-text")}
        runs = {}
        for method, args in methods.items():
            runs[method] = run_scorer(data, args)
            print(f"{method}: micro F1 {runs[method]['summary']['micro_f1']:.4f} "
                  f"({runs[method]['wall_seconds']} s)", file=sys.stderr)
        records = {k: r["records"] for k, r in runs.items()}
        st = {r["doc"]: r for r in records["statlift"]}
        cs = {r["doc"]: r for r in records["camelot-stream"]}
        pt = {r["doc"]: r for r in records.get("plumber-text", [])}
        per_table: list[dict[str, Any]] = []
        kinds: Counter = Counter()
        for m in manifest:
            d = m["doc"]
            row: dict[str, Any] = {"doc": d, "typeset": _typeset(m["draws"]),
                   "statlift_f1": round(f1_of(st[d]), 4),
                   "stream_f1": round(f1_of(cs[d]), 4)}
            if pt:
                row["plumber_f1"] = round(f1_of(pt[d]), 4)
            if row["statlift_f1"] < 1.0:
                row["kind"], row["why"] = diagnose(data / f"{d}-str.xml", st[d]["output"],
                                                    m["header_rows"])
                if st[d].get("error"):
                    row["kind"], row["why"] = "error", st[d]["error"][:120]
                kinds[row["kind"]] += 1
            per_table.append(row)
        worst = _one_per_table(sorted(
            (r for r in per_table if r["statlift_f1"] < 1.0),
            key=lambda r: (r["statlift_f1"], r["statlift_f1"] - r["stream_f1"])))
        lost = [r for r in per_table if r["statlift_f1"] < r["stream_f1"] - MARGIN]
        losses = _one_per_table(sorted(lost, key=lambda r: (r["statlift_f1"] - r["stream_f1"],
                                                            r["doc"])))
        loss_kinds = Counter(r["kind"] for r in lost)
        alts = alternatives(data, records["statlift"])
        print(f"readers forced: {alts['micro_f1_forced']}; auto beaten on "
              f"{alts['auto_beaten_by_more_than_0.05']} tables", file=sys.stderr)
        cmd = None
        if a.cmd_sample:
            step = max(1, len(manifest) // a.cmd_sample)
            sample = [m["doc"] for m in manifest[::step]][: a.cmd_sample]
            sample += [w["doc"] for w in worst[:2] if w["doc"] not in sample]
            cmd = cmd_check(data, sample, st)
        result = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
            "code": _code_state(),
            "seed": a.seed, "held_out": a.seed not in DEV_SEEDS, "copies": a.copies,
            "copies_used": len({m["copy"] for m in manifest}), "tables": len(manifest),
            "summary": {m: {k: v for k, v in r["summary"].items()} for m, r in runs.items()},
            "scorer_seconds": {m: r["wall_seconds"] for m, r in runs.items()},
            "statlift_vs_stream": compare(records), "margin": MARGIN,
            "statlift_perfect": sum(r["statlift_f1"] >= 1.0 for r in per_table),
            "stream_perfect": sum(r["stream_f1"] >= 1.0 for r in per_table),
            "groups": _group_rows(manifest, records),
            "worst": worst[: a.worst], "imperfect_kinds": dict(kinds.most_common()),
            "biggest_losses": losses[: a.worst], "loss_kinds": dict(loss_kinds.most_common()),
            "cmd_check": cmd, "notes": notes, "alternatives": alts,
            "other_convention_micro_f1": other_convention(manifest, records),
            "per_table": per_table,
            "build_seconds": round(build_s, 1),
        }
        result["wall_seconds"] = round(time.perf_counter() - t0, 1)
        a.results.mkdir(parents=True, exist_ok=True)
        (a.results / f"{a.name}.json").write_text(json.dumps(result, indent=1) + "\n")
        (a.results / f"{a.name}.md").write_text(report(result))
        print(f"wrote {a.results / a.name}.md and .json ({result['wall_seconds']:.0f} s)",
              file=sys.stderr)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
