"""What `statlift verify` writes: verification.csv (one line per cell), verification.html (each
problem on the page crop, as the audit page shows findings) and the one-screen summary."""
from __future__ import annotations

import csv
from pathlib import Path

from statlift.outputs.templates import render
from statlift.validate.crops import PROBLEM, Highlight, highlight_crops, parse_box
from statlift.validate.verify import PublishedReport, Verification


def problem_crops(v: Verification, report: PublishedReport) -> dict[int, str]:
    """Line number -> data URI of the table crop with that cell boxed (problems with a cell),
    through the audit's crop route (statlift.validate.crops)."""
    highlights = []
    for i, line in enumerate(v.lines.to_dict("records")):
        box = parse_box(line["bbox"])
        if line["verdict"] == "match" or box is None:
            continue
        page, around = report.table_boxes.get(line["table_id"], (int(line["page"]), box))
        highlights.append(Highlight(i, page, ((box, PROBLEM),), around))
    return {int(k): "data:image/png;base64," + png
            for k, png in highlight_crops(report.source_path, highlights).items()}


def write_verification(v: Verification, report: PublishedReport, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "verification.csv"
    v.lines.to_csv(csv_path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    crops = problem_crops(v, report)
    problems = [{**line, "crop": crops.get(i)}
                for i, line in enumerate(v.lines.to_dict("records"))
                if line["verdict"] != "match"]
    html = render("verification.html", title=f"Transcription check: {report.title}", v=v,
                  report=report, counts=v.counts(), problems=problems)
    html_path = out_dir / "verification.html"
    html_path.write_text(html, encoding="utf-8")
    return [csv_path, html_path]
