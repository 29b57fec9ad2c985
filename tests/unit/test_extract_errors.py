"""Bad input to the extractor: a clear error naming report, table and what differs; relabels
are reported while the printed label is kept."""
from pathlib import Path

import pytest

from statlift.acquire.rawstore import current_raw_path
from statlift.errors import StatliftError
from statlift.extractors.pdfdoc import Document
from statlift.extractors.table import extract_table
from statlift.schemas.specs import load_catalog, spec_for

REPO = Path(__file__).resolve().parents[2]


def _pdf(report_id: str) -> Path:
    return current_raw_path(REPO / "raw", load_catalog().get(report_id))


@pytest.fixture(scope="module")
def bjs_doc():
    with Document.open(_pdf("bjs-ncj250746")) as doc:
        yield doc


def test_pdf_of_another_report_has_no_such_caption():
    spec = spec_for("bjs-ncj250746")
    with Document.open(_pdf("ussc-cp-production-2021")) as doc:
        with pytest.raises(StatliftError) as info:
            extract_table(doc, spec, spec.table("table-07"))
    err = info.value
    assert err.code == "caption-not-found"
    msg = str(err)
    assert "ussc-cp-production-2021" in msg  # the file
    assert "table-07" in msg and "'TABLE 7'" in msg  # the table and what was expected
    assert "no such caption" in msg


def test_shape_change_names_the_table_and_the_difference(bjs_doc):
    spec = spec_for("bjs-ncj250746")
    t3 = spec.table("table-03")
    changed = t3.model_copy(update={"rows": t3.rows + ["Transferred to another district"]})
    with pytest.raises(StatliftError) as info:
        extract_table(bjs_doc, spec, changed)
    msg = str(info.value)
    assert info.value.code == "shape-mismatch"
    assert "table-03" in msg and "expected 5 rows" in msg and "found 4 rows" in msg
    assert "Transferred to another district" in msg


def test_renamed_row_is_a_relabel_and_the_printed_label_is_kept(bjs_doc):
    spec = spec_for("bjs-ncj250746")
    t1 = spec.table("table-01")
    old = "Child pornography possession"  # the October 2017 wording
    rows = [old if r.endswith("possession/receipt/distribution") else r for r in t1.rows]
    ex = extract_table(bjs_doc, spec, t1.model_copy(update={"rows": rows}))
    assert [r.to_json() for r in ex.relabels] == [
        {"kind": "row", "index": 2, "expected": old,
         "found": "Child pornography possession/receipt/distribution"}]
    assert "Child pornography possession/receipt/distribution" in {c.row_path for c in ex.cells}
    assert ex.to_json()["meta"]["relabels"] == [r.to_json() for r in ex.relabels]
