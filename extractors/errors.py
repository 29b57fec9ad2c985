"""Typed user-facing errors (placeholder until the fetch/publish work lands; same interface)."""
from __future__ import annotations


class StatliftError(Exception):
    exit_code = 2

    def __init__(self, code: str, *, source: str | None = None, expected: str | None = None,
                 found: str | None = None, hint: str | None = None, table: str | None = None,
                 page: int | None = None) -> None:
        self.code, self.source, self.expected, self.found = code, source, expected, found
        self.hint, self.table, self.page = hint, table, page
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or "input"
        if self.table:
            where += f", table {self.table}"
        if self.page:
            where += f", page {self.page}"
        msg = f"{where}: expected {self.expected}, found {self.found}"
        return msg + (f"; {self.hint}" if self.hint else "") + f" [{self.code}]"
