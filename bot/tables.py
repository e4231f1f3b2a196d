"""A header row and data rows written as CSV (UTF-8 with BOM, so Excel reads the Chinese)
or XLSX (openpyxl, header frozen): the exports of events and of the case ledger."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

__all__ = ["write_table"]


def write_table(rows: Sequence[Sequence[str]], path: Path, fmt: str, sheet_title: str) -> None:
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerows(rows)
        return
    from openpyxl import Workbook  # openpyxl takes 0.2 s to import: only when writing XLSX

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"
    book.save(path)
