"""statlift.frames.records is DataFrame.to_dict("records"), faster: the same dicts with values
of the same types, for every kind of column statlift's frames hold."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from statlift.frames import records


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


FRAMES = {
    "strings with missing": pd.DataFrame({"row_path": ["A > b", None, "C"],
                                          "value": ["1", "", float("nan")]}),
    "numbers": pd.DataFrame({"page": [1, 2, 3], "share": [0.5, float("nan"), 2.25],
                             "ok": [True, False, True]}),
    "object column of numpy scalars": pd.DataFrame(
        {"n": pd.Series([np.int64(3), np.float64(1.5), "x", None], dtype=object)}),
    "nullable and arrow": pd.DataFrame(
        {"i": pd.array([1, None, 3], dtype="Int64"),
         "s": pd.array(["a", None, "c"], dtype="string[pyarrow]")}),
    "empty": pd.DataFrame({"a": pd.Series([], dtype=str), "b": pd.Series([], dtype=int)}),
    "repeated column name": pd.DataFrame([[1, 2]], columns=["a", "a"]),
}


@pytest.mark.parametrize("name", list(FRAMES))
def test_records_equal_to_dict_records_value_and_type(name):
    frame = FRAMES[name]
    if name == "repeated column name":
        with pytest.warns(UserWarning):
            expected = frame.to_dict("records")
        with pytest.warns(UserWarning):
            got = records(frame)
    else:
        expected, got = frame.to_dict("records"), records(frame)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        assert list(mine) == list(theirs)
        assert all(_same(mine[k], theirs[k]) for k in mine), (mine, theirs)
