"""Tables written as CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX: the exports of
events and of the case ledger, and the reports' 工作台账; and the imports' sheets read.

XLSX is written here, row by row into the zip (any number of rows in constant memory but
the texts): no XLSX library wrote the 10,000-case ledger in the time issue 20 asks (the
fastest well-kept one, XlsxWriter, spends ~7 µs a cell on checks and escaping; this takes
~2, bench/reports.py). Every text goes to the shared strings, escaped once however often
it recurs. Every sheet has a bold, filled header row, frozen; times are date cells (naive
datetimes: the caller puts them in the chamber's time zone, Excel has none); `Percent`
values show as 12.3%. Strings are always text, never a formula or a link.
"""

from __future__ import annotations

import csv
import gc
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Percent", "Sheet", "read_sheet", "write_table", "write_xlsx"]

# Excel's day 0 for every date after 1900-02-28 (its phantom 1900-02-29 lies before them)
_EPOCH, _DAY = datetime(1899, 12, 30), timedelta(days=1)  # noqa: DTZ001 (Excel's are naive)
# cellXfs of _STYLES: 1 header, 2 time, 3 day, 4 percent
_HEAD, _TIME, _DATE, _PCT = 1, 2, 3, 4
_MAX_TEXT = 32_767  # Excel's longest cell text
# XML 1.0 has no control characters but tab and newlines, and a reader takes _xHHHH_ in a
# text as an escaped character: both written as _xHHHH_ (an underscore as _x005F_)
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet {_NS}><numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>\
<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/><numFmt numFmtId="166" formatCode="0.0%"/>\
</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="3">\
<fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/>\
</patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>\
<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" \
borderId="0"/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" \
borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" \
applyFont="1" applyFill="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" \
applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" \
applyNumberFormat="1"/><xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" \
applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" \
builtinId="0"/></cellStyles></styleSheet>"""


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
    collector pauses meanwhile (process-wide, for these seconds): the rows are hundreds of
    thousands of objects in no cycle, and its passes over them were a tenth of the time."""
    strings: dict[str, int] = {}
    filters: list[str] = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=4) as book:
            for n, sheet in enumerate(sheets, start=1):
                with book.open(f"xl/worksheets/sheet{n}.xml", "w") as out:
                    filters.append(_sheet(out, sheet, strings))
            book.writestr("xl/sharedStrings.xml", _shared(strings))
            book.writestr("xl/styles.xml", _STYLES)
            _parts(book, [s.title for s in sheets], filters)
    finally:
        if collecting:
            gc.enable()


def _letters(n: int) -> str:
    """Column letters of a 0-based index."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _sheet(out: IO[bytes], sheet: Sheet, strings: dict[str, int]) -> str:
    """The worksheet's XML, its rows written in chunks as they come; returns the range
    its filter covers ("" for none)."""
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} '
    head += f'xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
    head += 'topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection '
    head += 'pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
    if sheet.widths:
        head += "<cols>" + "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(sheet.widths, start=1)
        ) + "</cols>"  # fmt: skip
    out.write((head + "<sheetData>").encode())
    letters = [_letters(c) for c in range(max(len(sheet.header), 26))]
    chunk = [_row(1, sheet.header, letters, strings, _HEAD)] if sheet.header else []
    last = 1
    for last, row in enumerate(sheet.rows, start=2):
        if len(row) > len(letters):
            letters += [_letters(c) for c in range(len(letters), len(row))]
        chunk.append(_row(last, row, letters, strings, 0))
        if len(chunk) == 500:
            out.write("".join(chunk).encode())
            chunk.clear()
    chunk.append("</sheetData>")
    area = ""
    if sheet.filtered != "none" and sheet.header:
        area = f"A1:{letters[len(sheet.header) - 1]}{last if sheet.filtered == 'data' else 1}"
        chunk.append(f'<autoFilter ref="{area}"/>')
    out.write(("".join(chunk) + "</worksheet>").encode())
    return area


def _row(
    r: int, row: Sequence[Any], letters: list[str], strings: dict[str, int], style: int
) -> str:
    """One row's XML: each cell by its type; None is no cell at all."""
    cells = [f'<row r="{r}">']
    add = cells.append
    s = f' s="{style}"' if style else ""
    for c, value in enumerate(row):
        kind = type(value)
        if kind is str:
            index = strings.get(value)
            if index is None:
                index = strings[value] = len(strings)
            add(f'<c r="{letters[c]}{r}"{s} t="s"><v>{index}</v></c>')
        elif value is None:
            continue
        elif kind is datetime:
            if value.tzinfo is not None:
                value = value.replace(tzinfo=None)
            add(f'<c r="{letters[c]}{r}" s="{_TIME}"><v>{(value - _EPOCH) / _DAY!r}</v></c>')
        elif kind is int or (kind is float and math.isfinite(value)):
            add(f'<c r="{letters[c]}{r}"{s}><v>{value!r}</v></c>')
        elif kind is date:
            add(f'<c r="{letters[c]}{r}" s="{_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>')
        elif kind is Percent:
            add(f'<c r="{letters[c]}{r}" s="{_PCT}"><v>{float(value)!r}</v></c>')
        elif kind is bool:
            add(f'<c r="{letters[c]}{r}"{s} t="b"><v>{int(value)}</v></c>')
        else:
            text = str(value)
            index = strings.setdefault(text, len(strings))
            add(f'<c r="{letters[c]}{r}"{s} t="s"><v>{index}</v></c>')
    cells.append("</row>")
    return "".join(cells)


def _shared(strings: dict[str, int]) -> str:
    """The shared strings table (a dict keeps the order the indexes were given in)."""
    items = []
    for text in strings:
        text = escape(_UNSAFE.sub(lambda m: f"_x{ord(m[0]):04X}_", text[:_MAX_TEXT]))
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        items.append(f"<si><t{space}>{text}</t></si>")
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {_NS} '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{"".join(items)}</sst>'
    )


def _parts(book: zipfile.ZipFile, titles: list[str], filters: list[str]) -> None:
    """The workbook, its relationships and the content types: the parts around the sheets."""
    xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    book.writestr("[Content_Types].xml", xml + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
            f'ContentType="{ct}.worksheet+xml"/>'
            for n in range(1, len(titles) + 1)
        )
        + "</Types>"
    ))  # fmt: skip
    book.writestr("_rels/.rels", xml + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ))  # fmt: skip
    rels = [f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, len(titles) + 1)]  # fmt: skip
    rels.append(f'<Relationship Id="rId{len(titles) + 1}" Type="{_REL}/styles" '
                'Target="styles.xml"/>')  # fmt: skip
    rels.append(f'<Relationship Id="rId{len(titles) + 2}" Type="{_REL}/sharedStrings" '
                'Target="sharedStrings.xml"/>')  # fmt: skip
    book.writestr("xl/_rels/workbook.xml.rels", xml + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels) + "</Relationships>"
    ))  # fmt: skip
    sheets = "".join(
        f'<sheet name={quoteattr(t)} sheetId="{n}" r:id="rId{n}"/>'
        for n, t in enumerate(titles, start=1)
    )
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{escape(_quoted(titles[n]))}!{_absolute(area)}</definedName>"
        for n, area in enumerate(filters)
        if area
    )
    book.writestr("xl/workbook.xml", xml + (
        f'<workbook {_NS} xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
        f"<sheets>{sheets}</sheets>"
        + (f"<definedNames>{names}</definedNames>" if names else "")
        + "</workbook>"
    ))  # fmt: skip


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(area: str) -> str:
    """A1:G9 as $A$1:$G$9."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", end) for end in area.split(":"))


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
