"""Reading printed cells: numbers, percents, units, footnote marks, missing symbols."""
import pytest

from statlift.extractors.clean import join_wrapped, parse_cell, parse_number, strip_spanner_dash


@pytest.mark.parametrize("text, value, decimals, unit", [
    ("37,105", "37105", 0, None),
    ("100%", "100", 0, "percent"),
    ("9.7", "9.7", 1, None),
    ("0.0", "0.0", 1, None),
    ("31.4%", "31.4", 1, "percent"),
    ("70.0 mos.", "70.0", 1, "months"),
    ("39 yrs.", "39", 0, "years"),
    ("1,234,567", "1234567", 0, None),
    ("-3.5", "-3.5", 1, None),
    ("−2", "-2", 0, None),
])
def test_parse_cell_numbers(text, value, decimals, unit):
    r = parse_cell(text)
    assert (r.value, r.decimals, r.unit, r.ok) == (value, decimals, unit, True)


@pytest.mark.parametrize("text, code", [("--", "--"), ("~", "~"), ("/", "/"), (":", ":"),
                                        ("*", "*")])
def test_parse_cell_missing_codes(text, code):
    r = parse_cell(text)
    assert r.value is None and r.missing_code == code and r.missing_meaning


def test_footnote_marks_leave_value():
    r = parse_cell("3,692*")
    assert (r.value, r.footnotes) == ("3692", ("*",))
    r = parse_cell("12.5", footnotes=("a",))
    assert (r.value, r.footnotes) == ("12.5", ("a",))


@pytest.mark.parametrize("text", ["1,23", "12,3456", "abc", "12 34", "1.2.3"])
def test_not_numbers_are_not_guessed(text):
    r = parse_cell(text)
    assert r.value is None and not r.ok


def test_parse_number_rejects_bad_grouping():
    assert parse_number("1,2345") is None
    assert parse_number("12,345") == ("12345", 0, False)


def test_join_wrapped_and_spanner():
    assert join_wrapped(["Child pornography possession/receipt/", "distribution"]) == \
        "Child pornography possession/receipt/distribution"
    assert join_wrapped(["All commercial sexual", "exploitation of children", "suspects"]) == \
        "All commercial sexual exploitation of children suspects"
    assert strip_spanner_dash("Child pornography—") == "Child pornography"
    assert strip_spanner_dash("2004–2013") == "2004–2013"
