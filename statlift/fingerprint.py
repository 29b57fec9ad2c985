"""statlift's version and the fingerprint of the code that makes the published files.

A published dataset is a function of three things: the PDF (its sha256), the report's spec
(schemas.specs.spec_sha256 / table_fingerprint) and the code that reads the PDF and writes the
outputs. The third is `code_fingerprint()`: a sha256 over every file of the installed package
(sources, templates, stylesheets) except the ones that cannot change a published byte:

    statlift/cli/, statlift/flows/      command line and orchestration (what runs, not what is
                                        written)
    statlift/acquire/                   fetching and the raw store (the PDF's sha256 is in the key)
    statlift/settings.py, api.py, fingerprint.py, __init__.py, __main__.py
    statlift/schemas/ except its .py    the YAML specs and catalog are the spec fingerprint's job
                                        (a changed table spec re-extracts only that table)

So it covers extractors/, schemas/*.py, validate/, outputs/, publish/, templates/, model.py and
errors.py (error texts land in tables.json), and any module added later unless it is excluded
here: a needless re-extraction costs a run, a missed one serves old cells as "unchanged".
Computed once per process: reading the installed package's files costs a few milliseconds.
"""
from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
STATLIFT_VERSION = version("statlift")  # pyproject.toml [project] version

EXCLUDED_DIRS = ("cli", "flows", "acquire", "__pycache__")
EXCLUDED_FILES = ("settings.py", "api.py", "fingerprint.py", "__init__.py", "__main__.py")
PY_ONLY_DIRS = ("schemas",)


def _counts(rel: Path) -> bool:
    if rel.parts[0] in EXCLUDED_DIRS or "__pycache__" in rel.parts or rel.suffix == ".pyc":
        return False
    if len(rel.parts) == 1:
        return rel.name not in EXCLUDED_FILES
    return rel.suffix == ".py" or rel.parts[0] not in PY_ONLY_DIRS


def fingerprinted_files(root: Path = PACKAGE_DIR) -> list[Path]:
    """The files code_fingerprint() reads, sorted by their path relative to `root`."""
    return sorted((p for p in root.rglob("*") if p.is_file() and _counts(p.relative_to(root))),
                  key=lambda p: p.relative_to(root).as_posix())


@cache
def code_fingerprint(root: Path = PACKAGE_DIR) -> str:
    """sha256 over (relative path, content) of every fingerprinted file under `root`."""
    h = hashlib.sha256()
    for path in fingerprinted_files(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
