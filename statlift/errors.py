"""Typed user-facing errors: a machine id (`code`) and one human sentence.

Every expected failure of statlift (a bad download, a PDF we cannot read, a table whose caption is
not in the file, a full disk while publishing) is a `StatliftError`. Its `code` is stable and meant
for machines (tests, the run summary, schedulers); `str(error)` is one sentence for people that
names the source, what was expected, what was found and what to do, ending with the code:

    https://example.org/r.pdf: expected a PDF file, found an HTML page (text/html); check the
    pdf_url in the catalog: the link may now lead to a landing page [html-instead-of-pdf]

`KINDS` holds, per code, the exit code of the command line and a default expectation and hint, so
that a raise site only has to say what it found. The exit codes are documented in
docs/exit-codes.md.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_IO, EXIT_PARTIAL = 0, 1, 2, 3, 4
# another run is writing the output folder: this one did nothing (publish/runlock.py)
EXIT_BUSY = 5


@dataclass(frozen=True)
class ErrorKind:
    """What a code means: its exit code, a default expectation and a default hint."""

    code: str
    exit_code: int
    expected: str
    hint: str


def _kinds(*kinds: ErrorKind) -> dict[str, ErrorKind]:
    return {k.code: k for k in kinds}


KINDS: dict[str, ErrorKind] = _kinds(
    # the source: a download or a local file that cannot be used (exit 2)
    ErrorKind("not-a-pdf", EXIT_INPUT, "a PDF file (starting with %PDF-)",
              "check that the URL or path points at the report's PDF itself"),
    ErrorKind("html-instead-of-pdf", EXIT_INPUT, "a PDF file",
              "check the pdf_url in the catalog: the link may now lead to a landing page;"
              " open it in a browser and copy the link of the PDF"),
    ErrorKind("empty-file", EXIT_INPUT, "a PDF file",
              "retry later or download the PDF by hand and pass it with --source ID=PATH"),
    ErrorKind("truncated-pdf", EXIT_INPUT, "a complete PDF (ending with %%EOF)",
              "the download was cut short or the file is damaged; fetch it again"),
    ErrorKind("corrupt-pdf", EXIT_INPUT, "a readable PDF",
              "the file is damaged; fetch it again or get a fresh copy from the publisher"),
    ErrorKind("encrypted-pdf", EXIT_INPUT, "a PDF that opens without a password",
              "ask the publisher for an unprotected copy, or decrypt it (qpdf --decrypt) and pass"
              " it with --source ID=PATH"),
    ErrorKind("no-text-layer", EXIT_INPUT, "a PDF with a text layer",
              "the PDF holds only scanned images; run OCR (ocrmypdf) and pass the result with"
              " --source ID=PATH"),
    ErrorKind("too-large", EXIT_INPUT, "a PDF within the size limit",
              "check the URL; if the report really is this large, raise max_bytes"),
    ErrorKind("file-not-found", EXIT_INPUT, "an existing PDF file",
              "check the path given with --source ID=PATH"),
    ErrorKind("wrong-report", EXIT_INPUT, "the report named in the catalog",
              "check that the file or URL belongs to this report id"),
    ErrorKind("bad-manifest", EXIT_INPUT, "raw/manifest.json in the manifest format",
              "restore raw/manifest.json from version control"),
    ErrorKind("unknown-version", EXIT_INPUT, "a published version of the report",
              "list the versions with list_versions() and pick one of them"),
    ErrorKind("not-published", EXIT_INPUT, "a published dataset", "run `statlift run` first"),
    # the catalog and the table specs (raised by schemas/specs.py)
    ErrorKind("bad-catalog", EXIT_INPUT, "a catalog entry with the catalog's fields",
              "fix the entry in the catalog (`statlift add PDF --id ID` writes a complete one)"),
    ErrorKind("bad-spec", EXIT_INPUT, "a table spec in the spec format",
              "fix the table spec; `statlift discover PDF --spec OUT.yaml` writes a valid one"),
    # the network (exit 2: the input is unusable for now)
    ErrorKind("timeout", EXIT_INPUT, "an answer within the time limit",
              "the server is slow or unreachable; retry later or raise the timeout"),
    ErrorKind("connection-refused", EXIT_INPUT, "a server accepting connections",
              "check the host and port in the URL; the server may be down, retry later"),
    ErrorKind("connection-failed", EXIT_INPUT, "a reachable server",
              "check the host name and the network connection, then retry"),
    ErrorKind("too-many-redirects", EXIT_INPUT, "a URL that leads to the PDF",
              "open the URL in a browser and copy the PDF's final address into the catalog"),
    ErrorKind("bad-url", EXIT_INPUT, "an http(s) URL", "fix the URL in the catalog"),
    # the extraction (raised by extractors/)
    ErrorKind("caption-not-found", EXIT_INPUT, "the table's caption in the PDF",
              "check the caption anchor in schemas/tables/<report_id>.yaml against the PDF"),
    ErrorKind("shape-mismatch", EXIT_INPUT, "the table shape given in the spec",
              "compare the spec's header and row paths with the printed table"),
    ErrorKind("duplicate-paths", EXIT_INPUT, "one header path per column and one path per row",
              "the reader merged or dropped header or row levels; check the page crop and the"
              " table spec"),
    ErrorKind("structure-mismatch", EXIT_INPUT, "the labels of the spec, at most half relabelled",
              "more than half of the labels differ: the table was read with another structure;"
              " check the page crop; if the publisher re-labelled the table, update the spec"),
    ErrorKind("extraction-failed", EXIT_INPUT, "a table the reader can read",
              "the reader failed on this table (a statlift bug on this layout); the report's"
              " other tables are unaffected; please report it with the PDF"),
    # writing outputs (exit 3)
    ErrorKind("disk-full", EXIT_IO, "free disk space", "free some space and run again"),
    ErrorKind("permission-denied", EXIT_IO, "write access",
              "check the owner and permissions of the folder"),
    ErrorKind("incomplete-output", EXIT_IO, "a complete staged report folder",
              "the run did not write all outputs; see the log of this run"),
    ErrorKind("publish-failed", EXIT_IO, "a successful write", "see the log of this run"),
    # the orchestrator (exit 3: nothing ran, nothing was written)
    ErrorKind("orchestrator-unavailable", EXIT_IO, "Prefect's API to answer",
              "run again, or check PREFECT_API_URL"),
    # another run holds the output folder (exit 5: nothing was read or written)
    ErrorKind("run-in-progress", EXIT_BUSY, "no other run writing the output folder",
              "this run wrote nothing; run again when that one has ended"),
)

_HTTP_HINTS = {
    401: "the server wants a login; download the PDF by hand and pass it with --source ID=PATH",
    403: "the server refuses access; download the PDF by hand and pass it with --source ID=PATH",
    404: "the report has moved; find its new address on the publisher's landing page and update"
         " pdf_url in the catalog",
    410: "the report was withdrawn; find its new address on the publisher's landing page",
    429: "the server limits requests; retry later",
}


def kind_of(code: str) -> ErrorKind:
    """The ErrorKind of a code; `http-<status>` codes are built on the fly."""
    if code in KINDS:
        return KINDS[code]
    if code.startswith("http-") and code[5:].isdigit():
        status = int(code[5:])
        hint = _HTTP_HINTS.get(status, "the server failed; retry later" if status >= 500 else
                               "check the URL in the catalog")
        return ErrorKind(code, EXIT_INPUT, "HTTP 200 with the PDF", hint)
    return ErrorKind(code, EXIT_INPUT, "usable input", "see the log of this run")


class StatliftError(Exception):
    """An expected failure with a machine id (`code`) and one clear human sentence (`str()`)."""

    def __init__(self, code: str, *, source: str | None = None, expected: str | None = None,
                 found: str | None = None, hint: str | None = None, table: str | None = None,
                 page: int | None = None, exit_code: int | None = None) -> None:
        kind = kind_of(code)
        self.code = code
        self.source = None if source is None else str(source)
        self.expected = expected if expected is not None else kind.expected
        self.found = found
        self.hint = hint if hint is not None else kind.hint
        self.table = table
        self.page = page
        self.exit_code = exit_code if exit_code is not None else kind.exit_code
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or "input"
        if self.table:
            where += f", table {self.table}"
        if self.page:
            where += f", page {self.page}"
        msg = f"{where}: expected {self.expected}, found {self.found or 'something else'}"
        return msg + (f"; {self.hint}" if self.hint else "") + f" [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        """The error as data (for run summaries, tables.json `failed`, JSON logs)."""
        return {"code": self.code, "message": str(self), "source": self.source,
                "expected": self.expected, "found": self.found, "hint": self.hint,
                "table": self.table, "page": self.page, "exit_code": self.exit_code}

    def __reduce__(self):  # picklable across processes (Prefect results, dask workers)
        return (_rebuild, (self.code, self.to_dict()))


def _rebuild(code: str, fields: dict[str, Any]) -> StatliftError:
    keep = ("source", "expected", "found", "hint", "table", "page", "exit_code")
    return StatliftError(code, **{k: fields[k] for k in keep})


def error_from_os(exc: OSError, source: str | None, doing: str) -> StatliftError:
    """A StatliftError for a failed write: disk-full, permission-denied or publish-failed."""
    source = source or getattr(exc, "filename", None)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StatliftError("disk-full", source=source, found=f"no space left while {doing}")
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StatliftError("permission-denied", source=source,
                             found=f"permission denied while {doing}")
    return StatliftError("publish-failed", source=source,
                         found=f"{exc.strerror or exc} while {doing}")
