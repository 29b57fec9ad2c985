"""Every usage example written in a statlift docstring (`>>>`) runs and prints what it says.

The modules are found by scanning the package, so an example added anywhere is checked without
being listed here; a module that fails to import fails its test, it is not skipped.
"""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "statlift"


def modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>> " in path.read_text(encoding="utf-8"):
            rel = path.relative_to(PACKAGE.parent).with_suffix("")
            names.append(".".join(p for p in rel.parts if p != "__init__"))
    return names


def test_examples_are_found():
    assert "statlift.outputs.site_chart" in modules_with_examples()


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (run " \
                               f"python -m doctest -v on it)"
