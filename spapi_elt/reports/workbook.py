"""The reconciliation workbook (.xlsx) a controller opens and hands to an auditor.

Real spreadsheet types, so that the numbers can be summed, filtered and pivoted: amounts are numbers with
the row's currency in their number format, dates and timestamps are dates, counts are integers, flags are
booleans; percentages are fractions with a percent format (the mart's 50.45 is the cell's 0.5045, shown as
50.45%), so a formula can multiply by them. Every other cell equals its mart column. Every sheet has a
frozen header row, an auto filter over its table, column widths sized to its content, print settings
(landscape, one page wide, the header row repeated on every page) and, where amounts add up, one totals
row per currency below the table (SUMIFS formulas over the table: never adding two currencies, and still
right after a reader edits a row). The sign convention (actual - expected) is a note on the Summary's
difference headers.

openpyxl's write-only mode streams rows to the file: tens of thousands of settlement lines stay cheap.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from spapi_elt.reports.columns import EXCEPTIONS, JOURNALS, LINES, PNL, ROLLUP, SIGN_CONVENTION, SKUS, SUMMARY, Column
from spapi_elt.reports.marts import ReportData, Row

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
INTEGER_FORMAT = "#,##0"
PERCENT_FORMAT = "0.00%"  # cells hold fractions: the marts' *_pct 17.50 is written as 0.175
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
TOTAL_FONT = Font(bold=True)
WIDTH_SAMPLE = 500  # rows looked at to size a column
MAX_WIDTH = 70
# Excel opens at most 1,048,576 rows a sheet: a big seller's settlement lines continue on further sheets.
MAX_DATA_ROWS = 1_048_575


@functools.cache
def money_format(currency: str | None) -> str:
    """A currency number format, e.g. `#,##0.00 "EUR";[Red]-#,##0.00 "EUR"` (ISO code, negatives in red)."""
    code = re.sub(r"[^A-Z]", "", (currency or "").upper())[:3]
    suffix = f' "{code}"' if code else ""
    return f"#,##0.00{suffix};[Red]-#,##0.00{suffix}"


FORMATS = {"date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "integer": INTEGER_FORMAT, "percent": PERCENT_FORMAT}
FORMATTED_KINDS = {"money", *FORMATS}

# Sheet title, its columns, and the ReportData field holding its rows.
SHEETS = (("Summary", SUMMARY, "settlements"), ("Exceptions", EXCEPTIONS, "exceptions"),
          ("Settlement lines", LINES, "lines"), ("SKU profitability", SKUS, "skus"), ("Monthly P&L", PNL, "pnl"),
          ("Journals", JOURNALS, "journals"))
ROLLUP_SHEET = "All accounts"
# Headers that carry a note: the sign convention, where a difference is shown.
NOTES = {"deposit_minus_total_amount": SIGN_CONVENTION, "lines_minus_total_amount": SIGN_CONVENTION,
         "difference": SIGN_CONVENTION}


def _width(column: Column, rows: Sequence[Row]) -> float:
    """Wide enough for the header and the longest value of a sample (numbers and dates have a fixed look)."""
    fixed = {"money": 16, "date": 12, "datetime": 17, "integer": 10, "percent": 10, "boolean": 10}
    longest = max((len(str(r[column.key])) for r in rows[:WIDTH_SAMPLE] if r[column.key] is not None), default=0)
    return min(MAX_WIDTH, max(len(column.header) + 4, fixed.get(column.kind, longest + 2)))


def _cell(sheet: Any, column: Column, row: Row) -> Any:
    """The value as a formatted cell where it needs a number format; as itself otherwise (text, flags), which
    openpyxl writes without building a cell object: most of a big sheet's columns."""
    if column.kind not in FORMATTED_KINDS:
        return row[column.key]
    value = row[column.key]
    if column.kind == "percent" and value is not None:
        value = value / 100  # exact for the marts' decimals: 50.45 -> 0.5045
    cell = WriteOnlyCell(sheet, value=value)
    if column.kind == "money":
        cell.number_format = money_format(row.get("currency"))
    elif column.kind in FORMATS:
        cell.number_format = FORMATS[column.kind]
    return cell


def _header(sheet: Any, column: Column) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=column.header)
    cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, Alignment(vertical="center")
    if column.key in NOTES:
        cell.comment = Comment(NOTES[column.key], "spapi-lakehouse", width=320, height=110)
    return cell


def _print_setup(sheet: Any) -> None:
    """Landscape, as wide as one page (as many pages tall as it takes), the header row on every page."""
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _totals(sheet: Any, columns: Sequence[Column], rows: Sequence[Row]) -> None:
    """After a blank row, one row per currency: SUMIFS of each money column over the table's rows of that
    currency (a spreadsheet formula, so it follows edits). Sheets without a currency column get none."""
    keys = [c.key for c in columns]
    if "currency" not in keys or not rows or not any(c.kind == "money" for c in columns):
        return
    last = len(rows) + 1
    currency_range = _range(keys.index("currency"), last)
    sheet.append([])
    for currency in sorted({r["currency"] for r in rows if r["currency"]}):
        cells = []
        for index, column in enumerate(columns):
            if index == 0:
                value = f"Total {currency}"
            elif column.key == "currency":
                value = currency
            elif column.kind == "money":
                value = f'=SUMIFS({_range(index, last)},{currency_range},"{currency}")'
            else:
                value = None
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = TOTAL_FONT
            if column.kind == "money":
                cell.number_format = money_format(currency)
            cells.append(cell)
        sheet.append(cells)


def _range(index: int, last: int) -> str:
    letter = get_column_letter(index + 1)
    return f"${letter}$2:${letter}${last}"


def _sheets(workbook: Workbook, title: str, columns: Sequence[Column], rows: Sequence[Row]) -> None:
    """The rows on as many sheets as a spreadsheet's row limit needs: `title`, `title (2)`, ..."""
    for part, first in enumerate(range(0, max(len(rows), 1), MAX_DATA_ROWS), start=1):
        _sheet(workbook, title if part == 1 else f"{title} ({part})", columns, rows[first:first + MAX_DATA_ROWS])


def _sheet(workbook: Workbook, title: str, columns: Sequence[Column], rows: Sequence[Row]) -> None:
    """One table per sheet: header in row 1 (frozen, filtered), one row per mart row below it, then the totals."""
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    _print_setup(sheet)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column, rows)
    sheet.append([_header(sheet, c) for c in columns])
    for row in rows:
        sheet.append([_cell(sheet, c, row) for c in columns])
    _totals(sheet, columns, rows)


def write_workbook(data: ReportData, file: BinaryIO) -> None:
    """The sheets (Summary, Exceptions, Settlement lines, SKU profitability, Monthly P&L, Journals) into `file`."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = (f"Settlement reconciliation: {data.account}, "
                                 f"{data.first_day.isoformat()} to {data.last_day.isoformat()}")
    workbook.properties.subject = f"Seller {data.seller_id}"
    workbook.properties.creator = "spapi-lakehouse"
    for title, columns, field in SHEETS:
        _sheets(workbook, title, columns, getattr(data, field))
    workbook.save(file)


def write_rollup(rows: Sequence[Row], first_day: Any, last_day: Any, file: BinaryIO) -> None:
    """The aggregator's workbook: one sheet, a row per account and currency, totals per currency."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = f"Settlement reconciliation: all accounts, {first_day} to {last_day}"
    workbook.properties.creator = "spapi-lakehouse"
    _sheets(workbook, ROLLUP_SHEET, ROLLUP, rows)
    workbook.save(file)
