"""`statlift discover --spec` on the shipped reports: the starter spec extracts the tables the
way the hand-written spec does, up to the small edits a person makes (shown here as the diff)."""
from __future__ import annotations

from pathlib import Path

import pytest

from statlift.acquire.rawstore import current_raw_path
from statlift.extractors.pdfdoc import Document
from statlift.extractors.specgen import starter_spec
from statlift.extractors.table import extract_table
from statlift.schemas.specs import ReportSpec, load_catalog, spec_for

REPO = Path(__file__).resolve().parents[2]
KEY = ["row_path", "column_path"]

# What a reviewer changes in the starter spec to get the hand-written one: nothing else.
EXPECTED_EDITS = {
    "bjs-ncj250746": {
        # the page prints "mos." on the mean row only; the median row is months too
        ("table-10", "unit", "Median prison sentence"): ("count", "months"),
    },
    "ussc-cp-production-2021": {},
}
ID_RENAMES = {"sexual-contact-during-production": "sexual-contact",
              "relationship-to-the-victim": "victim-relationship"}


def _diff(rid: str) -> tuple[dict, dict]:
    pdf = current_raw_path(REPO / "raw", load_catalog().get(rid))
    gen = ReportSpec.model_validate(starter_spec(str(pdf), rid))
    hand = spec_for(rid)
    by_caption = {t.caption: t for t in gen.tables}
    renames, edits = {}, {}
    with Document.open(pdf) as doc:
        for t in hand.tables:
            g = by_caption[t.caption]  # every hand-written table is found by its caption
            if g.table_id != t.table_id:
                renames[g.table_id] = t.table_id
            a = extract_table(doc, hand, t).cells_frame()[KEY + ["value", "unit"]]
            b = extract_table(doc, gen, g).cells_frame()[KEY + ["value", "unit"]]
            m = a.merge(b, on=KEY, how="outer", suffixes=("_hand", "_gen"), indicator=True)
            assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"]
            assert (m["value_hand"] == m["value_gen"]).all()
            for rec in m[m["unit_hand"] != m["unit_gen"]].to_dict("records"):
                edits[(t.table_id, "unit", rec["row_path"])] = (rec["unit_gen"], rec["unit_hand"])
    return renames, edits


@pytest.mark.parametrize("rid", ["bjs-ncj250746", "ussc-cp-production-2021"])
def test_starter_spec_matches_hand_written_up_to_small_edits(rid):
    renames, edits = _diff(rid)
    assert edits == EXPECTED_EDITS[rid]
    assert renames == ({} if rid.startswith("bjs") else ID_RENAMES)
