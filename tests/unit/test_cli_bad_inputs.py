"""Bad inputs to `statlift discover`, `statlift extract-region` and the catalog: one message that
names the file, what was expected and what was found, exit 2, never a traceback.

The PDFs are made here with reportlab: a small text table, a page holding only an image and a page
holding only vector paths (both "scanned": no text layer).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from statlift.acquire.rawstore import check_pdf
from statlift.cli import main as cli
from statlift.errors import StatliftError
from tests.cli_runner import cli_command

REPO = Path(__file__).resolve().parents[2]
BOX = "10,10,290,190"


# ---- fixture files ---------------------------------------------------------------------------

def _canvas(draw) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(300, 200))
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def _table(c) -> None:
    c.setFont("Helvetica", 9)
    for i, row in enumerate([("Offense", "2004", "2013"), ("Total", "1,234", "2,345"),
                             ("Fraud", "234", "345"), ("Theft", "1,000", "2,000")]):
        for x, text in zip((20, 150, 220), row):
            c.drawString(x, 160 - 14 * i, text)


def _image(c) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    c.drawImage(ImageReader(Image.new("RGB", (60, 40), (90, 90, 90))), 10, 10, 240, 160)


def _paths(c) -> None:
    c.rect(20, 20, 200, 120)
    for y in (50, 80, 110):
        c.line(20, y, 220, y)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("reportlab")
    root = tmp_path_factory.mktemp("inputs")
    data = {"table.pdf": _canvas(_table), "image-only.pdf": _canvas(_image),
            "paths-only.pdf": _canvas(_paths), "empty.pdf": b"", "notes.txt": b"just text\n",
            "page.pdf": b"<!DOCTYPE html><html><title>Report landing page</title></html>",
            "half.pdf": _canvas(_table)[:300]}
    for name, content in data.items():
        (root / name).write_bytes(content)
    (root / "a-folder.pdf").mkdir()
    return {name: root / name for name in [*data, "a-folder.pdf", "missing.pdf"]}


@pytest.fixture
def run(statlift_main):
    """`statlift ARGS` in this process (tests/conftest.py)."""
    return statlift_main


COMMANDS = {"discover": lambda pdf: ["discover", pdf],
            "discover --spec": lambda pdf: ["discover", pdf, "--spec", f"{pdf}.yaml"],
            "extract-region": lambda pdf: ["extract-region", pdf, "--page", "1", "--bbox", BOX]}
BAD = [("missing.pdf", "file-not-found", "no such file"),
       ("a-folder.pdf", "file-not-found", "a folder"),
       ("empty.pdf", "empty-file", "an empty file (0 bytes)"),
       ("notes.txt", "not-a-pdf", "a file starting with b'just text"),
       ("page.pdf", "html-instead-of-pdf", "an HTML page"),
       ("half.pdf", "truncated-pdf", "without the closing %%EOF"),
       ("image-only.pdf", "no-text-layer", "no text layer"),
       ("paths-only.pdf", "no-text-layer", "no text layer")]


# ---- discover and extract-region -------------------------------------------------------------

@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name, code, found", BAD)
def test_bad_pdf_is_one_named_error_exit_2(run, files, command, name, code, found):
    rc, out, err = run(*COMMANDS[command](files[name]))
    assert rc == 2, err
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"statlift: {files[name]}: expected ")
    assert found in lines[0] and lines[0].endswith(f"[{code}]")
    assert "--source" not in lines[0]  # the hint fits a file given on the command line
    assert not Path(f"{files[name]}.yaml").exists()


def test_discover_on_a_scanned_pdf_says_no_text_layer_like_run(run, files):
    """It exited 0 with no output. The message is the one `statlift run` gives for the same file
    (one check, acquire/pdfcheck.py), with a hint for the command line."""
    rc, out, err = run("discover", files["image-only.pdf"])
    assert (rc, out) == (2, "")
    with pytest.raises(StatliftError) as by_run:
        check_pdf(files["image-only.pdf"], "some-report")
    assert by_run.value.code == "no-text-layer"
    assert f"found {by_run.value.found};" in err and "OCR" in err


def test_discover_and_extract_region_still_read_a_good_pdf(run, files):
    rc, out, err = run("discover", files["table.pdf"], "--json")
    assert rc == 0 and "Traceback" not in err
    assert isinstance(json.loads(out), list)
    rc, out, err = run("extract-region", files["table.pdf"], "--page", "1", "--bbox", BOX,
                       "--json")
    assert rc == 0, err
    texts = {c["text"] for c in json.loads(out)["cells"]}
    assert {"Fraud", "1,234"} <= texts


@pytest.mark.parametrize("args, words", [
    (["--page", "2", "--bbox", BOX], "a page number from 1 to 1"),
    (["--page", "1", "--bbox", "100,100,10,10"], "x0 < x1 and top < bottom"),
])
def test_extract_region_bad_page_or_box(run, files, args, words):
    rc, out, err = run("extract-region", files["table.pdf"], *args)
    assert (rc, out) == (2, "") and words in err and str(files["table.pdf"]) in err
    assert "Traceback" not in err


def test_extract_region_help_is_a_help_text(run, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["extract-region", "--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    assert "`statlift extract-region` and `statlift discover`" not in text  # the module docstring
    assert "Read the cell structure" in text and "examples:" in text
    assert "--diagnostics" in text and "exit codes:" in text
    assert "--report ID names a report of the catalog" in text  # the rename is documented
    assert "--report " not in text.split("examples:")[0]  # the old flag is not offered


@pytest.mark.parametrize("flag", ["--diagnostics", "--report"])
def test_diagnostics_flag_and_its_old_spelling(run, files, flag):
    rc, out, err = run("extract-region", files["table.pdf"], "--page", "1", "--bbox", BOX, flag)
    assert rc == 0 and out.strip()
    report = json.loads(err.strip().splitlines()[-1])
    assert "engine" in report and "quality" in report


def test_region_module_entry_point_in_its_own_process(files):
    """`python -m statlift.cli.region` (one process per region, the ICDAR scorer's path)."""
    res = subprocess.run([sys.executable, "-m", "statlift.cli.region", str(files["notes.txt"]),
                          "--page", "1", "--bbox", BOX], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "[not-a-pdf]" in res.stderr and str(files["notes.txt"]) in res.stderr


# ---- a bad catalog entry or table spec -------------------------------------------------------

SHIPPED = REPO / "statlift" / "schemas"


def _catalog(tmp_path: Path, edit=None, text: str | None = None) -> Path:
    """A copy of the shipped catalog (one entry), edited; its spec paths point at the shipped
    specs."""
    import yaml

    path = tmp_path / "catalog.yaml"
    if text is None:
        data = yaml.safe_load((SHIPPED / "catalog.yaml").read_text(encoding="utf-8"))
        data["reports"] = data["reports"][:1]
        entry = data["reports"][0]
        entry["spec"] = str(SHIPPED / entry["spec"])
        entry["embedded"] = str(REPO / entry["embedded"])
        if edit:
            edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _bad_catalog(path: Path) -> StatliftError:
    from statlift.schemas.specs import load_catalog

    with pytest.raises(StatliftError) as info:
        load_catalog(path)
    err = info.value
    assert err.code == "bad-catalog" and err.exit_code == 2 and isinstance(err, ValueError)
    assert str(err).startswith(str(path)) and "pydantic" not in str(err)
    return err


def _entry(key, value=None, drop=False):
    def edit(data):
        if drop:
            del data["reports"][0][key]
        else:
            data["reports"][0][key] = value
    return edit


def test_catalog_entry_with_a_misspelt_field(tmp_path):
    """The case of issue 14: `embedded` typed `embeded`."""
    def edit(data):
        data["reports"][0]["embeded"] = data["reports"][0].pop("embedded")
    err = _bad_catalog(_catalog(tmp_path, edit))
    msg = str(err)
    assert msg.startswith(f"{tmp_path / 'catalog.yaml'}, report bjs-ncj250746: expected ")
    assert "field 'embedded': required, missing" in msg
    assert "field 'embeded': not a catalog field (did you mean 'embedded'?)" in msg
    assert "each entry needs report_id, publisher, title, embedded, license, spec" in msg


@pytest.mark.parametrize("edit, where, words", [
    (_entry("urls_verified", "perhaps"), "report bjs-ncj250746",
     "field 'urls_verified': Input should be a valid boolean"),
    (_entry("license", drop=True), "report bjs-ncj250746", "field 'license': required, missing"),
    (_entry("report_id", drop=True), "entry #1 of reports", "field 'report_id': required"),
    (_entry("authors", "Adams"), "report bjs-ncj250746", "field 'authors': Input should be a "
                                                         "valid list (got 'Adams')"),
    (lambda d: d.pop("catalog_version"), None, "field 'catalog_version': required, missing"),
    (lambda d: d["reports"].append(dict(d["reports"][0])), None,
     "report_id bjs-ncj250746 is listed twice"),
])
def test_catalog_entry_errors_name_the_entry_and_the_field(tmp_path, edit, where, words):
    path = _catalog(tmp_path, edit)
    msg = str(_bad_catalog(path))
    assert msg.startswith(f"{path}, {where}: " if where else f"{path}: "), msg
    assert words in msg and msg.endswith("[bad-catalog]")


@pytest.mark.parametrize("text, words", [
    ("catalog_version: 1\nreports:\n  - report_id: x\n    title: [unclosed\n",
     "invalid YAML at line 5"),
    ("", "an empty file"),
    ("- report_id: x\n", "a YAML list at the top, not a mapping"),
])
def test_catalog_file_that_is_not_a_catalog(tmp_path, text, words):
    assert words in str(_bad_catalog(_catalog(tmp_path, text=text)))


def test_missing_catalog_file(tmp_path):
    assert "no such file" in str(_bad_catalog(tmp_path / "nowhere.yaml"))


def test_bad_table_spec_names_file_table_and_field(tmp_path):
    import yaml

    from statlift.schemas.specs import load_report_spec

    spec = yaml.safe_load((SHIPPED / "tables" / "bjs-ncj250746.yaml").read_text(encoding="utf-8"))
    table = spec["tables"][1]
    table["units"] = [{"rows": "*", "unit": "percnt"}]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(StatliftError) as info:
        load_report_spec(path)
    msg = str(info.value)
    assert info.value.code == "bad-spec" and info.value.exit_code == 2
    assert msg.startswith(f"{path}: expected a table spec")
    assert f"table {table['table_id']}: units.0.unit: " in msg and "unknown unit 'percnt'" in msg
    assert "\n" not in msg


def _cli(args: list[str], catalog: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "STATLIFT_CATALOG": str(catalog)}
    return subprocess.run(cli_command(args), cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def test_cli_with_a_bad_catalog_entry_exits_2_without_traceback(tmp_path):
    catalog = _catalog(tmp_path, _entry("title", drop=True))
    res = _cli(["audit", "--report", "bjs-ncj250746"], catalog)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == (
        f"statlift: {catalog}, report bjs-ncj250746: expected a catalog entry with the catalog's "
        "fields, found field 'title': required, missing; fix the entry; each entry needs "
        "report_id, publisher, title, embedded, license, spec (`statlift add PDF --id ID` writes"
        " a complete entry) [bad-catalog]")


def test_run_with_a_bad_table_spec_exits_2_before_the_orchestrator(tmp_path):
    import yaml

    spec = yaml.safe_load((SHIPPED / "tables" / "bjs-ncj250746.yaml").read_text(encoding="utf-8"))
    spec["tables"][0]["captoin"] = spec["tables"][0]["caption"]
    spec_path = tmp_path / "bad-spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    catalog = _catalog(tmp_path, _entry("spec", str(spec_path)))
    res = _cli(["run", "--report", "bjs-ncj250746", "--out", str(tmp_path / "out")], catalog)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"statlift: {spec_path}: expected a table spec" in res.stderr
    assert f"table {spec['tables'][0]['table_id']}: captoin: Extra inputs are not permitted" \
        in res.stderr and "[bad-spec]" in res.stderr
    assert "prefect" not in res.stderr.lower()  # refused before the orchestrator started
    assert not (tmp_path / "out" / "bjs-ncj250746").exists()


def test_discover_says_when_a_text_pdf_has_no_table(run, tmp_path):
    pdf = tmp_path / "prose.pdf"
    pdf.write_bytes(_canvas(lambda c: c.drawString(20, 150, "One sentence of prose only.")))
    rc, out, err = run("discover", pdf)
    assert (rc, out) == (0, "")
    assert err.strip() == (f"statlift: {pdf}: no tables found (no text aligned in columns and no "
                           "frame of drawn rules on any page)")


def test_discover_spec_to_a_folder_that_does_not_exist(run, files, tmp_path):
    out = tmp_path / "no-such-folder" / "starter.yaml"
    rc, stdout, err = run("discover", files["table.pdf"], "--spec", out)
    assert (rc, stdout) == (3, "") and "Traceback" not in err
    assert err.strip().startswith(f"statlift: {out}: expected a writable --spec path, found No "
                                  "such file or directory while writing the starter spec")


def test_output_piped_into_head_ends_quietly():
    """`statlift discover report.pdf | head`: the reader closes the pipe before anything is
    written; the command exits 0 with nothing on stderr (it printed a BrokenPipeError
    traceback)."""
    pdf = next((REPO / "raw" / "bjs-ncj250746").glob("*.pdf"))
    statlift = Path(sys.executable).with_name("statlift")
    done = subprocess.run(["bash", "-c", f"'{statlift}' discover '{pdf}' | true;"
                           " exit ${PIPESTATUS[0]}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
