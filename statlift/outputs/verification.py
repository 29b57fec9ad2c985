"""What `statlift verify` writes: verification.csv (one line per cell), verification.html (each
problem on the page crop, as the audit page shows findings) and the one-screen summary.

The page shows each mismatch (and each typed value where the print has none) on its own, with
the cell boxed on the page crop; the cells a transcription leaves out one table at a time, all
boxed on one crop; and a label that matches nothing printed once, with the values it carries
and the printed labels nothing matched (what to name in a --map file)."""
from __future__ import annotations

import csv
import math
from pathlib import Path

from statlift.frames import records
from statlift.outputs.templates import counted, render
from statlift.validate.crops import (
    PROBLEM,
    Box,
    Highlight,
    focus_in_crop,
    highlight_crops,
    parse_box,
)
from statlift.validate.verify import PublishedReport, Verification

# what the page calls each verdict, by count (the CSV keeps the verdicts as they are)
VERDICT_LABELS = {"match": ("match", "matches"), "mismatch": ("mismatch", "mismatches"),
                  "missing-in-transcription": ("missing in the transcription",) * 2,
                  "not-in-table": ("not in the table",) * 2,
                  "unmatched-label": ("with an unmatched label",) * 2}


def verdict_label(verdict: str, n: int) -> str:
    """>>> verdict_label("match", 1), verdict_label("mismatch", 3), verdict_label("x", 2)
    ('match', 'mismatches', 'x')
    """
    one, many = VERDICT_LABELS.get(verdict, (verdict, verdict))
    return one if n == 1 else many


def _page(value: object) -> int | None:
    """A line's page as a number; None for a line with no printed cell (NaN, None, 0, "")."""
    try:
        page = float(str(value))
    except ValueError:
        return None
    return int(page) if not math.isnan(page) and page >= 1 else None


def _missing_groups(lines: list[dict]) -> list[dict]:
    """The cells left out of the transcription, one group per table."""
    groups: dict[str, dict] = {}
    for line in lines:
        if line["verdict"] == "missing-in-transcription":
            g = groups.setdefault(line["table_id"], {"table_id": line["table_id"], "cells": []})
            g["cells"].append(dict(line, page=_page(line["page"])))
    for g in groups.values():
        g["pages"] = sorted({c["page"] for c in g["cells"] if c["page"]})
    return list(groups.values())


def _label_groups(v: Verification) -> list[dict]:
    """Each typed label that matches nothing printed, once: its axis, how many values it
    carries, where it was typed, and the printed labels of that axis that no typed label
    matched (the likely intended ones)."""
    groups: dict[tuple[str, str, str], dict] = {}
    for line in records(v.lines):
        if line["verdict"] != "unmatched-label":
            continue
        kind = str(line["kind"])
        axis = "column" if kind == "column label" else ("table" if kind == "unknown table"
                                                        else "row")
        label = line["column_path"] if axis == "column" else \
            (line["table_id"] if axis == "table" else line["row_path"])
        g = groups.setdefault((line["table_id"], axis, label), {
            "table_id": line["table_id"], "axis": axis, "label": label, "values": 0,
            "where": [], "left": v.untyped.get(line["table_id"], {}).get(axis + "s", [])})
        g["values"] += 1
        if line["where"] and line["where"] not in g["where"]:
            g["where"].append(line["where"])
    for g in groups.values():
        g["values_text"] = counted(g["values"], "value")
        g["map"] = (f"{g['table_id']}: {{{g['axis']}s: {{{g['label']!r}: {g['left'][0]!r}}}}}"
                    if g["axis"] != "table" and len(g["left"]) == 1 else "")
    return list(groups.values())


def problem_crops(v: Verification, report: PublishedReport
                  ) -> dict[int | str, tuple[str, tuple[int, int] | None]]:
    """Crop key -> (data URI of the table crop with the problem's cells boxed, where they fall
    in it), through the audit's crop route (statlift.validate.crops): the line number of each
    problem with a cell of its own, `missing:<table_id>` for the cells left out of a table."""
    highlights = []
    missing: dict[str, list[tuple[int, Box]]] = {}
    for i, line in enumerate(records(v.lines)):
        box = parse_box(line["bbox"])
        if line["verdict"] in ("match", "unmatched-label") or box is None:
            continue
        page = _page(line["page"])
        if page is None:
            continue
        if line["verdict"] == "missing-in-transcription":
            missing.setdefault(line["table_id"], []).append((page, box))
            continue
        page, around = report.table_boxes.get(line["table_id"], (page, None))
        highlights.append(Highlight(i, page, ((box, PROBLEM),), around))
    for table_id, cells in missing.items():
        page, around = report.table_boxes.get(table_id, (cells[0][0], None))
        boxes = tuple((b, PROBLEM) for p, b in cells if p == page)
        if boxes:
            highlights.append(Highlight(f"missing:{table_id}", page, boxes, around))
    focus = {h.key: focus_in_crop(h.region, [b for b, _ in h.boxes]) for h in highlights}
    return {k: ("data:image/png;base64," + png, focus[k])
            for k, png in highlight_crops(report.source_path, highlights).items()}


def write_verification(v: Verification, report: PublishedReport, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "verification.csv"
    v.lines.to_csv(csv_path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    crops = problem_crops(v, report)
    lines = records(v.lines)
    problems = [{**line, "page": _page(line["page"]), "crop": crops.get(i, (None, None))[0],
                 "focus": crops.get(i, (None, None))[1]}
                for i, line in enumerate(lines)
                if line["verdict"] in ("mismatch", "not-in-table")]
    missing = [dict(g, crop=crops.get(f"missing:{g['table_id']}", (None, None))[0],
                    focus=crops.get(f"missing:{g['table_id']}", (None, None))[1])
               for g in _missing_groups(lines)]
    counts = v.counts()
    html = render("verification.html", title=f"Transcription check: {report.title}", v=v,
                  report=report, problems=problems, missing=missing, labels=_label_groups(v),
                  stats=[(verdict, n, verdict_label(verdict, n)) for verdict, n in counts.items()],
                  n_cells=len(lines), clean=counts.get("match", 0) == len(lines))
    html_path = out_dir / "verification.html"
    html_path.write_text(html, encoding="utf-8")
    return [csv_path, html_path]
