"""How many suspects were referred for child sex trafficking in 2013, and is that number
consistent with the rest of the report?

BJS NCJ 250746, Table 1: 1,031 of the 4,579 suspects referred in 2013 (22.5%). The same
answer two ways, after `statlift run`:

    python docs/examples/query_example.py            # reads processed/
    python docs/examples/query_example.py DIR        # another processed/ folder

Both check the number against the table itself: the three offense rows must sum to the
table's total row, the printed percent must match count / total at its printed precision
(one decimal: within 0.05), and the audit must hold no open finding on the table.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPORT, TABLE = "bjs-ncj250746", "table-01"
ROW = "Child sex trafficking"
TOTAL = "All commercial sexual exploitation of children offenses"

SQL = """
WITH t AS (
    SELECT row_path, "2013 | Number" AS n, "2013 | Percent" AS pct
    FROM bjs_ncj250746__table_01
)
SELECT
    (SELECT n   FROM t WHERE row_path = $row)   AS count,
    (SELECT n   FROM t WHERE row_path = $total) AS total,
    (SELECT sum(n) FROM t WHERE row_path <> $total) AS sum_of_offenses,
    (SELECT pct FROM t WHERE row_path = $row)   AS percent_printed,
    (SELECT count(*) FROM findings
      WHERE report_id = 'bjs-ncj250746' AND table_id = 'table-01'
        AND NOT coalesce(acknowledged, false)) AS open_findings,
    (SELECT page FROM cells
      WHERE report_id = 'bjs-ncj250746' AND table_id = 'table-01'
        AND row_path = $row AND column_path = '2013 | Number') AS page
"""


def verdict(count: float, total: float, sum_of_offenses: float, percent_printed: float,
            open_findings: int, page: int | None) -> dict:
    """The answer and its cross-checks, as plain Python values."""
    computed = 100 * count / total
    return {"count": int(count), "total": int(total), "sum_of_offenses": int(sum_of_offenses),
            "percent_printed": float(percent_printed), "percent_computed": round(computed, 3),
            "sums_to_total": sum_of_offenses == total,
            "percent_matches": abs(computed - percent_printed) <= 0.05 + 1e-9,
            "open_findings": int(open_findings), "page": None if page is None else int(page)}


def answer_with_duckdb(db_path: str | Path) -> dict:
    """Ask processed/statlift.duckdb."""
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        row = con.execute(SQL, {"row": ROW, "total": TOTAL}).fetchone()
    return verdict(*row)


def answer_with_pandas(processed_dir: str | Path | None = None) -> dict:
    """Ask the Python API (statlift.load reads the published CSV, typed)."""
    import json

    import statlift

    df = statlift.load(REPORT, TABLE, processed_dir)
    n, pct = df["2013 | Number"], df["2013 | Percent"]
    audit_path = Path(statlift.api.processed_path(processed_dir)) / REPORT / "audit.json"
    findings = json.loads(audit_path.read_text())["findings"] if audit_path.exists() else []
    open_findings = sum(1 for f in findings
                        if f.get("table_id") == TABLE and not f.get("acknowledged"))
    return verdict(n[ROW], n[TOTAL], n.drop(TOTAL).sum(), pct[ROW], open_findings,
                   df.attrs["page"])


def main(argv: list[str]) -> int:
    processed = Path(argv[1] if len(argv) > 1 else "processed")
    for how, answer in (("DuckDB", answer_with_duckdb(processed / "statlift.duckdb")),
                        ("pandas", answer_with_pandas(processed))):
        ok = answer["sums_to_total"] and answer["percent_matches"]
        print(f"{how}: {answer['count']:,} suspects referred for child sex trafficking in "
              f"2013 (p. {answer['page']}), {answer['percent_printed']}% of {answer['total']:,}; "
              f"offense rows sum to the total: {answer['sums_to_total']}; percent matches "
              f"{answer['percent_computed']:.2f}: {answer['percent_matches']}; open audit "
              f"findings on the table: {answer['open_findings']} -> "
              f"{'consistent' if ok else 'INCONSISTENT'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
