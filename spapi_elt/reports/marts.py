"""The report's data for one seller, read from the marts and nothing else.

Every figure the report shows is a column of a dbt mart (finance.*, roi.*): this module only selects,
filters to one seller and orders rows, so the workbook and the page can never disagree with the marts or
with each other. The DuckDB file is opened read-only: the report never writes the lakehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

Row = dict[str, Any]

SETTLEMENTS_SQL = """
    select settlement_id, reconciliation_status, deposit_received, deposit_minus_total_amount,
           lines_minus_total_amount, marketplace_name, currency, settlement_start_at, settlement_end_at, deposit_date,
           reported_total_amount, transferred_amount, lines_amount, fund_transfer_status, fund_transferred_at,
           event_group_match_method, is_reissued, line_count, marketplace_id
    from finance.settlements
    where seller_id = $seller
    order by settlement_start_at, marketplace_id, settlement_id
"""

EXCEPTIONS_SQL = """
    select kind, marketplace_id, marketplace_name, reference_id, settlement_id,
           sku, expected, actual, difference, amount, currency,
           explanation, reconciliation_exception_id
    from finance.reconciliation_exceptions
    where seller_id = $seller
    order by kind, marketplace_id, settlement_id nulls last, reference_id, sku nulls first
"""

LINES_SQL = """
    select settlement_id, line_number, posted_date, marketplace_id, marketplace_name, transaction_type,
           amount_type,
           amount_description, category, order_id, adjustment_id, sku, quantity, fulfillment_channel, amount, currency
    from finance.settlement_lines
    where seller_id = $seller
    order by settlement_id, line_number
"""

SKUS_SQL = """
    select marketplace_id, marketplace_name, sku, first_posted_date, last_posted_date, currency, units_sold,
           units_refunded,
           gross_sales, refunds, liquidation_proceeds, referral_fees, fba_fees, other_fees, storage_fees, ad_spend,
           net_proceeds, contribution_before_cogs, cogs, contribution_margin, margin_pct, roi_pct, tacos_pct
    from roi.sku_profitability_to_date
    where seller_id = $seller
    order by marketplace_id, sku
"""

# The ROI ranking is a selection (order and limit), done in SQL; SKUs without a known ROI are not ranked.
RANKED_SKUS_SQL = """
    select marketplace_id, marketplace_name, sku, currency, roi_pct, contribution_margin, cogs, gross_sales,
           liquidation_proceeds, units_sold, first_posted_date, last_posted_date
    from roi.sku_profitability_to_date
    where seller_id = $seller and roi_pct is not null
    order by roi_pct {direction}, marketplace_id, sku
    limit $limit
"""

PAYOUTS_SQL = """
    select financial_event_group_id, marketplace_id, marketplace_name, settlement_id, currency, deposit_date,
           payout_status,
           fund_transfer_status, transferred_amount, settlement_total_amount, group_end_at
    from finance.payouts
    where seller_id = $seller and settlement_id is not null
    order by coalesce(deposit_date, cast(group_end_at as date)), marketplace_id, settlement_id
"""

MONTHS_SQL = """
    select marketplace_id, marketplace_name, posted_month, currency, gross_sales, amazon_fees, fees_pct_of_sales
    from roi.marketplace_pnl
    where seller_id = $seller and posted_month between date_trunc('month', $first) and $last
    order by posted_month, marketplace_id
"""

PNL_SQL = """
    select posted_month, marketplace_id, marketplace_name, currency, gross_sales, shipping_revenue, promotions, refunds,
           referral_fees, refund_commissions, fba_fees, storage_fees, other_fees, ad_spend, reimbursements,
           liquidation_proceeds, adjustments, unmapped_amount, tax_collected, tax_withheld, net_proceeds, amazon_fees,
           fees_pct_of_sales
    from roi.marketplace_pnl
    where seller_id = $seller
    order by posted_month, currency, marketplace_name
"""

JOURNALS_SQL = """
    select journal_number, journal_date, settlement_id, marketplace_name, journal_kind, line_number,
           ledger_account_code, ledger_account_name, tax_code, description, debit, credit, currency
    from finance.settlement_journals
    where seller_id = $seller
    order by journal_date, journal_number, line_number
"""

# The all-accounts roll-up: each mart summed per account and currency, never across currencies. Sums only (no
# figure is derived), so each cell is the sum of the account's rows of its mart.
ROLLUP_SQL = """
    with settled as (
        select seller_id, any_value(account_name) as account_name, currency, count(*) as settlements,
               count(*) filter (where reconciliation_status <> 'reconciled') as settlements_not_reconciled,
               sum(reported_total_amount) as reported_total_amount, sum(transferred_amount) as transferred_amount,
               sum(deposit_minus_total_amount) as deposit_minus_total_amount,
               sum(lines_minus_total_amount) as lines_minus_total_amount
        from finance.settlements
        group by seller_id, currency
    ),
    found as (
        select seller_id, currency, count(*) as exceptions, sum(amount) as money_at_stake
        from finance.reconciliation_exceptions
        group by seller_id, currency
    ),
    pnl as (
        select seller_id, currency, sum(gross_sales) as gross_sales, sum(amazon_fees) as amazon_fees,
               sum(net_proceeds) as net_proceeds
        from roi.marketplace_pnl
        group by seller_id, currency
    )
    select settled.account_name, settled.seller_id, settled.currency, settled.settlements,
           settled.settlements_not_reconciled, settled.reported_total_amount, settled.transferred_amount,
           settled.deposit_minus_total_amount, settled.lines_minus_total_amount,
           coalesce(found.exceptions, 0) as exceptions, coalesce(found.money_at_stake, 0) as money_at_stake,
           pnl.gross_sales, pnl.amazon_fees, pnl.net_proceeds
    from settled
    left join found on settled.seller_id = found.seller_id and settled.currency = found.currency
    left join pnl on settled.seller_id = pnl.seller_id and settled.currency = pnl.currency
    order by settled.account_name, settled.seller_id, settled.currency
"""

SELLERS_SQL = """
    select seller_id, min(settlement_start_at)::date as first_day, max(settlement_end_at)::date as last_day
    from finance.settlements
    group by seller_id
    order by seller_id
"""


@dataclass(frozen=True)
class ReportData:
    """One seller's report: the period its settlements cover and the mart rows of every section."""

    seller_id: str
    account: str
    first_day: date
    last_day: date
    settlements: list[Row]
    exceptions: list[Row]
    lines: list[Row]
    skus: list[Row]
    top_skus: list[Row]  # best ROI first
    bottom_skus: list[Row]  # worst ROI first
    payouts: list[Row]
    months: list[Row]
    pnl: list[Row]
    journals: list[Row]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[Row]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def sellers(con: duckdb.DuckDBPyConnection) -> list[tuple[str, date, date]]:
    """Every seller with a settlement, and the period (first settlement start, last settlement end)."""
    return [tuple(r) for r in con.execute(SELLERS_SQL).fetchall()]


def read_report(con: duckdb.DuckDBPyConnection, seller_id: str, account: str, first_day: date, last_day: date,
                ranked: int = 5) -> ReportData:
    """Everything the workbook and the page show for one seller."""
    return ReportData(
        seller_id=seller_id, account=account, first_day=first_day, last_day=last_day,
        settlements=_rows(con, SETTLEMENTS_SQL, seller=seller_id),
        exceptions=_rows(con, EXCEPTIONS_SQL, seller=seller_id),
        lines=_rows(con, LINES_SQL, seller=seller_id),
        skus=_rows(con, SKUS_SQL, seller=seller_id),
        top_skus=_rows(con, RANKED_SKUS_SQL.format(direction="desc"), seller=seller_id, limit=ranked),
        bottom_skus=_rows(con, RANKED_SKUS_SQL.format(direction="asc"), seller=seller_id, limit=ranked),
        payouts=_rows(con, PAYOUTS_SQL, seller=seller_id),
        months=_rows(con, MONTHS_SQL, seller=seller_id, first=first_day, last=last_day),
        pnl=_rows(con, PNL_SQL, seller=seller_id),
        journals=_rows(con, JOURNALS_SQL, seller=seller_id))


def read_rollup(con: duckdb.DuckDBPyConnection, names: Mapping[str, str]) -> list[Row]:
    """Every account's totals per currency; `names` (seller id -> the accounts file's name) wins over the mart's
    account name, so the roll-up names accounts as their report folders do."""
    rows = _rows(con, ROLLUP_SQL)
    for row in rows:
        row["account_name"] = names.get(row["seller_id"]) or row["account_name"]
    return sorted(rows, key=lambda r: (r["account_name"], r["seller_id"], r["currency"]))


def connect(path: str) -> duckdb.DuckDBPyConnection:
    """The lakehouse, read-only (the report never writes it; a reader also never blocks another reader)."""
    return duckdb.connect(path, read_only=True)
