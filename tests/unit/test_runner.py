"""Which task runner `auto` picks, and the per-build read cache of the downstream builders."""
from __future__ import annotations

import pytest

from statlift.flows.run import runner_name
from statlift.outputs.processed import read_once, read_text_csv


@pytest.mark.parametrize(("workers", "reports", "expected"), [
    (2, 2, "threads"),       # the two shipped reports: the pool's start-up eats the gain
    (2, 3, "processes"),     # a report per worker process
    (2, 50, "processes"),
    (1, 50, "threads"),      # one core: nothing to share out
])
def test_auto_runner(workers, reports, expected):
    assert runner_name("auto", workers, reports) == expected


def test_explicit_runner_is_kept_and_unknown_is_an_error():
    assert runner_name("threads", 2, 50) == "threads"
    assert runner_name("dask", 2, 1) == "dask"
    with pytest.raises(ValueError, match="unknown runner 'fork'"):
        runner_name("fork", 2, 2)


def test_read_once_parses_once_and_hands_out_copies(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("row,2019\nTotal,5\n", encoding="utf-8")
    with read_once():
        first = read_text_csv(path)
        first.loc[0, "2019"] = "changed by a caller"
        path.write_text("row,2019\nTotal,6\n", encoding="utf-8")
        assert read_text_csv(path).loc[0, "2019"] == "5"  # parsed once, caller's edit not kept
    assert read_text_csv(path).loc[0, "2019"] == "6"  # outside the block: read again
