"""The flat files of the requestable report types, rendered straight from the world (no server)."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from spapi_sandbox.fees import estimated_fees, fba_fee_per_unit
from spapi_sandbox.generate import build_world
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.report_documents import (
    ALL_ORDERS,
    ALL_ORDERS_HEADER,
    FBA_ESTIMATED_FEES,
    FBA_ESTIMATED_FEES_HEADER,
    FBA_INVENTORY,
    FBA_INVENTORY_HEADER,
    FBA_REIMBURSEMENTS,
    FBA_REIMBURSEMENTS_HEADER,
    INVENTORY_LEDGER,
    INVENTORY_LEDGER_HEADER,
    MERCHANT_LISTINGS,
    MERCHANT_LISTINGS_HEADER,
    REPORTS,
    DocumentScope,
    gzip_report,
    iso,
    money,
    render_report,
)
from spapi_sandbox.world import SellerWorld, World
from tests.conftest import TEST_ARGUMENTS


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(TEST_ARGUMENTS)


def seller_in(world: World, region: str) -> SellerWorld:
    return next(s for s in world.sellers if s.account.region == region)


def whole_history(world: World, *codes: str) -> DocumentScope:
    ids = tuple(MARKETPLACES[c].marketplace_id for c in codes)
    return DocumentScope(ids, 0, world.now)


def parse(document: bytes, quoted: bool = False) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(document.decode("utf-8")), delimiter="\t",
                            quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def cents(text: str) -> int:
    whole, _, frac = text.lstrip("-").partition(".")
    value = int(whole) * 100 + int(frac)
    return -value if text.startswith("-") else value


def test_money_and_iso_formats():
    assert [money(v, "USD") for v in (0, 5, 1234, -50, -123456)] == ["0.00", "0.05", "12.34", "-0.50", "-1234.56"]
    assert [money(v, "JPY") for v in (0, 1980, -115)] == ["0", "1980", "-115"]  # whole yen: no minor unit
    assert iso(1767225600) == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize("report_type, header", [
    (ALL_ORDERS, ALL_ORDERS_HEADER), (MERCHANT_LISTINGS, MERCHANT_LISTINGS_HEADER),
    (FBA_INVENTORY, FBA_INVENTORY_HEADER), (FBA_REIMBURSEMENTS, FBA_REIMBURSEMENTS_HEADER),
    (FBA_ESTIMATED_FEES, FBA_ESTIMATED_FEES_HEADER), (INVENTORY_LEDGER, INVENTORY_LEDGER_HEADER),
])
def test_every_document_is_tab_separated_utf8_with_its_header(world, report_type, header):
    seller = seller_in(world, "EU")
    document = render_report(report_type, seller, whole_history(world, "DE"))
    lines = document.decode("utf-8").split("\n")
    assert lines[-1] == ""  # ends with a newline
    names, rows = parse(document, quoted=REPORTS[report_type].quote_all)
    assert names == list(header)
    assert rows, f"{report_type} has no rows for the whole history"
    assert all(None not in row and len(row) == len(header) for row in rows)
    assert "\r" not in document.decode("utf-8")


def test_all_orders_rows_match_the_world(world):
    seller = seller_in(world, "NA")
    start, end = world.now - 30 * 86400, world.now - 10 * 86400
    scope = DocumentScope((MARKETPLACES["CA"].marketplace_id,), start, end)
    _, rows = parse(render_report(ALL_ORDERS, seller, scope))
    orders = [o for o in seller.orders if o.marketplace == "CA" and start <= o.last_updated_at <= end]
    assert len(rows) == sum(len(o.items) for o in orders) > 0
    by_key = {(r["amazon-order-id"], r["sku"]): r for r in rows}
    products = {p.sku: p for p in seller.products}
    for order in orders:
        for item in order.items:
            row = by_key[(order.order_id, item.sku)]
            assert row["purchase-date"] == iso(order.purchased_at)
            assert row["order-status"] == {"Canceled": "Cancelled"}.get(order.status, order.status)
            channel = "Amazon" if order.fulfillment_channel == "AFN" else "Merchant"
            assert row["fulfillment-channel"] == channel
            assert row["sales-channel"] == "Amazon.ca" and row["currency"] == "CAD"
            assert row["asin"] == products[item.sku].asin
            assert int(row["quantity"]) == item.quantity
            assert cents(row["item-price"]) == item.item_price
            assert cents(row["item-tax"]) == item.item_tax
            assert cents(row["shipping-price"]) == item.shipping_price
            assert cents(row["item-promotion-discount"]) == -item.promotion_discount
            assert row["promotion-ids"] == item.promotion_id
            assert row["ship-city"] == order.buyer.city and row["ship-country"] == order.buyer.country_code
            assert row["is-business-order"] == ("true" if order.is_business else "false")


def test_all_orders_carries_the_ship_to_place_but_no_buyer_name_email_or_phone(world):
    seller = seller_in(world, "EU")
    document = render_report(ALL_ORDERS, seller, whole_history(world, "UK", "DE")).decode("utf-8")
    assert any(o.buyer.postal_code in document for o in seller.orders)
    for order in seller.orders:
        for value in (order.buyer.name, order.buyer.email, order.buyer.phone, order.buyer.address_line1):
            assert value not in document
    assert world.pii_canaries and not [c for c in world.pii_canaries if c in document]


def test_merchant_listings_one_row_per_listing(world):
    seller = seller_in(world, "NA")
    _, rows = parse(render_report(MERCHANT_LISTINGS, seller, whole_history(world, "US")))
    assert [r["seller-sku"] for r in rows] == [p.sku for p in seller.products if "US" in p.prices]
    for row, product in zip(rows, seller.products, strict=True):
        assert cents(row["price"]) == product.prices["US"]
        assert row["asin1"] == row["product-id"] == product.asin
        if product.fulfillment_channel == "AFN":
            assert row["fulfillment-channel"] == "AMAZON_NA" and row["quantity"] == ""
        else:
            assert row["fulfillment-channel"] == "DEFAULT" and int(row["quantity"]) > 0
    assert len({r["listing-id"] for r in rows}) == len(rows)


def test_fba_inventory_lists_fba_skus_with_consistent_quantities(world):
    seller = seller_in(world, "EU")
    _, rows = parse(render_report(FBA_INVENTORY, seller, whole_history(world, "UK")))
    assert [r["sku"] for r in rows] == [p.sku for p in seller.products if p.fulfillment_channel == "AFN"]
    for row in rows:
        warehouse = sum(int(row[k]) for k in ("afn-fulfillable-quantity", "afn-unsellable-quantity",
                                              "afn-reserved-quantity"))
        inbound = sum(int(row[k]) for k in ("afn-inbound-working-quantity", "afn-inbound-shipped-quantity",
                                            "afn-inbound-receiving-quantity"))
        assert int(row["afn-warehouse-quantity"]) == warehouse
        assert int(row["afn-total-quantity"]) == warehouse + inbound
        assert row["afn-listing-exists"] == "Yes" and row["mfn-listing-exists"] == "No"


def test_reimbursements_in_the_window(world):
    seller = seller_in(world, "EU")
    start, end = world.now - 40 * 86400, world.now
    scope = DocumentScope((MARKETPLACES["UK"].marketplace_id, MARKETPLACES["DE"].marketplace_id), start, end)
    _, rows = parse(render_report(FBA_REIMBURSEMENTS, seller, scope))
    expected = sorted((r for r in seller.reimbursements if start <= r.approved_at <= end),
                      key=lambda r: (r.approved_at, r.reimbursement_id))
    assert [r["reimbursement-id"] for r in rows] == [r.reimbursement_id for r in expected]
    for row, reimbursement in zip(rows, expected, strict=True):
        assert row["approval-date"] == iso(reimbursement.approved_at)
        assert row["currency-unit"] == MARKETPLACES[reimbursement.marketplace].currency
        assert cents(row["amount-per-unit"]) == reimbursement.amount_per_unit
        assert cents(row["amount-total"]) == reimbursement.amount_total
        assert int(row["quantity-reimbursed-total"]) == reimbursement.quantity
        assert row["reason"] == reimbursement.reason


def test_estimated_fees_are_the_expected_fees_the_orders_were_charged_against(world):
    seller = seller_in(world, "NA")
    _, rows = parse(render_report(FBA_ESTIMATED_FEES, seller, whole_history(world, "US", "CA")))
    products = {p.sku: p for p in seller.products}
    assert {(r["sku"], r["amazon-store"]) for r in rows} == {
        (p.sku, code) for p in seller.products if p.fulfillment_channel == "AFN" for code in ("US", "CA")}
    for row in rows:
        product = products[row["sku"]]
        price = product.prices[row["amazon-store"]]
        # the FBA fee in force on the report's day (the world's last), as Amazon's report gives today's only
        fulfilment = fba_fee_per_unit(product.size_tier, product.weight_g, row["amazon-store"],
                                      datetime.fromtimestamp(world.now, UTC).date())
        assert cents(row["expected-fulfillment-fee-per-unit"]) == fulfilment
        # the schedule in force on the report's last day (fee_schedules), as the settlements charge
        referral, closing = estimated_fees(row["amazon-store"], product.category,
                                           datetime.fromtimestamp(world.now, UTC).date(), price)
        assert cents(row["estimated-referral-fee-per-unit"]) == referral
        assert cents(row["estimated-variable-closing-fee"]) == closing
        assert cents(row["estimated-fee-total"]) == referral + closing + fulfilment
        assert row["product-size-tier"] == product.size_tier
        assert row["currency"] == MARKETPLACES[row["amazon-store"]].currency
        assert row["unit-of-dimension"] == "inches" and row["unit-of-weight"] == "pounds"
    # The generator's expected FBA fee of every US FBA order item bought since Amazon's 2026-01-15 change (S9) is
    # exactly this fee per unit; one bought before it, the fee 0.08 lower in force then (fees.FBA_FEE_STEPS).
    fee_per_sku = {r["sku"]: cents(r["expected-fulfillment-fee-per-unit"]) for r in rows
                   if r["amazon-store"] == "US"}
    change = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
    items = [(o.purchased_at >= change, i) for o in seller.orders
             if o.fulfillment_channel == "AFN" and o.marketplace == "US" for i in o.items]
    assert {after for after, _ in items} == {False, True}  # the world spans the change
    assert all(i.fba_fee_expected == (fee_per_sku[i.sku] - (0 if after else 8)) * i.quantity for after, i in items)


def test_estimated_fees_use_metric_units_in_europe(world):
    _, rows = parse(render_report(FBA_ESTIMATED_FEES, seller_in(world, "EU"), whole_history(world, "DE")))
    assert {(r["unit-of-dimension"], r["unit-of-weight"], r["currency"]) for r in rows} == {
        ("centimeters", "kilograms", "EUR")}


def test_ledger_has_lost_and_damaged_units_as_adjustments(world):
    seller = seller_in(world, "EU")
    _, rows = parse(render_report(INVENTORY_LEDGER, seller, whole_history(world, "UK", "DE")), quoted=True)
    expected = sorted(seller.lost_units, key=lambda u: (u.happened_at, u.event_id))
    assert [r["Reference ID"] for r in rows] == [u.event_id for u in expected] and rows
    reimbursed = {r.lost_event_id: r.quantity for r in seller.reimbursements}
    for row, unit in zip(rows, expected, strict=True):
        assert row["Event Type"] == "Adjustments"
        assert row["Reason"] == {"Lost_Warehouse": "M", "Damaged_Warehouse": "E"}[unit.reason]
        assert int(row["Quantity"]) == -unit.quantity
        assert int(row["Reconciled Quantity"]) == -reimbursed.get(unit.event_id, 0)
        assert int(row["Reconciled Quantity"]) + int(row["Unreconciled Quantity"]) == -unit.quantity
        assert row["MSKU"] == unit.sku
        assert row["Country"] == {"UK": "GB", "DE": "DE"}[unit.marketplace]
        assert row["Date"] == datetime.fromtimestamp(unit.happened_at, UTC).strftime("%m/%d/%Y")
    raw = render_report(INVENTORY_LEDGER, seller, whole_history(world, "UK", "DE")).decode("utf-8")
    assert raw.startswith('"Date"\t"FNSKU"\t"ASIN"\t"MSKU"\t')  # the ledger quotes every field


def test_gzip_is_deterministic_and_round_trips(world):
    seller = seller_in(world, "NA")
    scope = whole_history(world, "US")
    first, second = gzip_report(ALL_ORDERS, seller, scope), gzip_report(ALL_ORDERS, seller, scope)
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # gzip header mtime is zero
    assert gzip.decompress(first) == render_report(ALL_ORDERS, seller, scope)
    assert gzip_report(ALL_ORDERS, build_world(TEST_ARGUMENTS).sellers[seller.account.index], scope) == first


def test_separators_inside_values_never_break_the_columns(world):
    seller = seller_in(world, "NA")
    product = replace(seller.products[0], title="Chef\tKnife\nPro \"8 inch\"")
    tricky = replace(seller, products=[product, *seller.products[1:]])
    _, rows = parse(render_report(MERCHANT_LISTINGS, tricky, whole_history(world, "US")))
    assert rows[0]["item-name"] == 'Chef Knife Pro "8 inch"'
    assert rows[0]["seller-sku"] == product.sku and len(rows) == len(seller.products)
