"""Each check: a case just inside and just outside the tolerance its printed precision allows;
spec typos fail at load; the culprit is the cell a typo explains."""
from pathlib import Path

import pandas as pd
import pytest
import yaml

from statlift.schemas.specs import load_report_spec
from statlift.validate.audit import finding_record
from statlift.validate.checks import EqualEquation, Num, PercentEquation, SumEquation
from statlift.validate.evaluate import audit_cells, typo_distance

T = "t"


def k(row, col="c"):
    return (T, row, col)


def test_sum_of_counts_is_exact():
    eq = SumEquation("id", "sums_to_total", T, [], "", total=k("tot"), parts=[k("a"), k("b")])
    assert eq.holds({k("tot"): Num(30, 0), k("a"): Num(10, 0), k("b"): Num(20, 0)})
    assert not eq.holds({k("tot"): Num(31, 0), k("a"): Num(10, 0), k("b"): Num(20, 0)})


def test_sum_of_rounded_shares_within_n_half_units():
    # three values at 1 decimal may be off by 3 x 0.05 = 0.15 from a whole total
    eq = SumEquation("id", "percents_sum_to_100", T, [], "", total=k("100"),
                     parts=[k("a"), k("b"), k("c2")])
    inside = {k("100"): Num(100, 0), k("a"): Num(33.3, 1), k("b"): Num(33.3, 1),
              k("c2"): Num(33.25, 2)}
    assert eq.tolerance(inside) == pytest.approx(0.105)
    inside[k("c2")] = Num(33.5, 1)  # 100.1: inside 0.15
    assert eq.holds(inside)
    inside[k("c2")] = Num(33.6, 1)  # 100.2: outside
    assert not eq.holds(inside)


@pytest.mark.parametrize("count, base, printed, ok", [
    (26785, 37105, 72.2, True),   # 72.187 -> 72.2
    (26785, 37105, 72.1, False),  # the publication's own slip (BJS table 1)
    (1, 1887, 0.1, True),         # 0.0530 -> 0.1
    (99, 6850, 1.4, True),
    (99, 6850, 1.5, False),
    (25, 100, 25.0, True),
])
def test_percent_matches_count_at_printed_precision(count, base, printed, ok):
    eq = PercentEquation("id", "p", T, [], "", percent=k("p"), count=k("n"), base=k("b"))
    v = {k("p"): Num(printed, 1), k("n"): Num(count, 0), k("b"): Num(base, 0)}
    assert eq.holds(v) is ok


def test_percent_half_even_and_half_up_both_accepted():
    eq = PercentEquation("id", "p", T, [], "", percent=k("p"), count=k("n"), base=k("b"))
    # 1/8 = 12.5 % exactly: printed at 0 decimals as 12 (half-even) or 13 (half-up)
    for printed in (12, 13):
        assert eq.holds({k("p"): Num(printed, 0), k("n"): Num(1, 0), k("b"): Num(8, 0)})
    assert not eq.holds({k("p"): Num(14, 0), k("n"): Num(1, 0), k("b"): Num(8, 0)})


def test_equal_across_precisions():
    eq = EqualEquation("id", "m", T, [], "", a=k("a"), b=k("b"))
    assert eq.holds({k("a"): Num(321, 0), k("b"): Num(320.7, 1)})  # 320.7 printed rounded
    assert not eq.holds({k("a"): Num(322, 0), k("b"): Num(320.7, 1)})
    assert eq.holds({k("a"): Num(13125, 0), k("b"): Num(13125, 0)})


def test_typo_distance():
    assert typo_distance("293", "239") == 1
    assert typo_distance("2978", "3058") == 3
    assert typo_distance("920", "92") == 1


def _spec_file(tmp_path: Path, checks) -> Path:
    doc = {"report_id": "r", "spec_version": 1, "tables": [
        {"table_id": "t", "caption": "TABLE 1", "rows": ["Total", "A", "B"],
         "columns": ["Number"], "checks": checks}]}
    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def test_unknown_check_name_fails_at_load(tmp_path):
    with pytest.raises(ValueError, match=r"table t: check 'sums_to_totl': .*registered checks"):
        load_report_spec(_spec_file(tmp_path, [{"sums_to_totl": {"total": "Total"}}]))


def test_bad_check_argument_fails_at_load(tmp_path):
    with pytest.raises(ValueError, match=r"(?s)check 'sums_to_total'.*totl"):
        load_report_spec(_spec_file(tmp_path, [{"sums_to_total": {"totl": "Total"}}]))


def test_typo_in_spec_field_fails_at_load(tmp_path):
    p = _spec_file(tmp_path, [])
    p.write_text(p.read_text().replace("caption:", "captoin:"))
    with pytest.raises(ValueError, match="captoin"):
        load_report_spec(p)


def test_audit_names_the_transposed_cell(tmp_path):
    spec = load_report_spec(_spec_file(tmp_path, [{"sums_to_total": {"total": "Total"}}]))
    rows = [("Total", "1160"), ("A", "920"), ("B", "240")]
    cells = pd.DataFrame([{"table_id": "t", "row_path": r, "column_path": "Number",
                           "value": v, "decimals": 0, "flags": "", "engines": "words;camelot",
                           "raw_text": v, "page": 1, "bbox": "0,0,1,1"} for r, v in rows])
    assert audit_cells(spec, cells)[1] == []
    cells.loc[1, "value"] = "902"
    results, findings = audit_cells(spec, cells)
    assert len(findings) == 1
    f = findings[0]
    assert (f.culprit.cell, f.culprit.suggested, f.cls) == \
        (("t", "A", "Number"), 920.0, "source inconsistency")
    cells.loc[1, "flags"] = "unconfirmed"
    assert audit_cells(spec, cells)[1][0].cls == "extraction suspect"


def _tied_table(tmp_path, b_value: str = "62"):
    """Total 149 = 15 + 62 + 72 = 51 + 26 + 72, printed with A as 51 and B as 62: the sum is
    off by 36 and either cell read with its digits swapped restores it."""
    spec = load_report_spec(_spec_file(tmp_path, [{"sums_to_total": {"total": "Total"}}]))
    rows = [("Total", "149"), ("A", "51"), ("B", b_value), ("C", "72")]
    cells = pd.DataFrame([{"table_id": "t", "row_path": r, "column_path": "Number",
                           "value": v, "decimals": 0, "flags": "", "engines": "words;camelot",
                           "raw_text": v, "page": 1, "bbox": f"10,{20 * i},40,{20 * i + 9}"}
                          for i, (r, v) in enumerate(rows)])
    return spec, cells


def test_two_cells_that_explain_a_failing_sum_equally_are_tied_candidates(tmp_path):
    # 51 + 62 + 72 = 185, printed total 149: off by 36; 51 -> 15 or 62 -> 26 (one swap each)
    spec, cells = _tied_table(tmp_path)
    [f] = audit_cells(spec, cells)[1]
    named = [(f.culprit.cell, f.culprit.suggested)] + [(t.cell, t.suggested)
                                                       for t in f.culprit.tied]
    assert named == [(("t", "A", "Number"), 15.0), (("t", "B", "Number"), 26.0)]
    assert f.culprit.unique is False
    record = finding_record(1, f)
    assert [c["row_path"] for c in record.culprit["tied"]] == ["B"]
    assert "tied candidates" in record.message and "most likely wrong" not in record.message
    assert "[A | Number] = 51 (15 would fit) or t [B | Number] = 62 (26 would fit)" in \
        record.message


def test_a_single_best_cell_is_not_tied(tmp_path):
    # B printed 26 (right): only A, read 15, restores the sum with one edit
    spec, cells = _tied_table(tmp_path, b_value="26")
    cells.loc[0, "value"] = "113"
    cells.loc[1, "value"] = "51"  # 51 + 26 + 72 = 149 vs 113: off by 36, A alone is a swap
    [f] = audit_cells(spec, cells)[1]
    assert f.culprit.cell == ("t", "A", "Number") and f.culprit.tied == []
    assert f.culprit.unique is True
    record = finding_record(1, f)
    assert record.culprit["tied"] == [] and "most likely wrong" in record.message
