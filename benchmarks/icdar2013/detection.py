"""Detection score of `discover_tables` against the ICDAR 2013 -reg.xml regions.

A found table matches a ground-truth region on the same page when their IoU >= 0.5 (one to
one, best IoU first). A PDF with alternative ground truths (eu-009a/b) is scored against the
variant it matches best, as the structure scorer does. Regions come from the scorer's own
dataset.py.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

Box = tuple[float, float, float, float]


@dataclass
class DetectionScore:
    gt: int
    found: int
    matched: int
    seconds_per_pdf: float
    misses: list
    extras: list

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.gt if self.gt else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {"gt": self.gt, "found": self.found, "matched": self.matched,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "seconds_per_pdf": round(self.seconds_per_pdf, 3),
                "misses": self.misses, "extras": self.extras}


def iou(a: Box, b: Box) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def match(gt: list[Box], found: list[Box], threshold: float = 0.5) -> list[tuple[int, int]]:
    pairs = sorted(((iou(g, f), i, j) for i, g in enumerate(gt) for j, f in enumerate(found)),
                   reverse=True)
    used_g: set = set()
    used_f: set = set()
    out = []
    for v, i, j in pairs:
        if v < threshold:
            break
        if i not in used_g and j not in used_f:
            used_g.add(i)
            used_f.add(j)
            out.append((i, j))
    return out


def gt_regions(units) -> dict[str, dict[str, dict[int, list[Box]]]]:
    """{pdf: {ground-truth document: {page: [boxes]}}}; a PDF with alternative ground truths
    (eu-009a/b) has several documents, and is scored against the one it matches best."""
    out: dict[str, dict[str, dict[int, list[Box]]]] = {}
    for u in units:
        boxes = out.setdefault(u.pdf, {}).setdefault(u.doc, {}).setdefault(u.page, [])
        box = tuple(round(v, 1) for v in u.bbox)
        if box not in boxes:
            boxes.append(box)
    return out


def _score_pdf(name: str, pages: dict[int, list[Box]], found) -> tuple[int, int, int, list, list]:
    gt_n = found_n = matched = 0
    misses, extras = [], []
    for page in sorted({t.page for t in found} | set(pages)):
        g = pages.get(page, [])
        f = [t.bbox for t in found if t.page == page]
        m = match(g, f)
        gt_n, found_n, matched = gt_n + len(g), found_n + len(f), matched + len(m)
        mg, mf = {i for i, _ in m}, {j for _, j in m}
        misses += [[name, page, list(b)] for i, b in enumerate(g) if i not in mg]
        extras += [[name, page, [round(v, 1) for v in b]] for j, b in enumerate(f) if j not in mf]
    return gt_n, found_n, matched, misses, extras


def score_detection(units) -> DetectionScore:
    from statlift.extractors.discover import discover_tables

    regions = gt_regions(units)
    gt_n = found_n = matched = 0
    misses, extras = [], []
    t0 = time.perf_counter()
    for pdf, docs in sorted(regions.items()):
        found = discover_tables(pdf)
        name = pdf.rsplit("/", 1)[-1]
        scored = [_score_pdf(name, docs[d], found) for d in sorted(docs)]
        g, f, m, mi, ex = max(scored, key=lambda s: (s[2] - s[0], -scored.index(s)))
        gt_n, found_n, matched = gt_n + g, found_n + f, matched + m
        misses += mi
        extras += ex
    secs = (time.perf_counter() - t0) / max(1, len(regions))
    return DetectionScore(gt_n, found_n, matched, secs, misses, extras)
