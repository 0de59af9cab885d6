"""The workbook as a spreadsheet program reads it: real types and formats, and every figure equal to its mart."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from spapi_elt.reports import workbook
from spapi_elt.reports.columns import EXCEPTIONS, JOURNALS, LINES, PNL, ROLLUP, SKUS, SUMMARY, Column
from spapi_elt.reports.marts import read_report
from spapi_elt.reports.workbook import money_format
from tests.published_reports import Published, account_names

SHEETS = {"Summary": SUMMARY, "Exceptions": EXCEPTIONS, "Settlement lines": LINES, "SKU profitability": SKUS,
          "Monthly P&L": PNL, "Journals": JOURNALS}
# The mart and key of each sheet's rows: a sheet row is compared with the mart row of the same key.
MARTS = {"Summary": ("finance.settlements", ("settlement_id",)),
         "Exceptions": ("finance.reconciliation_exceptions", ("reconciliation_exception_id",)),
         "Settlement lines": ("finance.settlement_lines", ("settlement_id", "line_number")),
         "SKU profitability": ("roi.sku_profitability_to_date", ("marketplace_name", "sku")),
         "Monthly P&L": ("roi.marketplace_pnl", ("posted_month", "marketplace_name")),
         "Journals": ("finance.settlement_journals", ("journal_number", "line_number"))}


def sheet_rows(sheet: Worksheet, columns: tuple[Column, ...]) -> list[dict[str, Any]]:
    """The table's rows (those the auto filter covers, not the totals below) as {mart column: cell}, after checking
    the header is the one the columns name."""
    last = int(re.search(r"(\d+)$", sheet.auto_filter.ref).group(1))
    rows = list(sheet.iter_rows(max_row=last))
    assert [c.value for c in rows[0]] == [c.header for c in columns]
    return [{column.key: cell for column, cell in zip(columns, row, strict=True)} for row in rows[1:]]


def key_value(cell: Any) -> Any:
    """A key cell as the mart holds it (a spreadsheet has no date type: a month reads back as a datetime)."""
    return cell.value.date() if isinstance(cell.value, datetime) else cell.value


def mart_rows(published: Published, sheet: str, seller_id: str) -> dict[tuple, dict[str, Any]]:
    table, key = MARTS[sheet]
    with duckdb.connect(str(published.lakehouse.path), read_only=True) as con:
        cursor = con.execute(f"select * from {table} where seller_id = ?", [seller_id])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
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
            expected = mart[tuple(key_value(cells[k]) for k in key)]
            for column in SHEETS[sheet]:
                cell, value = cells[column.key], expected[column.key]
                if value is None:
                    assert cell.value is None, (sheet, column.key)
                    continue
                if column.kind == "percent":  # a fraction with a percent format: the mart's 50.45 is 0.5045
                    assert isinstance(cell.value, int | float | Decimal), (sheet, column.key, cell.value)
                    assert Decimal(str(cell.value)) == value / 100, (sheet, column.key, cell.value, value)
                    assert cell.number_format == "0.00%"
                    checked += 1
                elif column.kind == "money":
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
        assert len(sheet_rows(workbooks[report.seller_id]["Settlement lines"], LINES)) == count


def test_every_sheet_has_a_frozen_header_a_filter_and_sized_columns(published: Published, workbooks) -> None:
    for seller_id, book in workbooks.items():
        assert book.sheetnames == list(SHEETS)
        for title, columns in SHEETS.items():
            sheet = book[title]
            assert sheet.freeze_panes == "A2", title
            last = openpyxl.utils.get_column_letter(len(columns))
            rows = len(mart_rows(published, title, seller_id))
            assert sheet.auto_filter.ref == f"A1:{last}{rows + 1}", title
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
    lines = openpyxl.load_workbook(report.workbook)["Settlement lines"]
    expected = [tuple(c.value for c in row.values()) for row in sheet_rows(lines, LINES)]
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
    assert book.sheetnames == ["Summary", "Exceptions", *parts, "SKU profitability", "Monthly P&L", "Journals"]
    found = [tuple(c.value for c in row.values()) for title in parts for row in sheet_rows(book[title], LINES)]
    assert found == expected
    for title in parts:
        assert len(sheet_rows(book[title], LINES)) <= limit and book[title].freeze_panes == "A2"


def test_liquidation_proceeds_have_their_own_column_equal_to_the_mart(published: Published, workbooks) -> None:
    """FBA Liquidations proceeds (the sandbox's US seller has some) show apart from gross sales, per SKU, as
    roi.sku_profitability_to_date holds them."""
    shown = {}
    for report in published.reports:
        for cells in sheet_rows(workbooks[report.seller_id]["SKU profitability"], SKUS):
            if cells["liquidation_proceeds"].value:
                shown[(report.seller_id, cells["marketplace_name"].value, cells["sku"].value)] = \
                    Decimal(str(cells["liquidation_proceeds"].value))
    mart = {(seller, marketplace, sku): amount for seller, marketplace, sku, amount in published.lakehouse.query(
        "select seller_id, marketplace_name, sku, liquidation_proceeds from roi.sku_profitability_to_date "
        "where liquidation_proceeds <> 0")}
    assert mart, "the sandbox's world should liquidate some inventory"
    assert shown == mart


# A totals row's cell: SUMIFS of one column of the table's rows, over the rows of one currency.
SUMIFS = re.compile(r'=SUMIFS\(\$([A-Z]+)\$2:\$\1\$(\d+),\$([A-Z]+)\$2:\$\3\$(\d+),"([A-Z]{3})"\)')


def totals_rows(sheet: Worksheet, columns: tuple[Column, ...]) -> dict[str, dict[str, Any]]:
    """currency -> the cells of its totals row (below the table, first cell "Total <currency>")."""
    last = int(re.search(r"(\d+)$", sheet.auto_filter.ref).group(1))
    return {row[0].value.removeprefix("Total "): {c.key: cell for c, cell in zip(columns, row, strict=False)}
            for row in sheet.iter_rows(min_row=last + 1)
            if isinstance(row[0].value, str) and row[0].value.startswith("Total ")}


def evaluate_sumifs(sheet: Worksheet, formula: str) -> Decimal:
    """What a spreadsheet program computes for the formula, from the sheet's own cells."""
    match = SUMIFS.fullmatch(formula)
    assert match, formula
    column, last, currency_column, currency = match[1], int(match[2]), match[3], match[5]
    return sum((Decimal(str(sheet[f"{column}{r}"].value)) for r in range(2, last + 1)
                if sheet[f"{currency_column}{r}"].value == currency and sheet[f"{column}{r}"].value is not None),
               Decimal(0))


def assert_totals(sheet: Worksheet, columns: tuple[Column, ...], rows: int, sums: dict[tuple[str, str], Decimal]
                  ) -> int:
    """Each currency's totals row holds, for each money column, a SUMIFS over exactly the table's rows of that
    currency (never another's), which computes to the mart's sum `sums[(currency, column)]`."""
    letters = {c.key: openpyxl.utils.get_column_letter(i) for i, c in enumerate(columns, start=1)}
    totals = totals_rows(sheet, columns)
    assert set(totals) == {currency for currency, _ in sums}, sheet.title
    checked = 0
    for currency, cells in totals.items():
        assert cells["currency"].value == currency
        for column in (c for c in columns if c.kind == "money"):
            formula = cells[column.key].value
            match = SUMIFS.fullmatch(formula)
            assert match, (sheet.title, column.key, formula)
            assert (match[1], match[3], match[5]) == (letters[column.key], letters["currency"], currency)
            assert int(match[2]) == int(match[4]) == rows + 1, (sheet.title, formula)
            assert evaluate_sumifs(sheet, formula) == sums[(currency, column.key)], (sheet.title, column.key)
            assert cells[column.key].number_format == money_format(currency)
            checked += 1
    return checked


@pytest.mark.parametrize("sheet", list(SHEETS))
def test_totals_rows_add_up_each_currency_apart_and_equal_the_marts(published: Published, workbooks,
                                                                      sheet: str) -> None:
    table = MARTS[sheet][0]
    money = [c.key for c in SHEETS[sheet] if c.kind == "money"]
    checked = 0
    for report in published.reports:
        found = published.lakehouse.query(
            f"select currency, {', '.join(f'coalesce(sum({k}), 0)' for k in money)} from {table} "
            f"where seller_id = '{report.seller_id}' group by currency")
        sums = {(row[0], key): value for row in found for key, value in zip(money, row[1:], strict=True)}
        rows = len(mart_rows(published, sheet, report.seller_id))
        checked += assert_totals(workbooks[report.seller_id][sheet], SHEETS[sheet], rows, sums)
    if sheet != "Exceptions":
        assert checked


def test_a_failed_transfer_never_reads_received_and_every_difference_is_actual_minus_expected(
        published: Published, workbooks) -> None:
    """The Summary opens with the status, whether the deposit arrived and the two differences, each actual -
    expected: a failed transfer is not received and misses the whole total; a `difference` status always shows a
    non-zero difference beside it; the planted deposit mismatches read as transferred - total."""
    mismatches = {d["reference_id"]: Decimal(d["amount"]) for d in published.lakehouse.truth["discrepancies"]
                  if d["kind"] == "deposit_mismatch"}
    assert [c.header for c in SUMMARY[:5]] == ["Settlement id", "Status", "Deposit received", "Deposit - total",
                                               "Lines - total"]
    seen: dict[str, int] = {"failed": 0, "difference": 0, "mismatch": 0}
    for report in published.reports:
        sheet = workbooks[report.seller_id]["Summary"]
        for header in ("D1", "E1"):  # the sign convention, as a note on the differences' headers
            assert "actual - expected" in sheet[header].comment.text
        for cells in sheet_rows(sheet, SUMMARY):
            value = {k: c.value for k, c in cells.items()}
            total = Decimal(str(value["reported_total_amount"]))
            deposit = None if value["deposit_minus_total_amount"] is None \
                else Decimal(str(value["deposit_minus_total_amount"]))
            lines = Decimal(str(value["lines_minus_total_amount"]))
            assert lines == Decimal(str(value["lines_amount"])) - total
            if value["fund_transfer_status"] == "Failed":
                assert value["deposit_received"] is False and deposit == -total, value
                seen["failed"] += 1
            if value["deposit_received"]:
                assert deposit == Decimal(str(value["transferred_amount"])) - total
            if value["reconciliation_status"] == "difference":
                assert (deposit or 0) != 0 or lines != 0, value
                seen["difference"] += 1
            if value["reconciliation_status"] == "reconciled":
                assert (deposit or 0) == 0 and lines == 0 and value["deposit_received"] is not False, value
            if value["settlement_id"] in mismatches:
                assert deposit == -mismatches[value["settlement_id"]], value
                seen["mismatch"] += 1
    assert seen["failed"] and seen["difference"] and seen["mismatch"] == len(mismatches), seen


def print_setup_is_landscape_one_page_wide_with_titles(sheet: Worksheet) -> None:
    assert sheet.print_title_rows == "$1:$1", sheet.title
    assert sheet.page_setup.orientation == "landscape", sheet.title
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), sheet.title
    assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_on_every_page(published: Published,
                                                                                  workbooks) -> None:
    books = [*workbooks.values(), openpyxl.load_workbook(published.rollup)]
    for book in books:
        for sheet in book:
            print_setup_is_landscape_one_page_wide_with_titles(sheet)


def test_the_monthly_pnl_adds_up_to_its_net_proceeds(published: Published, workbooks) -> None:
    """Every amount column of roi.marketplace_pnl is on the P&L sheet, so each row's parts sum to its net."""
    parts = [c.key for c in PNL if c.kind == "money" and c.key not in ("net_proceeds", "amazon_fees")]
    checked = 0
    for report in published.reports:
        for cells in sheet_rows(workbooks[report.seller_id]["Monthly P&L"], PNL):
            parts_sum = sum(Decimal(str(cells[k].value)) for k in parts if cells[k].value is not None)
            assert parts_sum == Decimal(str(cells["net_proceeds"].value)), cells["posted_month"].value
            checked += 1
    assert checked


def test_the_all_accounts_rollup_sums_each_account_per_currency(published: Published) -> None:
    """The aggregator's workbook: a row per account and currency equal to the marts' sums, account names as
    the accounts file gives them, and totals per currency across accounts."""
    assert published.rollup and published.rollup.parent == published.folder / "all-accounts"
    sheet = openpyxl.load_workbook(published.rollup)["All accounts"]
    rows = sheet_rows(sheet, ROLLUP)
    names = account_names(published.lakehouse)
    expected = {(seller, currency): rest for seller, currency, *rest in published.lakehouse.query("""
        select s.seller_id, s.currency, count(*), count(*) filter (where reconciliation_status <> 'reconciled'),
               sum(reported_total_amount), sum(transferred_amount), sum(deposit_minus_total_amount),
               sum(lines_minus_total_amount),
               (select count(*) from finance.reconciliation_exceptions e
                where e.seller_id = s.seller_id and e.currency = s.currency),
               (select coalesce(sum(amount), 0) from finance.reconciliation_exceptions e
                where e.seller_id = s.seller_id and e.currency = s.currency),
               (select sum(gross_sales) from roi.marketplace_pnl p where p.seller_id = s.seller_id
                and p.currency = s.currency),
               (select sum(amazon_fees) from roi.marketplace_pnl p where p.seller_id = s.seller_id
                and p.currency = s.currency),
               (select sum(net_proceeds) from roi.marketplace_pnl p where p.seller_id = s.seller_id
                and p.currency = s.currency)
        from finance.settlements s group by s.seller_id, s.currency""")}
    assert len(rows) == len(expected) and len({c["seller_id"].value for c in rows}) == len(names) > 1
    figures = [c.key for c in ROLLUP[3:]]
    for cells in rows:
        key = (cells["seller_id"].value, cells["currency"].value)
        assert cells["account_name"].value == names[key[0]]
        for column, value in zip(figures, expected[key], strict=True):
            shown = cells[column].value
            assert (shown if value is None else Decimal(str(shown))) == value, (key, column)
    sums = {}
    for currency, *values in published.lakehouse.query(
            "select currency, sum(reported_total_amount), sum(coalesce(transferred_amount, 0)), "
            "sum(coalesce(deposit_minus_total_amount, 0)), sum(lines_minus_total_amount) from finance.settlements "
            "group by currency"):
        sums |= {(currency, k): v for k, v in zip(["reported_total_amount", "transferred_amount",
                                                    "deposit_minus_total_amount", "lines_minus_total_amount"],
                                                   values, strict=True)}
    for currency, *values in published.lakehouse.query(
            "select c.currency, (select coalesce(sum(amount), 0) from finance.reconciliation_exceptions e "
            "where e.currency = c.currency), sum(gross_sales), sum(amazon_fees), sum(net_proceeds) "
            "from (select distinct currency from finance.settlements) c "
            "left join roi.marketplace_pnl p on p.currency = c.currency group by c.currency"):
        sums |= {(currency, k): v or Decimal(0) for k, v in zip(["money_at_stake", "gross_sales", "amazon_fees",
                                                                  "net_proceeds"], values, strict=True)}
    assert assert_totals(sheet, ROLLUP, len(rows), sums)


def test_every_journal_on_the_journals_sheet_balances_and_one_line_per_settlement_is_its_deposit(
        published: Published, workbooks) -> None:
    """What a bookkeeper posts: each journal's debits equal its credits, and each settlement's clearing lines
    (account 1200, the bank deposit's side) add up to its reported total."""
    checked = 0
    for report in published.reports:
        journals: dict[str, Decimal] = {}
        clearing: dict[str, Decimal] = {}
        for cells in sheet_rows(workbooks[report.seller_id]["Journals"], JOURNALS):
            debit, credit = Decimal(str(cells["debit"].value)), Decimal(str(cells["credit"].value))
            number = cells["journal_number"].value
            journals[number] = journals.get(number, Decimal(0)) + debit - credit
            if cells["ledger_account_code"].value == "1200":
                settlement = cells["settlement_id"].value
                clearing[settlement] = clearing.get(settlement, Decimal(0)) + debit - credit
        assert journals and all(balance == 0 for balance in journals.values()), report.seller_id
        totals = dict(published.lakehouse.query(
            f"select settlement_id, reported_total_amount from finance.settlements "
            f"where seller_id = '{report.seller_id}'"))
        assert clearing == {s: Decimal(str(t)) for s, t in totals.items()}, report.seller_id
        checked += len(journals)
    assert checked > 0
