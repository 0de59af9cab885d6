"""What each report looks like: Column and ReportSpec, the seven report schemas, and SPECS by report type.

A column is found in a document by its header as Amazon writes it (`header_key`: case, spaces, '-' and
'_' do not matter) and loaded under our snake_case name with its type. The settlement schema lives here
with the others: SPECS names every report the source parses, and the settlement parser reads it from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from dlt_sources.spapi.locales import ISO, MARKETPLACE_IDS_BY_CODE, MARKETPLACE_NAMES, Locale
from dlt_sources.spapi.settings import (
    ALL_ORDERS_REPORT,
    FEE_ESTIMATES_REPORT,
    INVENTORY_REPORT,
    LEDGER_REPORT,
    LISTINGS_REPORT,
    REIMBURSEMENTS_REPORT,
    SETTLEMENT_REPORT,
)

Kind = Literal["string", "decimal", "integer", "date", "timestamp", "boolean"]

TIMESTAMP = pa.timestamp("us", tz="UTC")


def header_key(name: str) -> str:
    """How headers are matched: "Event Type", "event-type" and "event_type" are the same column."""
    return re.sub(r"[\s_\-]+", "-", name.strip().strip('"').strip().lower())


def snake_case(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header_key(name)).strip("_") or "column"


@dataclass(frozen=True)
class Column:
    """One column of a report: its header as Amazon writes it, our name for it, and its type."""

    header: str
    name: str
    kind: Kind = "string"
    required: bool = False  # a row without a value is quarantined; a document without the column fails
    formats: tuple[str, ...] = ()  # strptime formats that replace the locale's (e.g. "%m/%d/%Y")
    scale: int = 2  # decimal places of a decimal column (money: 2)
    summary: bool = False  # settlement summary-row field: not part of the detail lines

    @property
    def arrow_type(self) -> pa.DataType:
        return {"string": pa.string(), "decimal": pa.decimal128(18, self.scale), "integer": pa.int64(),
                "date": pa.date32(), "timestamp": TIMESTAMP, "boolean": pa.bool_()}[self.kind]


@dataclass(frozen=True)
class ReportSpec:
    """How to read one report type: its columns, quoting and what to do with columns we do not know."""

    report_type: str
    table: str  # the resource/table name the product loads it into
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()  # output column names that identify a row
    locale: Locale = ISO  # reports other than settlements write '.' decimals and ISO-8601
    quoted: bool = False  # fields wrapped in double quotes (the inventory ledger)
    keep_extra_columns: bool = True
    contains_pii: bool = False  # raw lines in the quarantine would carry buyer data
    # (output column, value -> marketplace id): where a row names its own marketplace (settlement lines'
    # marketplace-name, the fee report's amazon-store); the caller's marketplace_id fills the gaps.
    marketplace_column: tuple[str, dict[str, str]] | None = None
    unknown_marketplace_fallback: bool = True  # an unknown value also gets the caller's marketplace_id


def _s(header: str, name: str | None = None, kind: Kind = "string", **options: Any) -> Column:
    """A column whose output name is its header in snake_case unless given."""
    return Column(header, name or snake_case(header), kind, **options)


# The V2 settlement flat file: the first data row is the summary (summary=True columns), the rest are lines.
SETTLEMENT = ReportSpec(
    SETTLEMENT_REPORT, "settlement_lines", primary_key=("settlement_id", "line_number"),
    # Every storefront and `Non-Amazon <country>` (MCF) name maps to its marketplace; an empty name
    # (account-level lines, FBA Liquidations) is the report's marketplace; an unknown name gets none.
    marketplace_column=("marketplace_name", MARKETPLACE_NAMES), unknown_marketplace_fallback=False,
    columns=(
        _s("settlement-id", required=True),
        _s("settlement-start-date", "settlement_start_at", "timestamp", required=True, summary=True),
        _s("settlement-end-date", "settlement_end_at", "timestamp", required=True, summary=True),
        _s("deposit-date", "deposit_at", "timestamp", summary=True),
        _s("total-amount", "total_amount", "decimal", required=True, summary=True),
        _s("currency", required=True, summary=True),
        _s("transaction-type"), _s("order-id"), _s("merchant-order-id"), _s("adjustment-id"),
        _s("shipment-id"), _s("marketplace-name"), _s("amount-type"), _s("amount-description"),
        _s("amount", kind="decimal", required=True), _s("fulfillment-id"),
        _s("posted-date", kind="date"), _s("posted-date-time", "posted_at", "timestamp"),
        _s("order-item-code"), _s("merchant-order-item-id"), _s("merchant-adjustment-item-id"), _s("sku"),
        _s("quantity-purchased", kind="integer"), _s("promotion-id"),
    ),
)

# Amazon's older "Flat File" settlement layout (`_GET_FLAT_FILE_PAYMENT_SETTLEMENT_DATA_`), which Seller Central
# downloads still give: one amount column per kind of amount instead of amount-type/-description/amount, and
# one posted-date (ISO-8601, `2025-06-05T22:07:18+00:00`). Its 36 columns in this order are sourced from
# caponica/AmazonMwsComplete (src/CaponicaAmazonMwsComplete/Domain/Report/ReportSettlementFlatFile.php,
# EXPECTED_HEADER) and a real Amazon.com file in fluxxu/mws-rs (src/tdff.rs, test_tdff). Files of 33 columns
# exist too; which three they lack we found no source for: columns are found by header, so any subset loads
# (the sandbox assumes the three merchant-* id columns are the ones missing). `flatfiles.legacy_settlement`
# turns its rows into the V2 lines.
LEGACY_AMOUNTS = (  # (amount column, its type column or None), in the order a row's lines are numbered
    ("price-amount", "price-type"), ("item-related-fee-amount", "item-related-fee-type"),
    ("promotion-amount", "promotion-type"), ("shipment-fee-amount", "shipment-fee-type"),
    ("order-fee-amount", "order-fee-type"), ("direct-payment-amount", "direct-payment-type"),
    ("misc-fee-amount", None), ("other-fee-amount", "other-fee-reason-description"), ("other-amount", None),
)
LEGACY_SETTLEMENT = ReportSpec(
    SETTLEMENT_REPORT, "settlement_lines", primary_key=SETTLEMENT.primary_key,
    marketplace_column=SETTLEMENT.marketplace_column, unknown_marketplace_fallback=False,
    columns=(
        *(c for c in SETTLEMENT.columns if c.summary or c.name == "settlement_id"),
        _s("transaction-type"), _s("order-id"), _s("merchant-order-id"), _s("adjustment-id"),
        _s("shipment-id"), _s("marketplace-name"), _s("shipment-fee-type"),
        _s("shipment-fee-amount", kind="decimal"), _s("order-fee-type"), _s("order-fee-amount", kind="decimal"),
        _s("fulfillment-id"),
        # One column read twice: the instant, and the date as written (V2's posted-date is the written date).
        _s("posted-date", "posted_at", "timestamp"), _s("posted-date", "posted_date_text"),
        _s("order-item-code"), _s("merchant-order-item-id"), _s("merchant-adjustment-item-id"), _s("sku"),
        _s("quantity-purchased", kind="integer"), _s("price-type"), _s("price-amount", kind="decimal"),
        _s("item-related-fee-type"), _s("item-related-fee-amount", kind="decimal"),
        _s("misc-fee-amount", kind="decimal"), _s("other-fee-amount", kind="decimal"),
        _s("other-fee-reason-description"), _s("promotion-id"), _s("promotion-type"),
        _s("promotion-amount", kind="decimal"), _s("direct-payment-type"),
        _s("direct-payment-amount", kind="decimal"), _s("other-amount", kind="decimal"),
    ),
)


def settlement_spec(header: list[str]) -> ReportSpec:
    """The settlement layout a header shows: V2 (an `amount` column), else the older Flat File layout if it has
    one of that layout's amount columns, else V2 (whose missing `amount` then names the problem)."""
    keys = {header_key(name) for name in header}
    if "amount" not in keys and any(amount in keys for amount, _ in LEGACY_AMOUNTS):
        return LEGACY_SETTLEMENT
    return SETTLEMENT


_MONEY = "decimal"
ALL_ORDERS = ReportSpec(
    ALL_ORDERS_REPORT, "order_items_report",
    primary_key=("amazon_order_id", "sku"), contains_pii=True, keep_extra_columns=False,
    marketplace_column=("sales_channel", MARKETPLACE_NAMES),
    columns=(
        _s("amazon-order-id", required=True), _s("merchant-order-id"),
        _s("purchase-date", "purchased_at", "timestamp"),
        _s("last-updated-date", "last_updated_at", "timestamp"),
        _s("order-status"), _s("fulfillment-channel"), _s("sales-channel"), _s("order-channel"),
        _s("ship-service-level"), _s("product-name"), _s("sku"), _s("asin"), _s("item-status"),
        _s("quantity", kind="integer"), _s("currency"), _s("item-price", kind=_MONEY),
        _s("item-tax", kind=_MONEY), _s("shipping-price", kind=_MONEY), _s("shipping-tax", kind=_MONEY),
        _s("gift-wrap-price", kind=_MONEY),
        _s("gift-wrap-tax", kind=_MONEY), _s("item-promotion-discount", kind=_MONEY),
        _s("ship-promotion-discount", kind=_MONEY), _s("ship-city"), _s("ship-state"), _s("ship-postal-code"),
        _s("ship-country"), _s("promotion-ids"), _s("is-business-order", kind="boolean"),
        _s("purchase-order-number"), _s("price-designation"),
    ),
)

MERCHANT_LISTINGS = ReportSpec(
    LISTINGS_REPORT, "listings", primary_key=("marketplace_id", "seller_sku"),
    columns=(
        _s("item-name"), _s("item-description"), _s("listing-id"), _s("seller-sku", required=True),
        _s("price", kind=_MONEY), _s("quantity", kind="integer"), _s("open-date", "opened_at", "timestamp"),
        _s("image-url"), _s("item-is-marketplace", kind="boolean"), _s("product-id-type"),
        _s("zshop-shipping-fee"), _s("item-note"), _s("item-condition"), _s("zshop-category1"),
        _s("zshop-browse-path"), _s("zshop-storefront-feature"), _s("asin1"), _s("asin2"), _s("asin3"),
        _s("will-ship-internationally"), _s("expedited-shipping"), _s("zshop-boldface"), _s("product-id"),
        _s("bid-for-featured-placement"), _s("add-delete"), _s("pending-quantity", kind="integer"),
        _s("fulfillment-channel"), _s("merchant-shipping-group"), _s("status"),
    ),
)

_QUANTITIES = ("mfn-fulfillable-quantity", "afn-warehouse-quantity", "afn-fulfillable-quantity",
               "afn-unsellable-quantity", "afn-reserved-quantity", "afn-total-quantity")
_INBOUND = ("afn-inbound-working-quantity", "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity",
            "afn-researching-quantity", "afn-reserved-future-supply", "afn-future-supply-buyable")
FBA_INVENTORY = ReportSpec(
    INVENTORY_REPORT, "inventory", primary_key=("marketplace_id", "sku"),
    columns=(
        _s("sku", required=True), _s("fnsku"), _s("asin"), _s("product-name"), _s("condition"),
        _s("your-price", kind=_MONEY), _s("mfn-listing-exists", kind="boolean"),
        _s(_QUANTITIES[0], kind="integer"),
        _s("afn-listing-exists", kind="boolean"), *(_s(h, kind="integer") for h in _QUANTITIES[1:]),
        _s("per-unit-volume", kind="decimal", scale=4), *(_s(h, kind="integer") for h in _INBOUND),
    ),
)

FBA_REIMBURSEMENTS = ReportSpec(
    REIMBURSEMENTS_REPORT, "fba_reimbursements", primary_key=("reimbursement_id", "sku"),
    columns=(
        _s("approval-date", "approved_at", "timestamp"), _s("reimbursement-id", required=True), _s("case-id"),
        _s("amazon-order-id"), _s("reason"), _s("sku"), _s("fnsku"), _s("asin"), _s("product-name"),
        _s("condition"), _s("currency-unit", "currency"), _s("amount-per-unit", kind=_MONEY),
        _s("amount-total", kind=_MONEY), _s("quantity-reimbursed-cash", kind="integer"),
        _s("quantity-reimbursed-inventory", kind="integer"), _s("quantity-reimbursed-total", kind="integer"),
        _s("original-reimbursement-id"), _s("original-reimbursement-type"),
    ),
)

_MEASURE = {"kind": "decimal", "scale": 4}
FBA_ESTIMATED_FEES = ReportSpec(
    FEE_ESTIMATES_REPORT, "fee_estimates", primary_key=("marketplace_id", "sku"),
    marketplace_column=("amazon_store", MARKETPLACE_IDS_BY_CODE),
    columns=(
        _s("sku", required=True), _s("fnsku"), _s("asin"), _s("amazon-store"), _s("product-name"),
        _s("product-group"), _s("brand"), _s("fulfilled-by"), _s("your-price", kind=_MONEY),
        _s("sales-price", kind=_MONEY), _s("longest-side", **_MEASURE), _s("median-side", **_MEASURE),
        _s("shortest-side", **_MEASURE), _s("length-and-girth", **_MEASURE), _s("unit-of-dimension"),
        _s("item-package-weight", **_MEASURE), _s("unit-of-weight"), _s("product-size-tier"), _s("currency"),
        *(_s(h, kind=_MONEY) for h in (
            "estimated-fee-total", "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
            "estimated-order-handling-fee-per-unit", "estimated-pick-pack-fee-per-unit",
            "estimated-weight-handling-fee-per-unit", "expected-fulfillment-fee-per-unit")),
    ),
)

INVENTORY_LEDGER = ReportSpec(
    LEDGER_REPORT, "inventory_ledger", quoted=True,
    primary_key=("reference_id", "event_type", "msku", "fulfillment_center", "disposition"),
    marketplace_column=("country", MARKETPLACE_IDS_BY_CODE),
    columns=(
        _s("Date", "event_date", "date", formats=("%m/%d/%Y",)), _s("FNSKU"), _s("ASIN"),
        _s("MSKU", required=True), _s("Title"), _s("Event Type"), _s("Reference ID"),
        _s("Quantity", kind="integer"), _s("Fulfillment Center"), _s("Disposition"), _s("Reason"),
        _s("Country"), _s("Reconciled Quantity", kind="integer"), _s("Unreconciled Quantity", kind="integer"),
        _s("Date and Time", "event_at", "timestamp"),
    ),
)

SPECS: dict[str, ReportSpec] = {spec.report_type: spec for spec in (
    SETTLEMENT, ALL_ORDERS, MERCHANT_LISTINGS, FBA_INVENTORY, FBA_REIMBURSEMENTS, FBA_ESTIMATED_FEES,
    INVENTORY_LEDGER)}
