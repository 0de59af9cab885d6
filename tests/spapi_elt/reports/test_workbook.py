"""The workbook as a spreadsheet program reads it: real types and formats, and every figure equal to its mart."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from spapi_elt.reports import workbook
from spapi_elt.reports.columns import EXCEPTIONS, LINES, SKUS, SUMMARY, Column
from spapi_elt.reports.marts import read_report
from spapi_elt.reports.workbook import money_format
from tests.published_reports import Published, account_names

SHEETS = {"Summary": SUMMARY, "Exceptions": EXCEPTIONS, "Settlement lines": LINES, "SKU profitability": SKUS}
# The mart and key of each sheet's rows: a sheet row is compared with the mart row of the same key.
MARTS = {"Summary": ("finance.settlements", ("settlement_id",)),
         "Exceptions": ("finance.reconciliation_exceptions", ("reconciliation_exception_id",)),
         "Settlement lines": ("finance.settlement_lines", ("settlement_id", "line_number")),
         "SKU profitability": ("roi.sku_profitability_to_date", ("marketplace_id", "sku"))}


def sheet_rows(sheet: Worksheet, columns: tuple[Column, ...]) -> list[dict[str, Any]]:
    """The sheet's rows as {mart column: cell}, after checking the header is the one the columns name."""
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == [c.header for c in columns]
    return [{column.key: cell for column, cell in zip(columns, row, strict=True)} for row in rows[1:]]


def mart_rows(published: Published, sheet: str, seller_id: str) -> dict[tuple, dict[str, Any]]:
    table, key = MARTS[sheet]
    with duckdb.connect(str(published.lakehouse.path), read_only=True) as con:
        cursor = con.execute(f"select * from {table} where seller_id = ?", [seller_id])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for row in rows:  # the Summary's "Deposit matched": the settlement has a matched event group
        row["deposit_matched"] = row.get("financial_event_group_id") is not None
    return {tuple(r[k] for k in key): r for r in rows}


@pytest.fixture(scope="module")
def workbooks(published: Published) -> dict[str, openpyxl.Workbook]:
    assert published.reports, "no report was published"
    return {r.seller_id: openpyxl.load_workbook(r.workbook) for r in published.reports}


def test_one_workbook_per_seller_named_by_account_and_period(published: Published) -> None:
    sellers = {s for (s,) in published.lakehouse.query("select distinct seller_id from finance.settlements")}
    assert {r.seller_id for r in published.reports} == sellers
    names = account_names(published.lakehouse)
    for report in published.reports:
        first, last = published.lakehouse.query(
            f"select min(settlement_start_at)::date, max(settlement_end_at)::date from finance.settlements "
            f"where seller_id = '{report.seller_id}'")[0]
        assert report.account == names[report.seller_id]
        assert report.workbook == (published.folder / report.account /
                                   f"settlement-reconciliation_{report.account}_{first}_{last}.xlsx")
        assert report.page == report.workbook.with_suffix(".html")


@pytest.mark.parametrize("sheet", list(SHEETS))
def test_every_cell_has_its_type_and_equals_the_mart(published: Published, workbooks, sheet: str) -> None:
    """Amounts are numbers with the row's currency in the format, dates are dates, and each equals its mart."""
    checked = 0
    for report in published.reports:
        book = workbooks[report.seller_id]
        rows = sheet_rows(book[sheet], SHEETS[sheet])
        mart = mart_rows(published, sheet, report.seller_id)
        assert len(rows) == len(mart), f"{sheet}: {len(rows)} rows, the mart has {len(mart)}"
        key = MARTS[sheet][1]
        for cells in rows:
            expected = mart[tuple(cells[k].value for k in key)]
            for column in SHEETS[sheet]:
                cell, value = cells[column.key], expected[column.key]
                if value is None:
                    assert cell.value is None, (sheet, column.key)
                    continue
                if column.kind in ("money", "percent"):
                    assert isinstance(cell.value, int | float | Decimal), (sheet, column.key, cell.value)
                    assert Decimal(str(cell.value)) == value, (sheet, column.key, cell.value, value)
                    if column.kind == "money":
                        assert cell.number_format == money_format(expected["currency"])
                        assert f'"{expected["currency"]}"' in cell.number_format
                    checked += 1
                elif column.kind in ("date", "datetime"):
                    assert isinstance(cell.value, datetime), (sheet, column.key, cell.value)
                    assert cell.is_date and "yyyy-mm-dd" in cell.number_format
                    assert (cell.value.date() if column.kind == "date" else cell.value) == value
                elif column.kind == "integer":
                    assert isinstance(cell.value, int) and cell.value == value, (sheet, column.key)
                elif column.kind == "boolean":
                    assert cell.value is value, (sheet, column.key)
                else:
                    assert cell.value == value, (sheet, column.key)
    if sheet != "Exceptions":
        assert checked, f"{sheet}: no amount was compared"


def test_settlement_line_count_equals_the_mart(published: Published, workbooks) -> None:
    for report in published.reports:
        (count,) = published.lakehouse.query(
            f"select count(*) from finance.settlement_lines where seller_id = '{report.seller_id}'")[0]
        assert count > 0
        assert workbooks[report.seller_id]["Settlement lines"].max_row - 1 == count


def test_every_sheet_has_a_frozen_header_a_filter_and_sized_columns(published: Published, workbooks) -> None:
    for book in workbooks.values():
        assert book.sheetnames == list(SHEETS)
        for title, columns in SHEETS.items():
            sheet = book[title]
            assert sheet.freeze_panes == "A2", title
            last = openpyxl.utils.get_column_letter(len(columns))
            assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", title
            widths = [sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width
                      for i in range(1, len(columns) + 1)]
            assert all(w and len(c.header) < w <= 70 for w, c in zip(widths, columns, strict=True)), (title, widths)


def test_the_workbook_holds_no_buyer_pii(published: Published, workbooks) -> None:
    canaries = published.lakehouse.truth["pii_canaries"]
    assert canaries
    for book in workbooks.values():
        text = "\n".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row
                         if isinstance(c.value, str))
        assert not [c for c in canaries if c in text]


def test_rows_beyond_a_sheets_limit_continue_on_further_sheets(published: Published, monkeypatch, tmp_path) -> None:
    """A seller with more settlement lines than a sheet holds (Excel: 1,048,575 below the header) gets them
    all, in order, on "Settlement lines", "Settlement lines (2)", ...: none dropped, each sheet filtered."""
    report = published.reports[0]
    lines = openpyxl.load_workbook(report.workbook, read_only=True)["Settlement lines"]
    expected = [tuple(c.value for c in row) for row in lines.iter_rows(min_row=2)]
    limit = len(expected) // 3 + 1  # three sheets, the last one shorter
    monkeypatch.setattr(workbook, "MAX_DATA_ROWS", limit)
    with duckdb.connect(str(published.lakehouse.path), read_only=True) as con:
        data = read_report(con, report.seller_id, report.account, *published.lakehouse.query(
            f"select min(settlement_start_at)::date, max(settlement_end_at)::date from finance.settlements "
            f"where seller_id = '{report.seller_id}'")[0])
    path = tmp_path / "split.xlsx"
    with path.open("wb") as file:
        workbook.write_workbook(data, file)
    book = openpyxl.load_workbook(path)
    parts = ["Settlement lines", "Settlement lines (2)", "Settlement lines (3)"]
    assert book.sheetnames == ["Summary", "Exceptions", *parts, "SKU profitability"]
    found = [tuple(c.value for c in row) for title in parts for row in book[title].iter_rows(min_row=2)]
    assert found == expected
    for title in parts:
        assert book[title].max_row - 1 <= limit and book[title].freeze_panes == "A2"
        assert book[title].auto_filter.ref.endswith(str(book[title].max_row))


def test_liquidation_proceeds_have_their_own_column_equal_to_the_mart(published: Published, workbooks) -> None:
    """FBA Liquidations proceeds (the sandbox's US seller has some) show apart from gross sales, per SKU, as
    roi.sku_profitability_to_date holds them."""
    shown = {}
    for report in published.reports:
        for cells in sheet_rows(workbooks[report.seller_id]["SKU profitability"], SKUS):
            if cells["liquidation_proceeds"].value:
                shown[(report.seller_id, cells["marketplace_id"].value, cells["sku"].value)] = \
                    Decimal(str(cells["liquidation_proceeds"].value))
    mart = {(seller, marketplace, sku): amount for seller, marketplace, sku, amount in published.lakehouse.query(
        "select seller_id, marketplace_id, sku, liquidation_proceeds from roi.sku_profitability_to_date "
        "where liquidation_proceeds <> 0")}
    assert mart, "the sandbox's world should liquidate some inventory"
    assert shown == mart
