"""Fail fast: an engine name the spec does not know fails when the spec loads, naming the file, the
table and the engines statlift has (it used to be a swallowed KeyError, "engine failed")."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from statlift.extractors.engines import ENGINES
from statlift.schemas.specs import ENGINE_NAMES, load_report_spec


def _spec(tmp_path: Path, table_engines=None, report_engines=None) -> Path:
    table = {"table_id": "table-02", "caption": "TABLE 2", "rows": ["Total"],
             "columns": ["Number"]}
    if table_engines is not None:
        table["engines"] = {"enabled": table_engines}
    doc = {"report_id": "r", "spec_version": 1, "tables": [
        {"table_id": "table-01", "caption": "TABLE 1", "rows": ["Total"], "columns": ["Number"]},
        table]}
    if report_engines is not None:
        doc["engines"] = {"enabled": report_engines}
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_engine_registry_and_spec_names_agree():
    assert tuple(ENGINES) == ENGINE_NAMES == ("pdfplumber", "camelot")


def test_engine_typo_in_a_table_fails_at_load(tmp_path):
    path = _spec(tmp_path, ["pdfplumber", "camelott"])
    with pytest.raises(ValueError) as info:
        load_report_spec(path)
    msg = str(info.value)
    assert str(path) in msg and "table table-02" in msg
    assert re.search(r"unknown engine 'camelott'; the engines are pdfplumber, camelot", msg), msg


def test_engine_typo_for_the_whole_report_fails_at_load(tmp_path):
    path = _spec(tmp_path, report_engines=["pdfplumbr"])
    with pytest.raises(ValueError, match=r"engines\.enabled\.0: unknown engine 'pdfplumbr'"):
        load_report_spec(path)


def test_known_engines_load(tmp_path):
    spec = load_report_spec(_spec(tmp_path, ["camelot"]))
    assert spec.engines_for(spec.tables[1]).enabled == ("camelot",)
    assert spec.engines_for(spec.tables[0]).enabled == ("pdfplumber", "camelot")
