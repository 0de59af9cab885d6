"""The V2 settlement report flat file (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2), as Amazon writes it.

Tab-separated, UTF-8. The first data row is the summary (settlement id, period, deposit date,
total, currency); every further row is one component of one posting. Amounts and dates use the
marketplace's local format (Amazon.de: `95,00` and `11.10.2024 08:59:52 UTC`). `marketplace-name`
is empty on account-level rows; `quantity-purchased` is only on an item's principal line, so that
summing it counts units once.

Quirks of real files (DESIGN.md, "Amazon facts to build on"; real files described in the issue):
- FBA Liquidations lines omit the trailing empty promotion-id field: 23 fields under a 24-field header,
  and an empty marketplace-name (a real Amazon.com V2 file);
- marketplace-name names the storefront of the line, which need not be the settlement's (`Amazon.fr`
  lines in an EU seller's Amazon.de EUR settlement), or `Non-Amazon US/UK/CA` for Multi-Channel
  Fulfilment orders;
- the document may come in Cp1252 instead of UTF-8 (`Settlement.charset`).

Amazon.co.jp settlements are JPY in whole yen (`1980`, `-115`: ISO 4217 gives the yen no minor unit) with dates
`2026/09/07 00:20:09 UTC`, as a Japanese seller's public ingest code reads real V2 files
(apps/warehouse/amazon-settlement-v2.js), and come in Shift_JIS (charsets.py).

`render_settlement(settlement, layout="flat36" | "flat33")` writes the same settlement in Amazon's older
"Flat File" layout, as Seller Central downloads gave it (the API serves V2 only): one amount column per kind
of amount, one ISO-8601 posted-date (`2025-06-05T22:07:18+00:00`), one row per component, and an item's
quantity on a row of its own just before the component V2 writes it on (as a real Amazon.com file shows,
fluxxu/mws-rs src/tdff.rs). The 36 columns are sourced (caponica/AmazonMwsComplete,
ReportSettlementFlatFile.php); which three the 33-column files lack is not: we assume the merchant-* ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from spapi_sandbox.charsets import codec
from spapi_sandbox.marketplaces import MARKETPLACES, Marketplace
from spapi_sandbox.money import decimal_string, minor_digits
from spapi_sandbox.world import Component, Posting, Settlement

COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
    "currency", "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
    "marketplace-name", "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date",
    "posted-date-time", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku",
    "quantity-purchased", "promotion-id",
)

FLAT_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
    "currency", "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
    "marketplace-name", "shipment-fee-type", "shipment-fee-amount", "order-fee-type", "order-fee-amount",
    "fulfillment-id", "posted-date", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id",
    "sku", "quantity-purchased", "price-type", "price-amount", "item-related-fee-type", "item-related-fee-amount",
    "misc-fee-amount", "other-fee-amount", "other-fee-reason-description", "promotion-id", "promotion-type",
    "promotion-amount", "direct-payment-type", "direct-payment-amount", "other-amount",
)
_MERCHANT_IDS = ("merchant-order-id", "merchant-order-item-id", "merchant-adjustment-item-id")
LAYOUTS = {"v2": COLUMNS, "flat36": FLAT_COLUMNS,
           "flat33": tuple(c for c in FLAT_COLUMNS if c not in _MERCHANT_IDS)}
# Components the older layout has no amount column for are account-level rows: their kind in transaction-type,
# their amount in other-amount. (V2 transaction-type, amount-type, description) -> the kind written.
_OTHER_AMOUNT_KINDS = {("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"): "Cost of Advertising"}

DATE_FORMATS = {"ymd": "%Y-%m-%d", "dmy.": "%d.%m.%Y"}
DATE_FORMATS["ymd/"] = "%Y/%m/%d"  # Amazon.co.jp


def local_date(epoch: int, m: Marketplace) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(DATE_FORMATS[m.date_order])


def local_datetime(epoch: int, m: Marketplace) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(DATE_FORMATS[m.date_order] + " %H:%M:%S UTC")


def _amount(minor: int, m: Marketplace) -> str:
    return decimal_string(minor, m.decimal_comma, minor_digits(m.currency))


def iso_datetime(epoch: int) -> str:
    """The older layout's dates: `2025-06-05T22:07:18+00:00`."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def marketplace_name(p: Posting, m: Marketplace) -> str:
    """What marketplace-name prints: the storefront on Order/Refund lines, else nothing, unless the posting
    names its own (Amazon.fr in an Amazon.de settlement, Non-Amazon US)."""
    if p.marketplace_name is not None:
        return p.marketplace_name
    return m.name if p.transaction_type in ("Order", "Refund") else ""


def quantity_component(p: Posting) -> int | None:
    """The component V2 writes the posting's quantity-purchased on: the principal, so that summing counts
    units once; an MCF order has no principal line, so its first (fee) line (the sandbox's assumption)."""
    if p.quantity is None:
        return None
    for index, c in enumerate(p.components):
        if c.amount_type == "ItemPrice" and c.description == "Principal":
            return index
    return 0 if p.transaction_type == "Order" and p.components else None


def settlement_rows(settlement: Settlement) -> Iterator[tuple[str, ...]]:
    """The file's rows after the header: the summary row, then one row per posting component."""
    m = MARKETPLACES[settlement.marketplace]
    sid = settlement.settlement_id
    yield (sid, local_datetime(settlement.start_at, m), local_datetime(settlement.end_at, m),
           local_datetime(settlement.deposit_at, m), _amount(settlement.total, m),
           m.currency) + ("",) * (len(COLUMNS) - 6)
    for p in settlement.postings:
        short = p.transaction_type == "Liquidations"  # no trailing promotion-id field, as real files
        posted_date, posted_time = local_date(p.posted_at, m), local_datetime(p.posted_at, m)
        with_quantity = quantity_component(p)
        for index, c in enumerate(p.components):
            quantity = str(p.quantity) if index == with_quantity else ""
            row = (sid, "", "", "", "", "", p.transaction_type, p.order_id, "", p.adjustment_id, p.shipment_id,
                   marketplace_name(p, m), c.amount_type, c.description, _amount(c.amount, m),
                   p.fulfillment_id, posted_date, posted_time, p.order_item_code, "",
                   p.merchant_adjustment_item_id, p.sku, quantity, p.promotion_id)
            yield row[:-1] if short and not p.promotion_id else row


def flat_rows(settlement: Settlement) -> Iterator[dict[str, str]]:
    """The older layout's rows after the header, as column -> value (absent: empty)."""
    m = MARKETPLACES[settlement.marketplace]
    yield {"settlement-id": settlement.settlement_id, "settlement-start-date": iso_datetime(settlement.start_at),
           "settlement-end-date": iso_datetime(settlement.end_at),
           "deposit-date": iso_datetime(settlement.deposit_at),
           "total-amount": _amount(settlement.total, m), "currency": m.currency}
    for p in settlement.postings:
        item = {"settlement-id": settlement.settlement_id, "transaction-type": p.transaction_type,
                "order-id": p.order_id, "adjustment-id": p.adjustment_id, "shipment-id": p.shipment_id,
                "marketplace-name": marketplace_name(p, m), "fulfillment-id": p.fulfillment_id,
                "posted-date": iso_datetime(p.posted_at), "order-item-code": p.order_item_code,
                "merchant-adjustment-item-id": p.merchant_adjustment_item_id, "sku": p.sku,
                "promotion-id": p.promotion_id}
        with_quantity = quantity_component(p)
        for index, c in enumerate(p.components):
            if index == with_quantity:
                yield {**item, "quantity-purchased": str(p.quantity)}
            yield {**item, **_flat_amount(p, c, _amount(c.amount, m))}


def _flat_amount(p: Posting, c: Component, amount: str) -> dict[str, str]:
    """The columns one component takes in the older layout (the inverse of the loader's mapping to V2)."""
    if c.amount_type == "ItemPrice":
        return {"price-type": c.description, "price-amount": amount}
    if c.amount_type == "ItemFees" or (c.amount_type == "ItemWithheldTax"
                                       and c.description.startswith("MarketplaceFacilitator")):
        return {"item-related-fee-type": c.description, "item-related-fee-amount": amount}
    if c.amount_type == "Promotion":
        return {"promotion-type": c.description, "promotion-amount": amount}
    if p.transaction_type == "other-transaction" and c.amount_type in ("other-transaction",
                                                                        "FBA Inventory Reimbursement"):
        return {"transaction-type": c.description, "other-amount": amount}
    kind = _OTHER_AMOUNT_KINDS.get((p.transaction_type, c.amount_type, c.description))
    if kind is not None:
        return {"transaction-type": kind, "other-amount": amount}
    raise ValueError(f"the Flat File layout has no column for {p.transaction_type}/{c.amount_type}/"
                     f"{c.description}: add its mapping here and in the loader")


def render_settlement(settlement: Settlement, layout: str = "v2") -> bytes:
    """The whole report document, in the settlement's charset (UTF-8, Cp1252 or Shift_JIS): V2, as the API serves it,
    or the older Flat File layout of 36 or 33 columns (`flat36`, `flat33`), as Seller Central gave it."""
    columns = LAYOUTS[layout]
    lines = ["\t".join(columns)]
    if layout == "v2":
        lines.extend("\t".join(row) for row in settlement_rows(settlement))
    else:
        lines.extend("\t".join(row.get(column, "") for column in columns) for row in flat_rows(settlement))
    return ("\n".join(lines) + "\n").encode(codec(settlement.charset))


def content_type(settlement: Settlement) -> str:
    return f"text/plain; charset={settlement.charset}"
