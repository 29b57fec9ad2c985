"""The words of a table region: which words belong to it, printed lines, and runs.

A *line* is the words that overlap vertically (a raised footnote mark joins its line). A *run*
is a piece of a line whose words are separated by ordinary word spaces (one cell's text);
a wider gap starts a new run.
"""
from __future__ import annotations

import statistics

from statlift.extractors.pdfdoc import Word

Box = tuple[float, float, float, float]


def words_in_box(words: list[Word], box: Box, tol: float = 1.0) -> list[Word]:
    """Words whose centre lies inside the box grown by `tol`."""
    x0, top, x1, bottom = box
    out = []
    for w in words:
        cx, cy = (w.x0 + w.x1) / 2, (w.top + w.bottom) / 2
        if x0 - tol <= cx <= x1 + tol and top - tol <= cy <= bottom + tol:
            out.append(w)
    return out


def body_height(words: list[Word]) -> float:
    hs = [w.bottom - w.top for w in words if not w.superscript]
    return statistics.median(hs) if hs else 8.0


def group_lines(words: list[Word]) -> list[list[Word]]:
    """Words -> lines, top to bottom; each line sorted left to right. A word joins the line it
    overlaps by at least half of the smaller height."""
    lines: list[list[Word]] = []
    spans: list[list[float]] = []  # top, bottom of each open line
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        h = w.bottom - w.top
        best, best_ov = -1, 0.0
        for i in range(max(0, len(lines) - 3), len(lines)):
            t, b = spans[i]
            ov = min(b, w.bottom) - max(t, w.top)
            if ov >= 0.5 * min(h, b - t) and ov > best_ov:
                best, best_ov = i, ov
        if best < 0:
            lines.append([w])
            spans.append([w.top, w.bottom])
        else:
            lines[best].append(w)
            if not w.superscript:
                spans[best][0] = min(spans[best][0], w.top)
                spans[best][1] = max(spans[best][1], w.bottom)
    for ln in lines:
        ln.sort(key=lambda w: w.x0)
    lines.sort(key=lambda ln: min(w.top for w in ln))
    return lines


def split_runs(line: list[Word], gap: float) -> list[list[Word]]:
    """One line -> runs: a new run starts after a horizontal gap wider than `gap`."""
    runs: list[list[Word]] = []
    for w in line:
        if runs and w.x0 - runs[-1][-1].x1 <= gap:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


def join_cell_text(words: list[Word]) -> str:
    """Words of one cell -> its text: lines top to bottom, words left to right."""
    return "\n".join(" ".join(w.text for w in ln) for ln in group_lines(words))
