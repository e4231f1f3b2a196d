"""The ledger's two big sheets (台账 and 办理记录) written by each candidate XLSX writer, the
same cells and the same layout the ledger has: a bold, filled header row, fixed column
widths, the header frozen and filtered, times as date cells. bench/reports.py times each in
one run, beside the writer the ledger ships (sheets/, its own XML).

Each function takes [(title, header, widths, rows)] and a path and returns nothing; the
candidates that are not the project's dependencies are imported inside their function and
skipped by the caller when they are not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

Sheets = list[tuple[str, list[str], list[int], list[list[Any]]]]
DATE_FORMAT = "yyyy-mm-dd hh:mm"
HEAD_FILL = "DDEBF7"


def _col(n: int) -> str:
    """Column letters of a 1-based index."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def openpyxl_write_only(sheets: Sheets, path: Path) -> None:
    """What write_ledger did before issue 20 (openpyxl write-only, lxml serialising)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    font, fill = Font(bold=True), PatternFill("solid", fgColor=HEAD_FILL)
    for title, header, widths, rows in sheets:
        ws = wb.create_sheet(title)
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[_col(i)].width = width
        ws.freeze_panes = "A2"
        cells = []
        for head in header:
            cell = WriteOnlyCell(ws, value=head)
            cell.font, cell.fill = font, fill
            cells.append(cell)
        ws.append(cells)
        for row in rows:
            ws.append(row)
        ws.auto_filter.ref = f"A1:{_col(len(header))}{len(rows) + 1}"
    wb.save(path)


def _xlsxwriter(sheets: Sheets, path: Path, constant_memory: bool) -> None:
    """XlsxWriter as the ledger used it before it wrote its own XML: each cell by its
    type's own method, the collector paused."""
    import gc

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": constant_memory, "strings_to_formulas": False,
        "strings_to_urls": False, "strings_to_numbers": False,
    })  # fmt: skip
    head = book.add_format({"bold": True, "bg_color": f"#{HEAD_FILL}", "pattern": 1})
    when = book.add_format({"num_format": DATE_FORMAT})
    gc.disable()
    try:
        for title, header, widths, rows in sheets:
            ws = book.add_worksheet(title)
            for col, width in enumerate(widths):
                ws.set_column(col, col, width)
            ws.freeze_panes(1, 0)
            ws.write_row(0, 0, header, head)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row):
                    if type(value) is str:
                        ws.write_string(r, c, value)
                    elif type(value) is datetime:
                        ws.write_datetime(r, c, value, when)
                    elif value is not None:
                        ws.write_number(r, c, value)
            ws.autofilter(0, 0, len(rows), len(header) - 1)
        book.close()
    finally:
        gc.enable()


def xlsxwriter_constant_memory(sheets: Sheets, path: Path) -> None:
    """XlsxWriter, constant_memory (each row flushed to a temp file as the next begins)."""
    _xlsxwriter(sheets, path, constant_memory=True)


def xlsxwriter_in_memory(sheets: Sheets, path: Path) -> None:
    """XlsxWriter holding the workbook, each distinct text once in the shared strings."""
    _xlsxwriter(sheets, path, constant_memory=False)


def shipped(sheets: Sheets, path: Path) -> None:
    """sheets/: the sheets' XML written row by row into the zip, shared strings."""
    from sheets import Sheet, write_xlsx

    write_xlsx([Sheet(t, h, rows, widths=w) for t, h, w, rows in sheets], path)


def pyexcelerate(sheets: Sheets, path: Path) -> None:
    """PyExcelerate: the whole workbook in memory, then written in one pass. A column's
    style replaces the date format it gives a datetime, so the time columns' styles carry
    the date format (found in the first 200 rows)."""
    from pyexcelerate import Color, Fill, Font, Format, Panes, Style, Workbook

    wb = Workbook()
    head = Style(font=Font(bold=True), fill=Fill(background=Color(0xDD, 0xEB, 0xF7)))
    when = Format(DATE_FORMAT)
    for title, header, widths, rows in sheets:
        ws = wb.new_sheet(title, data=[header, *rows])
        for i, width in enumerate(widths, start=1):
            dated = any(isinstance(r[i - 1], datetime) for r in rows[:200])
            ws.set_col_style(i, Style(size=width, format=when if dated else None))
        ws.set_row_style(1, head)
        ws.panes = Panes(0, 1)
        ws.auto_filter = True
    wb.save(str(path))


def rustpy_xlsxwriter(sheets: Sheets, path: Path) -> None:
    """rustpy-xlsxwriter (rust_xlsxwriter behind PyO3): rows as dicts keyed by header."""
    from rustpy_xlsxwriter import Format, write_worksheets

    head = Format().set_bold().set_background_color(HEAD_FILL)
    entries: list[tuple[str, Any]] = []
    for title, header, _, rows in sheets:
        entries.append((title, [dict(zip(header, row, strict=True)) for row in rows]))
    names = [title for title, *_ in sheets]
    write_worksheets(
        entries,
        str(path),
        freeze_panes={"general": {"row": 1, "col": 0}},
        datetime_format=DATE_FORMAT,
        column_widths={t: [float(x) for x in w] for t, _, w, _ in sheets},
        header_format=dict.fromkeys(names, head),
        autofilter=dict.fromkeys(names, True),
    )


WRITERS: dict[str, Callable[[Sheets, Path], None]] = {
    "openpyxl write-only": openpyxl_write_only,
    "XlsxWriter constant_memory": xlsxwriter_constant_memory,
    "XlsxWriter in memory (shared strings)": xlsxwriter_in_memory,
    "PyExcelerate": pyexcelerate,
    "rustpy-xlsxwriter": rustpy_xlsxwriter,
    "shipped (sheets/)": shipped,
}


def same_dates(path: Path) -> bool:
    """The first data row of each sheet reads back with its times as datetimes (openpyxl)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    for ws in book.worksheets:
        row = next(ws.iter_rows(min_row=2, max_row=2, values_only=True))
        if not isinstance(row[1], datetime):
            return False
    return True
