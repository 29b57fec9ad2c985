"""Inline SVG line charts for time-series tables: columns whose header path has a year level
(`2004`, `2005`, ... or `2004 | Number`). One chart per (rest of the header path, unit); one line
per row. Pure functions returning markup; no JavaScript, no external requests."""
from __future__ import annotations

import html
import math
import re

import pandas as pd

from statlift.outputs.metadata import TableMeta

YEAR = re.compile(r"^(19|20)\d\d$")
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf"]
MAX_LINES = 8


def year_columns(columns: list[str]) -> dict[str, list[tuple[int, str]]]:
    """{rest of the header path: [(year, column)]} for header paths with one year level.

    >>> year_columns(["2004 | Number", "2004 | Percent", "2013 | Number", "2004–2013 | Number"])
    {'Number': [(2004, '2004 | Number'), (2013, '2013 | Number')], 'Percent': [(2004, '2004 | Percent')]}
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    for col in columns:
        levels = [p.strip() for p in col.split(" | ")]
        years = [lv for lv in levels if YEAR.match(lv)]
        if len(years) != 1:
            continue
        rest = " | ".join(lv for lv in levels if lv != years[0])
        groups.setdefault(rest, []).append((int(years[0]), col))
    return {k: sorted(v) for k, v in groups.items()}


def chart_series(frame: pd.DataFrame, meta: TableMeta) -> list[tuple[str, str, dict]]:
    """[(title, unit, {row: [(year, value)]})] of a typed wide frame indexed by row path; a
    group needs at least two years, and rows of different units go to different charts."""
    fields = {f.name: f for f in meta.value_fields}
    out = []
    for rest, cols in year_columns(list(frame.columns)).items():
        if len({y for y, _ in cols}) < 2:
            continue
        by_unit: dict[str, dict[str, list[tuple[int, float | None]]]] = {}
        for row in frame.index:
            f = fields.get(cols[0][1])
            unit = (f.row_units.get(row) if f and f.row_units else None) or \
                (f.unit if f else "") or ""
            points = [(y, float(frame.at[row, c]) if _numeric(frame.at[row, c]) else None)
                      for y, c in cols]
            if sum(v is not None for _, v in points) >= 2:
                by_unit.setdefault(unit, {})[str(row)] = points
        for unit, series in by_unit.items():
            title = f"{rest} ({unit})" if rest and unit else (rest or unit or "value")
            out.append((title, unit, dict(list(series.items())[:MAX_LINES])))
    return out


def _numeric(value) -> bool:
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def segments(points: list[tuple[int, float | None]]) -> list[list[tuple[int, float]]]:
    """Runs of present values: a missing year breaks the line.

    >>> segments([(2004, 1.0), (2005, None), (2006, 2.0), (2007, 3.0)])
    [[(2004, 1.0)], [(2006, 2.0), (2007, 3.0)]]
    """
    out: list[list[tuple[int, float]]] = [[]]
    for y, v in points:
        if v is None:
            out.append([])
        else:
            out[-1].append((y, v))
    return [s for s in out if s]


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value`.

    >>> nice_max(467), nice_max(12.0), nice_max(0)
    (500.0, 15.0, 1.0)
    """
    if value <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(value))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * step >= value:
            return float(m * step)
    return float(10 * step)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:g}"


def line_chart_svg(title: str, series: dict[str, list[tuple[int, float | None]]],
                   width: int = 640, height: int = 260) -> str:
    """An SVG line chart (x: years, y from 0), with a legend and a <title> per point."""
    left, right, top, bottom = 64, 16, 28, 36
    legend_h = 18 * len(series)
    years = sorted({y for pts in series.values() for y, _ in pts})
    ymax = nice_max(max(v for pts in series.values() for _, v in pts if v is not None))
    x0, x1, y0, y1 = left, width - right, height - bottom, top
    span = max(years[-1] - years[0], 1)

    def sx(year: int) -> float:
        return x0 + (year - years[0]) / span * (x1 - x0)

    def sy(v: float) -> float:
        return y0 - v / ymax * (y0 - y1)

    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height + legend_h}" viewBox="0 0 {width} {height + legend_h}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="{left}" y="16" class="ct">{html.escape(title)}</text>']
    for i in range(5):
        v = ymax * i / 4
        parts.append(f'<line x1="{x0}" x2="{x1}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" '
                     f'class="grid"/><text x="{x0 - 6}" y="{sy(v) + 4:.1f}" '
                     f'text-anchor="end" class="tick">{_fmt(v)}</text>')
    for y in years:
        parts.append(f'<text x="{sx(y):.1f}" y="{y0 + 18}" text-anchor="middle" '
                     f'class="tick">{y}</text>')
    for i, (label, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        for run in segments(pts):
            coords = " ".join(f"{sx(y):.1f},{sy(v):.1f}" for y, v in run)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{coords}"/>')
        for y, v in (p for p in pts if p[1] is not None):
            parts.append(f'<circle cx="{sx(y):.1f}" cy="{sy(v):.1f}" r="3" fill="{colour}">'
                         f'<title>{html.escape(label)}, {y}: {v:g}</title></circle>')
        ly = height + 18 * i + 4
        parts.append(f'<rect x="{left}" y="{ly}" width="12" height="3" fill="{colour}"/>'
                     f'<text x="{left + 18}" y="{ly + 5}" class="tick">{html.escape(label)}'
                     f'</text>')
    parts.append("</svg>")
    return "".join(parts)


def table_charts(frame: pd.DataFrame, meta: TableMeta) -> list[str]:
    """SVG charts of a table (none when it is not a time series)."""
    return [line_chart_svg(title, series) for title, _, series in chart_series(frame, meta)
            if series]
