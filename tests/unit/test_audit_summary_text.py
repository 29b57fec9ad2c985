"""`statlift audit`'s text: a table marked "!!" says why (its findings, its schema failures)."""
from statlift.cli.audit import summary_text


def test_a_flagged_table_says_why():
    summary = {"report_id": "r", "checks": 5, "passed": 4, "findings": 1, "unacknowledged": 15,
               "tables": {
                   "t1": {"checks": 3, "passed": 3, "findings": 0, "schema_failures": 14},
                   "t2": {"checks": 2, "passed": 1, "findings": 1, "schema_failures": 0},
                   "t3": {"checks": 0, "passed": 0, "findings": 0, "schema_failures": 0}}}
    lines = summary_text(summary, []).splitlines()
    assert lines[0] == "r: 5 checks, 4 passed, 1 finding (15 not acknowledged)"
    assert lines[1].startswith("  !! t1") and lines[1].endswith("checks  14 schema failures")
    assert lines[2].startswith("  !! t2") and lines[2].endswith("checks  1 finding")
    assert lines[3].startswith("  ok t3") and lines[3].endswith("checks")
