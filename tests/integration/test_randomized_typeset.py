"""A small fixed sample of the randomized re-typeset copies (benchmarks/retypeset.py over
tests/fixtures/randomized.py): no copy ends in a traceback, and what the benchmark reports as
exact (or as failed, by kind) is what an independent comparison with the goldens says."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

pytest.importorskip("reportlab", reason="reportlab (test extra) builds the typeset fixtures")

from fixtures.randomized import build_copy, draw_copies, draw_copy  # noqa: E402

from benchmarks import retypeset  # noqa: E402
from statlift.extractors.pdfdoc import Document  # noqa: E402
from statlift.schemas.specs import spec_for  # noqa: E402

pytestmark = pytest.mark.slow
SEED = 13
COPIES = 6  # three of each report
NAMED_KINDS = set(retypeset.KINDS)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("randomized")
    return [retypeset.score_copy(c.index, SEED, c.report_id, str(tmp), keep_frames=True)
            for c in draw_copies(COPIES, SEED)]


def test_no_copy_ends_in_a_traceback(scored):
    for r in scored:
        assert not r.get("typeset_error"), (r["name"], r["typeset_error"])
        assert r["layout_problems"] == [], r["name"]  # the copy is fair to the reader
        for tid, t in r["tables"].items():
            assert not t["kind"].startswith("exception"), (r["name"], tid, t["detail"])


def test_exact_is_reported_as_an_independent_comparison_says(scored):
    for r in scored:
        for tid, t in r["tables"].items():
            want = retypeset.golden(r["report_id"], tid)
            if "frame" not in t:  # a named error: the table was not read at all
                assert t["kind"] in NAMED_KINDS or t["kind"].startswith("error ["), t
                assert t["exact_cells"] == 0 and t["detail"]
                continue
            try:
                pd.testing.assert_frame_equal(t["frame"], want, check_dtype=False)
                equal = True
            except AssertionError:
                equal = False
            assert (t["kind"] == retypeset.EXACT) == equal, (r["name"], tid, t["kind"])
            assert (t["exact_cells"] == want.size) == equal, (r["name"], tid)
            if not equal:
                assert t["kind"] in NAMED_KINDS and t["detail"], (r["name"], tid, t)
        assert r["exact"] == all(t["kind"] == retypeset.EXACT for t in r["tables"].values())


def test_summary_counts_what_the_copies_say(scored):
    s = retypeset.summarize(scored)
    assert s["copies"] == COPIES
    assert s["exact_copies"] == sum(r["exact"] for r in scored)
    failed = sum(t["kind"] != retypeset.EXACT for r in scored for t in r["tables"].values())
    assert sum(s["failures_by_kind"].values()) == failed
    assert s["exact_tables"] + failed == s["tables"]
    for axis, values in s["by_option"].items():
        assert sum(v["copies"] for v in values.values()) == sum(axis in r["draws"]
                                                                for r in scored)
    md = retypeset.render_markdown({"copies": COPIES, "seed": SEED, "jobs": 1, "date": "-",
                                    "machine": {"nproc": 1}, "seconds": 0.0}, s, scored)
    assert f"| {COPIES} | {s['exact_copies']} (" in md


def test_compare_names_each_kind_of_difference():
    want = retypeset.golden("bjs-ncj250746", "table-03")
    assert retypeset.compare(want.copy(), want)[:2] == ("exact", want.size)
    value = want.copy()
    value.iat[1, 2] = "999"
    assert retypeset.compare(value, want)[:2] == ("wrong value", want.size - 1)
    header = want.rename(columns={want.columns[1]: "merged | header"})
    kind, exact, _ = retypeset.compare(header, want)
    assert kind == "wrong header path" and exact == want.size - len(want)
    row = want.copy()
    row.iat[0, 0] = "Another label"
    kind, exact, _ = retypeset.compare(row, want)
    assert kind == "wrong row path" and exact == want.size - want.shape[1]
    assert retypeset.compare(want.iloc[:-1], want)[:2] == ("shape mismatch", 0)


def test_a_copy_is_the_same_bytes_for_the_same_seed(tmp_path):
    copy = draw_copy(4, SEED)
    assert copy == draw_copies(6, SEED)[4]  # a copy does not depend on how many are drawn
    a = build_copy(copy, tmp_path / "a").read_bytes()
    b = build_copy(copy, tmp_path / "b").read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    assert [c.draws for c in draw_copies(6, SEED)] != [c.draws for c in draw_copies(6, SEED + 1)]


# Copies of the development seeds that each needed one of the reader's general layout rules
# (issue 13); each must stay cell-exact. (index, seed, table, what the layout has)
RULE_CASES = [
    (6, 2026, "table-01", "a short spanner ('2004') over the gap between its two columns"),
    (26, 2026, "table-10", "a three-level header: a spanner above a spanner is its parent, and "
                           "an em-dash spanner a few points off the centre of its group"),
    (14, 2026, "table-02", "leaf headers one space apart in Courier ('Number Percent ...')"),
    (46, 2026, "table-05", "a footnote letter on a two-column page, where the other column's "
                           "words sort between it and the word it marks"),
    (32, 7, "table-07", "a row label glued to its values ('... offenses 21,887 1,405 ...')"),
    (66, 11, "table-02", "a row label glued to its first value only"),
    (13, 7, "key-figures", "a heading that ends where a big callout figure starts"),
    (22, 7, "table-01", "one column of ragged body text: no gutter bounds the table"),
    (70, 2026, "table-04", "small-type tables outweigh the body text on the page"),
    (84, 2026, "table-04", "a table wider than its column's ragged text, the next column's "
                           "text beside it"),
    (51, 7, "sexual-contact", "two tables side by side, captions on one line"),
    (84, 2026, "table-06", "a header line sharing its baseline with the next column's bigger "
                           "text, which starts above the title's end"),
    (136, 2026, "table-04", "a page of full-width paragraphs and two columns"),
]


@pytest.mark.parametrize("index,seed,table_id,layout", RULE_CASES,
                         ids=[f"{s}-{i}-{t}" for i, s, t, _ in RULE_CASES])
def test_layout_rule_cases_read_cell_exact(tmp_path, index, seed, table_id, layout):
    copy = draw_copy(index, seed)
    pdf = build_copy(copy, tmp_path)
    spec = spec_for(copy.report_id)
    with Document.open(pdf) as doc:
        got = retypeset.score_table(doc, spec, spec.table(table_id))
    assert got["kind"] == retypeset.EXACT, (copy.name, table_id, layout, got["detail"])
