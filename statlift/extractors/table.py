"""extract_table(doc, report_spec, table_spec) -> Table: one table, every cell read twice.

    locate_table (caption) -> readers.read_located (the spec's reader; layout by default)
    -> engines (pdfplumber, camelot) -> reconcile each cell
    -> compare with the spec (relabels, shape) -> Table (cells + meta)

`extract_table` is the boundary of one table: whatever goes wrong inside it (a caption not found,
a shape other than the spec's, two columns or rows with one path, more than half of the labels
changed, or any unexpected exception of the reader) leaves it as a `StatliftError` naming the
report, the file and the table, so the report's other tables are read, audited and published.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from typing import TypeVar

from statlift.errors import StatliftError
from statlift.extractors.callouts import extract_callouts
from statlift.extractors.clean import CellReading, parse_cell
from statlift.extractors.engines import EngineReading, read_with_engines
from statlift.extractors.layout import Grid, LayoutError
from statlift.extractors.locate import TableRegion, locate_table, split_footer
from statlift.extractors.pdfdoc import Document, PageText
from statlift.extractors.readers import read_located
from statlift.model import UNCONFIRMED, UNREADABLE, Cell, Relabel, Table, TableMeta, disagrees
from statlift.schemas.specs import ReportSpec, TableSpec

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_ruled(page: PageText, bbox: tuple[float, float, float, float]) -> bool:
    """A grid of drawn rules: at least two vertical rules spanning most of the body's height."""
    x0, top, x1, bottom = bbox
    height = bottom - top
    verticals = [r for r in page.rules if r.vertical and x0 - 2 <= r.x0 <= x1 + 2
                 and min(r.bottom, bottom) - max(r.top, top) > 0.6 * height]
    return len(verticals) >= 2


def reconcile(words: CellReading,
              others: dict[str, CellReading | None]) -> tuple[list[str], list[str]]:
    """Which readers agree with the words' reading, and flags for the cell.

    The page's words are the reference (they are the printed characters). A value that no engine
    confirms is flagged `unconfirmed` (an extraction suspect for the audit); a single engine's
    different reading is recorded as `<engine>_disagrees`.
    """
    agree = ["words"]
    flags: list[str] = []
    for name, reading in others.items():
        if reading is not None and reading.ok and reading.value == words.value and \
                reading.missing_code == words.missing_code:
            agree.append(name)
        else:
            flags.append(disagrees(name))
    if others and len(agree) == 1:
        flags.insert(0, UNCONFIRMED)
    if not words.ok:
        flags.append(UNREADABLE)
    return agree, flags


def _centre(run) -> tuple[float, float]:
    return ((run.x0 + run.x1) / 2, (run.top + run.bottom) / 2)


def _engine_reading(reading: EngineReading, run, missing) -> CellReading | None:
    if reading.error:
        return None
    text = reading.text_at(*_centre(run))
    return None if text is None else parse_cell(text, missing)


def compare_with_spec(grid: Grid, spec: TableSpec, where: str) -> list[Relabel]:
    """Relabels (same shape, other labels) are reported; a different shape is an error."""
    found_rows = [r.path for r in grid.rows]
    found_cols = [c.path for c in grid.columns]
    if spec.rows and len(spec.rows) != len(found_rows):
        missing = [r for r in spec.rows if r not in found_rows]
        extra = [r for r in found_rows if r not in spec.rows]
        raise StatliftError("shape-mismatch", source=where, table=spec.table_id,
                            expected=f"{len(spec.rows)} rows",
                            found=f"{len(found_rows)} rows (missing: {missing[:3]}; "
                                  f"new: {extra[:3]})",
                            hint="check the page; if the publisher changed the table, update "
                                 "the rows in the table spec")
    if spec.columns and len(spec.columns) != len(found_cols):
        raise StatliftError("shape-mismatch", source=where, table=spec.table_id,
                            expected=f"{len(spec.columns)} columns",
                            found=f"{len(found_cols)} columns: {found_cols}",
                            hint="check the page; if the publisher changed the table, update "
                                 "the columns in the table spec")
    relabels = []
    for kind, exp, got in (("row", spec.rows, found_rows), ("column", spec.columns, found_cols)):
        for i, (e, g) in enumerate(zip(exp, got)):
            if e != g:
                relabels.append(Relabel(kind, i, e, g))
    return relabels


def build_cells(report_id: str, spec: TableSpec, grid: Grid, region: TableRegion,
                readings: list[EngineReading], missing, sha: str) -> tuple[list[Cell], float]:
    """Every cell of the grid, reconciled with the engines' readings; and the share of cells on
    which every reader agrees."""
    cells = []
    agreed = total = 0
    for ri, row in enumerate(grid.rows):
        for ci, col in enumerate(grid.columns):
            run = grid.cells.get((ri, ci))
            if run is None:
                continue
            words = parse_cell(run.text, missing, footnotes=run.marks)
            others = {r.engine: _engine_reading(r, run, missing) for r in readings}
            agree, flags = reconcile(words, others)
            total += 1
            agreed += len(agree) == len(others) + 1
            value = words.value if words.ok else None
            unit = words.unit if words.unit and words.unit != "percent" else \
                spec.unit_for(row.path, col.path)
            if words.unit == "percent":
                unit = "percent"
            notes = tuple(dict.fromkeys(row.marks + col.marks + words.footnotes))
            cells.append(Cell(
                report_id=report_id, table_id=spec.table_id, row_path=row.path,
                column_path=col.path, value=value or "", unit=unit, raw_text=words.raw_text,
                missing_code=words.missing_code or "", footnotes=";".join(notes),
                page=region.page,
                bbox=",".join(f"{v:.1f}" for v in (run.x0, run.top, run.x1, run.bottom)),
                engines=";".join(agree), source_sha256=sha, row_index=ri, column_index=ci,
                decimals=words.decimals if value else None,
                missing_meaning=words.missing_meaning or "", flags=";".join(flags)))
    return cells, (agreed / total if total else 1.0)


def source_name(doc: Document, report: ReportSpec) -> str:
    """How an error names the table's source: the file (the run's summary line and the log
    name the report before it: `bjs-ncj250746: failed: ... <file>, table table-03, ...`)."""
    return str(doc.path)


def extract_table(doc: Document, report: ReportSpec, spec: TableSpec) -> Table:
    """One table of the report, checked against its spec; any failure is a StatliftError that
    names the table (see the module docstring), never another exception."""
    where = source_name(doc, report)
    try:
        if spec.kind == "callouts":
            table = extract_callouts(doc, report, spec)
        else:
            table = _extract_grid_table(doc, report, spec)
        check_table(table, spec, where)
    except StatliftError:
        raise
    except Exception as exc:  # noqa: BLE001 - the boundary of one table: named, never a traceback
        log.debug("%s %s: reader failed", where, spec.table_id, exc_info=True)
        raise StatliftError("extraction-failed", source=where, table=spec.table_id,
                            found=f"{type(exc).__name__}: {exc}"[:300]) from exc
    return table


def _duplicates(labels: Iterable[T]) -> list[T]:
    """The labels that occur more than once, in order of first occurrence."""
    counts = Counter(labels)
    return [x for x, n in counts.items() if n > 1]


def check_table(table: Table, spec: TableSpec, where: str) -> None:
    """What no writer may receive: two columns or two rows with one path (a header level merged
    or dropped), two cells at one (row, column); and a table read with another structure than
    the spec's, which shows as more than half of its row or column labels changed (relabels are
    for a renamed label or two, not a wastebasket)."""
    for kind, labels in (("column", table.meta.columns), ("row", table.meta.rows)):
        dup = _duplicates(labels)
        if dup:
            raise StatliftError("duplicate-paths", source=where, table=spec.table_id,
                                page=table.meta.page,
                                found=f"{len(labels) - len(set(labels))} duplicate {kind} "
                                      f"path(s), e.g. {dup[0]!r}")
    pairs = [(c.row_path, c.column_path) for c in table.cells]
    dup_cells = _duplicates(pairs)
    if dup_cells:
        raise StatliftError("duplicate-paths", source=where, table=spec.table_id,
                            page=table.meta.page, expected="one cell per row and column path",
                            found=f"{len(pairs) - len(set(pairs))} cells sharing a path, e.g. "
                                  f"{' x '.join(dup_cells[0])!r}")
    for kind, expected in (("column", spec.columns), ("row", spec.rows)):
        changed = [r for r in table.meta.relabels if r.kind == kind]
        if expected and len(changed) >= 2 and 2 * len(changed) > len(expected):
            raise StatliftError(
                "structure-mismatch", source=where, table=spec.table_id, page=table.meta.page,
                expected=f"the spec's {len(expected)} {kind} labels, at most half relabelled",
                found=f"{len(changed)} of {len(expected)} {kind} labels changed, e.g. "
                      f"{changed[0].expected!r} read as {changed[0].found!r}")


def _extract_grid_table(doc: Document, report: ReportSpec, spec: TableSpec) -> Table:
    where = source_name(doc, report)
    layout = report.layout_for(spec)
    region = locate_table(doc, spec.caption, spec.title, layout.end_gap_lines)
    if region is None:
        raise StatliftError("caption-not-found", source=where, table=spec.table_id,
                            expected=f"a caption {spec.caption!r}"
                                     + (f" titled {spec.title!r}" if spec.title else ""),
                            found="no such caption on any page",
                            hint="is this the right report? if the publisher renamed the table, "
                                 "update its caption in the table spec")
    page = doc.page(region.page)
    missing = report.missing_codes
    try:
        grid = read_located(doc, region.page, region.body_bbox, region.body_lines,
                            missing=missing, indent_tolerance=layout.indent_tolerance,
                            expected_rows=spec.rows or None, name=spec.reader).grid()
    except LayoutError as exc:
        raise StatliftError("shape-mismatch", source=where, table=spec.table_id,
                            page=region.page, expected="a header and rows of values",
                            found=str(exc), hint="check the page crop") from exc
    relabels = compare_with_spec(grid, spec, where)
    ruled = is_ruled(page, region.body_bbox)
    engines = report.engines_for(spec)
    readings = read_with_engines(doc, region.page, region.body_bbox, engines.enabled,
                                 engines.pdfplumber, engines.camelot, ruled)
    cells, agreement = build_cells(report.report_id, spec, grid, region, readings, missing,
                                   doc.sha256)
    notes, footnotes, source = split_footer(region.footer_lines)
    if spec.title and region.title and _squash(spec.title) != _squash(region.title):
        relabels.append(Relabel("title", 0, spec.title, region.title))
    meta = TableMeta(
        title=region.title or region.caption, caption=region.caption,
        caption_number=_caption_number(region.caption), page=region.page,
        bbox=tuple(round(v, 1) for v in region.bbox),
        body_bbox=tuple(round(v, 1) for v in region.body_bbox),
        stub_header=grid.stub_header, columns=tuple(c.path for c in grid.columns),
        rows=tuple(r.path for r in grid.rows), notes=tuple(notes), footnotes=footnotes,
        source=source, spec_version=report.spec_version, ruled=ruled,
        engine="words+" + "+".join(r.engine for r in readings),
        engine_reports={r.engine: (r.report if not r.error else {"error": r.error})
                        for r in readings},
        shape=grid.shape, agreement=round(agreement, 4), relabels=tuple(relabels),
        title_expected=spec.title, units=tuple(sorted({c.unit for c in cells})))
    return Table(report.report_id, spec.table_id, meta, tuple(cells))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _caption_number(caption: str) -> str | None:
    m = re.search(r"(\d+[A-Za-z]?)\b", caption)
    return m.group(1) if m else None
