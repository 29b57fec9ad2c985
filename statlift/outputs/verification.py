"""What `statlift verify` writes: verification.csv (one line per cell), verification.html (each
problem on the page crop, as the audit page shows findings) and the one-screen summary."""
from __future__ import annotations

import base64
import csv
from pathlib import Path

from statlift.outputs.templates import render
from statlift.validate.audit import render_crop
from statlift.validate.verify import PublishedReport, Verification

PROBLEM = "#d62728"


def _cell_box(bbox: str) -> tuple[float, ...] | None:
    try:
        box = tuple(float(v) for v in bbox.split(","))
    except ValueError:
        return None
    return box if len(box) == 4 else None


def problem_crops(v: Verification, report: PublishedReport) -> dict[int, str]:
    """Line number -> data URI of the table crop with that cell boxed (problems with a cell)."""
    pages: dict = {}
    out = {}
    for i, line in v.lines.iterrows():
        box = _cell_box(str(line["bbox"]))
        if line["verdict"] == "match" or box is None:
            continue
        page, around = report.table_boxes.get(line["table_id"], (int(line["page"]), box))
        png = render_crop(report.source_path, page, around, [(box, PROBLEM)], pages=pages)
        out[int(i)] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return out


def write_verification(v: Verification, report: PublishedReport, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "verification.csv"
    v.lines.to_csv(csv_path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    crops = problem_crops(v, report)
    problems = [dict(line, crop=crops.get(int(i)))
                for i, line in v.lines.iterrows() if line["verdict"] != "match"]
    html = render("verification.html", title=f"Transcription check: {report.title}", v=v,
                  report=report, counts=v.counts(), problems=problems)
    html_path = out_dir / "verification.html"
    html_path.write_text(html, encoding="utf-8")
    return [csv_path, html_path]
