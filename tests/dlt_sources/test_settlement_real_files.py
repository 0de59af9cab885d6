"""Settlement documents shaped like real ones (the quirks come from real files described in the issue):
FBA Liquidations lines one field short, UK dot dates with dot decimals, an EU seller's EUR settlement
with Amazon.fr and Non-Amazon (Multi-Channel Fulfilment) lines, Cp1252 and UTF-8-with-BOM documents.

Each document is small and written by hand, field by field, as the real files lay them out: every line
loads, the lines sum to total-amount and each line gets its marketplace.
"""

from __future__ import annotations

import io
from decimal import Decimal

from dlt_sources.spapi.flatfiles import parse_settlement

HEADER = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
    "currency", "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
    "marketplace-name", "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date",
    "posted-date-time", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku",
    "quantity-purchased", "promotion-id",
)
US, CA, UK, DE, FR = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"


def summary(sid: str, start: str, end: str, deposit: str, total: str, currency: str) -> str:
    return "\t".join((sid, start, end, deposit, total, currency) + ("",) * 18)


def line(sid: str, ttype: str, order_id: str, marketplace: str, amount_type: str, description: str, amount: str,
         posted: str, posted_time: str, sku: str = "", quantity: str = "", fulfillment: str = "AFN",
         trailing: bool = True) -> str:
    """A detail line; trailing=False omits the last (promotion-id) field as FBA Liquidations lines do."""
    fields = [sid, "", "", "", "", "", ttype, order_id, "", "", "", marketplace, amount_type, description, amount,
              fulfillment, posted, posted_time, "", "", "", sku, quantity, ""]
    return "\t".join(fields if trailing else fields[:-1])


def document(*lines: str, encoding: str = "utf-8", bom: bool = False, newline: str = "\n") -> bytes:
    data = newline.join(("\t".join(HEADER), *lines)).encode(encoding) + newline.encode()
    return (b"\xef\xbb\xbf" if bom else b"") + data


def parse(data: bytes, **options):
    parsed = parse_settlement(io.BytesIO(data), seller_id="A1SELLER", **options)
    rows = [row for table in parsed.lines for row in table.to_pylist()]
    return parsed, rows


def assert_reconciles(parsed, rows, count: int) -> None:
    assert parsed.quarantine == []
    assert len(rows) == count
    assert sum(r["amount"] for r in rows) == parsed.summary["total_amount"] == parsed.stats.amount_sum


# --- Amazon.com: FBA Liquidations lines omit the trailing promotion-id field ---------------------------


def us_liquidations() -> bytes:
    sid = "24087615392"
    t = "2024-10-05 09:12:44 UTC"
    return document(
        summary(sid, "2024-09-25 14:28:38 UTC", "2024-10-09 14:28:38 UTC", "2024-10-11 14:28:38 UTC", "38.07",
                "USD"),
        line(sid, "Order", "113-1234567-1234567", "Amazon.com", "ItemPrice", "Principal", "24.99", "2024-10-01",
             "2024-10-01 17:03:11 UTC", "SKU-1", "1"),
        line(sid, "Order", "113-1234567-1234567", "Amazon.com", "ItemFees", "Commission", "-3.75", "2024-10-01",
             "2024-10-01 17:03:11 UTC", "SKU-1"),
        line(sid, "Liquidations", "", "", "ItemPrice", "Principal", "19.54", "2024-10-05", t, "SKU-2", "2",
             trailing=False),
        line(sid, "Liquidations", "", "", "ItemFees", "LiquidationsBrokerageFee", "-2.71", "2024-10-05", t,
             "SKU-2", trailing=False),
    )


def test_short_liquidations_lines_load_with_the_missing_field_empty() -> None:
    parsed, rows = parse(us_liquidations(), marketplace_id=US)
    assert_reconciles(parsed, rows, 4)
    assert parsed.stats.short_lines == 2
    liquidations = [r for r in rows if r["transaction_type"] == "Liquidations"]
    assert [(r["line_number"], r["amount"], r["promotion_id"]) for r in liquidations] == [
        (5, Decimal("19.54"), None), (6, Decimal("-2.71"), None)]
    assert {r["marketplace_id"] for r in rows} == {US}  # empty marketplace-name: the report's marketplace
    assert liquidations[0]["quantity_purchased"] == 2


def test_a_line_with_too_many_fields_or_a_bad_amount_is_still_quarantined() -> None:
    lines = us_liquidations().decode().rstrip("\n").split("\n")
    lines[3] += "\textra"  # 25 fields
    fields = lines[4].split("\t")
    fields[HEADER.index("amount")] = "19,5x"
    lines[4] = "\t".join(fields)  # a short line whose amount does not parse
    parsed, rows = parse(("\n".join(lines) + "\n").encode(), marketplace_id=US)
    reasons = {q["line_number"]: q["reason"] for q in parsed.quarantine}
    assert sorted(reasons) == [4, 5]
    assert "expected 24 fields, found 25" in reasons[4]
    assert "amount: not a valid decimal" in reasons[5]
    assert [r["line_number"] for r in rows] == [3, 6]


def test_a_short_line_that_lost_its_amount_is_quarantined() -> None:
    sid = "1"
    data = document(summary(sid, "2024-09-25 14:28:38 UTC", "2024-10-09 14:28:38 UTC", "", "0.00", "USD"),
                    "\t".join([sid, "", "", "", "", "", "Order", "113-1"]))
    parsed, rows = parse(data)
    assert rows == [] and "amount: missing" in parsed.quarantine[0]["reason"]
