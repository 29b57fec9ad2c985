"""A digest of everything `statlift run` writes, stable across runs and machines.

Used by tests/integration/test_outputs_unchanged.py to prove that a refactor leaves every output
byte-identical: text files are hashed as bytes after masking what legitimately differs between two
runs (the run's timestamps, version ids made from them, the clone's and the output folder's
absolute paths); binary files are hashed by content (Parquet: schema and rows; DuckDB: every
table's columns and rows; PNG: size, mode and pixels), since their container bytes carry the
library versions that wrote them.

    python tests/outputs_digest.py OUT_DIR > digest.json      # one output folder
    python tests/outputs_digest.py --scenario > tests/golden/outputs-digest.json

The scenario is the one the test runs: the first edition of NCJ 250746 (the typeset fixture
`bjs-revised-v1`) and the USSC overview published into an empty folder, then the revision over it.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ISO_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:\+00:00|Z)"
                      rb"|\d{4}-\d\d-\d\d \d\d:\d\d UTC")
VERSION_ID = re.compile(r"\d{8}T\d{6}Z")
TEXT = {".csv", ".json", ".html", ".md", ".txt", ".yaml", ".css", ".js", ".svg"}


def _mask(data: bytes, roots: dict[str, Path]) -> bytes:
    for name, root in roots.items():
        data = data.replace(str(root).encode(), name.encode())
    data = ISO_TIME.sub(b"<time>", data)
    return VERSION_ID.sub("<version>", data.decode("utf-8")).encode("utf-8")


def _parquet(path: Path) -> bytes:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if "pandas" in meta:  # the pandas block names the pandas version that wrote it
        pandas_meta = json.loads(meta["pandas"])
        pandas_meta.pop("pandas_version", None)
        pandas_meta.pop("creator", None)
        meta["pandas"] = json.dumps(pandas_meta, sort_keys=True)
    fields = [(f.name, str(f.type), f.nullable,
               {k.decode(): v.decode() for k, v in (f.metadata or {}).items()})
              for f in table.schema]
    return json.dumps({"fields": fields, "meta": meta, "rows": table.to_pylist()},
                      sort_keys=True, default=str).encode()


def _duckdb(path: Path) -> bytes:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        objects = con.execute(
            "SELECT table_name, table_type FROM information_schema.tables ORDER BY table_name"
        ).fetchall()
        for name, kind in objects:
            cols = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position", [name]).fetchall()
            rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
            out[name] = {"kind": kind, "columns": cols,
                         "rows": sorted(json.dumps(r, default=str) for r in rows)}
        return json.dumps(out, sort_keys=True).encode()
    finally:
        con.close()


def _png(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        return f"{im.size} {im.mode} ".encode() + hashlib.sha256(im.tobytes()).hexdigest().encode()


def digest_tree(out_dir: Path, raw_dirs: list[Path] = ()) -> dict[str, str]:
    """{relative path (version ids masked): sha256 of the masked content}."""
    out_dir = Path(out_dir).resolve()
    roots = {"<out>": out_dir, "<repo>": REPO}
    roots.update({f"<raw{i}>": Path(p).resolve() for i, p in enumerate(raw_dirs)})
    result = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        rel = VERSION_ID.sub("<version>", path.relative_to(out_dir).as_posix())
        if path.suffix in TEXT:
            content = _mask(path.read_bytes(), roots)
        elif path.suffix == ".parquet":
            content = _mask(_parquet(path), roots)
        elif path.suffix == ".duckdb":
            content = _mask(_duckdb(path), roots)
        elif path.suffix == ".png":
            content = _png(path)
        else:
            content = path.read_bytes()
        result[rel] = hashlib.sha256(content).hexdigest()
    return result


def run_scenario(work: Path) -> dict[str, dict[str, str]]:
    """Publish the first edition and the USSC overview, then the revision; the digest after each
    run. `work` is an empty folder (raw store copy, Prefect home, outputs)."""
    import shutil

    sys.path.insert(0, str(REPO / "tests"))
    from cli_runner import run_cli
    from fixtures.typeset import make_variants

    raw = work / "raw"
    shutil.copytree(REPO / "raw", raw)
    first = make_variants(work / "variants", ["bjs-revised-v1"])["bjs-revised-v1"]
    revised = next((REPO / "raw" / "bjs-ncj250746").glob("*.pdf"))
    out = work / "processed"
    env = {"STATLIFT_RAW": str(raw)}
    reports = ["--report", "bjs-ncj250746", "--report", "ussc-cp-production-2021"]
    digests = {}
    for step, pdf in (("first-edition", first), ("revision", revised)):
        done = run_cli(["run", "--out", str(out), *reports, "--source", f"bjs-ncj250746={pdf}"],
                       work, env)
        if done.returncode != 0:
            raise RuntimeError(f"{step}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
        digests[step] = digest_tree(out, [raw, first.parent])
    return digests


if __name__ == "__main__":
    if sys.argv[1:] == ["--scenario"]:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run_scenario(Path(tmp)), indent=1, sort_keys=True))
    else:
        print(json.dumps(digest_tree(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]),
                         indent=1))
