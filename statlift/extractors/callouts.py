"""Callout figures: a big printed number with its unit and the small label printed under it.

USSC overviews print key figures as "61.3%" in a large font over "PREPUBESCENT VICTIMS". A
callout is found by its size (much larger than the body text) and its label by position (the
lines right under it, centred on it). The spec's `caption` names the heading the callouts follow.
"""
from __future__ import annotations

import logging

from statlift.errors import StatliftError
from statlift.extractors.clean import join_wrapped, parse_cell
from statlift.extractors.locate import caption_pattern
from statlift.extractors.pdfdoc import Document
from statlift.extractors.pdfium_lock import pdfium_document
from statlift.extractors.textlines import Run, lines_of
from statlift.model import CALLOUTS, UNCONFIRMED, Cell, Relabel, Table, TableMeta, disagrees
from statlift.schemas.specs import ReportSpec, TableSpec

log = logging.getLogger(__name__)


def _anchor(doc: Document, caption: str) -> tuple[int, float] | None:
    pattern = caption_pattern(caption)
    for page in doc.pages():
        for ln in lines_of(page):
            for run in ln.runs:
                if pattern.match(run.text) and len(run.text) <= len(caption) + 2:
                    return page.number, run.top
    return None


def _label_under(big: Run, runs: list[Run]) -> list[Run]:
    centre = (big.x0 + big.x1) / 2
    below = sorted((r for r in runs if r.top >= big.bottom - 1 and r.x0 <= centre <= r.x1),
                   key=lambda r: r.top)
    label: list[Run] = []
    for r in below:
        prev_bottom = label[-1].bottom if label else big.bottom
        if r.top - prev_bottom > 1.6 * r.size or r.size > 0.8 * big.size:
            break
        if label and abs(r.size - label[0].size) > 0.3:
            break
        label.append(r)
    return label


def find_callouts(doc: Document, after: tuple[int, float], ratio: float = 1.8):
    """(page, value run, label runs) for every big number printed after the anchor."""
    out = []
    start_page, start_top = after
    for page in doc.pages():
        if page.number < start_page:
            continue
        runs = [r for ln in lines_of(page) for r in ln.runs]
        for run in runs:
            if page.number == start_page and run.top < start_top:
                continue
            if run.size < ratio * page.body_size:
                continue
            reading = parse_cell(run.text)
            if not (reading.ok and reading.value is not None):
                continue
            label = _label_under(run, runs)
            if label:
                out.append((page.number, run, label))
    out.sort(key=lambda t: (t[0], round(t[1].top / 5), t[1].x0))
    return out


def read_with_pdfium(pdf_path: str, page: int, bbox: tuple[float, float, float, float]) -> str:
    """A second, independent reading of the text layer (pdfium, not pdfminer) inside a box."""
    with pdfium_document(pdf_path) as doc:
        pg = doc[page - 1]
        height = pg.get_height()
        text = pg.get_textpage().get_text_bounded(left=bbox[0] - 1, bottom=height - bbox[3] - 1,
                                                  right=bbox[2] + 1, top=height - bbox[1] + 1)
    return " ".join(text.split())


def extract_callouts(doc: Document, report: ReportSpec, spec: TableSpec) -> Table:
    where = str(doc.path)
    anchor = _anchor(doc, spec.caption)
    if anchor is None:
        raise StatliftError("caption-not-found", source=where, table=spec.table_id,
                            expected=f"a heading {spec.caption!r} before the callout figures",
                            found="no such heading on any page",
                            hint="is this the right report? update the callouts' caption")
    found = find_callouts(doc, anchor)
    if not found or (spec.rows and len(found) != len(spec.rows)):
        raise StatliftError("shape-mismatch", source=where, table=spec.table_id,
                            expected=f"{len(spec.rows)} callout figures",
                            found=f"{len(found)} big numbers with labels",
                            hint="check the pages after the heading")
    cells: list[Cell] = []
    relabels: list[Relabel] = []
    column = spec.columns[0] if spec.columns else "Value"
    for i, (page, run, label_runs) in enumerate(found):
        label = join_wrapped([r.text for r in label_runs])
        reading = parse_cell(run.text)
        unit = reading.unit or spec.unit_for(label, column)
        if spec.rows and spec.rows[i] != label:
            relabels.append(Relabel("row", i, spec.rows[i], label))
        x0 = min([run.x0] + [r.x0 for r in label_runs])
        x1 = max([run.x1] + [r.x1 for r in label_runs])
        second = parse_cell(read_with_pdfium(str(doc.path), page, run.bbox))
        agree = second.ok and second.value == reading.value
        engines, flags = ("words;pdfium", "") if agree else \
            ("words", f"{disagrees('pdfium')};{UNCONFIRMED}")
        cells.append(Cell(
            report_id=report.report_id, table_id=spec.table_id, row_path=label,
            column_path=column, value=reading.value or "", unit=unit, raw_text=reading.raw_text,
            missing_code="", footnotes="", page=page,
            bbox=",".join(f"{v:.1f}" for v in (x0, run.top, x1, label_runs[-1].bottom)),
            engines=engines, source_sha256=doc.sha256, row_index=i, column_index=0,
            decimals=reading.decimals, missing_meaning="", flags=flags))
    pages = sorted({p for p, _, _ in found})
    agreement = round(sum(c.flags == "" for c in cells) / len(cells), 4) if cells else 1.0
    meta = TableMeta(
        title=spec.title or spec.caption, caption=spec.caption, caption_number=None,
        page=pages[0], pages=tuple(pages), bbox=None, stub_header="", columns=(column,),
        rows=tuple(c.row_path for c in cells), notes=(), footnotes={}, source=None,
        spec_version=report.spec_version, ruled=False,
        engine="words+pdfium (callouts: table engines do not apply)", engine_reports={},
        shape=(len(cells), 1), agreement=agreement, relabels=tuple(relabels),
        units=tuple(sorted({c.unit for c in cells})), kind=CALLOUTS)
    return Table(report.report_id, spec.table_id, meta, tuple(cells))
