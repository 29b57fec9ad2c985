"""A unit changed in the table spec republishes with the change listed (issue 14): it used to say
"updated: 0 cells changed" and write no changes.csv / CHANGES.md, since only the readings were
compared. Two `statlift run`s of the shipped USSC overview, the second after one unit rule of a
copy of its spec changed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "statlift" / "schemas"
REPORT = "ussc-cp-production-2021"
TABLE = "sexual-contact"


@pytest.mark.slow
def test_unit_change_in_the_spec_is_listed_as_a_change(tmp_path):
    spec = yaml.safe_load((SCHEMAS / "tables" / f"{REPORT}.yaml").read_text(encoding="utf-8"))
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True),
                         encoding="utf-8")
    catalog = yaml.safe_load((SCHEMAS / "catalog.yaml").read_text(encoding="utf-8"))
    catalog["reports"] = [{**r, "spec": str(spec_path)} for r in catalog["reports"]
                          if r["report_id"] == REPORT]
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False,
                                                          allow_unicode=True), encoding="utf-8")
    shutil.copytree(REPO / "raw", tmp_path / "raw")
    env = {"STATLIFT_CATALOG": str(tmp_path / "catalog.yaml"),
           "STATLIFT_RAW": str(tmp_path / "raw")}
    out = tmp_path / "processed"
    args = ["run", "--report", REPORT, "--out", str(out)]

    first = run_cli(args, tmp_path, env)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    cells = pd.read_csv(out / REPORT / "cells.csv", dtype=str, keep_default_na=False)
    counts = cells[(cells["table_id"] == TABLE) & (cells["column_path"] == "N")]
    assert len(counts) and set(counts["unit"]) == {"count"}

    # the only edit: a unit rule for the N column (a printed `%` decides a cell's unit, a rule
    # does not override it, so the rule goes on the column without one)
    table = next(t for t in spec["tables"] if t["table_id"] == TABLE)
    table["units"] = [*table["units"], {"columns": "N", "unit": "rate"}]
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True),
                         encoding="utf-8")
    second = run_cli(args, tmp_path, env)
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    n = len(counts)
    assert f"{REPORT}: updated: {n} cells changed ({n} units), 0 labels renamed;" in \
        second.stdout, second.stdout
    changes = pd.read_csv(out / REPORT / "changes.csv", dtype=str, keep_default_na=False)
    assert set(changes["kind"]) == {"unit"} and len(changes) == n
    assert set(zip(changes["table_id"], changes["column_path"], changes["old"],
                   changes["new"])) == {(TABLE, "N", "count", "rate")}
    assert sorted(changes["row_path"]) == sorted(counts["row_path"])
    md = (out / REPORT / "CHANGES.md").read_text(encoding="utf-8")
    assert f"- cells: 0 changed, 0 added, 0 removed, 0 relabelled, {n} with another unit" in md
