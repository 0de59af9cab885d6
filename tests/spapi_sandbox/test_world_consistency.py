"""The generated world adds up: settlement files sum to their totals, fees follow the rules except
where the truth says a discrepancy was planted, formats follow the marketplace, and the same
arguments always give the same bytes."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal

import pytest

from spapi_sandbox import fees
from spapi_sandbox.generate import build_world, utc_date
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.settlement_file import render_settlement
from spapi_sandbox.truth import truth, truth_json
from spapi_sandbox.world import DataArguments

CODE_BY_NAME = {m.name: m.code for m in MARKETPLACES.values()}

ARGS = DataArguments(seed=11, sellers=2, start="2026-01-01", days=120, orders_per_day=25)


@pytest.fixture(scope="module")
def world():
    return build_world(ARGS)


@pytest.fixture(scope="module")
def the_truth(world):
    return truth(world)


def parse_amount(text: str, decimal_comma: bool) -> Decimal:
    return Decimal(text.replace(",", ".") if decimal_comma else text)


def read_settlement(settlement) -> list[dict[str, str]]:
    text = render_settlement(settlement).decode(settlement.charset)
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def closed_settlements(world):
    return [st for s in world.sellers for st in s.settlements if st.closed]


def test_every_settlement_file_sums_to_its_total(world, the_truth):
    expected = {t["settlement_id"]: t for t in the_truth["settlements"]}
    assert len(expected) >= 20
    for st in closed_settlements(world):
        comma = MARKETPLACES[st.marketplace].decimal_comma
        rows = read_settlement(st)
        summary, lines = rows[0], rows[1:]
        total = parse_amount(summary["total-amount"], comma)
        assert sum(parse_amount(r["amount"], comma) for r in lines) == total
        assert total == Decimal(expected[st.settlement_id]["total"])
        assert len(lines) == expected[st.settlement_id]["lines"]
        assert summary["currency"] == MARKETPLACES[st.marketplace].currency


def test_fees_follow_the_rules_except_planted_discrepancies(world, the_truth):
    """Recompute every fee from the files, the catalog and Amazon's schedules in force on the purchase (or refund)
    date, as an auditor would; fee findings are keyed by their event (order item, refund adjustment)."""
    found = set()
    for seller in world.sellers:
        catalog = {p.sku: p for p in seller.products}
        purchased = {o.order_id: utc_date(o.purchased_at) for o in seller.orders}
        refunded = {p.adjustment_id: utc_date(p.posted_at) for p in seller.postings if p.transaction_type == "Refund"}
        # Multi-Channel Fulfilment orders were not bought on Amazon: their fee is the one in force when posted
        posted = {p.order_id: utc_date(p.posted_at) for p in seller.postings if p.transaction_type == "Order"}
        for st in seller.settlements:
            if not st.closed:
                continue
            comma = MARKETPLACES[st.marketplace].decimal_comma
            items: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
            quantities = {}
            sold_in = {}  # an item's own marketplace: Amazon.fr items are settled in Amazon.de's settlement
            for r in read_settlement(st)[1:]:
                if r["transaction-type"] in ("Order", "Refund"):
                    key = (r["transaction-type"], r["order-id"], r["order-item-code"], r["adjustment-id"])
                    cents = int(parse_amount(r["amount"], comma) * 100)
                    items[key][f'{r["amount-type"]}/{r["amount-description"]}'] += cents
                    quantities.setdefault(key, r["sku"])
                    sold_in.setdefault(key, CODE_BY_NAME.get(r["marketplace-name"], st.marketplace))
                    if r["quantity-purchased"]:
                        quantities[(key, "qty")] = int(r["quantity-purchased"])
            for key, amounts in items.items():
                product = catalog[quantities[key]]
                qty = quantities[(key, "qty")]
                if key[0] == "Order":
                    sold = "ItemPrice/Principal" in amounts  # not an MCF order: it was sold on Amazon
                    sales_price = (amounts["ItemPrice/Principal"] + amounts["ItemPrice/Shipping"]
                                   + amounts["Promotion/Principal"])
                    if sold:
                        due = fees.item_fees(sold_in[key], product.category, purchased[key[1]], sales_price, qty)
                        if -amounts["ItemFees/Commission"] != due.referral:
                            found.add(("referral_fee_overcharged", key[2],
                                       -amounts["ItemFees/Commission"] - due.referral))
                        if -amounts["ItemFees/VariableClosingFee"] != due.closing:
                            found.add(("closing_fee_overcharged", key[2],
                                       -amounts["ItemFees/VariableClosingFee"] - due.closing))
                    if amounts["ItemFees/FBAPerUnitFulfillmentFee"]:
                        on = purchased.get(key[1]) or posted[key[1]]
                        fba = fees.fba_fee_per_unit(product.size_tier, product.weight_g, sold_in[key], on) * qty
                        charged = -amounts["ItemFees/FBAPerUnitFulfillmentFee"]
                        if charged != fba:
                            found.add(("fba_fee_overcharged", key[2], charged - fba))
                else:
                    admin, _ = fees.refund_admin_fee_due(sold_in[key], product.category, refunded[key[3]],
                                                         amounts["ItemFees/Commission"])
                    if -amounts["ItemFees/RefundCommission"] != admin:
                        found.add(("refund_admin_fee_wrong", key[3],
                                   abs(-amounts["ItemFees/RefundCommission"] - admin)))
    fee_kinds = {"referral_fee_overcharged", "closing_fee_overcharged", "fba_fee_overcharged", "refund_admin_fee_wrong"}
    planted = {(d["kind"], d["reference_id"], int(Decimal(d["amount"]) * 100))
               for d in the_truth["discrepancies"] if d["kind"] in fee_kinds}
    assert {k for k, _, _ in planted} == fee_kinds  # the data really exercises every fee check
    assert found == planted


def test_fee_findings_are_planted_on_every_rule_shape_and_only_where_a_schedule_is_sourced(world, the_truth):
    """The truth's referral overcharges cover every shape of Amazon's schedules (flat, whole-price band, portion
    band, minimum) and none falls where no sourced rule is in force (Amazon.ca): those the product does not audit."""
    shapes, marketplaces = set(), set()
    for seller in world.sellers:
        items = {i.order_item_id: (o, i) for o in seller.orders for i in o.items}
        for d in the_truth["discrepancies"]:
            if d["seller_id"] != seller.account.seller_id or d["kind"] not in (
                    "referral_fee_overcharged", "closing_fee_overcharged", "refund_admin_fee_wrong"):
                continue
            marketplaces.add(d["marketplace_id"])
            if d["kind"] == "referral_fee_overcharged":
                order, item = items[d["reference_id"]]
                due = fees.item_fees(order.marketplace, item.category, utc_date(order.purchased_at),
                                     item.item_price + item.shipping_price - item.promotion_discount, item.quantity)
                assert due.rule is not None, d
                shapes.add(due.shape)
    assert shapes == {"flat", "whole_price", "portion", "minimum"}
    assert MARKETPLACES["CA"].marketplace_id not in marketplaces


def test_event_groups_agree_with_settlements_except_planted_deposits(world, the_truth):
    planted = {d["reference_id"]: d for d in the_truth["discrepancies"]
               if d["kind"] in ("deposit_missing", "deposit_mismatch")}
    assert {d["kind"] for d in planted.values()} == {"deposit_missing", "deposit_mismatch"}
    for st in closed_settlements(world):
        grouped = [p for s in world.sellers for p in s.postings if p.event_group_id == st.event_group_id]
        assert sum(p.total for p in grouped) == st.total
        if st.settlement_id in planted:
            finding = planted[st.settlement_id]
            transferred = st.transferred_amount or 0
            assert Decimal(finding["amount"]) * 100 == abs(st.total - transferred) or (
                finding["kind"] == "deposit_missing" and st.transferred_amount is None)
        elif st.total == 0:  # nothing to deposit: no transfer
            assert st.transferred_amount is None
        elif st.deposit_at <= world.now:
            assert st.fund_transfer_status == "Succeeded" and st.transferred_amount == st.total
        else:
            assert st.transferred_amount is None


def test_marketplace_formats_in_settlement_files(world):
    by_marketplace = {st.marketplace: read_settlement(st) for st in closed_settlements(world)}
    de, us, uk = by_marketplace["DE"], by_marketplace["US"], by_marketplace["UK"]
    assert "," in de[0]["total-amount"] and "." not in de[0]["total-amount"]
    assert de[0]["settlement-start-date"][2] == "." and de[0]["settlement-start-date"].endswith(" UTC")
    assert de[1]["posted-date"][2] == "."
    # The EU seller's EUR settlement, reported for Amazon.de, also settles its Amazon.fr orders (a real file):
    # their lines name Amazon.fr and are written in the file's German formats like every other line.
    orders = [r for r in de[1:] if r["transaction-type"] in ("Order", "Refund")]
    assert {r["marketplace-name"] for r in orders} == {"Amazon.de", "Amazon.fr"}
    french = [r for r in orders if r["marketplace-name"] == "Amazon.fr"]
    assert all("," in r["amount"] and r["posted-date"][2] == "." for r in french)
    assert "FR" not in by_marketplace  # no settlement of its own
    assert "." in us[0]["total-amount"] and us[0]["settlement-start-date"][4] == "-"
    # a real Amazon.co.uk file: 15.11.2024 08:59:45 UTC with 253.43
    assert uk[0]["settlement-start-date"][2] == "." and "," not in uk[0]["total-amount"]
    account_rows = [r for r in de if r["transaction-type"] == "other-transaction"]
    assert account_rows and all(r["marketplace-name"] == "" for r in account_rows)


def test_real_file_quirks_are_in_the_settlement_files(world):
    """Short FBA Liquidations lines, Non-Amazon (MCF) and Amazon.fr lines, Cp1252 documents."""
    settled = closed_settlements(world)
    raw = [(st, line.split("\t")) for st in settled
           for line in render_settlement(st).decode(st.charset).splitlines()[2:]]
    liquidations = [fields for _, fields in raw if fields[6] == "Liquidations"]
    assert liquidations and all(len(fields) == 23 and fields[11] == "" for fields in liquidations)
    assert {(fields[12], fields[13], fields[14][0] == "-") for fields in liquidations} == {
        ("ItemPrice", "Principal", False), ("ItemFees", "LiquidationsBrokerageFee", True)}
    assert all(len(fields) == 24 for _, fields in raw if fields[6] != "Liquidations")
    names = {(st.marketplace, fields[11]) for st, fields in raw}
    assert {("US", "Non-Amazon US"), ("CA", "Non-Amazon CA"), ("UK", "Non-Amazon UK"), ("DE", "Amazon.fr")} <= names
    cp1252 = [st for st in settled if st.charset == "Cp1252"]
    assert cp1252 and {MARKETPLACES[st.marketplace].region for st in cp1252} == {"EU"}


def test_fba_fee_rows_can_carry_a_shipment_id_in_order_id(world):
    rows = [r for st in closed_settlements(world) for r in read_settlement(st)[1:]
            if r["amount-description"] == "FBA Inbound Transportation Fee"]
    assert rows and all(r["order-id"].startswith("FBA15") for r in rows)


def test_reissued_settlements_and_reserves_are_present(world, the_truth):
    assert any(s["reissued"] for s in the_truth["settlements"])
    descriptions = {r["amount-description"] for st in closed_settlements(world) for r in read_settlement(st)}
    assert {"Current Reserve Amount", "Previous Reserve Amount Balance", "Storage Fee",
            "TransactionTotalAmount", "WAREHOUSE_LOST", "RefundCommission"} <= descriptions


def test_removals_liquidations_and_a_zero_total_settlement_are_present(world, the_truth):
    rows = [r for st in closed_settlements(world) for r in read_settlement(st)[1:]]
    labels = {(r["transaction-type"], r["amount-type"], r["amount-description"]) for r in rows}
    assert {("other-transaction", "other-transaction", "RemovalComplete"),
            ("other-transaction", "other-transaction", "DisposalComplete"),
            ("Liquidations", "ItemPrice", "Principal"),
            ("Liquidations", "ItemFees", "LiquidationsBrokerageFee")} <= labels
    zero = [s for s in the_truth["settlements"] if Decimal(s["total"]) == 0]
    assert zero and all(s["deposit"] is None for s in zero)
    assert not {s["settlement_id"] for s in zero} & {d["reference_id"] for d in the_truth["discrepancies"]}


def test_same_arguments_same_bytes():
    small = DataArguments(seed=3, sellers=2, days=45, orders_per_day=8)
    first, second = build_world(small), build_world(small)
    assert truth_json(first) == truth_json(second)
    assert [render_settlement(st) for s in first.sellers for st in s.settlements] == [
        render_settlement(st) for s in second.sellers for st in s.settlements]
    other_seed = build_world(DataArguments(seed=4, sellers=2, days=45, orders_per_day=8))
    assert truth_json(other_seed) != truth_json(first)


def test_more_days_extend_the_same_seller():
    """Prefix stability: the first 30 days are the same whatever --days says."""
    short = build_world(DataArguments(seed=5, sellers=1, days=30, orders_per_day=10))
    longer = build_world(DataArguments(seed=5, sellers=1, days=45, orders_per_day=10))
    cutoff = short.now
    assert [o.order_id for o in short.sellers[0].orders] == [
        o.order_id for o in longer.sellers[0].orders if o.purchased_at < cutoff]
    longer_closed = {st.settlement_id: st.total for st in longer.sellers[0].settlements if st.closed}
    for st in short.sellers[0].settlements:
        if st.closed:
            assert longer_closed[st.settlement_id] == st.total


def test_truth_lists_accounts_orders_and_canaries(world, the_truth):
    assert [a["seller_id"] for a in the_truth["accounts"]] == [s.account.seller_id for s in world.sellers]
    assert {a["region"] for a in the_truth["accounts"]} == {"NA", "EU"}
    assert sum(the_truth["orders"].values()) == sum(len(s.orders) for s in world.sellers) > 5000
    buyers = {v for s in world.sellers for o in s.orders
              for v in (o.buyer.name, o.buyer.email, o.buyer.phone, o.buyer.address_line1)}
    # four PII fields of the first order in each marketplace of each account
    marketplaces = sum(len(s.account.marketplace_codes) for s in world.sellers)
    assert len(the_truth["pii_canaries"]) == 4 * marketplaces and set(the_truth["pii_canaries"]) <= buyers
