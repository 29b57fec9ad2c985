"""The one jinja2 environment of statlift's HTML (the audit page and the static site).

Templates and the one stylesheet live in statlift/templates/; every page inlines the stylesheet
(pages open from disk and make no external requests). Autoescape is on for .html and .svg
templates, and Python-built markup (the SVG charts) escapes through markupsafe as well, so no
value reaches a page unescaped.

Also here, because both pages show them the same way: numbers as a statistical table prints them,
counted nouns ("1 finding", "2 findings"), the audit status of a table or a report, and what a
page says about the PDF it was read from and about the publisher's links.
"""
from __future__ import annotations

import base64
import binascii
import math
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

ENV = Environment(
    loader=PackageLoader("statlift", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "svg"), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def number(value: Any, significant: int = 6) -> str:
    """A number as tables print it: thousands separators, at most `significant` digits after
    the integer part, no trailing zeros; `n/a` for nothing.

    >>> number(37105.0), number(72.19000000000001), number(1.445), number(-0.5), number(None)
    ('37,105', '72.19', '1.445', '-0.5', 'n/a')
    >>> number(72.1911, 4), number(1234567.0, 4)
    ('72.19', '1,234,567')
    """
    if value is None or value == "":
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v) or math.isinf(v):
        return "n/a"
    decimals = 0 if v == 0 else max(0, significant - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`1 finding`, `2 findings`, `0 findings`.

    >>> counted(1, "finding"), counted(2, "finding"), counted(0, "check"), counted(3, "failure")
    ('1 finding', '2 findings', '0 checks', '3 failures')
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def audit_status(audit: dict | None, table_id: str | None = None) -> dict:
    """How a report (table_id None) or one of its tables stands in audit.json:
    {"cls": ok | warn | err | none, "text", "detail", "reason"}. A table with no checks is
    "not checked" (with the reason), never "OK 0/0"."""
    if audit is None:
        return {"cls": "none", "text": "not audited", "detail": "", "reason": ""}
    findings = [f for f in audit.get("findings", [])
                if table_id is None or f.get("table_id") == table_id]
    summary = audit.get("summary", {})
    stats = summary.get("tables", {}).get(table_id) if table_id else summary
    stats = stats or {}
    checks, passed = stats.get("checks"), stats.get("passed")
    detail = f"{passed:,}/{counted(checks, 'check')}" if checks else ""
    schema = stats.get("schema_failures") or 0
    if table_id is None:
        schema = len(audit.get("schema_failures", [])) or schema
    if findings or schema:
        open_ = [f for f in findings if not f.get("acknowledged")]
        parts = [counted(len(findings), "finding")] if findings else []
        if schema:
            parts.append(counted(schema, "schema failure"))
        if findings:
            parts.append(f"{len(open_)} open" if open_ else "acknowledged")
        return {"cls": "err" if open_ or schema else "warn", "text": ", ".join(parts),
                "detail": detail, "reason": ""}
    if not checks:
        if table_id is None:
            reason = "No table of this report has a check."
        elif stats.get("not_additive"):
            reason = f"Not additive by design: {stats['not_additive']}"
        else:
            reason = "The report's spec declares no check for this table."
        return {"cls": "none", "text": "not checked", "detail": "", "reason": reason}
    return {"cls": "ok", "text": "OK", "detail": detail, "reason": ""}


def source_notes(entry: dict, sha256: str | None) -> dict:
    """What a page says next to the publisher's links and the PDF's hash: whether the links were
    checked, and whether the PDF read is the reconstruction shipped with statlift."""
    links = [(label, entry[key]) for key, label in
             (("landing_url", "publisher's page"), ("pdf_url", "publisher's PDF"))
             if entry.get(key)]
    unverified = bool(links) and not entry.get("urls_verified", False)
    if sha256 and entry.get("expected_sha256") == sha256 and entry.get("embedded_note"):
        pdf = (f"The PDF read here is the copy shipped with statlift. "
               f"{entry['embedded_note']}")
    elif sha256 and entry.get("expected_sha256") and entry.get("embedded_note"):
        pdf = ("The PDF read here is not the copy shipped with statlift (that copy is a "
               "reconstruction); the catalog does not record where this one came from.")
    else:
        pdf = ""
    return {"links": links,
            "links_note": "not verified: written without internet access, never opened"
                          if unverified else "",
            "pdf": pdf}


def header_rows(head: list[tuple[str, str]], sep: str = " | ") -> list[list[dict]]:
    """The column header as the table prints it: one row per level of the header paths, a
    spanner once over the columns under it (colspan), a shallower path's top level reaching down
    (rowspan); the unit and the full path on the bottom cell.

    >>> rows = header_rows([("2004 | Number", "count"), ("2004 | Percent", "percent"),
    ...                     ("Total", "count")])
    >>> [[(c["text"], c["colspan"], c["rowspan"]) for c in r] for r in rows]
    [[('2004', 2, 1), ('Total', 1, 2)], [('Number', 1, 1), ('Percent', 1, 1)]]
    >>> rows[1][0]["unit"], rows[1][0]["path"], rows[0][0]["unit"]
    ('count', '2004 | Number', '')
    """
    paths = [name.split(sep) for name, _ in head]
    depth = max((len(p) for p in paths), default=0)
    rows: list[list[dict]] = [[] for _ in range(depth)]
    for col, ((name, unit), path) in enumerate(zip(head, paths, strict=True)):
        offset = depth - len(path)
        for i, text in enumerate(path):
            r = 0 if i == 0 else offset + i
            bottom = i == len(path) - 1
            key = (tuple(path[:i + 1]), r)
            cell = {"text": text, "colspan": 1, "rowspan": offset + 1 if i == 0 else 1,
                    "unit": unit if bottom else "", "path": name if bottom else "",
                    "key": key, "bottom": bottom, "col": col}
            last = rows[r][-1] if rows[r] else None
            if last and not bottom and not last["bottom"] and last["key"] == key \
                    and last["col"] + last["colspan"] == col:
                last["colspan"] += 1
            else:
                rows[r].append(cell)
    return rows


def breakable(text: Any) -> Markup:
    """Escaped text that may wrap after a slash (`possession/receipt/distribution` is one word
    to a browser and would widen its column to fit it).

    >>> breakable("possession/receipt & <b>")
    Markup('possession/<wbr>receipt &amp; &lt;b&gt;')
    """
    return escape(text).replace("/", Markup("/<wbr>"))


def png_size(b64: str) -> tuple[int, int] | None:
    """(width, height) in pixels of a base64 PNG, from its header; None when it is not a PNG.

    >>> png_size(base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(4) + b"IHDR" +
    ...          (1040).to_bytes(4, "big") + (300).to_bytes(4, "big")).decode())
    (1040, 300)
    >>> png_size("iVBORw0KGgo="), png_size("not base64!")
    (None, None)
    """
    try:
        head = base64.b64decode(b64[:32] + "=" * (-len(b64[:32]) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(head) < 24 or not head.startswith(b"\x89PNG\r\n\x1a\n") or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


CLOSE_UP = (400, 180)  # crop pixels a phone's close up shows (2 per point: 200 x 90 pt)


def close_up(b64: str, focus: tuple[int, int] | None) -> str | None:
    """The SVG viewBox of a crop's close up: a window of CLOSE_UP pixels centred on `focus`,
    kept inside the crop; None without a focus or a PNG.

    >>> png = base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(4) + b"IHDR" +
    ...                        (1040).to_bytes(4, "big") + (300).to_bytes(4, "big")).decode()
    >>> close_up(png, (900, 100)), close_up(png, (20, 290)), close_up(png, None)
    ('640 10 400 180', '0 120 400 180', None)
    """
    size = png_size(b64)
    if focus is None or size is None:
        return None
    w, h = min(CLOSE_UP[0], size[0]), min(CLOSE_UP[1], size[1])
    x = min(max(0, focus[0] - w // 2), size[0] - w)
    y = min(max(0, focus[1] - h // 2), size[1] - h)
    return f"{x} {y} {w} {h}"


def when(value: Any) -> Markup:
    """An ISO timestamp as a reader reads it, the exact value kept in a <time> element.

    >>> when("2026-12-05T12:18:49+00:00")
    Markup('<time datetime="2026-12-05T12:18:49+00:00">5 Dec 2026, 12:18 UTC</time>')
    >>> when(None), when("not a date")
    (Markup('unknown'), Markup('not a date'))
    """
    if not value:
        return Markup("unknown")
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return escape(value)
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    text = f"{t.day} {t:%b %Y, %H:%M}" + (" UTC" if t.tzinfo is not None else "")
    return Markup('<time datetime="{}">{}</time>').format(value, text)


ENV.filters["number"] = number
ENV.filters["when"] = when
ENV.filters["breakable"] = breakable
ENV.globals["counted"] = counted
ENV.globals["close_up"] = close_up
ENV.globals["png_size"] = png_size


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)
