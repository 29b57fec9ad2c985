"""Outputs stay byte-identical through a refactor.

tests/golden/outputs-digest.json was written by `python tests/outputs_digest.py --scenario` with
the code before the model/namespace renovation (issue 12). This test runs the same scenario (the
first edition of NCJ 250746 and the USSC overview published, then the revision over them) and
requires every output file to be present with the same masked content (see outputs_digest.py for
what is masked: run timestamps, version ids, absolute paths) and no file to be missing. A file
that the renovation adds on purpose must be listed in ADDED with the reason.

When an output changes on purpose, regenerate the digest in the same commit and say why.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from outputs_digest import run_scenario

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "outputs-digest.json"
ADDED: dict[str, str] = {}


@pytest.mark.slow
def test_outputs_are_byte_identical_to_the_recorded_digest(tmp_path):
    pytest.importorskip("reportlab", reason="reportlab (test extra) typesets the first edition")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = run_scenario(tmp_path)
    for step, files in expected.items():
        new = {p: h for p, h in got[step].items() if not any(p.endswith(a) for a in ADDED)}
        missing = sorted(set(files) - set(new))
        extra = sorted(set(new) - set(files))
        changed = sorted(p for p in files if p in new and new[p] != files[p])
        assert (missing, extra, changed) == ([], [], []), (
            f"{step}: missing {missing}, unexpected {extra}, changed {changed}")
