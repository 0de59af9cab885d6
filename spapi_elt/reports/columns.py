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


SUMMARY = (
    Column("settlement_id", "Settlement id"), Column("marketplace_id", "Marketplace"), Column("currency", "Currency"),
    Column("settlement_start_at", "Period start (UTC)", "datetime"),
    Column("settlement_end_at", "Period end (UTC)", "datetime"), Column("deposit_date", "Deposit date", "date"),
    Column("reported_total_amount", "Reported total", "money"), Column("lines_amount", "Sum of lines", "money"),
    Column("difference_amount", "Difference", "money"), Column("deposit_matched", "Deposit matched", "boolean"),
    Column("event_group_match_method", "Matched by"), Column("fund_transfer_status", "Transfer status"),
    Column("fund_transferred_at", "Transferred at (UTC)", "datetime"),
    Column("transferred_amount", "Transferred", "money"),
    Column("deposit_difference_amount", "Deposit difference", "money"),
    Column("reconciliation_status", "Status"), Column("is_reissued", "Re-issued", "boolean"),
    Column("line_count", "Lines", "integer"),
)

EXCEPTIONS = (
    Column("kind", "Kind"), Column("settlement_id", "Settlement id"), Column("reference_id", "Reference id"),
    Column("sku", "SKU"), Column("marketplace_id", "Marketplace"), Column("expected", "Expected", "money"),
    Column("actual", "Actual", "money"), Column("difference", "Difference", "money"),
    Column("amount", "Money at stake", "money"), Column("currency", "Currency"),
    Column("explanation", "Explanation"), Column("reconciliation_exception_id", "Exception id"),
)

LINES = (
    Column("settlement_id", "Settlement id"), Column("line_number", "Line", "integer"),
    Column("posted_date", "Posted", "date"), Column("marketplace_id", "Marketplace"),
    Column("transaction_type", "Transaction type"), Column("amount_type", "Amount type"),
    Column("amount_description", "Amount description"), Column("category", "Category"),
    Column("order_id", "Order id"), Column("adjustment_id", "Adjustment id"), Column("sku", "SKU"),
    Column("quantity", "Quantity", "integer"), Column("fulfillment_channel", "Fulfilment"),
    Column("amount", "Amount", "money"), Column("currency", "Currency"),
)

SKUS = (
    Column("marketplace_id", "Marketplace"), Column("sku", "SKU"), Column("first_posted_date", "First posted", "date"),
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
