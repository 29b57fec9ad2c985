"""The static site: index and one page per table, relative links that resolve, no external
requests, a chart only for time series, audit status; rendered in headless Chromium. Issue 14's
page fixes: the PDF's and the links' provenance said, "not checked" apart from clean, charts
plot only printed years, numbers as printed, an id column that does not wrap and no overflow at
390 px."""
import base64
import json
import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest

from statlift.outputs.demo import demo_audit, write_demo_tree
from statlift.outputs.parquet import write_report_parquet
from statlift.outputs.site import build_site, finding_line

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
    assert "cite as: United States Sentencing Commission, " in html  # why the title repeats
    assert '<span class="badge ok">OK</span> <span class="meta detail">4/4 checks</span>' in html
    assert "1 finding, acknowledged" in html and "1 findings" not in html
    # when, as a reader reads it (the exact timestamp kept in the element)
    assert re.search(r'Extracted <time datetime="[^"]+">\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC</time>',
                     html)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed")
@pytest.mark.parametrize("page", ["index.html", "bjs-ncj250746/table-02.html"])
def test_renders_in_headless_chromium(site, tmp_path, page):
    from PIL import Image
    shot = tmp_path / "shot.png"
    subprocess.run(_browser(f"--screenshot={shot}", "--window-size=1280,1600",
                            (site.parent / page).as_uri()),
                   check=True, capture_output=True, timeout=60)
    assert shot.stat().st_size > 20_000
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1600)
    colours = image.resize((128, 160)).getcolors(maxcolors=100_000)
    assert len(colours) > 50  # text, header bar, badges, lines: not a blank page
    header = image.getpixel((640, 20))
    assert header == (0x12, 0x35, 0x5b)  # the header bar painted: the inline CSS applied


def test_the_pages_say_the_pdf_is_a_reconstruction_and_the_links_unverified(site):
    for page in (site, site.parent / BJS / "table-01.html"):
        html = unescape(page.read_text(encoding="utf-8"))
        link = html.index("publisher's page</a>")
        assert "not verified" in html[link:link + 200]  # next to the link
        assert "Offline reconstruction typeset from the published report text; not the " \
            "publisher's file." in html
    assert "extracted from the publishers' PDFs" not in site.read_text(encoding="utf-8")


def test_numbers_as_printed_on_the_page_csv_unchanged(site):
    html = (site.parent / BJS / "table-01.html").read_text(encoding="utf-8")
    assert "<td>37,105</td>" in html and "<td>100%</td>" in html and "<td>37105</td>" not in html
    csv = (site.parent.parent / BJS / "table-01.csv").read_text(encoding="utf-8")
    assert "37105,100," in csv
    ussc = (site.parent / USSC / "sentences.html").read_text(encoding="utf-8")
    assert "<td>275.2 mos.</td>" in ussc


def test_finding_numbers_as_printed():
    cell = {"table_id": "table-07", "row_path": "All", "column_path": "Number",
            "raw_text": "21,887"}
    rec = {"description": "All = sum of offenses", "printed": 21887.0, "expected": 21923.0,
           "tolerance": 0.5, "cells": [cell], "message": "unused",
           "culprit": dict(cell, printed=21887.0, value_that_fits=21923.0)}
    assert finding_line(rec) == ("All = sum of offenses: printed 21,887, expected 21,923 "
                                 "(tolerance ±0.5); most likely wrong: All | Number printed "
                                 "21,887, 21,923 would fit")
    assert finding_line({"message": "older audit.json"}) == "older audit.json"


def test_chart_plots_only_printed_years(site):
    t1 = (site.parent / BJS / "table-01.html").read_text(encoding="utf-8")
    assert "<polyline" not in t1  # 2004 and 2013 only: points, no line across 2005-2012
    assert t1.count("<circle") >= 2 * 4 * 2  # 2 charts x 4 rows x 2 years (+ legend)
    assert "prints no figures for 2005–2012" in t1
    t2 = (site.parent / BJS / "table-02.html").read_text(encoding="utf-8")
    assert "<polyline" in t2 and "prints no figures" not in t2  # 2004-2008, every year


def test_index_id_column_does_not_wrap(site):
    html = site.read_text(encoding="utf-8")
    assert '<td class="id"><a href="bjs-ncj250746/table-01.html">table-01</a></td>' in html
    assert "td.id{white-space:nowrap}" in html


@pytest.fixture()
def unchecked_site(tmp_path) -> Path:
    """The demo tree with BJS table-02 declared multi-response: no check ran on it."""
    processed = write_demo_tree(tmp_path) / "processed"
    audit = demo_audit()
    audit["summary"]["checks"], audit["summary"]["passed"] = 8, 7
    audit["summary"]["tables"]["table-02"] = {
        "checks": 0, "passed": 0, "findings": 0, "schema_failures": 0,
        "not_additive": "Multi-response: a suspect may be counted in several rows."}
    (processed / BJS / "audit.json").write_text(json.dumps(audit), encoding="utf-8")
    return build_site(processed)


def test_table_with_no_checks_is_not_checked_with_the_reason(unchecked_site):
    index = unchecked_site.read_text(encoding="utf-8")
    row = index[index.index('table-02.html">'):]
    row = row[:row.index("</tr>")]
    assert "not checked" in row and "Multi-response: a suspect" in row
    assert "OK" not in row and "0/0" not in row
    page = (unchecked_site.parent / BJS / "table-02.html").read_text(encoding="utf-8")
    assert "not checked" in page and "Not additive by design: Multi-response" in page
    clean = (unchecked_site.parent / BJS / "table-01.html").read_text(encoding="utf-8")
    assert "not checked" not in clean


def _browser(*args: str) -> list[str]:
    return [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}", *args]


PROBE = """<script>
const right = s => Math.max(0, ...[...document.querySelectorAll(s)].map(
    e => Math.ceil(e.getBoundingClientRect().right)));
const over = s => Math.max(0, ...[...document.querySelectorAll(s)].map(
    e => Math.ceil(e.getBoundingClientRect().right
                   - e.parentElement.getBoundingClientRect().right)));
const lines = e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight);
parent.postMessage(JSON.stringify({doc: document.documentElement.scrollWidth, view: innerWidth,
    list_over: over('table.list'), claims: right('.claim'),
    id_lines: Math.max(0, ...[...document.querySelectorAll('td.id > *')].map(lines))}), '*')
</script>"""


def page_layout_at(page: Path, width: int) -> dict:
    """How `page` lays out `width` px wide: the document's and the window's widths, how far its
    list tables reach past their scroll box (a column scrolled out of sight is cut for the
    reader), the right edge of the claims, and the most lines an id cell takes. Headless Chromium
    does not make a window narrower than 500 px, so the page is shown in an iframe that wide: a
    copy of the page beside it (its relative links resolve) posts the figures to the frame's
    parent, which writes them into its DOM."""
    probe = page.with_name(f"_probe-{page.name}")
    frame = page.with_name(f"_frame-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                     encoding="utf-8")
    frame.write_text(
        "<html><body style=\"margin:0\"><script>addEventListener('message', e => "
        "document.body.setAttribute('data-w', btoa(e.data)))</script>"
        f'<iframe src="{probe.name}" style="width:{width}px;height:900px;border:0"></iframe>'
        "</body></html>", encoding="utf-8")
    try:
        dom = subprocess.run(_browser("--window-size=800,900", "--virtual-time-budget=3000",
                                      "--dump-dom", frame.as_uri()),
                             check=True, capture_output=True, text=True, timeout=60).stdout
    finally:
        probe.unlink()
        frame.unlink()
    return json.loads(base64.b64decode(re.search(r'data-w="([^"]+)"', dom).group(1)))


def page_width_at(page: Path, width: int) -> tuple[int, int]:
    """(document width, viewport width) of `page` laid out `width` px wide."""
    layout = page_layout_at(page, width)
    return layout["doc"], layout["view"]


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed")
@pytest.mark.parametrize("page", ["index.html", "bjs-ncj250746/table-01.html",
                                  "ussc-cp-production-2021/sentences.html"])
def test_no_horizontal_overflow_at_390_px(site, page):
    doc, view = page_width_at(site.parent / page, 390)
    assert doc <= view, f"{page}: {doc} px wide in a {view} px window"


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed")
def test_index_at_390_px_shows_every_column_and_ids_on_one_line(long_id_site):
    """At 390 px the list is one block per table: its audit status is not scrolled out of
    sight behind a long id (`method-of-production`), and no id wraps."""
    layout = page_layout_at(long_id_site, 390)
    assert layout["list_over"] == 0 and layout["doc"] <= layout["view"], layout
    assert 0.5 < layout["id_lines"] < 1.5, layout
    wide = page_layout_at(long_id_site, 1280)
    assert wide["list_over"] == 0 and 0.5 < wide["id_lines"] < 1.5, wide


@pytest.fixture()
def long_id_site(tmp_path) -> Path:
    """The demo tree's index with the USSC tables given the shipped overview's longest ids."""
    index = build_site(write_demo_tree(tmp_path) / "processed")
    html = index.read_text(encoding="utf-8")
    html = html.replace(">sexual-contact<", ">method-of-production<").replace(
        ">sentences<", ">victim-relationship<")
    assert ">method-of-production<" in html
    index.write_text(html, encoding="utf-8")
    return index


def test_table_header_as_printed_spanners_over_their_columns(site):
    html = (site.parent / BJS / "table-01.html").read_text(encoding="utf-8")
    head = html[html.index('<table class="data">'):html.index("<td")]
    assert '<th class="stub" rowspan="2">Lead charge</th>' in head
    assert '<th colspan="2" class="span">2004–2013</th>' in head
    assert head.count('colspan="2"') == 3  # 2004–2013, 2004, 2013: each once
    assert '<th title="2004 | Number">Number<span class="unit">count</span></th>' in head
    assert "2004 | Number</th>" not in head  # no flattened path as a header's text


def test_table_page_finding_acknowledgement_agreement_and_box(tmp_path):
    processed = write_demo_tree(tmp_path) / "processed"
    audit = demo_audit()
    audit["findings"][0]["acknowledged"] = "Printed so in the publication. Kept as printed."
    (processed / BJS / "audit.json").write_text(json.dumps(audit), encoding="utf-8")
    (processed / BJS / "audit.html").write_text("<html></html>", encoding="utf-8")
    site = build_site(processed)
    html = unescape((site.parent / BJS / "table-01.html").read_text(encoding="utf-8"))
    # why the finding is kept, not only that it is, and where the audit shows it
    assert '<span class="reason">Acknowledged: Printed so in the publication.' in html
    fid = audit["findings"][0]["id"]
    assert f'href="../../bjs-ncj250746/audit.html#{fid}">{fid} in the audit report</a>' in html
    assert "agreement 100% of cells" in html and "agreement 1.0 " not in html
    index = site.read_text(encoding="utf-8")  # the audit report opens; the data download
    assert '<a href="../bjs-ncj250746/audit.html">audit report</a>' in index
    assert '<a href="../bjs-ncj250746/cells.csv" download>cells.csv</a>' in index
    assert "bbox [" not in html and re.search(r"box x [\d.]+–[\d.]+, y [\d.]+–[\d.]+ pt", html)


def test_chart_legend_is_page_text(site):
    html = (site.parent / BJS / "table-01.html").read_text(encoding="utf-8")
    legend = html[html.index('<ul class="legend">'):]
    legend = legend[:legend.index("</ul>")]
    assert "Child pornography production</li>" in legend and 'class="key point"' in legend
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "Child pornography production</text>" not in svg  # not shrunk with the chart


def test_site_docstring_examples():
    import doctest

    from statlift.outputs import site as site_module
    from statlift.outputs import site_chart
    for module in (site_module, site_chart):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0


def test_chart_title_is_page_text_and_ticks_are_round(site):
    html = (site.parent / BJS / "table-01.html").read_text(encoding="utf-8")
    assert html.count('<figcaption class="ct">') == 2
    assert '<figcaption class="ct">Number (count)</figcaption>' in html
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'class="ct"' not in svg  # a long title is not cut at the chart's edge
    ticks = re.findall(r'class="tick">([\d,.]+)</text>', svg)
    assert ticks and all(float(t.replace(",", "")) % 1 == 0 for t in ticks)


def test_group_headings_that_print_no_values_are_shown_once(tmp_path):
    """Table 5 prints "Sex", "Age", ... above their rows with no values of their own: the CSV
    has no such row (its rows are "Sex > Male"), the page shows the heading once, above them."""
    processed = write_demo_tree(tmp_path) / "processed"
    csv = processed / USSC / "sentences.csv"
    csv.write_text(csv.read_text(encoding="utf-8")
                   .replace("\nContact offenders,", "\nBy contact > Contact offenders,")
                   .replace("\nNon-contact offenders,", "\nBy contact > Non-contact offenders,"),
                   encoding="utf-8")
    html = (build_site(processed).parent / USSC / "sentences.html").read_text(encoding="utf-8")
    table = html[html.index('<table class="data">'):html.index("</table>")]
    assert table.count('<tr class="group">') == 1
    assert ('<tr class="group"><td class="lvl0" colspan="4" title="By contact">By contact'
            '</td></tr>') in table
    heading = table.index('title="By contact">')
    assert table.index("All production offenders") < heading < table.index(">Contact offenders")
    assert '<td class="lvl1" title="By contact &gt; Non-contact offenders">' in table


def test_a_mixed_table_says_a_row_unit_where_it_changes(site):
    html = (site.parent / BJS / "table-02.html").read_text(encoding="utf-8")
    rows = dict(re.findall(r'<td class="lvl0" title="([^"]+)">(.*?)</td>', html))
    assert rows["Number of suspects"] == 'Number of suspects<span class="unit">count</span>'
    assert rows["Percent female"] == 'Percent female<span class="unit">percent</span>'
    assert rows["Percent under age 18"] == "Percent under age 18"  # percent still
