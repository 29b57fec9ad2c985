"""Words -> printed lines -> runs (segments of a line separated by wide gaps): the one module
that groups a page's words, for both readers.

A *line* is the words sharing a baseline (superscript marks join the line they are raised over).
A *run* is a piece of a line whose words are separated by ordinary word spaces: a table cell, a
column of body text, a caption. Runs are what columns and captions are found from.

One rule groups every reader's words (issue 13): lines by baseline (`group_lines`), runs cut
where the gap between two words is wider than a share of their font size (`split_runs`, in
ems). The readers differ only in that share: `statlift run`'s layout reader cuts at 0.9 em and
then splits numbers set close together (`page_lines`); the region readers of `extract-region`,
`discover` and the ICDAR benchmark cut at their `run_gap` (`region_lines`), and their runs keep
the index of their line and their raised marks (`Run.printed`).
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from statlift.extractors.clean import join_wrapped
from statlift.extractors.pdfdoc import PageText, Word


class WordSpan:
    """The box of a group of words (`self.words`); the top ignores raised footnote marks."""
    words: list[Word]

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def top(self) -> float:
        body = [w for w in self.words if not w.superscript] or self.words
        return min(w.top for w in body)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)


@dataclass
class Run(WordSpan):
    words: list[Word]
    line: int = -1  # index of its line in the grouping it came from (region_lines)

    @property
    def _body(self) -> list[Word]:
        return [w for w in self.words if not w.superscript]

    @property
    def text(self) -> str:
        """The run's text without superscript marks."""
        return " ".join(w.text for w in self._body)

    @property
    def printed(self) -> str:
        """The run's text as printed, raised marks included."""
        return " ".join(w.text for w in self.words)

    @property
    def marks(self) -> tuple[str, ...]:
        """Superscript marks printed in the run (footnote references)."""
        return tuple(w.text for w in self.words if w.superscript)

    @property
    def size(self) -> float:
        body = self._body or self.words
        return max(w.size for w in body)

    @property
    def font(self) -> str:
        body = self._body or self.words
        return body[0].fontname

    @property
    def bold(self) -> bool:
        body = self._body or self.words
        return all(w.bold for w in body)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (self.x0, self.top, self.x1, self.bottom)


@dataclass
class Line(WordSpan):
    words: list[Word]
    runs: list[Run] = field(default_factory=list)


    @property
    def size(self) -> float:
        sizes = [w.size for w in self.words if not w.superscript] or [w.size for w in self.words]
        return max(sizes)

    @property
    def text(self) -> str:
        return "  ".join(r.text for r in self.runs)


def group_lines(words: list[Word]) -> list[Line]:
    """Cluster words into lines by baseline; superscripts join the line they overlap."""
    normal = sorted((w for w in words if not w.superscript), key=lambda w: (w.bottom, w.x0))
    lines: list[Line] = []
    for w in normal:
        tol = 0.3 * w.size
        for ln in reversed(lines[-6:]):
            ref = [x for x in ln.words if not x.superscript]
            if abs(ref[-1].bottom - w.bottom) <= tol or abs(ref[0].bottom - w.bottom) <= tol:
                ln.words.append(w)
                break
        else:
            lines.append(Line([w]))
    for w in (w for w in words if w.superscript):
        best = None
        for ln in lines:
            if ln.top - 0.5 * w.size <= w.mid_y <= ln.bottom:
                gap = min(abs(x.x1 - w.x0) for x in ln.words)
                if best is None or gap < best[0]:
                    best = (gap, ln)
        if best is not None:
            best[1].words.append(w)
        else:
            lines.append(Line([w]))
    for ln in lines:
        ln.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda ln: (ln.top, ln.x0))
    return lines


def split_runs(line: Line, gap_em: float = 0.9) -> list[Run]:
    """Split a line where the horizontal gap exceeds `gap_em` times the font size."""
    runs: list[Run] = []
    current: list[Word] = []
    for w in line.words:
        if current:
            prev = current[-1]
            gap = w.x0 - prev.x1
            limit = gap_em * max(prev.size, w.size) if not w.superscript else 1.5
            if gap > limit:
                runs.append(Run(current))
                current = []
        current.append(w)
    if current:
        runs.append(Run(current))
    return runs


_NUMBER = re.compile(r"^[-+]?\$?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?$")
_UNIT = re.compile(r"^(%|mos\.?|yrs\.?|months?|years?|days?)$", re.I)


def split_number_runs(runs: list[Run]) -> list[Run]:
    """A run made only of numbers (each maybe with its unit word) is several cells set close
    together (a monospaced font's single space between columns: "21,887 1,405 1,614")."""
    out: list[Run] = []
    for run in runs:
        body = [w for w in run.words if not w.superscript]
        numbers = [w for w in body if _NUMBER.match(w.text)]
        if len(numbers) < 2 or not all(_NUMBER.match(w.text) or _UNIT.match(w.text)
                                       for w in body) or not _NUMBER.match(body[0].text):
            out.append(run)
            continue
        current: list[Word] = []
        for w in run.words:
            if current and not w.superscript and _NUMBER.match(w.text):
                out.append(Run(current))
                current = []
            current.append(w)
        out.append(Run(current))
    return out


def page_lines(words: list[Word], gap_em: float = 0.9) -> list[Line]:
    lines = group_lines(words)
    for ln in lines:
        ln.runs = split_number_runs(split_runs(ln, gap_em))
    return lines


def lines_of(page: PageText) -> list[Line]:
    """page_lines(page.words), grouped once per page: the caption search, the table's box, the
    callouts and the audit's running text each asked for the same page's lines (a BJS page's
    grouping 3-8 ms, asked 3 to 5 times; issue 15). Each caller gets Line objects of its own,
    with word and run lists of its own (a reader reassigns a line's runs); the Words and Runs
    in them are shared, and nothing changes those."""
    grouped = page.__dict__.get(_LINES)
    if grouped is None:
        grouped = page.__dict__[_LINES] = page_lines(page.words)
    return [Line(list(ln.words), list(ln.runs)) for ln in grouped]


_LINES = "_statlift_lines"  # where lines_of keeps a page's lines (PageText's own __dict__)


def words_in(words: list[Word], x0: float, top: float, x1: float, bottom: float,
             tol: float = 1.0) -> list[Word]:
    """Words whose box lies inside the rectangle (with `tol` points of slack)."""
    return [w for w in words
            if w.x0 >= x0 - tol and w.x1 <= x1 + tol and w.top >= top - tol
            and w.bottom <= bottom + tol]


def text_of(runs: list[Run]) -> str:
    return join_wrapped([r.text for r in runs])


# ------------------------------------------------------------------ the region reader's grouping
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


def word_lines(words: list[Word]) -> list[list[Word]]:
    """The words of each line (`group_lines`), top to bottom, each left to right."""
    return [ln.words for ln in group_lines(words)]


def join_cell_text(words: list[Word]) -> str:
    """Words of one cell -> its text: lines top to bottom, words left to right."""
    return "\n".join(" ".join(w.text for w in ln) for ln in word_lines(words))


def region_lines(words: list[Word], gap_em: float) -> list[list[Run]]:
    """The region readers' lines of runs: `group_lines`, then `split_runs` at `gap_em`; each
    run knows the index of its line."""
    out: list[list[Run]] = []
    for i, ln in enumerate(group_lines(words)):
        runs = split_runs(ln, gap_em)
        for r in runs:
            r.line = i
        out.append(runs)
    return out
