"""Audit somebody else's transcription of a report against what the PDF prints.

    read_transcription (wide CSV/XLSX, tidy CSV, or a folder of CSVs named by table id)
    -> match_labels (tolerant: case, spacing, punctuation, footnote marks, a parent prefix left
       off, "Total" for the total row; an explicit --map when tolerance is not enough)
    -> compare_value (as numbers at the printed precision; the kind of each mismatch)
    -> Verification (one line per cell: match / mismatch / missing-in-transcription /
       not-in-table / unmatched-label)

The printed side is the published extraction (statlift.api.cells): every printed number with its
raw text, decimals, page and box. Nothing a transcriber typed is dropped silently: a value whose
row or column label matches nothing is listed as `unmatched-label`.
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
import pandas as pd
import yaml

from statlift.errors import StatliftError
from statlift.frames import records
from statlift.schemas.specs import ReportSpec

VERDICTS = ("match", "mismatch", "missing-in-transcription", "not-in-table", "unmatched-label")
KINDS = ("scale", "sign", "decimal shift", "transposed digits", "dropped digit", "extra digit",
         "rounding", "missing symbol", "not a number", "other")
COLUMNS = ["table_id", "row_path", "column_path", "transcribed", "printed", "verdict", "kind",
           "page", "bbox", "where"]
TIDY_HEADER = ("table_id", "row_path", "column_path", "value")
MISSING_SYMBOLS = {"--", "-", "—", "–", "~", "/", "!", ":", "n/a", "na", "..", "…", "x"}
FOOTNOTE_MARKS = re.compile(r"[*†‡]+")
SUPERSCRIPT_MARK = re.compile(r"(?<=[\d%.])[a-z]$")  # "1,031a": a footnote letter after a number


@dataclass(frozen=True)
class Typed:
    """One value as the transcriber typed it, with where it came from (file:line)."""

    table_id: str
    row: str
    column: str
    text: str
    where: str


@dataclass(frozen=True)
class Printed:
    """One cell as the report prints it (from the published extraction)."""

    row_path: str
    column_path: str
    value: str
    raw_text: str
    decimals: int | None
    unit: str
    missing: bool
    page: int
    bbox: str


@dataclass
class PrintedTable:
    table_id: str
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Printed]
    total_rows: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LabelMap:
    """Explicit label mappings from --map: {table_id: {rows: {typed: printed}, columns: {...}}}."""

    rows: dict[str, dict[str, str]]
    columns: dict[str, dict[str, str]]

    @classmethod
    def load(cls, path: Path | None) -> LabelMap:
        if path is None:
            return cls({}, {})
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise StatliftError("bad-map", source=str(path),
                                expected="a YAML mapping {table_id: {rows: {typed: printed}, "
                                         "columns: {typed: printed}}}",
                                found=str(exc).splitlines()[0], hint="fix the --map file") from exc
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise StatliftError("bad-map", source=str(path),
                                expected="a YAML mapping {table_id: {rows: ..., columns: ...}}",
                                found=type(data).__name__, hint="fix the --map file")
        return cls({t: dict(v.get("rows") or {}) for t, v in data.items()},
                   {t: dict(v.get("columns") or {}) for t, v in data.items()})


# ----------------------------------------------------------------- reading the transcription

def _csv_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_sheets(path: Path) -> dict[str, list[list[str]]]:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise StatliftError("not-a-table", source=str(path), expected="an XLSX workbook",
                            found=f"a file openpyxl cannot read ({type(exc).__name__})",
                            hint="save the transcription as .xlsx or .csv") from exc
    sheets = {}
    for ws in book.worksheets:
        sheets[ws.title] = [["" if v is None else str(v).strip() for v in row]
                            for row in ws.iter_rows(values_only=True)]
    book.close()
    return sheets


def _non_empty(rows: list[list[str]]) -> list[tuple[int, list[str]]]:
    return [(i, r) for i, r in enumerate(rows, 1) if any(c for c in r)]


def _is_tidy(header: list[str]) -> bool:
    return tuple(h.lower() for h in header[:4]) == TIDY_HEADER


def _tidy_values(rows: list[tuple[int, list[str]]], name: str) -> list[Typed]:
    return [Typed(r[0], r[1], r[2], r[3] if len(r) > 3 else "", f"{name}:{line}")
            for line, r in rows[1:] if len(r) >= 3]


def _wide_values(rows: list[tuple[int, list[str]]], table_id: str, name: str) -> list[Typed]:
    header_line, header = rows[0]
    out = []
    for line, row in rows[1:]:
        label = row[0] if row else ""
        for ci, column in enumerate(header[1:], 1):
            text = row[ci] if ci < len(row) else ""
            if column or text:
                out.append(Typed(table_id, label, column, text, f"{name}:{line}"))
    if len(header) < 2 or not any(_parse(v.text)[0] is not None for v in out):
        raise StatliftError("not-a-table", source=name, table=table_id,
                            expected="a table: a header row of column labels, then rows of a "
                                     "label and numbers",
                            found=f"{len(rows)} non-empty lines and no numbers under a header",
                            hint="lay the transcription out like the printed table, or as tidy "
                                 "CSV (table_id,row_path,column_path,value)")
    return out


def _grid_values(rows: list[list[str]], name: str, table_id: str | None,
                 known: list[str]) -> list[Typed]:
    lines = _non_empty(rows)
    if not lines:
        raise StatliftError("empty-file", source=name, expected="a transcription (CSV or XLSX)",
                            found="no values", hint="check the file")
    if _is_tidy(lines[0][1]):
        return _tidy_values(lines, name)
    if table_id is None:
        raise StatliftError("unknown-table", source=name,
                            expected="a table id: the file or sheet named after it, or --table",
                            found=f"{Path(name).stem!r}, not one of the report's tables",
                            hint="pass --table ID (tables: " + ", ".join(known) + ")")
    return _wide_values(lines, table_id, name)


def read_transcription(path: Path, known: list[str], table: str | None = None) -> list[Typed]:
    """Every typed value of a transcription file or folder (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise StatliftError("file-not-found", source=str(path), expected="a transcription file "
                            "or folder", found="no such file", hint="check the path")
    if table is not None and table not in known:
        raise StatliftError("unknown-table", source=str(path), expected="one of the report's "
                            "tables: " + ", ".join(known), found=repr(table),
                            hint="check --table")

    def table_for(stem: str) -> str | None:
        return table or (stem if stem in known else None)

    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".xlsx"))
        if not files:
            raise StatliftError("empty-file", source=str(path), expected="CSV files named by "
                                "table id", found="no .csv or .xlsx file", hint="check the folder")
        return [v for f in files for v in read_transcription(f, known, table_for(f.stem))]
    if path.stat().st_size == 0:
        raise StatliftError("empty-file", source=str(path), expected="a transcription (CSV or "
                            "XLSX)", found="an empty file", hint="check the file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = _xlsx_sheets(path)
        single = len(sheets) == 1
        return [v for name, rows in sheets.items()
                for v in _grid_values(rows, f"{path.name}[{name}]",
                                      table or (name if name in known else
                                                (table_for(path.stem) if single else None)),
                                      known)]
    head = path.read_bytes()[:1024]
    if b"\x00" in head or head.startswith(b"%PDF"):
        raise StatliftError("not-a-table", source=str(path), expected="a CSV or XLSX "
                            "transcription", found="a binary file", hint="export the table as CSV")
    return _grid_values(_csv_rows(path), str(path), table_for(path.stem), known)


# ------------------------------------------------------------------------ the printed tables

def printed_tables(cells: pd.DataFrame, total_rows: dict[str, list[str]] | None = None
                   ) -> dict[str, PrintedTable]:
    """The published tidy cells of one report as PrintedTables (rows and columns in print order)."""
    out: dict[str, PrintedTable] = {}
    for table_id, t in cells.groupby("table_id", sort=False):
        t = t.sort_values(["row_index", "column_index"])
        rows = list(dict.fromkeys(t["row_path"]))
        cols = list(dict.fromkeys(t.sort_values("column_index")["column_path"]))
        grid: dict[tuple[str, str], Printed] = {}
        for r in records(t):
            dec = r["decimals"]
            decimals = None if pd.isna(dec) or dec == "" else int(dec)
            row, col = str(r["row_path"]), str(r["column_path"])
            grid[(row, col)] = Printed(
                row, col, str(r["value"]), str(r["raw_text"]), decimals, str(r["unit"]),
                not str(r["value"]) and bool(str(r["missing_code"])), int(r["page"]),
                str(r["bbox"]))
        out[str(table_id)] = PrintedTable(str(table_id), rows, cols, grid,
                                          (total_rows or {}).get(str(table_id), []))
    return out


# --------------------------------------------------------------------------- matching labels

def normalize(label: str) -> str:
    """Case, spacing, dashes, punctuation and footnote marks do not matter; `§` and `%` do."""
    text = unicodedata.normalize("NFKC", str(label)).lower()
    text = FOOTNOTE_MARKS.sub(" ", text)
    return " ".join(re.findall(r"[a-z0-9§%]+", text))


def _segments(path: str, sep: str) -> list[str]:
    return [normalize(s) for s in path.split(sep)]


class LabelMatcher:
    """Match typed labels to printed paths, in order, tolerantly; None when nothing matches."""

    def __init__(self, printed: list[str], sep: str, explicit: dict[str, str],
                 totals: list[str] | tuple[str, ...] = ()):
        self.printed, self.sep, self.explicit = printed, sep, explicit
        self.full = {normalize(p.replace(sep, " ")): p for p in printed}
        self.totals = list(totals) or [p for p in printed
                                       if normalize(p).startswith(("total", "all "))]
        self.last = -1

    def match(self, typed: str) -> str | None:
        found = self._match(typed)
        if found is not None:
            self.last = self.printed.index(found)
        return found

    def _match(self, typed: str) -> str | None:
        if typed in self.explicit:
            return self.explicit[typed] if self.explicit[typed] in self.printed else None
        key = normalize(re.sub(r"\s*[>|]\s*", " ", typed))
        if not key:
            return None
        if key in self.full:
            return self.full[key]
        # a parent prefix left off: the printed path ends with the typed one, the first such
        # path after the last match (transcriptions keep the printed order)
        candidates = [p for p in self.printed
                      if " ".join(_segments(p, self.sep)).endswith(key)
                      and (" ".join(_segments(p, self.sep)) == key
                           or " ".join(_segments(p, self.sep))[:-len(key)].endswith(" "))]
        if candidates:
            after = [p for p in candidates if self.printed.index(p) > self.last]
            return (after or candidates)[0]
        if key in ("total", "all", "totals") and self.totals:
            return self.totals[0]
        return None


# --------------------------------------------------------------------------- comparing values

def _parse(text: str) -> tuple[Decimal | None, bool]:
    """(number, is-missing-symbol) of a typed value; (None, False) for blank or not a number."""
    t = FOOTNOTE_MARKS.sub("", unicodedata.normalize("NFKC", str(text))).strip().lower()
    if not t:
        return None, False
    if t in MISSING_SYMBOLS:
        return None, True
    t = SUPERSCRIPT_MARK.sub("", t)
    negative = t.startswith("(") and t.endswith(")")
    t = re.sub(r"(mos|yrs|days|months|years)\.?$", "", t.strip("()"))
    t = t.replace(",", "").replace("%", "").replace("$", "").replace(" ", "").replace("\u2212", "-")
    try:
        value = Decimal(t)
    except InvalidOperation:
        return None, False
    return (-value if negative else value), False


def _digits(value: Decimal) -> str:
    return format(abs(value), "f").replace(".", "").lstrip("0") or "0"


def mismatch_kind(typed: Decimal, printed: Decimal, decimals: int, unit: str) -> str:
    """Why a typed number differs from the printed one (KINDS)."""
    if unit == "percent" and printed != 0 and typed * 100 == printed:
        return "scale"
    if typed == -printed:
        return "sign"
    if printed != 0 and typed != 0:
        ratio = typed / printed
        if ratio in (Decimal(10) ** k for k in range(-6, 7) if k):
            return "decimal shift"
    typed_decimals = max(0, -int(typed.as_tuple().exponent))
    if typed_decimals < decimals and printed.quantize(Decimal(1).scaleb(-typed_decimals)) == typed:
        return "rounding"  # 72 for a printed 72.1: fewer decimals, same number
    td, pd_ = _digits(typed), _digits(printed)
    if len(td) == len(pd_):
        diff = [i for i in range(len(td)) if td[i] != pd_[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and td[diff[0]] == pd_[diff[1]] \
                and td[diff[1]] == pd_[diff[0]]:
            return "transposed digits"
    if len(td) + 1 == len(pd_) and any(pd_[:i] + pd_[i + 1:] == td for i in range(len(pd_))):
        return "dropped digit"
    if len(td) == len(pd_) + 1 and any(td[:i] + td[i + 1:] == pd_ for i in range(len(td))):
        return "extra digit"
    if abs(typed - printed) <= Decimal("0.5").scaleb(-min(typed_decimals, decimals)) \
            and typed_decimals != decimals:
        return "rounding"
    return "other"


def compare_value(typed: str, printed: Printed | None) -> tuple[str, str]:
    """(verdict, kind) of one typed value against the printed cell (None: no printed cell)."""
    number, missing = _parse(typed)
    blank = not str(typed).strip()
    if printed is None or (not printed.value and not printed.missing):
        return ("match", "") if blank else ("not-in-table", "")
    if printed.missing:
        if missing or blank:
            return "match", ""
        return "mismatch", "missing symbol"
    if blank:
        return "missing-in-transcription", ""
    if number is None:
        return "mismatch", "missing symbol" if missing else "not a number"
    value = Decimal(printed.value)
    if number == value:
        return "match", ""
    return "mismatch", mismatch_kind(number, value, printed.decimals or 0, printed.unit)


# --------------------------------------------------------------------------------- verifying

@dataclass
class Verification:
    report_id: str
    source: str
    lines: pd.DataFrame
    tables: list[str]
    # per table, printed row / column labels that no typed label matched ("rows", "columns")
    untyped: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = self.lines["verdict"].value_counts()
        return {v: int(counts.get(v, 0)) for v in VERDICTS}

    @property
    def exit_code(self) -> int:
        return 0 if (self.lines["verdict"] == "match").all() else 1

    def summary(self, limit: int = 15) -> str:
        c = self.counts()
        cells = len(self.lines)
        head = (f"{self.report_id}: verified {self.source} against the printed report: "
                f"{len(self.tables)} {'table' if len(self.tables) == 1 else 'tables'}, {cells} "
                f"{'cell' if cells == 1 else 'cells'}: {c['match']} match, "
                f"{c['mismatch']} {'mismatch' if c['mismatch'] == 1 else 'mismatches'}, "
                f"{c['missing-in-transcription']} missing in the transcription, "
                f"{c['not-in-table']} not in the table, {c['unmatched-label']} with an "
                "unmatched label")
        out = [head]
        unmatched = self.lines[self.lines["verdict"] == "unmatched-label"]
        if len(unmatched):
            out.append("  labels that match nothing printed (their values were not compared; "
                       "name them in a --map file):")
        for (table_key, kind), group in unmatched.groupby(["table_id", "kind"], sort=False):
            table_id = str(table_key)
            axis = "column" if kind == "column label" else "row"
            col = "column_path" if axis == "column" else "row_path"
            for label, n in group[col].value_counts(sort=False).items():
                out.append(f"    {table_id} {axis} {label!r} ({n} "
                           f"{'value' if n == 1 else 'values'})")
            left = self.untyped.get(table_id, {}).get(axis + "s", [])
            if left:
                out.append(f"      printed {axis}s with no typed label: "
                           + "; ".join(repr(x) for x in left[:6])
                           + (" ..." if len(left) > 6 else ""))
        problems = self.lines[~self.lines["verdict"].isin(["match", "unmatched-label"])]
        order = {v: i for i, v in enumerate(VERDICTS)}
        problems = problems.sort_values("verdict", key=lambda s: s.map(order), kind="stable")
        for r in problems.head(limit).itertuples(index=False):
            what = str(r.verdict) + (" (" + str(r.kind) + ")" if r.kind else "")
            out.append(f"  {r.table_id} | {r.row_path} | {r.column_path}: typed "
                       f"{r.transcribed!r}, printed {r.printed!r}: {what}"
                       + (f"  [{str(r.where)}]" if r.where else ""))
        if len(problems) > limit:
            out.append(f"  ... and {len(problems) - limit} more in verification.csv")
        return "\n".join(out)


def verify(report_id: str, typed: list[Typed], tables: dict[str, PrintedTable],
           mapping: LabelMap, source: str) -> Verification:
    """Compare every typed value with the printed cell it names; list every printed cell of a
    transcribed table that the transcription leaves out."""
    lines: list[dict] = []
    by_table: dict[str, list[Typed]] = {}
    for v in typed:
        by_table.setdefault(v.table_id, []).append(v)
    unknown = [t for t in by_table if t not in tables]
    if unknown and len(unknown) == len(by_table):
        raise StatliftError("wrong-report", source=source,
                            expected=f"tables of {report_id}: " + ", ".join(tables),
                            found="table ids " + ", ".join(unknown),
                            hint="is this a transcription of another report?")
    matched_any = False
    untyped: dict[str, dict[str, list[str]]] = {}
    for table_id, values in by_table.items():
        if table_id not in tables:
            lines += [_line(v, v.row, v.column, None, "unmatched-label", "unknown table")
                      for v in values]
            continue
        t = tables[table_id]
        rows = LabelMatcher(t.rows, " > ", mapping.rows.get(table_id, {}), t.total_rows)
        cols = LabelMatcher(t.columns, " | ", mapping.columns.get(table_id, {}))
        row_of = {label: rows.match(label) for label in dict.fromkeys(v.row for v in values)}
        col_of = {label: cols.match(label) for label in dict.fromkeys(v.column for v in values)}
        matched_any = matched_any or any(row_of.values()) or any(col_of.values())
        untyped[table_id] = {
            "rows": [r for r in t.rows if r not in set(row_of.values())],
            "columns": [c for c in t.columns if c not in set(col_of.values())]}
        seen = set()
        for v in values:
            row, col = row_of[v.row], col_of[v.column]
            if row is None or col is None:
                if v.text.strip():
                    which = "row" if row is None else "column"
                    lines.append(_line(v, row or v.row, col or v.column, None, "unmatched-label",
                                       f"{which} label"))
                continue
            cell = t.cells.get((row, col))
            seen.add((row, col))
            verdict, kind = compare_value(v.text, cell)
            if verdict == "match" and cell is None:
                continue  # blank where the print is blank
            lines.append(_line(v, row, col, cell, verdict, kind))
        for (row, col), cell in t.cells.items():
            if (row, col) not in seen and (cell.value or cell.missing):
                lines.append({"table_id": table_id, "row_path": row, "column_path": col,
                              "transcribed": "", "printed": cell.raw_text,
                              "verdict": "missing-in-transcription", "kind": "",
                              "page": cell.page, "bbox": cell.bbox, "where": ""})
    if not matched_any:
        raise StatliftError("wrong-report", source=source,
                            expected=f"row and column labels of {report_id}'s tables",
                            found="no label that matches a printed row or column",
                            hint="is this a transcription of another report? a --map file can "
                                 "name the printed labels")
    frame = pd.DataFrame(lines, columns=COLUMNS)
    return Verification(report_id, source, frame, [t for t in by_table if t in tables],
                        untyped)


def _line(v: Typed, row: str, col: str, cell: Printed | None, verdict: str, kind: str) -> dict:
    return {"table_id": v.table_id, "row_path": row, "column_path": col, "transcribed": v.text,
            "printed": cell.raw_text if cell else "", "verdict": verdict, "kind": kind,
            "page": cell.page if cell else None, "bbox": cell.bbox if cell else "",
            "where": v.where}


@dataclass(frozen=True)
class PublishedReport:
    """What verify needs of a published report folder (docs/contract.md)."""

    report_id: str
    folder: Path
    title: str
    source_path: str
    tables: dict[str, PrintedTable]
    table_boxes: dict[str, tuple[int, list[float]]]  # table id -> (page, bbox) of the table


def total_rows(spec: ReportSpec) -> dict[str, list[str]]:
    """Per table, the rows the spec declares as totals (`sums_to_total: {total: ...}`): what a
    transcribed "Total" row stands for."""
    out: dict[str, list[str]] = {}
    for table in spec.tables:
        for chk in table.checks:
            total = chk.args.get("total") if chk.check == "sums_to_total" else None
            if isinstance(total, str) and total not in out.setdefault(table.table_id, []):
                out[table.table_id].append(total)
    return out


def load_published(processed: Path, report_id: str, spec: ReportSpec, title: str
                   ) -> PublishedReport:
    """The published cells and tables.json of a report, or a clear error to run it first."""
    folder = Path(processed) / report_id
    if not (folder / "cells.csv").is_file() or not (folder / "tables.json").is_file():
        raise StatliftError("not-published", source=str(folder),
                            expected=f"a published dataset of {report_id} (cells.csv, "
                                     "tables.json)", found="nothing published there",
                            hint=f"run `statlift run --report {report_id}` first, or point "
                                 "--processed / STATLIFT_PROCESSED at the published folder")
    cells = pd.read_csv(folder / "cells.csv", dtype=str, keep_default_na=False)
    cells["row_index"] = cells["row_index"].astype(int)
    cells["column_index"] = cells["column_index"].astype(int)
    doc = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
    boxes = {tid: (int(t["page"]), list(t["bbox"])) for tid, t in doc["tables"].items()
             if t["bbox"]}  # callout figures have no table box: their crop is the cell's
    return PublishedReport(report_id, folder, title, doc["source_path"],
                           printed_tables(cells, total_rows(spec)), boxes)
