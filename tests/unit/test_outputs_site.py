"""The static site: index and one page per table, relative links that resolve, no external
requests, a line chart only for time series, audit status; rendered in headless Chromium."""
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from statlift.outputs.demo import write_demo_tree
from statlift.outputs.parquet import write_report_parquet
from statlift.outputs.site import build_site

BJS, USSC = "bjs-ncj250746", "ussc-cp-production-2021"


def _png(path: Path, size=(400, 120)) -> None:
    from PIL import Image, ImageDraw
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle([4, 4, size[0] - 5, size[1] - 5], outline="black")
    image.save(path)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    processed = write_demo_tree(tmp_path_factory.mktemp("tree")) / "processed"
    for rid in (BJS, USSC):
        write_report_parquet(processed / rid)
    (processed / BJS / "crops").mkdir()
    _png(processed / BJS / "crops" / "table-01.png")
    return build_site(processed)


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', html)


def test_pages_written(site):
    out = site.parent
    assert site == out / "index.html" and out.name == "site"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == [
        "bjs-ncj250746/table-01.html", "bjs-ncj250746/table-02.html", "index.html",
        "ussc-cp-production-2021/sentences.html", "ussc-cp-production-2021/sexual-contact.html"]


def test_every_local_link_resolves_and_nothing_is_fetched(site):
    for page in site.parent.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html and "@import" not in html and "url(" not in html
        assert not re.search(r'src="(https?:)?//', html), page
        assert not re.search(r'<link[^>]+stylesheet', html)
        for link in _links(html):
            if link.startswith(("http://", "https://")):
                continue
            assert (page.parent / unquote(link)).resolve().exists(), (page, link)


def test_table_page_downloads_provenance_and_audit(site):
    html = (site.parent / BJS / "table-01.html").read_text(encoding="utf-8")
    assert 'href="../../bjs-ncj250746/table-01.csv"' in html
    assert 'href="../../bjs-ncj250746/table-01.parquet"' in html
    assert 'src="../../bjs-ncj250746/crops/table-01.png"' in html
    assert "Page 3" in html and "5902eaae77531c48686e0adfd530cfbf663c824bc213af3c0ba35b4b2e3b8541" \
        in html
    assert "1 finding, acknowledged" in html and "demo finding: printed 8.1" in html
    assert "Note: Details may not sum to totals due to rounding." in html
    ussc = (site.parent / USSC / "sentences.html").read_text(encoding="utf-8")
    assert "not audited" in ussc and "crops" not in ussc


def test_missing_value_shows_its_code(site):
    html = (site.parent / BJS / "table-02.html").read_text(encoding="utf-8")
    assert '<td class="missing" title="missing">--</td>' in html


def test_chart_only_for_time_series(site):
    def charts(rid, tid):
        return (site.parent / rid / f"{tid}.html").read_text(encoding="utf-8").count("<svg")
    assert charts(BJS, "table-02") == 2  # counts and percents apart
    assert charts(BJS, "table-01") == 2  # 2004 and 2013: Number, Percent
    assert charts(USSC, "sexual-contact") == 0 and charts(USSC, "sentences") == 0


def test_index_lists_reports_tables_and_status(site):
    html = site.read_text(encoding="utf-8")
    assert "2 reports, 4 tables" in html
    assert 'href="bjs-ncj250746/table-01.html"' in html
    assert "Federal Sentencing of Child Pornography" in html
    assert "OK 4/4 checks" in html


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed")
@pytest.mark.parametrize("page", ["index.html", "bjs-ncj250746/table-02.html"])
def test_renders_in_headless_chromium(site, tmp_path, page):
    from PIL import Image
    shot = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}", f"--screenshot={shot}",
           "--window-size=1280,1600", (site.parent / page).as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    assert shot.stat().st_size > 20_000
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1600)
    colours = image.resize((128, 160)).getcolors(maxcolors=100_000)
    assert len(colours) > 50  # text, header bar, badges, lines: not a blank page
    header = image.getpixel((640, 20))
    assert header == (0x12, 0x35, 0x5b)  # the header bar painted: the inline CSS applied
