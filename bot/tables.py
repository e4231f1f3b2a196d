"""Tables written as CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX: the exports of
events and of the case ledger, and the reports' 工作台账; and the imports' sheets read.

XLSX is XlsxWriter: a workbook of up to IN_MEMORY_CELLS cells is held in memory with
shared strings (each distinct text escaped and written once: ~30 % faster, about 130
bytes a cell); a bigger one (the console's 100,000-case ledger) or rows that are not a
list go in constant-memory mode (each row to a temporary file as the next begins).
bench/reports.py measures both against openpyxl's write-only mode in one run. Every
sheet has a bold, filled header row, frozen; times are date cells (naive datetimes: the
caller puts them in the chamber's time zone, Excel has none); `Percent` values are shown
as 12.3%. Strings are always text: a description that begins with '=' or holds a link is
written as the words it is, never as a formula or a hyperlink (and one that reads like
XlsxWriter's own rich-text markup, `<r>…</r>`, as its words, never as markup).
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

__all__ = ["Percent", "Sheet", "read_sheet", "write_table", "write_xlsx"]

DATE_FORMAT = "yyyy-mm-dd hh:mm"
_HEAD = {"bold": True, "bg_color": "#DDEBF7", "pattern": 1}
# Excel's day 0 for every date after 1900-02-28 (its phantom 1900-02-29 lies before them)
_EPOCH, _DAY = datetime(1899, 12, 30), timedelta(days=1)  # noqa: DTZ001 (Excel's are naive)
#: the most cells written in memory (≈ 80 MB: a ledger of some 11,000 cases and 办理记录)
IN_MEMORY_CELLS = 600_000


class Percent(float):
    """A fraction written as a percentage cell (0.123 shows as 12.3%)."""


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its title, header row, data rows, column widths and filter.

    `filtered` puts the filter buttons on the header over the data ("data"), on the header
    alone ("header", for a sheet whose rows are not one table) or nowhere ("none").
    """

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[float] = ()
    filtered: Literal["data", "header", "none"] = "data"


def write_table(rows: Sequence[Sequence[str]], path: Path, fmt: str, sheet_title: str) -> None:
    """A header row and data rows as CSV or as one XLSX sheet (header frozen)."""
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerows(rows)
        return
    write_xlsx([Sheet(sheet_title, rows[0] if rows else [], rows[1:], filtered="none")], path)


def write_xlsx(sheets: Sequence[Sheet], target: Path | IO[bytes]) -> None:
    """Write the sheets, in order, to a file or a binary stream. The cyclic garbage
    collector pauses meanwhile (process-wide, for these seconds): the cells are hundreds of
    thousands of tuples in no cycle, and its passes over them were a tenth of the time."""
    import xlsxwriter  # 30 ms to import: only when writing XLSX

    cells = sum(
        len(s.rows) * len(s.header) if isinstance(s.rows, Sized) else IN_MEMORY_CELLS + 1
        for s in sheets
    )
    book = xlsxwriter.Workbook(
        str(target) if isinstance(target, Path) else target,
        {
            "constant_memory": cells > IN_MEMORY_CELLS,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": DATE_FORMAT,
        },
    )
    head = book.add_format(_HEAD)
    when = book.add_format({"num_format": DATE_FORMAT})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    pct = book.add_format({"num_format": "0.0%"})
    collecting = gc.isenabled()
    gc.disable()
    try:
        for sheet in sheets:
            ws = book.add_worksheet(sheet.title)
            for col, width in enumerate(sheet.widths):
                ws.set_column(col, col, width)
            ws.freeze_panes(1, 0)
            ws.write_row(0, 0, sheet.header, head)
            last = _rows(ws, sheet.rows, (when, day), pct)
            if sheet.filtered != "none" and sheet.header:
                ws.autofilter(0, 0, last if sheet.filtered == "data" else 0, len(sheet.header) - 1)
    finally:
        try:
            book.close()
        finally:
            if collecting:
                gc.enable()


def _rows(ws: Any, rows: Iterable[Sequence[Any]], formats: tuple[Any, Any], pct: Any) -> int:
    """Each cell by its type's own method (write() would test every type in turn); returns
    the last row's index. None is no cell at all; a time is its serial day number with the
    date format (what write_datetime does, without its per-call checks); a date is a day.
    Text in `<r>…</r>` (XlsxWriter passes it through as rich-text XML) is split in three
    plain runs, so it is escaped like any text."""
    string, number, moment = ws.write_string, ws.write_number, ws.write_datetime
    when, day = formats
    r = 0
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if value.startswith("<r>") and value.endswith("</r>"):
                    ws.write_rich_string(r, c, "<", "r", value[2:])
                else:
                    string(r, c, value)
            elif value is None:
                continue
            elif kind is int or kind is float:
                number(r, c, value)
            elif kind is datetime and value.tzinfo is None:
                number(r, c, (value - _EPOCH) / _DAY, when)
            elif kind is datetime:
                moment(r, c, value, when)
            elif kind is date:
                moment(r, c, value, day)
            elif kind is Percent:
                number(r, c, value, pct)
            elif kind is bool:
                ws.write_boolean(r, c, value)
            else:
                string(r, c, str(value))
    return r


def read_sheet(
    path: Path, columns: dict[str, str], required: Sequence[str]
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """An import's first worksheet: the `required` column names its header row lacks, and
    each non-blank row by its number, keyed by `columns` (header name -> key; other columns
    are ignored). Raises OSError, ValueError or KeyError when it is not a workbook."""
    from openpyxl import load_workbook  # only the imports read workbooks

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
    found = []
    for number, values in enumerate(rows, start=2):
        row = {columns[h]: v for h, v in zip(header, values, strict=False) if h in columns}
        if any(str(v).strip() for v in row.values() if v is not None):
            found.append((number, row))
    return [name for name in required if name not in header], found
