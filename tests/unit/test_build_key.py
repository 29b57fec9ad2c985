"""One cache key (PDF sha256, spec fingerprint, code fingerprint): a change to the extraction code
re-extracts, for the up-to-date check and for Prefect's task cache alike (issue 12)."""
from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path

import pytest

from statlift import fingerprint as fp
from statlift.acquire.hashing import sha256_file
from statlift.acquire.rawstore import current_raw_path
from statlift.publish import uptodate
from statlift.publish.uptodate import (
    BUILD_FILE,
    build_key,
    read_build_key,
    stale_reports,
    up_to_date,
    write_build_key,
)
from statlift.schemas.specs import load_catalog, spec_for, spec_sha256, table_fingerprint

REPO = Path(__file__).resolve().parents[2]
REPORT = "ussc-cp-production-2021"


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory) -> Path:
    """A copy of the statlift package's files, to change one and fingerprint again."""
    root = tmp_path_factory.mktemp("pkg") / "statlift"
    shutil.copytree(fp.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _changed(root: Path, rel: str) -> str:
    """The fingerprint of `root` with `rel` changed by one comment line (restored after)."""
    path = root / rel
    before = path.read_bytes()
    path.write_bytes(before + b"\n# a bug fix\n")
    try:
        return fp.code_fingerprint.__wrapped__(root)
    finally:
        path.write_bytes(before)


def test_code_fingerprint_follows_the_code_that_makes_outputs(package_copy):
    same = fp.code_fingerprint.__wrapped__(package_copy)
    assert same == fp.code_fingerprint() and len(same) == 64  # content and paths, not location
    for rel in ("extractors/clean.py", "schemas/specs.py", "validate/checks.py",
                "outputs/report_files.py", "publish/store.py", "errors.py"):
        assert _changed(package_copy, rel) != same, rel
    # orchestration, fetching and the specs themselves (the spec fingerprint's job) do not count
    for rel in ("cli/main.py", "flows/run.py", "acquire/fetch.py", "settings.py",
                "schemas/catalog.yaml"):
        assert _changed(package_copy, rel) == same, rel


def test_changed_extraction_code_is_no_longer_up_to_date(tmp_path, monkeypatch):
    spec = spec_for(REPORT)
    sha = "ab" * 32
    folder = tmp_path / REPORT
    folder.mkdir()
    key = write_build_key(folder, REPORT, sha)
    assert json.loads((folder / BUILD_FILE).read_text()) == {
        "source_sha256": sha, "spec_sha256": spec_sha256(spec),
        "code_fingerprint": fp.code_fingerprint(), "statlift_version": fp.STATLIFT_VERSION}
    assert read_build_key(folder) == key and up_to_date(folder, build_key(sha, spec_sha256(spec)))
    table = spec.tables[0]
    params = (sha, table.table_id, table_fingerprint(spec, table))
    cached = uptodate.table_cache_key(*params, REPORT)
    assert cached == uptodate.table_cache_key(*params, REPORT)  # stable within the code
    # another catalog entry of the same PDF: its cells carry its own id, no shared cache
    assert uptodate.table_cache_key(*params, "copy") != cached

    # the extractor changed (a bug fix): the same PDF and spec make a different key
    monkeypatch.setattr(uptodate, "code_fingerprint", lambda: "0" * 64)
    assert not up_to_date(folder, build_key(sha, spec_sha256(spec)))
    assert uptodate.table_cache_key(*params, REPORT) != cached
    # ... and another PDF or spec still do, with the same code
    monkeypatch.undo()
    assert not up_to_date(folder, build_key("cd" * 32, spec_sha256(spec)))
    assert not up_to_date(folder, build_key(sha, "ef" * 32))


def test_stale_reports_compares_the_build_key(tmp_path, monkeypatch):
    catalog = load_catalog()
    pdf = current_raw_path(REPO / "raw", catalog.get(REPORT), REPO)
    out = tmp_path / "processed"
    (out / REPORT).mkdir(parents=True)
    assert stale_reports([REPORT], out, catalog, REPO / "raw", REPO) == [REPORT]  # no build.json
    write_build_key(out / REPORT, REPORT, sha256_file(pdf))
    assert stale_reports([REPORT], out, catalog, REPO / "raw", REPO) == []
    monkeypatch.setattr(uptodate, "code_fingerprint", lambda: "1" * 64)
    assert stale_reports([REPORT], out, catalog, REPO / "raw", REPO) == [REPORT]


def test_a_damaged_build_file_is_not_up_to_date(tmp_path):
    (tmp_path / BUILD_FILE).write_text("{not json")
    assert read_build_key(tmp_path) is None
    (tmp_path / BUILD_FILE).write_text('{"source_sha256": "x"}')
    assert read_build_key(tmp_path) is None


def test_version_comes_from_the_package_metadata():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert fp.STATLIFT_VERSION == project["version"]


def test_sha256_file(tmp_path):
    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
