"""Settlements in Amazon's older "Flat File" layout (Seller Central downloads, 33 or 36 columns) load as the
same V2 lines: written by hand like the real Amazon.ca files (CAD, ISO-8601 dates), and rendered by the
sandbox from the same world as its V2 files, whose lines they must equal.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dlt_sources.spapi.flatfiles import FlatFileError, parse_settlement
from dlt_sources.spapi.flatfiles.legacy_settlement import NO_AMOUNT, UNPLACED_QUANTITY
from spapi_sandbox.generate import build_world
from spapi_sandbox.settlement_file import FLAT_COLUMNS, LAYOUTS, render_settlement
from spapi_sandbox.world import DataArguments, Settlement, World

CA = "A2EUQ1WTGCTBG2"
WIDTH_33 = LAYOUTS["flat33"]  # assumed: the 36 without the merchant-* ids (no source names the three)
SID = "23918504711"
T = "2025-06-05T22:07:18+00:00"


def row(header: tuple[str, ...], **fields: str) -> str:
    """A row of `header`'s width: `price_amount="1.00"` fills price-amount; every other field is empty."""
    return "\t".join(fields.pop(column.replace("-", "_"), "") for column in header)


def ca_file(header: tuple[str, ...] = FLAT_COLUMNS, *extra: str, total: str = "-5.78") -> bytes:
    """A short Amazon.ca settlement as Seller Central's Flat File download lays it out: the summary row, an
    order (its quantity on a row of its own, then one row per amount), a refund, an MCF order, account rows."""
    order = {"settlement_id": SID, "transaction_type": "Order", "order_id": "702-1234567-1234567",
             "merchant_order_id": "702-1234567-1234567", "shipment_id": "DxYz1", "marketplace_name": "Amazon.ca",
             "fulfillment_id": "AFN", "posted_date": "2025-06-01T17:03:11+00:00", "order_item_code": "61234567890",
             "sku": "CA-SKU-1"}
    refund = {**order, "transaction_type": "Refund", "adjustment_id": "8765", "shipment_id": "",
              "posted_date": "2025-06-03T09:00:00-04:00", "merchant_adjustment_item_id": "4321"}
    account = {"settlement_id": SID, "posted_date": T}
    rows = [
        row(header, settlement_id=SID, settlement_start_date="2025-05-22T22:07:18+00:00",
            settlement_end_date=T, deposit_date="2025-06-07T22:07:18+00:00", total_amount=total, currency="CAD"),
        row(header, **order, quantity_purchased="2"),
        row(header, **order, price_type="Principal", price_amount="59.98"),
        row(header, **order, price_type="Tax", price_amount="7.80"),
        row(header, **order, item_related_fee_type="Commission", item_related_fee_amount="-9.00"),
        row(header, **order, item_related_fee_type="FBAPerUnitFulfillmentFee", item_related_fee_amount="-8.40"),
        row(header, **order, promotion_id="PROMO-1", promotion_type="Principal", promotion_amount="-5.00"),
        row(header, **order, shipment_fee_type="ShippingChargeback", shipment_fee_amount="-1.10"),
        row(header, **refund, price_type="Principal", price_amount="-29.99"),
        row(header, **refund, item_related_fee_type="Commission", item_related_fee_amount="4.50"),
        row(header, **refund, item_related_fee_type="RefundCommission", item_related_fee_amount="-0.90"),
        row(header, **{**order, "order_id": "MCF-1", "merchant_order_id": "", "marketplace_name": "Non-Amazon CA"},
            order_fee_type="FBAPerOrderFulfillmentFee", order_fee_amount="-1.00"),
        row(header, **account, transaction_type="other-transaction", other_fee_amount="-45.00",
            other_fee_reason_description="FBA Inbound Transportation Fee"),
        row(header, **account, transaction_type="Subscription Fee", other_amount="-29.99"),
        row(header, **account, transaction_type="Previous Reserve Amount Balance", other_amount="40.00"),
        row(header, **account, transaction_type="REVERSAL_REIMBURSEMENT", other_amount="12.32", sku="CA-SKU-1"),
        *extra,
    ]
    return ("\n".join(["\t".join(header), *rows]) + "\n").encode()


def parse(data: bytes, **options):
    parsed = parse_settlement(io.BytesIO(data), seller_id="A1SELLER", **options)
    rows = [r for table in parsed.lines for r in table.to_pylist()]
    return parsed, rows


def labels(rows: list[dict]) -> list[tuple]:
    return [(r["transaction_type"], r["amount_type"], r["amount_description"], r["amount"]) for r in rows]


EXPECTED = [
    ("Order", "ItemPrice", "Principal", Decimal("59.98")),
    ("Order", "ItemPrice", "Tax", Decimal("7.80")),
    ("Order", "ItemFees", "Commission", Decimal("-9.00")),
    ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", Decimal("-8.40")),
    ("Order", "Promotion", "Principal", Decimal("-5.00")),
    ("Order", "ShipmentFees", "ShippingChargeback", Decimal("-1.10")),
    ("Refund", "ItemPrice", "Principal", Decimal("-29.99")),
    ("Refund", "ItemFees", "Commission", Decimal("4.50")),
    ("Refund", "ItemFees", "RefundCommission", Decimal("-0.90")),
    ("Order", "ItemFees", "FBAPerOrderFulfillmentFee", Decimal("-1.00")),
    ("other-transaction", "other-transaction", "FBA Inbound Transportation Fee", Decimal("-45.00")),
    ("other-transaction", "other-transaction", "Subscription Fee", Decimal("-29.99")),
    ("other-transaction", "other-transaction", "Previous Reserve Amount Balance", Decimal("40.00")),
    ("other-transaction", "FBA Inventory Reimbursement", "REVERSAL_REIMBURSEMENT", Decimal("12.32")),
]


@pytest.mark.parametrize("header", [FLAT_COLUMNS, WIDTH_33], ids=["36 columns", "33 columns"])
def test_an_amazon_ca_flat_file_loads_every_amount_as_its_v2_line(header: tuple[str, ...]) -> None:
    parsed, rows = parse(ca_file(header), marketplace_id=CA)
    assert parsed.layout == "flat" and parsed.quarantine == []
    assert labels(rows) == EXPECTED
    assert sum(r["amount"] for r in rows) == parsed.summary["total_amount"] == parsed.stats.amount_sum
    assert parsed.summary["total_amount"] == Decimal("-5.78") and parsed.summary["currency"] == "CAD"
    assert parsed.summary["settlement_end_at"] == datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC)
    assert {r["currency"] for r in rows} == {"CAD"} and parsed.locale.code == "CA"
    assert {r["marketplace_name"]: r["marketplace_id"] for r in rows} == {
        "Amazon.ca": CA, "Non-Amazon CA": CA, None: CA}  # account rows: the report's marketplace
    # line number = file line * 10 + the amount column's place: the Principal row is line 4, price-amount 0
    assert [r["line_number"] for r in rows[:3]] == [40, 50, 61]
    assert len({r["line_number"] for r in rows}) == len(rows)
    # the quantity row's quantity goes to the next row's line (the principal), nowhere else
    assert [r["quantity_purchased"] for r in rows if r["quantity_purchased"] is not None] == [2]
    assert rows[0]["quantity_purchased"] == 2
    assert rows[0]["posted_at"] == datetime(2025, 6, 1, 17, 3, 11, tzinfo=UTC)
    assert rows[0]["posted_date"] == date(2025, 6, 1)
    refund = rows[6]
    # posted-date is the date as written; posted_at the instant in UTC
    assert refund["posted_date"] == date(2025, 6, 3) and refund["posted_at"] == datetime(2025, 6, 3, 13,
                                                                                         tzinfo=UTC)
    assert rows[4]["promotion_id"] == "PROMO-1"
    assert refund["merchant_adjustment_item_id"] == ("4321" if "merchant-adjustment-item-id" in header else None)


def test_any_subset_of_the_known_columns_loads() -> None:
    """Which three columns the 33-column files lack is not sourced: a file without direct payments and
    other-amount loads too (columns are found by header)."""
    header = tuple(c for c in FLAT_COLUMNS if c not in ("direct-payment-type", "direct-payment-amount",
                                                        "other-amount"))
    lines = ca_file(FLAT_COLUMNS).decode().splitlines()
    keep = [FLAT_COLUMNS.index(c) for c in header]
    kept = ["\t".join(line.split("\t")[i] for i in keep) for line in lines[:1] + [
        line for line in lines[1:] if not line.split("\t")[-1]]]  # rows with an other-amount are left out
    parsed, rows = parse(("\n".join(kept) + "\n").encode(), marketplace_id=CA)
    assert parsed.layout == "flat" and parsed.quarantine == []
    assert labels(rows) == EXPECTED[:11] and parsed.stats.missing_columns == (
        "direct-payment-type", "direct-payment-amount", "other-amount")


def test_direct_payments_misc_fees_and_marketplace_facilitator_tax_get_v2_labels() -> None:
    base = {"settlement_id": SID, "transaction_type": "Order", "order_id": "1", "posted_date": T}
    extra = (row(FLAT_COLUMNS, **base, direct_payment_type="CollectOnDeliveryRevenue", direct_payment_amount="-3.00"),
             row(FLAT_COLUMNS, **base, misc_fee_amount="-0.50"),
             row(FLAT_COLUMNS, **base, other_fee_amount="-0.25"),
             row(FLAT_COLUMNS, **base, price_type="MarketplaceFacilitatorTax-Principal", price_amount="-1.00"),
             row(FLAT_COLUMNS, **base, item_related_fee_type="MarketplaceFacilitatorTax-Shipping",
                 item_related_fee_amount="-0.40"),
             row(FLAT_COLUMNS, settlement_id=SID, transaction_type="Cost of Advertising", posted_date=T,
                 other_amount="-2.00"))
    parsed, rows = parse(ca_file(FLAT_COLUMNS, *extra, total="-12.93"), marketplace_id=CA)
    assert parsed.quarantine == []
    assert labels(rows)[len(EXPECTED):] == [
        ("Order", "DirectPayment", "CollectOnDeliveryRevenue", Decimal("-3.00")),
        ("Order", "other-transaction", "MiscFee", Decimal("-0.50")),
        ("Order", "other-transaction", "OtherFee", Decimal("-0.25")),
        ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", Decimal("-1.00")),
        ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping", Decimal("-0.40")),
        ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount", Decimal("-2.00")),
    ]
    assert sum(r["amount"] for r in rows) == parsed.summary["total_amount"]


def test_a_row_with_two_amounts_gives_two_lines_and_its_quantity_to_the_first() -> None:
    both = row(FLAT_COLUMNS, settlement_id=SID, transaction_type="Order", order_id="9", sku="S9", posted_date=T,
               quantity_purchased="3", price_type="Principal", price_amount="10.00",
               item_related_fee_type="Commission", item_related_fee_amount="-1.50")
    parsed, rows = parse(ca_file(FLAT_COLUMNS, both, total="2.72"), marketplace_id=CA)
    last = [r for r in rows if r["order_id"] == "9"]
    assert [(r["line_number"], r["amount"], r["quantity_purchased"]) for r in last] == [
        (180, Decimal("10.00"), 3), (181, Decimal("-1.50"), None)]
    assert parsed.quarantine == []


# --- what is quarantined ---------------------------------------------------------------------------------


def test_a_bad_amount_or_too_many_fields_is_quarantined_with_its_reason_and_short_lines_load() -> None:
    lines = ca_file().decode().rstrip("\n").split("\n")
    fields = lines[3].split("\t")
    fields[FLAT_COLUMNS.index("price-amount")] = "59,9x"
    lines[3] = "\t".join(fields)  # the Principal row (line 4)
    lines[4] += "\textra"  # the Tax row (line 5): 37 fields
    lines[13] = lines[13].rstrip("\t")  # the inbound transportation fee: its trailing empty fields left out
    assert lines[13].count("\t") < len(FLAT_COLUMNS) - 1
    parsed, rows = parse(("\n".join(lines) + "\n").encode(), marketplace_id=CA)
    reasons = {q["line_number"]: q["reason"] for q in parsed.quarantine}
    assert "price-amount: not a valid decimal ('59,9x')" in reasons[4]
    assert "expected 36 fields, found 37" in reasons[5]
    # the order's quantity row now precedes a quarantined row: its quantity has no line to go to
    assert reasons[3] == UNPLACED_QUANTITY
    assert sorted(reasons) == [3, 4, 5]
    assert labels(rows) == EXPECTED[2:] and parsed.stats.short_lines == 1
    assert sum(r["amount"] for r in rows) == parsed.summary["total_amount"] - Decimal("59.98") - Decimal("7.80")


def test_a_row_without_an_amount_and_a_stray_quantity_are_quarantined() -> None:
    extra = (row(FLAT_COLUMNS, settlement_id=SID, transaction_type="Order", order_id="7", price_type="Principal",
                 posted_date=T),
             row(FLAT_COLUMNS, settlement_id=SID, transaction_type="Order", order_id="8", sku="S8",
                 quantity_purchased="1", posted_date=T))
    parsed, rows = parse(ca_file(FLAT_COLUMNS, *extra), marketplace_id=CA)
    assert [(q["line_number"], q["reason"]) for q in parsed.quarantine] == [(18, NO_AMOUNT),
                                                                            (19, UNPLACED_QUANTITY)]
    assert parsed.quarantine[0]["raw_line"] == extra[0]
    assert labels(rows) == EXPECTED


def test_a_quantity_row_at_the_end_of_a_block_reaches_the_next_block() -> None:
    data = ca_file()
    header_end = data.index(b"\n") + 1
    quantity_row_end = data.index(b"\n", data.index(b"\n", header_end) + 1) + 1  # summary, then quantity row
    parsed, rows = parse(data, marketplace_id=CA, block_size=quantity_row_end - header_end, threads=False)
    assert parsed.quarantine == [] and rows[0]["quantity_purchased"] == 2
    assert labels(rows) == EXPECTED


def test_a_file_with_neither_layouts_amounts_still_names_the_missing_column() -> None:
    header = tuple(c for c in FLAT_COLUMNS if not c.endswith("-amount") or c == "total-amount")
    with pytest.raises(FlatFileError, match="amount"):
        parse_settlement(io.BytesIO(("\t".join(header) + "\n").encode()), seller_id="A1SELLER")


# --- the sandbox's settlements in both layouts: the same lines ---------------------------------------------


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(DataArguments(seed=11, sellers=2, start="2026-01-01", days=100, orders_per_day=6))


TWIN_KEY = ("amount_type", "amount_description", "amount", "sku", "order_id", "transaction_type", "posted_date",
            "posted_at", "quantity_purchased", "marketplace_id", "marketplace_name", "order_item_code",
            "adjustment_id", "shipment_id", "fulfillment_id", "promotion_id", "currency", "settlement_id")


def parsed_lines(st: Settlement, seller_id: str, layout: str):
    parsed = parse_settlement(io.BytesIO(render_settlement(st, layout)), seller_id=seller_id, charset=st.charset,
                              marketplace_id=None)
    tables = list(parsed.lines)
    return parsed, tables, [r for table in tables for r in table.to_pylist()]


def test_a_sandbox_settlement_rendered_in_either_layout_gives_the_same_lines(world: World) -> None:
    closed = [(s.account.seller_id, st) for s in world.sellers for st in s.settlements if st.closed]
    assert {st.marketplace for _, st in closed} >= {"US", "CA", "UK", "DE"}
    kinds = set()
    for seller_id, st in closed:
        v2, v2_tables, v2_rows = parsed_lines(st, seller_id, "v2")
        for layout in ("flat36", "flat33"):
            flat, tables, rows = parsed_lines(st, seller_id, layout)
            assert flat.layout == "flat" and flat.quarantine == [] and v2.quarantine == []
            assert Counter(tuple(r[k] for k in TWIN_KEY) for r in rows) == Counter(
                tuple(r[k] for k in TWIN_KEY) for r in v2_rows), (st.settlement_id, layout)
            assert {t.schema for t in tables} == {t.schema for t in v2_tables}
            # the summary is the same; only the locale's name differs (the dates are written differently)
            assert {**flat.summary, "locale": None} == {**v2.summary, "locale": None}
            assert flat.stats.amount_sum == v2.stats.amount_sum == flat.summary["total_amount"]
            assert len({r["line_number"] for r in rows}) == len(rows) == flat.stats.rows
        kinds |= {(r["transaction_type"], r["amount_type"]) for r in v2_rows}
    # the world exercises every kind of component the older layout has to carry
    assert {("Liquidations", "ItemPrice"), ("other-transaction", "FBA Inventory Reimbursement"),
            ("ServiceFee", "Cost of Advertising"), ("Refund", "Promotion")} <= kinds


def test_the_same_lines_whatever_the_block_size(world: World) -> None:
    _, st = max(((s.account.seller_id, st) for s in world.sellers for st in s.settlements if st.closed),
                        key=lambda pair: pair[1].line_count)
    data = render_settlement(st, "flat36")
    expected = parse(data, charset=st.charset)[1]
    for block_size in (1 << 10, 1500, 3001, 1 << 12):
        parsed, rows = parse(data, charset=st.charset, block_size=block_size)
        assert parsed.quarantine == [] and rows == expected, block_size


def test_every_line_of_a_flat_file_lands_in_its_category() -> None:
    """The labels the older layout brings are in the dbt seed, in the categories V2's labels have."""
    from tests.dbt_project.test_seeds import category_of, read_seed

    seed = read_seed("settlement_line_categories")
    base = {"settlement_id": SID, "transaction_type": "Order", "order_id": "1", "posted_date": T}
    extra = (row(FLAT_COLUMNS, **base, direct_payment_type="CollectOnDeliveryRevenue", direct_payment_amount="-3.00"),
             row(FLAT_COLUMNS, **base, misc_fee_amount="-0.50"),
             row(FLAT_COLUMNS, **base, price_type="MarketplaceFacilitatorTax-Principal", price_amount="-1.00"),
             row(FLAT_COLUMNS, settlement_id=SID, transaction_type="Cost of Advertising", posted_date=T,
                 other_amount="-2.00"))
    _, rows = parse(ca_file(FLAT_COLUMNS, *extra, total="-12.28"), marketplace_id=CA)
    categories = [category_of(seed, *label[:3]) for label in labels(rows)]
    assert categories == [
        "principal", "tax", "referral_fee", "fba_fulfillment_fee", "promotion", "other_fee",  # the order
        "refund", "referral_fee", "refund_commission",  # the refund
        "fba_fulfillment_fee", "other_fee", "other_fee", "reserve_released", "reimbursement",  # MCF, account
        "transfer", "other_fee", "withheld_tax", "ad_spend",
    ]
