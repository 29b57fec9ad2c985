"""Narrative claims: numbers the text states, checked against the tables' cells."""
from __future__ import annotations

import pandas as pd

from statlift.validate.claims import CellIndex, change_claims, count_claims, sentences, share_claims

CELLS = pd.DataFrame([
    # table-01: counts by year
    ("table-01", "All offenses", "2004 | Number", "2972", "count", "2,972"),
    ("table-01", "All offenses", "2013 | Number", "4579", "count", "4,579"),
    ("table-01", "Production", "2004 | Number", "218", "count", "218"),
    ("table-01", "Production", "2013 | Number", "643", "count", "643"),
    # table-03: a total with counts and percents
    ("table-03", "Total", "Number", "36080", "count", "36,080"),
    ("table-03", "Prosecuted", "Number", "21569", "count", "21,569"),
    ("table-03", "Prosecuted", "Percent", "59.8", "percent", "59.8%"),
    ("table-03", "Declined for prosecution", "Number", "13125", "count", "13,125"),
    ("table-03", "Declined for prosecution", "Percent", "36.4", "percent", "36.4%"),
], columns=["table_id", "row_path", "column_path", "value", "unit", "raw_text"])
INDEX = CellIndex(CELLS)


def test_a_stated_change_is_recomputed_from_the_cells():
    [ok] = change_claims("Suspects increased by 54%, from 2,972 to 4,579 suspects.", 1, INDEX)
    assert (ok.verdict, ok.computed) == ("supported", "54.07%")
    assert [c.raw_text for c in ok.cells] == ["2,972", "4,579"]
    [bad] = change_claims("Suspects increased by 64%, from 2,972 to 4,579 suspects.", 1, INDEX)
    assert bad.verdict == "contradicted" and "not 64%" in bad.reason
    [down] = change_claims("Suspects decreased 54% from 2,972 to 4,579.", 1, INDEX)
    assert down.verdict == "contradicted"  # the cells go up


def test_a_year_range_is_not_the_change():
    [c] = change_claims("Production increased 195% from 2004 to 2013 (from 218 to 643 "
                        "suspects).", 2, INDEX)
    assert c.stated == "increased 195% from 218 to 643" and c.verdict == "supported"


def test_numbers_the_tables_do_not_print_are_not_resolvable():
    [c] = change_claims("It grew 28%, from 2,901 to 3,713.", 2, INDEX)
    assert c.verdict == "not resolvable" and "2,901 and 3,713 not printed" in c.reason
    [n] = count_claims("A total of 20,720 were convicted.", 2, INDEX, set())
    assert n.verdict == "not resolvable"
    [k] = count_claims("A total of 36,080 were concluded.", 2, INDEX, set())
    assert k.verdict == "supported" and k.cells[0].table_id == "table-03"


def test_shares_of_a_printed_total():
    text = ("Of the 36,080 suspects in matters concluded, 21,569 (60%) were prosecuted and "
            "13,125 (38%) were declined.")
    claims = share_claims(text, 2, INDEX)
    assert [(c.stated, c.verdict) for c in claims] == [
        ("21,569 (60%) of 36,080", "supported"), ("13,125 (38%) of 36,080", "contradicted")]
    [named] = share_claims("Of the 36,080 suspects, 36% were declined for prosecution.", 2,
                           INDEX)
    assert named.verdict == "supported" and named.cells[0].raw_text == "36.4%"
    [vague] = share_claims("Of the 36,080 suspects, 12% were something else.", 2, INDEX)
    assert vague.verdict == "not resolvable"


def test_sentences_keep_decimals_and_abbreviations():
    text = "Cases rose 3.3% in the U.S. district courts. Then 11.6 years. No number here."
    assert sentences(text) == ["Cases rose 3.3% in the U.S. district courts.",
                               "Then 11.6 years."]
