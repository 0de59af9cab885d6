"""The report's columns: which mart column each shows, under which header, as which type.

One list per section, shared by the workbook and the page, so the page's summary table is the workbook's
Summary sheet (same columns, same order, same headers).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the mart column it shows, its header and its spreadsheet type."""

    key: str
    header: str
    kind: str = "text"  # text, money, date, datetime, integer, percent, boolean
    note: str = ""  # shown on the header (a note in the workbook, a tooltip on the page)


# One sign convention everywhere: a difference is what happened minus what was expected, so a negative deposit
# difference is money that did not arrive and a negative lines difference is lines short of the reported total.
SIGN_CONVENTION = ("Differences are actual - expected: Deposit - total is the amount transferred minus the "
                   "settlement's reported total (negative: less arrived); Lines - total is the sum of the lines "
                   "minus the reported total (0.00 when the report adds up); an exception's Difference is its "
                   "actual minus its expected.")


# What a reader checks first comes first: the status, whether the money arrived, and by how much the deposit and
# the lines differ from the reported total. Every difference is actual - expected (SIGN_CONVENTION).
SUMMARY = (
    Column("settlement_id", "Settlement id"), Column("reconciliation_status", "Status"),
    Column("deposit_received", "Deposit received", "boolean"),
    Column("deposit_minus_total_amount", "Deposit - total", "money"),
    Column("lines_minus_total_amount", "Lines - total", "money"),
    Column("marketplace_name", "Marketplace"), Column("currency", "Currency"),
    Column("settlement_start_at", "Period start (UTC)", "datetime"),
    Column("settlement_end_at", "Period end (UTC)", "datetime"), Column("deposit_date", "Deposit date", "date"),
    Column("reported_total_amount", "Reported total", "money"), Column("transferred_amount", "Transferred", "money"),
    Column("lines_amount", "Sum of lines", "money"), Column("fund_transfer_status", "Transfer status"),
    Column("fund_transferred_at", "Transferred at (UTC)", "datetime"),
    Column("event_group_match_method", "Event group matched by"), Column("is_reissued", "Re-issued", "boolean"),
    Column("line_count", "Lines", "integer"), Column("marketplace_id", "Marketplace id"),
)

EXCEPTIONS = (
    Column("kind", "Kind"), Column("settlement_id", "Settlement id"), Column("reference_id", "Reference id"),
    Column("sku", "SKU"), Column("marketplace_name", "Marketplace"), Column("expected", "Expected", "money"),
    Column("actual", "Actual", "money"), Column("difference", "Difference", "money"),
    Column("amount", "Money at stake", "money"), Column("currency", "Currency"),
    Column("explanation", "Explanation"), Column("reconciliation_exception_id", "Exception id"),
)

LINES = (
    Column("settlement_id", "Settlement id"), Column("line_number", "Line", "integer"),
    Column("posted_date", "Posted", "date"), Column("marketplace_name", "Marketplace"),
    Column("transaction_type", "Transaction type"), Column("amount_type", "Amount type"),
    Column("amount_description", "Amount description"), Column("category", "Category"),
    Column("order_id", "Order id"), Column("adjustment_id", "Adjustment id"), Column("sku", "SKU"),
    Column("quantity", "Quantity", "integer"), Column("fulfillment_channel", "Fulfilment"),
    Column("amount", "Amount", "money"), Column("currency", "Currency"),
)

SKUS = (
    Column("marketplace_name", "Marketplace"), Column("sku", "SKU"),
    Column("first_posted_date", "First posted", "date"),
    Column("last_posted_date", "Last posted", "date"), Column("currency", "Currency"),
    Column("units_sold", "Units sold", "integer"), Column("units_refunded", "Units refunded", "integer"),
    Column("gross_sales", "Gross sales", "money"), Column("refunds", "Refunds", "money"),
    # FBA Liquidations: proceeds of removed inventory, kept apart from gross sales as the ROI marts keep them
    Column("liquidation_proceeds", "Liquidation proceeds", "money"),
    Column("referral_fees", "Referral fees", "money"), Column("fba_fees", "FBA fees", "money"),
    Column("other_fees", "Other fees", "money"), Column("storage_fees", "Storage fees", "money"),
    Column("ad_spend", "Ad spend", "money"), Column("net_proceeds", "Net proceeds", "money"),
    Column("contribution_before_cogs", "Contribution before COGS", "money"), Column("cogs", "COGS", "money"),
    Column("contribution_margin", "Contribution margin", "money"), Column("margin_pct", "Margin %", "percent"),
    Column("roi_pct", "ROI %", "percent"), Column("tacos_pct", "TACoS %", "percent"),
)

# roi.marketplace_pnl, a row per month, marketplace and currency: every amount column of the mart, so a row adds up
# to its net proceeds (the totals rows sum each currency's marketplaces).
PNL = (
    Column("posted_month", "Month", "date"), Column("marketplace_name", "Marketplace"),
    Column("currency", "Currency"),
    Column("gross_sales", "Sales", "money"), Column("shipping_revenue", "Shipping", "money"),
    Column("promotions", "Promotions", "money"), Column("refunds", "Refunds", "money"),
    Column("referral_fees", "Referral fees", "money"), Column("refund_commissions", "Refund commissions", "money"),
    Column("fba_fees", "FBA fees", "money"), Column("storage_fees", "Storage fees", "money"),
    Column("other_fees", "Other fees", "money"), Column("ad_spend", "Advertising", "money"),
    Column("reimbursements", "Reimbursements", "money"),
    Column("liquidation_proceeds", "Liquidation proceeds", "money"),
    Column("adjustments", "Adjustments", "money"), Column("unmapped_amount", "Unmapped", "money"),
    Column("tax_collected", "Tax collected", "money"), Column("tax_withheld", "Tax withheld", "money"),
    Column("net_proceeds", "Net proceeds", "money"), Column("amazon_fees", "Amazon fees", "money"),
    Column("fees_pct_of_sales", "Fees % of sales", "percent"),
)

# finance.settlement_journals, a row per journal line: what a ledger posts (every journal balances; its clearing line
# is the deposit). An unmapped category shows as "UNMAPPED: <category>" with no account code.
JOURNALS = (
    Column("journal_number", "Journal"), Column("journal_date", "Date", "date"),
    Column("settlement_id", "Settlement id"), Column("marketplace_name", "Marketplace"),
    Column("journal_kind", "Kind"), Column("line_number", "Line", "integer"),
    Column("ledger_account_code", "Account code"), Column("ledger_account_name", "Account"),
    Column("tax_code", "Tax code"), Column("description", "Description"),
    Column("debit", "Debit", "money"), Column("credit", "Credit", "money"), Column("currency", "Currency"),
)

# The all-accounts roll-up for aggregators: one row per account and currency (never adding currencies).
ROLLUP = (
    Column("account_name", "Account"), Column("seller_id", "Seller id"), Column("currency", "Currency"),
    Column("settlements", "Settlements", "integer"),
    Column("settlements_not_reconciled", "Not reconciled", "integer"),
    Column("reported_total_amount", "Reported total", "money"), Column("transferred_amount", "Transferred", "money"),
    Column("deposit_minus_total_amount", "Deposit - total", "money"),
    Column("lines_minus_total_amount", "Lines - total", "money"),
    Column("exceptions", "Exceptions", "integer"), Column("money_at_stake", "Money at stake", "money"),
    Column("gross_sales", "Sales", "money"), Column("amazon_fees", "Amazon fees", "money"),
    Column("net_proceeds", "Net proceeds", "money"),
)
