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
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from spapi_sandbox.marketplaces import MARKETPLACES, Marketplace
from spapi_sandbox.money import decimal_string
from spapi_sandbox.world import Settlement

COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
    "currency", "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
    "marketplace-name", "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date",
    "posted-date-time", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku",
    "quantity-purchased", "promotion-id",
)

DATE_FORMATS = {"ymd": "%Y-%m-%d", "dmy.": "%d.%m.%Y"}


def local_date(epoch: int, m: Marketplace) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(DATE_FORMATS[m.date_order])


def local_datetime(epoch: int, m: Marketplace) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(DATE_FORMATS[m.date_order] + " %H:%M:%S UTC")


def settlement_rows(settlement: Settlement) -> Iterator[tuple[str, ...]]:
    """The file's rows after the header: the summary row, then one row per posting component."""
    m = MARKETPLACES[settlement.marketplace]
    sid = settlement.settlement_id
    yield (sid, local_datetime(settlement.start_at, m), local_datetime(settlement.end_at, m),
           local_datetime(settlement.deposit_at, m), decimal_string(settlement.total, m.decimal_comma),
           m.currency) + ("",) * (len(COLUMNS) - 6)
    for p in settlement.postings:
        # An order's storefront, which need not be the settlement's (Amazon.fr orders in Amazon.de's settlement)
        marketplace_name = MARKETPLACES[p.marketplace].name if p.transaction_type in ("Order", "Refund") else ""
        if p.marketplace_name is not None:
            marketplace_name = p.marketplace_name
        short = p.transaction_type == "Liquidations"  # no trailing promotion-id field, as real files
        posted_date, posted_time = local_date(p.posted_at, m), local_datetime(p.posted_at, m)
        # An MCF order has no principal line: its units go on its first (fee) line (the sandbox's assumption).
        fee_only = p.transaction_type == "Order" and not any(
            c.amount_type == "ItemPrice" and c.description == "Principal" for c in p.components)
        for index, c in enumerate(p.components):
            principal = (c.amount_type == "ItemPrice" and c.description == "Principal") or (fee_only and index == 0)
            quantity = str(p.quantity) if principal and p.quantity is not None else ""
            row = (sid, "", "", "", "", "", p.transaction_type, p.order_id, "", p.adjustment_id, p.shipment_id,
                   marketplace_name, c.amount_type, c.description, decimal_string(c.amount, m.decimal_comma),
                   p.fulfillment_id, posted_date, posted_time, p.order_item_code, "",
                   p.merchant_adjustment_item_id, p.sku, quantity, p.promotion_id)
            yield row[:-1] if short and not p.promotion_id else row


def render_settlement(settlement: Settlement) -> bytes:
    """The whole report document, in the settlement's charset (UTF-8 or Cp1252)."""
    lines = ["\t".join(COLUMNS)]
    lines.extend("\t".join(row) for row in settlement_rows(settlement))
    return ("\n".join(lines) + "\n").encode(settlement.charset)


def content_type(settlement: Settlement) -> str:
    return f"text/plain; charset={settlement.charset}"
