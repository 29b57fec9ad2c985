"""Find a table on whatever page it lands by its caption, and the box it occupies.

Pipeline of small steps:
    find_caption -> read_title -> horizontal_extent -> body_and_footer -> TableRegion
No page numbers or coordinates come from the spec: only the printed caption ("TABLE 7", or the
text of a title bar) and, to choose between candidates, the expected title.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from statlift.extractors.clean import join_wrapped, normalize_text
from statlift.extractors.pdfdoc import Document, PageText
from statlift.extractors.textlines import Line, Run, lines_of

log = logging.getLogger(__name__)

_FOOTER_START = re.compile(r"^(Notes?|Sources?|NOTES?|SOURCES?)\s*[:.]")
_MARK_START = re.compile(r"^[*†‡§]+\s*\S")


@dataclass
class Caption:
    page: int
    run: Run
    title_runs: list[Run]
    score: float

    @property
    def title(self) -> str:
        return join_wrapped([r.text for r in self.title_runs])

    @property
    def bottom(self) -> float:
        return max([self.run.bottom] + [r.bottom for r in self.title_runs])


@dataclass
class TableRegion:
    """Where a table is: caption + title, the body box (header and rows), and its footer."""

    page: int
    caption: str
    title: str
    x0: float
    x1: float
    top: float  # top of the caption
    body_top: float
    body_bottom: float
    bottom: float  # bottom of the footer (notes, source)
    body_lines: list[Line] = field(default_factory=list)
    footer_lines: list[Line] = field(default_factory=list)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (self.x0, self.top, self.x1, self.bottom)

    @property
    def body_bbox(self) -> tuple[float, float, float, float]:
        return (self.x0, self.body_top, self.x1, self.body_bottom)


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", normalize_text(text).lower()).strip()


def _similarity(a: str, b: str) -> float:
    """Share of b's words found in a (order-free), 0..1."""
    wa, wb = _norm(a).split(), _norm(b).split()
    if not wb:
        return 0.0
    pool = list(wa)
    hits = 0
    for w in wb:
        if w in pool:
            pool.remove(w)
            hits += 1
    return hits / len(wb)


def caption_pattern(caption: str) -> re.Pattern[str]:
    """'TABLE 7' matches 'TABLE 7', 'Table 7.', 'Table 7:' at a run's start, never 'TABLE 70'."""
    words = [re.escape(w) for w in normalize_text(caption).split()]
    return re.compile(r"^\s*" + r"\s+".join(words) + r"(?![0-9A-Za-z])[.:]?\s*", re.IGNORECASE)


def _title_runs(lines: list[Line], start: int, cap_run: Run, rest: str) -> list[Run]:
    """Runs below the caption that continue the title: left-aligned with it, same font, close."""
    runs: list[Run] = []
    prev_bottom, font = cap_run.bottom, None
    for ln in lines[start + 1:]:
        cand = [r for r in ln.runs if abs(r.x0 - cap_run.x0) <= 3.0]
        if not cand:
            if ln.top - prev_bottom > 1.2 * cap_run.size:
                break
            continue
        run = cand[0]
        if run.top - prev_bottom > 0.8 * run.size:
            break
        if font is None:
            font = (run.font, round(run.size, 1))
        elif (run.font, round(run.size, 1)) != font:
            break
        runs.append(run)
        prev_bottom = run.bottom
    return runs


def find_caption(doc: Document, caption: str, title: str | None = None) -> Caption | None:
    """The run that starts with `caption`; with several candidates, the best title match wins."""
    pattern = caption_pattern(caption)
    found: list[Caption] = []
    candidates = doc.pages_mentioning(caption)  # pages that cannot hold it are not parsed
    for number in candidates:
        _captions_on_page(doc.page(number), pattern, caption, title, found)
    best = _best_caption(found, title)
    if best is None and len(candidates) < doc.page_count:
        # PDFium may read a page's text differently from pdfminer: every page before giving up
        for number in range(1, doc.page_count + 1):
            if number not in candidates:
                _captions_on_page(doc.page(number), pattern, caption, title, found)
        best = _best_caption(found, title)
    if best is not None:
        log.debug("caption %r: page %s score %.2f (%d candidates)", caption, best.page,
                  best.score, len(found))
    return best


def _best_caption(found: list[Caption], title: str | None) -> Caption | None:
    if not found:
        return None
    best = max(found, key=lambda c: c.score)  # the first of equals, as a stable sort would
    return None if title and best.score < 0.55 else best


def _captions_on_page(page: PageText, pattern: re.Pattern[str], caption: str,
                      title: str | None, found: list[Caption]) -> None:
    """Append every run of `page` that starts with the caption, scored against the title."""
    lines = lines_of(page)
    for i, ln in enumerate(lines):
        for run in ln.runs:
            m = pattern.match(run.text)
            if not m:
                continue
            rest = run.text[m.end():].strip()
            title_runs = _title_runs(lines, i, run, rest)
            if rest:  # "Table 7. Defendants in ..." on one line
                title_runs = [Run([w for w in run.words if w.x0 >= run.x0])] + title_runs
            cap = Caption(page.number, run, title_runs, 0.0)
            text = (rest + " " + cap.title) if not rest else cap.title
            exact = _norm(run.text) == _norm(caption)
            cap.score = (_similarity(text, title) if title else 0.5) + (0.5 if exact else 0)
            cap.score += 0.25 if run.bold or run.size > page.body_size else 0
            found.append(cap)


def _graphics_extent(page: PageText, x0: float, top: float, bottom: float) -> float:
    """Right edge of rules and bars that start at the table's left edge, between top and bottom."""
    right = 0.0
    for r in page.rules + page.rects:
        if r.x1 - r.x0 < 20 or not (top - 6 <= r.top <= bottom + 2):
            continue
        if abs(r.x0 - x0) <= 8.0:
            right = max(right, r.x1)
    return right


def _is_footer_start(line_runs: list[Run]) -> bool:
    if not line_runs:
        return False
    first = line_runs[0]
    text = first.text
    if _FOOTER_START.match(text) or _MARK_START.match(text):
        return True
    sup = [w for w in first.words if w.superscript]
    return bool(sup) and sup[0] is first.words[0]  # starts with a raised footnote letter


def _clip(line: Line, x0: float, x1: float) -> list[Run]:
    return [r for r in line.runs if r.x0 >= x0 - 3.0 and r.x1 <= x1 + 3.0]


def text_columns(page: PageText, lines: list[Line]) -> list[tuple[float, float]]:
    """(left, right) of the page's body-text columns, from runs of long body-size text. The
    body size here is the size of most characters in long runs (a page of small-type tables
    prints most of its characters in the tables' size, in short runs)."""
    long = [r for ln in lines for r in ln.runs if len(r.text) >= 25]
    weight: dict[float, int] = {}
    for r in long:
        key = round(r.size * 2) / 2
        weight[key] = weight.get(key, 0) + len(r.text)
    size = max(weight, key=lambda k: weight[k]) if weight else page.body_size
    body = [r for r in long if abs(r.size - size) < 0.6]
    lefts: list[list[Run]] = []
    for r in sorted(body, key=lambda r: r.x0):
        if lefts and abs(lefts[-1][0].x0 - r.x0) <= 4.0:
            lefts[-1].append(r)
        else:
            lefts.append([r])
    groups = [g for g in lefts if len(g) >= 4]
    cols = []
    for group in groups:
        # a page with full-width paragraphs and two columns: the left column's own lines end
        # before the next column starts; the full-width ones are not the column's
        further = [g[0].x0 for g in groups if g[0].x0 > group[0].x0 + 20.0]
        inside = [r for r in group if further and r.x1 < min(further)]
        rights = sorted(r.x1 for r in (inside if len(inside) >= 4 else group))
        cols.append((group[0].x0, rights[int(0.9 * (len(rights) - 1))]))
    return cols


def _scan(lines: list[Line], cap: Caption, x0: float, limit: float,
          end_gap_lines: float) -> tuple[list[Line], list[Line]]:
    """Lines below the title inside [x0, limit]: the table body, then its footer."""
    body: list[Line] = []
    footer: list[Line] = []
    pitch: list[float] = []
    for ln in lines:
        runs = [r for r in ln.runs if r.x0 >= x0 - 3.0 and r.x0 < limit]
        if not runs:
            continue
        clipped = Line([w for r in runs for w in r.words], runs)
        if clipped.top < cap.bottom - 0.5:
            continue  # above the title's end (the whole line may start higher: a bigger
            #           word of the next column shares its baseline)
        if ln is lines[-1] and _is_folio(runs):
            break  # the page number, in the page's last line: not the table's
        if footer:
            if clipped.top - footer[-1].bottom > 1.2 * clipped.size:
                break
            footer.append(clipped)
            continue
        if body and _is_footer_start(runs):
            footer.append(clipped)
            continue
        if body:
            prev = body[-1]
            gap = clipped.top - prev.top
            typical = sorted(pitch)[len(pitch) // 2] if pitch else 2 * prev.size
            if len(pitch) >= 2 and gap > end_gap_lines * typical:
                break
            if clipped.size > 1.3 * prev.size:
                break  # a heading in a larger font
            if len(pitch) >= 2 and gap > 1.6 * typical and len(runs) == 1 and runs[0].bold \
                    and not prev.runs[-1].bold:
                break  # after a blank line, a bold line on its own: the next block's heading
            pitch.append(gap)
        body.append(clipped)
    return body, footer


def _is_folio(runs: list[Run]) -> bool:
    """Whether a line's part in the table's column is a lone page number (a running footer's
    folio: clipped to a right-hand column, "OCTOBER 2017 | ... 3" leaves "3", which the table
    above it, ending close to the page's foot, took for the end of its source line)."""
    return len(runs) == 1 and re.fullmatch(r"\d{1,4}", runs[0].text.strip()) is not None


def _continues_past(lines: list[Line], body: list[Line], x: float) -> bool:
    """Whether the page lines that hold the table's body lines go on right of `x` in the
    table's type size (a table across the gutter), not in another size (the next column's
    text set beside the table)."""
    sizes = sorted(w.size for ln in body for w in ln.words if not w.superscript)
    if not sizes:
        return False
    size = sizes[len(sizes) // 2]
    firsts = {ln.words[0] for ln in body if ln.words}
    for ln in lines:
        if any(w in firsts for w in ln.words):
            if any(r.x0 >= x and abs(r.size - size) <= 0.5 for r in ln.runs):
                return True
    return False


def _caption_beside(lines: list[Line], cap: Caption) -> float | None:
    """Where text starts right of the caption (and its title) on the caption's own line, as a
    caption of the same size does when two tables stand side by side; None when nothing does."""
    own = [cap.run] + cap.title_runs
    right = max(r.x1 for r in own)
    for ln in lines:
        if cap.run in ln.runs:
            others = [r for r in ln.runs if r not in own and r.x0 > right + 6.0
                      and abs(r.size - cap.run.size) <= 0.3]
            return min(r.x0 for r in others) - 3.0 if others else None
    return None


def _clip_lines(lines: list[Line], x0: float, x1: float) -> list[Line]:
    out = []
    for ln in lines:
        runs = _clip(ln, x0, x1)
        if runs:
            out.append(Line([w for r in runs for w in r.words], runs))
    return out


def locate_table(doc: Document, caption: str, title: str | None = None,
                 end_gap_lines: float = 2.4) -> TableRegion | None:
    """Caption -> the table's box on its page, or None if no such caption is printed."""
    cap = find_caption(doc, caption, title)
    if cap is None:
        return None
    page = doc.page(cap.page)
    lines = lines_of(page)
    x0 = min([cap.run.x0] + [r.x0 for r in cap.title_runs]) - 1.0
    top = cap.run.top
    # the text column the caption sits in bounds the table, unless the table crosses the gutter
    # (a column with no other text column right of it has no gutter: a ragged right edge
    # of its text does not bound a table)
    limit = gutter_end = page.width
    columns = text_columns(page, lines)
    for left, right in columns:
        further = [o_left for o_left, _ in columns if o_left > right]
        if abs(left - cap.run.x0) <= 6.0 and further:
            limit, gutter_end = right + 6.0, min(further) - 3.0
    body, footer = _scan(lines, cap, x0, limit, end_gap_lines)
    if limit < page.width and any(r.x1 > limit + 3.0 for ln in body + footer for r in ln.runs):
        # wider than the column's text: the table crosses the gutter (the page bounds it) when
        # its lines go on past the gutter in the table's type; else the gutter bounds it
        limit = page.width if _continues_past(lines, body, gutter_end) else gutter_end
        body, footer = _scan(lines, cap, x0, limit, end_gap_lines)
    beside = _caption_beside(lines, cap)
    if beside is not None and beside < limit:
        # another table's caption on the caption's line, to its right: tables side by side
        limit = beside
        body, footer = _scan(lines, cap, x0, limit, end_gap_lines)
    if not body:
        return None
    bottom = (footer or body)[-1].bottom
    graphics = _graphics_extent(page, x0, top, bottom)
    x1 = max([cap.run.x1, graphics] + [r.x1 for r in cap.title_runs] + [ln.x1 for ln in footer])
    if not graphics:
        # no rules or bars: rows may reach past a short title; the column bounds them
        x1 = max([x1] + [r.x1 for ln in body for r in ln.runs if r.x0 < limit])
    body = _clip_lines(body, x0, x1)
    footer = _clip_lines(footer, x0, x1)
    return TableRegion(page=cap.page, caption=cap.run.text, title=cap.title, x0=x0, x1=x1,
                       top=top, body_top=min(ln.top for ln in body),
                       body_bottom=max(ln.bottom for ln in body), bottom=bottom,
                       body_lines=body, footer_lines=footer)


def split_footer(lines: list[Line]) -> tuple[list[str], dict[str, str], str | None]:
    """Footer lines -> (notes, footnotes {mark: text}, source line)."""
    paras: list[list[str]] = []
    for ln in lines:
        text_parts = []
        for w in ln.words:
            text_parts.append(("\u0001" + w.text + "\u0002") if w.superscript else w.text)
        text = " ".join(text_parts)
        starts_new = _FOOTER_START.match(ln.runs[0].text) or _MARK_START.match(ln.runs[0].text) \
            or text.startswith("\u0001")
        if starts_new or not paras:
            paras.append([text])
        else:
            paras[-1].append(text)
    notes: list[str] = []
    footnotes: dict[str, str] = {}
    source = None
    for para in paras:
        text = join_wrapped(para)
        m = re.match(r"^\u0001(\S+?)\u0002\s*(.*)$", text, re.S)
        if m:
            text = _clean_marks(m.group(2))
            # several footnotes may share one paragraph: "aWhite ... bMarital ..."
            pieces = re.split(r"\s*\u0001(\S+?)\u0002\s*", text)
            footnotes[m.group(1)] = _clean_marks(pieces[0])
            for mark, body in zip(pieces[1::2], pieces[2::2]):
                footnotes[mark] = _clean_marks(body)
            continue
        text = _clean_marks(text)
        marks = re.match(r"^([*†‡§]+)\s*(.*)$", text, re.S) if _MARK_START.match(text) else None
        if marks:
            footnotes[marks.group(1)] = marks.group(2)
        elif re.match(r"^Sources?\s*[:.]", text, re.I):
            source = text
        else:
            notes.append(text)
    return notes, footnotes, source


def _clean_marks(text: str) -> str:
    return re.sub(r"\s*\u0001(\S+?)\u0002", r"\1", text).replace("\u0002", "").strip()
