"""Shared pytest fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def variants_dir(tmp_path_factory) -> Path:
    """The standard typeset variants (tests/fixtures/README.md), built once per session.

    Holds `<name>.pdf`, `<name>.layout.json` (where every table and cell landed) and
    `manifest.json` (options, changes and table pages of every variant)."""
    pytest.importorskip("reportlab", reason="reportlab (test extra) builds the typeset fixtures")
    from fixtures.content import table_ids
    from fixtures.typeset import golden_dir, make_variants

    if not table_ids("bjs-ncj250746", golden_dir()):
        pytest.skip(f"no golden tables under {golden_dir()}")
    out = tmp_path_factory.mktemp("variants")
    make_variants(out)
    return out


@pytest.fixture(scope="session")
def variants_manifest(variants_dir: Path) -> dict:
    """manifest.json of the variants:
    {"variants": {name: {pdf, report_id, changes, tables, ...}}}."""
    return json.loads((variants_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def variant_pdfs(variants_dir: Path, variants_manifest: dict) -> dict[str, Path]:
    """{variant name: PDF path}."""
    return {name: variants_dir / v["pdf"] for name, v in variants_manifest["variants"].items()}


@pytest.fixture
def statlift_main(monkeypatch, capsys):
    """`statlift ARGS` in this process: (exit code, stdout, stderr). main() sets Prefect
    defaults in os.environ; monkeypatch puts them back."""
    from statlift.cli import main as cli

    for key, value in cli.PREFECT_DEFAULTS.items():
        monkeypatch.setenv(key, os.environ.get(key, value))

    def call(*args) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return call
