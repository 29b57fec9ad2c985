"""Inline SVG charts for time-series tables: columns whose header path has a year level
(`2004`, `2005`, ... or `2004 | Number`). One chart per (rest of the header path, unit); one
series per row, plotted at the printed years only (lines join consecutive years, nothing else).
Pure functions returning markup escaped by markupsafe; no JavaScript, no external requests."""
from __future__ import annotations

import math
import re
from itertools import pairwise
from typing import Any

import pandas as pd
from markupsafe import Markup

from statlift.outputs.metadata import TableMeta
from statlift.outputs.templates import number

YEAR = re.compile(r"^(19|20)\d\d$")
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf"]
MAX_LINES = 8


def year_columns(columns: list[str]) -> dict[str, list[tuple[int, str]]]:
    """{rest of the header path: [(year, column)]} for header paths with one year level.

    >>> year_columns(["2004 | Number", "2004 | Percent", "2013 | Number", "2004–2013 | Number"])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'Number': [(2004, '2004 | Number'), (2013, '2013 | Number')],
     'Percent': [(2004, '2004 | Percent')]}
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
            points = [(y, _number(frame.at[row, c])) for y, c in cols]
            if sum(v is not None for _, v in points) >= 2:
                by_unit.setdefault(unit, {})[str(row)] = points
        for unit, series in by_unit.items():
            rest = rest.replace(" | ", ", ")
            title = f"{rest or 'By year'} ({unit})" if unit else (rest or "By year")
            out.append((title, unit, dict(list(series.items())[:MAX_LINES])))
    return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def segments(points: list[tuple[int, float | None]]) -> list[list[tuple[int, float]]]:
    """Runs of values printed for consecutive years: a missing value or a year the table does
    not print breaks the line (a lone point stays a point).

    >>> segments([(2004, 1.0), (2005, None), (2006, 2.0), (2007, 3.0)])
    [[(2004, 1.0)], [(2006, 2.0), (2007, 3.0)]]
    >>> segments([(2004, 2972.0), (2013, 4579.0)])
    [[(2004, 2972.0)], [(2013, 4579.0)]]
    """
    out: list[list[tuple[int, float]]] = [[]]
    for y, v in points:
        if v is None or (out[-1] and y != out[-1][-1][0] + 1):
            out.append([])
        if v is not None:
            out[-1].append((y, v))
    return [s for s in out if s]


def gaps(years: list[int]) -> list[tuple[int, int]]:
    """Runs of years between the first and the last printed one that the table does not print.

    >>> gaps([2004, 2013]), gaps([2004, 2005, 2006]), gaps([2004, 2006, 2007, 2010])
    ([(2005, 2012)], [], [(2005, 2005), (2008, 2009)])
    """
    return [(a + 1, b - 1) for a, b in pairwise(years) if b - a > 1]


def nice_axis(value: float, most: int = 5) -> tuple[float, float]:
    """(axis maximum, tick step) for values up to `value`: the smallest step of 1, 2, 2.5 or 5
    times a power of ten that reaches `value` in at most `most` steps, so that every tick is a
    round number (no 37.5 or 112.5).

    >>> nice_axis(139.2), nice_axis(2233), nice_axis(4579), nice_axis(100), nice_axis(0)
    ((150.0, 50.0), (2500.0, 500.0), (5000.0, 1000.0), (100.0, 20.0), (1.0, 0.25))
    """
    if value <= 0:
        return 1.0, 0.25
    raw = value / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return float(math.ceil(value / step - 1e-9) * step), float(step)


def has_lines(series: dict[str, list[tuple[int, float | None]]]) -> bool:
    """Whether any series prints two consecutive years (drawn as a line, else as points)."""
    return any(len(run) > 1 for pts in series.values() for run in segments(pts))


def legend(series: dict[str, list[tuple[int, float | None]]]) -> list[dict]:
    """[{"label", "colour", "shape": line | point}] of a chart, in the order of its series: the
    page shows it as text under the chart, legible at any width (text inside an SVG shrinks
    with the chart on a phone)."""
    shape = "line" if has_lines(series) else "point"
    return [{"label": label, "colour": COLOURS[i % len(COLOURS)], "shape": shape}
            for i, label in enumerate(series)]


def line_chart_svg(title: str, series: dict[str, list[tuple[int, float | None]]],
                   width: int = 540, height: int = 240, standalone: bool = True) -> Markup:
    """An SVG chart (x: years, y from 0) with its title and legend (unless `standalone` is
    False: the page writes them as text, which neither shrinks with the chart on a phone nor is
    cut at the chart's edge, see `legend`) and a <title> per point. Only printed years are
    plotted: a line joins values of consecutive years only, so a table that prints 2004 and 2013
    gets points, never a line across the years it does not print."""
    left, right, top, bottom = 64, 16, 28 if standalone else 14, 36
    legend_h = 18 * len(series) if standalone else 0
    years = sorted({y for pts in series.values() for y, _ in pts})
    ymax, ystep = nice_axis(max(v for pts in series.values() for _, v in pts if v is not None))
    pad = 16  # points off the axes
    x0, x1, y0, y1 = left + pad, width - right - pad, height - bottom, top
    span = max(years[-1] - years[0], 1)
    lines = has_lines(series)

    def sx(year: int) -> str:
        return f"{x0 + (year - years[0]) / span * (x1 - x0):.1f}"

    def sy(v: float) -> str:
        return f"{y0 - v / ymax * (y0 - y1):.1f}"

    parts = [Markup('<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{w}" '
                    'height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">').format(
                        w=width, h=height + legend_h, t=title)]
    if standalone:
        parts.append(Markup('<text x="{}" y="16" class="ct">{}</text>').format(left, title))
    for i in range(round(ymax / ystep) + 1):
        v = ystep * i
        parts.append(Markup('<line x1="{}" x2="{}" y1="{y}" y2="{y}" class="grid"/>'
                            '<text x="{}" y="{}" text-anchor="end" class="tick">{}</text>')
                     .format(x0 - pad, x1 + pad, x0 - pad - 6, f"{float(sy(v)) + 4:.1f}",
                             number(v), y=sy(v)))
    for y in years:
        parts.append(Markup('<text x="{}" y="{}" text-anchor="middle" class="tick">{}</text>')
                     .format(sx(y), y0 + 18, y))
    for i, (label, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        for run in segments(pts):
            if len(run) > 1:
                coords = " ".join(f"{sx(y)},{sy(v)}" for y, v in run)
                parts.append(Markup('<polyline fill="none" stroke="{}" stroke-width="2" '
                                    'points="{}"/>').format(colour, coords))
        for y, v in ((y, v) for y, v in pts if v is not None):
            parts.append(Markup('<circle cx="{}" cy="{}" r="{}" fill="{}"><title>{}, {}: {}'
                                '</title></circle>').format(sx(y), sy(v), 3 if lines else 4.5,
                                                            colour, label, y, number(v)))
        if not standalone:
            continue
        ly = height + 18 * i + 4
        marker = (Markup('<rect x="{}" y="{}" width="12" height="3" fill="{}"/>')
                  .format(left, ly, colour) if lines else
                  Markup('<circle cx="{}" cy="{}" r="4" fill="{}"/>')
                  .format(left + 6, ly + 1, colour))
        parts.append(marker + Markup('<text x="{}" y="{}" class="tick">{}</text>')
                     .format(left + 18, ly + 5, label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def gap_note(series: dict[str, list[tuple[int, float | None]]]) -> str:
    """What the chart leaves out (or ""): the years between printed ones.

    >>> gap_note({"Total": [(2004, 1.0), (2013, 2.0)]})
    'Only the years the table prints are plotted; it prints no figures for 2005–2012.'
    """
    years = sorted({y for pts in series.values() for y, _ in pts})
    runs = [f"{a}" if a == b else f"{a}–{b}" for a, b in gaps(years)]
    if not runs:
        return ""
    return (f"Only the years the table prints are plotted; it prints no figures for "
            f"{', '.join(runs)}.")


def table_charts(frame: pd.DataFrame, meta: TableMeta) -> list[dict]:
    """[{"svg": Markup, "note": str, "legend": [...]}] of a table (none when it is not a time
    series); the title and the legend are the page's text, not the SVG's."""
    return [{"svg": line_chart_svg(title, series, standalone=False), "note": gap_note(series),
             "title": title, "legend": legend(series)}
            for title, _, series in chart_series(frame, meta) if series]
