"""Generate the seller world from the data arguments, deterministically and to the cent.

Every random draw comes from a generator seeded by (seed, seller, marketplace, day), so the
first N days of a world are the same whatever --days says: a sandbox restarted with more days
looks like the same seller a few days later (orders ship, settlements close, deferred money is
released), which is what incremental loads need to be tested against. Only facts that depend
on "now" (statuses, what exists yet, what the truth can already call a discrepancy) change.

Why one module of ~470 lines: `_SellerBuilder` is one seller's day-by-day story (orders, shipments,
settlements, deferred money, reimbursements, the planted discrepancies), drawn from one random stream per
day; split across modules, the order of draws that makes worlds prefix-stable would be hard to see.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import string
from collections import defaultdict
from datetime import UTC, date, datetime

from spapi_sandbox import fees, people
from spapi_sandbox.catalog import build_catalog
from spapi_sandbox.charsets import MARKETPLACE_CHARSETS
from spapi_sandbox.marketplaces import MARKETPLACES, ORDER_SHARE, REGION_MARKETPLACES, settlement_marketplace
from spapi_sandbox.world import (
    Account,
    Component,
    DataArguments,
    Discrepancy,
    LostUnits,
    Order,
    OrderItem,
    Posting,
    Product,
    Reimbursement,
    SellerWorld,
    Settlement,
    World,
)

DAY = 86_400
HOUR = 3_600
SETTLEMENT_PERIOD_DAYS = 14
REPORT_AFTER_PERIOD_END = DAY  # Amazon generates the settlement report about a day after the period
DEPOSIT_AFTER_REPORT = DAY
RESERVE_PERCENT = 7  # of a period's principal, held back and released with the next settlement
# The truth only calls something missing once a reasonable seller would: these are the grace periods.
UNSETTLED_AFTER_DAYS = 30  # a shipped order with no settlement line this long after shipping
UNREIMBURSED_AFTER_DAYS = 45  # lost or damaged units with no reimbursement this long after the loss

MFN_SHIPPING = {"US": 499, "CA": 699, "UK": 399, "DE": 449, "FR": 449}
SUBSCRIPTION_FEE = {"US": 3999, "CA": 2999, "UK": 2500, "DE": 3900}
REMOVAL_ORDER_SHARE = 0.05  # of marketplace-days on which a removal, disposal or liquidation order completes
LIQUIDATION_MARKETPLACES = ("US",)  # SP-API financesV0 FBALiquidationEvent: "used only in the US marketplace"
# Every so many settlements, Amazon holds the first marketplace's whole balance in reserve: the settlement totals
# 0.00 and the next one releases it (DESIGN.md: real settlements can total 0.00; the reserve lines are those of
# Seller Central's Transaction view help, 200378780).
ZERO_TOTAL_EVERY = 6
ZERO_TOTAL_AT = 3
# The k-th settlement of each seller's first marketplace: its financial summary (listSummary) disagrees with its
# file by a few currency units. Chosen by position and sized by a hash, not drawn: existing draws stay as they were.
SUMMARY_MISMATCH_AT = 4
ORDER_ID_PREFIX = {"US": ("111", "112", "113", "114"), "CA": ("701", "702"), "UK": ("202", "203", "204"),
                   "DE": ("302", "303", "304", "028"),
                   "FR": ("402", "403", "404")}  # Amazon.fr: 402- as in the EUR file of test_settlement_real_files
ALNUM = string.ascii_uppercase + string.digits
# Amazon.co.jp, in whole yen: the Professional plan (大口出品) is 4,900 yen a month before tax (Amazon's fee page
# services.amazon.co.jp/services/sell-on-amazon/fee.html, as quoted by hideandseek.co.jp/archives/1335); JP order ids
# look like 503-3718261-3217429 (a JP order in github.com/jrl84/amazon-sp-api/issues/142).
MFN_SHIPPING["JP"] = 500
SUBSCRIPTION_FEE["JP"] = 4900
ORDER_ID_PREFIX["JP"] = ("249", "250", "503")


def epoch_of(day: str) -> int:
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).timestamp())


def utc_date(epoch: int) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def period_reserve(postings: list[Posting]) -> int:
    """What Amazon holds back when a period closes: RESERVE_PERCENT of its order principal."""
    principal = sum(c.amount for p in postings for c in p.components
                    if p.transaction_type == "Order" and c.description == "Principal" and c.amount_type == "ItemPrice")
    return fees.round_half_up(max(principal, 0) * RESERVE_PERCENT, 100)


def _hashed(text: str) -> int:
    """A stable number from text, for values that must not consume a random draw."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _token(*parts: object, length: int = 43) -> str:
    """A deterministic opaque id (Amazon's event group ids and the like look like this)."""
    raw = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")[:length]


def build_world(args: DataArguments) -> World:
    start = epoch_of(args.start)
    now = start + args.days * DAY
    sellers, discrepancies, canaries = [], [], []
    for index in range(args.sellers):
        seller, found, seller_canaries = _build_seller(args, index, start, now)
        sellers.append(seller)
        discrepancies.extend(found)
        canaries.extend(seller_canaries)
    return World(arguments=args, now=now, sellers=sellers, discrepancies=discrepancies,
                 pii_canaries=canaries)


def _build_account(args: DataArguments, index: int, start: int) -> Account:
    rng = _rng(args.seed, "account", index)
    region = args.regions[index % len(args.regions)]
    return Account(
        index=index,
        seller_id="A" + "".join(rng.choices(ALNUM, k=13)),
        name=f"{rng.choice(('Northwind', 'Brightpeak', 'Kestrel', 'Tidewater'))} Trading {index + 1}",
        region=region,
        marketplace_codes=REGION_MARKETPLACES[region],
        lwa_client_id="amzn1.application-oa2-client." + "".join(rng.choices("0123456789abcdef", k=32)),
        lwa_client_secret="amzn1.oa2-cs.v1." + "".join(rng.choices("0123456789abcdef", k=64)),
        refresh_token="Atzr|" + "".join(rng.choices(string.ascii_letters + string.digits, k=96)),
        secret_issued_date=utc_date(start - rng.randrange(0, 200) * DAY).isoformat(),
    )


class _SellerBuilder:
    """Builds one seller's orders, postings and settlements; collects the planted discrepancies."""

    def __init__(self, args: DataArguments, index: int, start: int, now: int) -> None:
        self.args, self.index, self.start, self.now = args, index, start, now
        self.account = _build_account(args, index, start)
        self.products = build_catalog(_rng(args.seed, "catalog", index), index,
                                      self.account.marketplace_codes, start)
        self.products_by_channel: dict[str, list[Product]] = defaultdict(list)
        for product in self.products:
            self.products_by_channel[product.fulfillment_channel].append(product)
        self.orders: list[Order] = []
        self.postings: list[Posting] = []
        self.lost: list[LostUnits] = []
        self.reimbursements: list[Reimbursement] = []
        self.canaries: list[str] = []
        # Planted findings waiting for their posting's settlement to close: (posting, kind, ref, amount).
        self.pending_fee_findings: list[tuple[Posting, str, str, int]] = []
        # Fee rule shapes (flat, whole_price, portion, minimum, closing_fee) already planted once on this seller
        self.planted_shapes: set[str] = set()
        self.findings: list[Discrepancy] = []
        self.principal_by_day: dict[tuple[str, int], int] = defaultdict(int)
        # The marketplaces with a settlement of their own (FR's lines go into DE's: marketplaces.py).
        self.settlement_codes = tuple(c for c in self.account.marketplace_codes if settlement_marketplace(c) == c)

    def finding(self, kind: str, marketplace: str, reference_id: str, amount: int) -> None:
        m = MARKETPLACES[marketplace]
        self.findings.append(Discrepancy(kind, self.account.seller_id, m.marketplace_id, reference_id,
                                         amount, m.currency))

    # Orders ---------------------------------------------------------------------------------------

    def build_orders(self, mkt: str, day: int) -> None:
        rng = _rng(self.args.seed, "orders", self.index, mkt, day)
        expected = self.args.orders_per_day * ORDER_SHARE[mkt] * (1 + 0.25 * math.sin(day * 2 * math.pi / 7))
        count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        for k in range(count):
            # Each order draws from its own generator: what "now" reveals of one order (a shipment, a
            # refund) must not shift the draws of the next.
            order_rng = _rng(self.args.seed, "order", self.index, mkt, day, k)
            canary = day == 0 and k == 0  # the first order of each marketplace: prefix-stable
            self.build_order(order_rng, mkt, self.start + day * DAY, day, canary)

    def build_order(self, rng: random.Random, mkt: str, day_start: int, day: int, canary: bool) -> None:
        purchased_at = day_start + rng.randrange(DAY)
        channel = "AFN" if rng.random() < 0.8 else "MFN"
        choices = self.products_by_channel.get(channel) or self.products
        channel = choices[0].fulfillment_channel
        n_items = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
        picked = rng.sample(choices, min(n_items, len(choices)))
        if canary:
            tag = "".join(rng.choices(ALNUM, k=6))
            buyer, values = people.canary_buyer(rng, mkt, tag)
            _, tax_rate = people.buyer(rng, mkt)
            self.canaries.extend(values)
        else:
            buyer, tax_rate = people.buyer(rng, mkt)
        order_id = f"{rng.choice(ORDER_ID_PREFIX[mkt])}-{_digits(rng, 7)}-{_digits(rng, 7)}"
        cancelled = rng.random() < 0.02
        cancel_at = purchased_at + rng.randrange(HOUR, 6 * HOUR)
        ship_delay = rng.randrange(2 * HOUR, 30 * HOUR) if channel == "AFN" else rng.randrange(20 * HOUR, 60 * HOUR)
        shipped_at = purchased_at + ship_delay
        delivered_at = shipped_at + rng.randrange(1, 5) * DAY + rng.randrange(DAY)
        items = [self.build_item(rng, mkt, product, channel, tax_rate, first=i == 0,
                                 purchased_on=utc_date(purchased_at))
                 for i, (product) in enumerate(picked)]
        plant = items[0][1]  # at most one fee discrepancy per order: see build_item
        items = [item for item, _ in items]
        fate = rng.random()
        refund_at = delivered_at + rng.randrange(2, 25) * DAY + rng.randrange(DAY)
        wrong_admin_fee = rng.random() < 0.15 and self.args.fee_overcharges
        order = Order(
            order_id=order_id, seller_id=self.account.seller_id, marketplace=mkt, purchased_at=purchased_at,
            last_updated_at=purchased_at, status="Pending", fulfillment_channel=channel,
            ship_service_level="Expedited" if channel == "AFN" else "Standard",
            is_prime=channel == "AFN", is_business=rng.random() < 0.05,
            shipped_at=None, delivered_at=None, buyer=buyer, items=items,
        )
        self.orders.append(order)
        if cancelled:
            if cancel_at <= self.now:
                order.status, order.last_updated_at = "Canceled", cancel_at
            return
        for item in items:
            self.principal_by_day[(mkt, day)] += item.item_price - item.promotion_discount
        if shipped_at > self.now:
            order.status = "Pending" if purchased_at + HOUR > self.now else "Unshipped"
            return
        order.status, order.shipped_at, order.last_updated_at = "Shipped", shipped_at, shipped_at
        order.delivered_at = delivered_at if delivered_at <= self.now else None
        if plant is None and 0.04 <= fate < 0.043:
            order.settled = False  # planted: Amazon never settles this shipment
            if shipped_at + UNSETTLED_AFTER_DAYS * DAY <= self.now:
                self.finding("order_not_settled", mkt, order_id, order.total)
            return
        shipment_id = "".join(rng.choices(string.ascii_letters + string.digits, k=9))
        for item in items:
            posting = self.order_posting(order, item, shipment_id)
            if plant is not None and item is items[0]:
                # fee findings are keyed by their event: the order item
                self.pending_fee_findings.append((posting, plant[0], item.order_item_id, plant[1]))
                self.planted_shapes.add(plant[2])
        if plant is None and fate < 0.04 and refund_at <= self.now:
            self.refund(rng, order, items[0], refund_at, wrong_admin_fee)

    def build_item(self, rng: random.Random, mkt: str, product: Product, channel: str, tax_rate: int,
                   first: bool, purchased_on: date) -> tuple[OrderItem, tuple[str, int, str] | None]:
        quantity = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
        price = product.prices[mkt] * quantity
        discount = (price // 10) if rng.random() < 0.1 else 0
        shipping = MFN_SHIPPING[mkt] if channel == "MFN" and first else 0
        withheld = MARKETPLACES[mkt].sales_tax_withheld
        item_tax = fees.round_half_up((price - discount) * tax_rate, 100_000) if withheld else 0
        shipping_tax = fees.round_half_up(shipping * tax_rate, 100_000) if withheld else 0
        due = fees.item_fees(mkt, product.category, purchased_on, price + shipping - discount, quantity)
        referral, closing = due.referral, due.closing
        fba = fees.fba_fee_per_unit(product.size_tier, product.weight_g, mkt, purchased_on) * quantity \
            if channel == "AFN" else 0
        charged_referral, charged_closing, charged_fba, plant = referral, closing, fba, None
        roll = rng.random()
        # at least 2 minor units: the audit allows one for Amazon's rounding
        extra = max(2, round(referral * rng.uniform(0.2, 0.8)))
        plantable = first and self.args.fee_overcharges  # one fee finding per order at most, none when asked
        if plantable and due.rule is not None and (roll < 0.004 or due.shape not in self.planted_shapes):
            # planted on sourced rules only, and once early on every rule shape the seller sells
            charged_referral, plant = referral + extra, ("referral_fee_overcharged", extra, due.shape)
        elif plantable and closing and "closing_fee" not in self.planted_shapes:
            charged_closing, plant = 2 * closing, ("closing_fee_overcharged", closing, "closing_fee")
        elif plantable and roll < 0.008 and channel == "AFN":
            heavier = fees.fba_fee_per_unit(_next_tier(product.size_tier), product.weight_g + 1000, mkt,
                                            purchased_on) * quantity
            charged_fba, plant = heavier, ("fba_fee_overcharged", heavier - fba, "fba")
        promotion_id = f"PLM-{_digits(rng, 8)}" if discount else ""
        item = OrderItem(
            order_item_id=_digits(rng, 14), sku=product.sku, quantity=quantity, item_price=price,
            shipping_price=shipping, promotion_discount=discount, promotion_id=promotion_id,
            item_tax=item_tax, shipping_tax=shipping_tax, referral_fee=charged_referral,
            referral_fee_expected=referral, fba_fee=charged_fba, fba_fee_expected=fba,
            closing_fee=charged_closing, closing_fee_expected=closing, category=product.category,
        )
        return item, plant

    # Postings -------------------------------------------------------------------------------------

    def add_posting(self, posting: Posting) -> Posting:
        posting.components = [c for c in posting.components if c.amount != 0]
        self.postings.append(posting)
        return posting

    def order_posting(self, order: Order, item: OrderItem, shipment_id: str) -> Posting:
        withheld = MARKETPLACES[order.marketplace].sales_tax_withheld
        components = [
            Component("ItemPrice", "Principal", item.item_price),
            Component("ItemPrice", "Shipping", item.shipping_price),
            Component("ItemPrice", "Tax", item.item_tax),
            Component("ItemPrice", "ShippingTax", item.shipping_tax),
        ]
        if withheld:
            components += [
                Component("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -item.item_tax),
                Component("ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping", -item.shipping_tax),
            ]
        components += [
            Component("Promotion", "Principal", -item.promotion_discount),
            Component("ItemFees", "Commission", -item.referral_fee),
            Component("ItemFees", "FBAPerUnitFulfillmentFee", -item.fba_fee),
            # media closing fee: its own fee line (Product Fees API and fee estimates report: VariableClosingFee)
            Component("ItemFees", "VariableClosingFee", -item.closing_fee),
        ]
        return self.add_posting(Posting(
            posting_id=_token("posting", self.account.seller_id, order.order_id, item.order_item_id, length=32),
            seller_id=self.account.seller_id, marketplace=order.marketplace, posted_at=order.shipped_at or 0,
            transaction_type="Order", components=components, order_id=order.order_id, shipment_id=shipment_id,
            order_item_code=item.order_item_id, sku=item.sku, quantity=item.quantity,
            promotion_id=item.promotion_id, fulfillment_id=order.fulfillment_channel,
        ))

    def refund(self, rng: random.Random, order: Order, item: OrderItem, refund_at: int, wrong_fee: bool) -> None:
        expected_admin, sourced = fees.refund_admin_fee_due(order.marketplace, item.category, utc_date(refund_at),
                                                            item.referral_fee)
        admin = expected_admin
        if wrong_fee:
            admin = min(item.referral_fee, expected_admin + max(1, rng.randrange(50, 300)))
            if admin == expected_admin:
                admin = expected_admin - 1 if expected_admin > 0 else expected_admin
            if not sourced or abs(admin - expected_admin) < 2:  # planted on sourced rules, beyond the tolerance
                admin = expected_admin
        withheld = MARKETPLACES[order.marketplace].sales_tax_withheld
        components = [
            Component("ItemPrice", "Principal", -item.item_price),
            Component("ItemPrice", "Shipping", -item.shipping_price),
            Component("ItemPrice", "Tax", -item.item_tax),
            Component("ItemPrice", "ShippingTax", -item.shipping_tax),
        ]
        if withheld:
            components += [
                Component("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", item.item_tax),
                Component("ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping", item.shipping_tax),
            ]
        components += [
            Component("Promotion", "Principal", item.promotion_discount),
            Component("ItemFees", "Commission", item.referral_fee),
            Component("ItemFees", "RefundCommission", -admin),
        ]
        adjustment_id = _digits(rng, 14)
        posting = self.add_posting(Posting(
            posting_id=_token("refund", self.account.seller_id, adjustment_id, length=32),
            seller_id=self.account.seller_id, marketplace=order.marketplace, posted_at=refund_at,
            transaction_type="Refund", components=components, order_id=order.order_id,
            adjustment_id=adjustment_id, merchant_adjustment_item_id=_digits(rng, 14),
            order_item_code=item.order_item_id, sku=item.sku, quantity=item.quantity,
            promotion_id=item.promotion_id, fulfillment_id=order.fulfillment_channel,
        ))
        if admin != expected_admin:
            self.pending_fee_findings.append((posting, "refund_admin_fee_wrong", adjustment_id,
                                              abs(admin - expected_admin)))

    def account_fees(self, mkt: str, day: int) -> None:
        """Ad spend weekly, storage and inbound transport monthly, the subscription once a month."""
        rng = _rng(self.args.seed, "fees", self.index, mkt, day)
        day_start = self.start + day * DAY
        on = utc_date(day_start)

        def fee(amount_type: str, description: str, amount: int, transaction_type: str = "other-transaction",
                order_id: str = "") -> None:
            if amount:
                self.add_posting(Posting(
                    posting_id=_token("fee", self.account.seller_id, mkt, day, description, length=32),
                    seller_id=self.account.seller_id, marketplace=mkt,
                    posted_at=day_start + 20 * HOUR + rng.randrange(HOUR), transaction_type=transaction_type,
                    components=[Component(amount_type, description, -amount)], order_id=order_id))

        def recent_principal(days: int) -> int:
            return sum(self.principal_by_day[(mkt, d)] for d in range(max(0, day - days), day))

        if day % 7 == 6:
            fee("Cost of Advertising", "TransactionTotalAmount",
                fees.round_half_up(recent_principal(7) * rng.randint(3, 6), 100), "ServiceFee")
        if on.day == 15:
            fee("other-transaction", "Storage Fee", fees.round_half_up(recent_principal(30) * 2, 100) + 500)
        if on.day == 5:
            # FBA fee rows can carry an inbound shipment id in order-id: downstream must not treat it as an order.
            fee("other-transaction", "FBA Inbound Transportation Fee", rng.randrange(1500, 6000),
                order_id="FBA15" + "".join(rng.choices(ALNUM, k=7)))
        if on.day == 1 and mkt == self.account.marketplace_codes[0]:
            fee("other-transaction", "Subscription Fee", SUBSCRIPTION_FEE[mkt])

    # Postings real settlement files show beyond the seller's own orders ---------------------------------

    def storefront_postings(self, mkt: str, day: int) -> None:
        """Multi-Channel Fulfilment postings (marketplace-name `Non-Amazon <country>`), from real settlement files
        described in the issue (see settlement_file.py): one random stream per (marketplace, day), so adding them
        left every other draw, and prefix stability, as it was."""
        fba_products = [p for p in self.products if p.fulfillment_channel == "AFN"]
        if not fba_products:
            return
        rng = _rng(self.args.seed, "storefronts", self.index, mkt, day)
        day_start = self.start + day * DAY
        # The third draw was kept for Amazon.fr orders in Amazon.de settlements: they now are FR's own orders
        # (build_orders), settled in DE's settlement (settle); the draw stays so that no other draw moves.
        _liquidation, mcf, _pan_eu = rng.random(), rng.random(), rng.random()
        product, quantity, posted_at = rng.choice(fba_products), rng.randint(1, 3), day_start + rng.randrange(DAY)
        fba = fees.fba_fee_per_unit(product.size_tier, product.weight_g, mkt, utc_date(posted_at)) * quantity
        digits = _digits(rng, 14)
        # `liquidation` stays drawn so that no other draw moves: FBA liquidations come with the removal orders
        # that feed them (removal_orders, liquidation_posting), where Amazon's model documents them.
        if mcf < 0.03 and mkt in ("US", "CA", "UK"):  # real files: Non-Amazon US, Non-Amazon UK, Non-Amazon CA
            # A Multi-Channel Fulfilment order (sold elsewhere, shipped by FBA): only the fulfilment fee.
            self.add_posting(Posting(
                posting_id=_token("mcf", self.account.seller_id, mkt, day, length=32),
                seller_id=self.account.seller_id, marketplace=mkt, posted_at=posted_at, transaction_type="Order",
                order_id=f"MCF-{digits[:10]}", sku=product.sku, quantity=quantity, fulfillment_id="AFN",
                marketplace_name=f"Non-Amazon {mkt}",
                components=[Component("ItemFees", "FBAPerUnitFulfillmentFee", -fba)]))

    # Lost inventory and reimbursements ------------------------------------------------------------

    def lost_inventory(self, mkt: str, day: int) -> None:
        rng = _rng(self.args.seed, "lost", self.index, mkt, day)
        fba_products = [p for p in self.products if p.fulfillment_channel == "AFN"]
        if not fba_products or rng.random() >= 0.08:
            return
        product = rng.choice(fba_products)
        happened_at = self.start + day * DAY + rng.randrange(DAY)
        lost_damaged = rng.random() < 0.6
        event = LostUnits(
            event_id=_digits(rng, 11), seller_id=self.account.seller_id, marketplace=mkt, sku=product.sku,
            happened_at=happened_at, quantity=rng.randint(1, 3),
            reason="Lost_Warehouse" if lost_damaged else "Damaged_Warehouse")
        if happened_at > self.now:
            return
        self.lost.append(event)
        fate = rng.random()
        approved_at = happened_at + rng.randrange(7, 30) * DAY + rng.randrange(DAY)
        value = product.prices[mkt]
        if fate < 0.2:  # planted: never reimbursed
            if happened_at + UNREIMBURSED_AFTER_DAYS * DAY <= self.now:
                self.finding("inventory_not_reimbursed", mkt, event.event_id, value * event.quantity)  # one per loss
            return
        per_unit = round(value * rng.uniform(0.5, 0.8)) if fate < 0.4 else value
        if approved_at > self.now:
            return
        reimbursement = Reimbursement(
            reimbursement_id=_digits(rng, 10), case_id=_digits(rng, 10), seller_id=self.account.seller_id,
            marketplace=mkt, sku=product.sku, approved_at=approved_at, reason=event.reason,
            quantity=event.quantity, amount_per_unit=per_unit, lost_event_id=event.event_id)
        self.reimbursements.append(reimbursement)
        if per_unit < value:
            self.finding("reimbursement_below_value", mkt, reimbursement.reimbursement_id,
                         (value - per_unit) * event.quantity)
        self.add_posting(Posting(
            posting_id=_token("reimbursement", self.account.seller_id, reimbursement.reimbursement_id, length=32),
            seller_id=self.account.seller_id, marketplace=mkt, posted_at=approved_at,
            transaction_type="other-transaction",
            components=[Component("FBA Inventory Reimbursement",
                                  "WAREHOUSE_LOST" if event.reason == "Lost_Warehouse" else "WAREHOUSE_DAMAGE",
                                  reimbursement.amount_total)],
            adjustment_id=reimbursement.reimbursement_id, sku=product.sku, quantity=event.quantity))

    # Removal, disposal and liquidation orders ------------------------------------------------------

    def removal_orders(self, mkt: str, day: int) -> None:
        """Now and then the seller has FBA units removed, disposed of or (US) liquidated.

        Removals and disposals cost a fee per unit: an other-transaction line RemovalComplete or DisposalComplete
        (SP-API financesV0 RemovalShipmentEvent; Seller Central's Fee Explainer lists both fee types; DESIGN.md
        names RemovalComplete in real files). Liquidations pay proceeds: see liquidation_posting. Own random
        stream per day, so the other draws of the world do not move.
        """
        rng = _rng(self.args.seed, "removals", self.index, mkt, day)
        fba_products = [p for p in self.products if p.fulfillment_channel == "AFN"]
        if not fba_products or rng.random() >= REMOVAL_ORDER_SHARE:
            return
        product = rng.choice(fba_products)
        quantity = rng.randint(1, 12)
        removal_order_id = "".join(rng.choices(ALNUM, k=10))  # the seller names removal orders
        posted_at = self.start + day * DAY + rng.randrange(DAY)
        kind = rng.choices(("RemovalComplete", "DisposalComplete", "Liquidations"), weights=(5, 3, 2))[0]
        if kind == "Liquidations" and mkt in LIQUIDATION_MARKETPLACES:
            self.liquidation_posting(rng, mkt, product, quantity, removal_order_id, posted_at)
            return
        if kind == "Liquidations":
            kind = "DisposalComplete"
        self.add_posting(Posting(
            posting_id=_token("removal", self.account.seller_id, mkt, day, length=32),
            seller_id=self.account.seller_id, marketplace=mkt, posted_at=posted_at,
            transaction_type="other-transaction",
            components=[Component("other-transaction", kind, -fees.removal_fee(product.size_tier, quantity))],
            order_id=removal_order_id, sku=product.sku, quantity=quantity))

    def liquidation_posting(self, rng: random.Random, mkt: str, product: Product, quantity: int,
                            removal_order_id: str, posted_at: int) -> Posting:
        """FBA Liquidations: a liquidator buys removed units for a fraction of their price, Amazon keeps a fee.

        Settlement transaction-type Liquidations with ItemPrice/Principal (the proceeds) and
        ItemFees/LiquidationsBrokerageFee (SP-API financesV0 FBALiquidationEvent: LiquidationProceedsAmount and
        LiquidationFeeAmount; DESIGN.md names Liquidations lines in real files). Real files render these lines
        short (no trailing promotion-id): that is the rendering's business (settlement_file.py), not this one.
        """
        proceeds = max(1, round(product.prices[mkt] * quantity * rng.uniform(0.05, 0.10)))
        return self.add_posting(Posting(
            posting_id=_token("liquidation", self.account.seller_id, removal_order_id, length=32),
            seller_id=self.account.seller_id, marketplace=mkt, posted_at=posted_at, transaction_type="Liquidations",
            components=[Component("ItemPrice", "Principal", proceeds),
                        Component("ItemFees", "LiquidationsBrokerageFee", -fees.liquidation_fee(proceeds))],
            order_id=removal_order_id, sku=product.sku, quantity=quantity))

    # Settlements ----------------------------------------------------------------------------------

    def settle(self, mkt: str) -> list[Settlement]:
        """Cut the postings of the marketplace (and of those settled in its settlement: Amazon.fr's in
        Amazon.de's) into 14-day settlement periods and close the finished ones."""
        postings = sorted((p for p in self.postings if settlement_marketplace(p.marketplace) == mkt),
                          key=lambda p: p.posted_at)
        mkt_index = self.settlement_codes.index(mkt)
        rng = _rng(self.args.seed, "periods", self.index, mkt)
        anchor = self.start + (mkt_index * 5 + self.index) % 7 * DAY + 7 * HOUR + rng.randrange(2 * HOUR)
        settlements, period_start, period_end, k, held = [], self.start, anchor + SETTLEMENT_PERIOD_DAYS * DAY, 0, 0
        cursor = 0
        while period_start < self.now:
            srng = _rng(self.args.seed, "settlement", self.index, mkt, k)
            report_created_at = period_end + REPORT_AFTER_PERIOD_END + srng.randrange(6 * HOUR)
            settlement = Settlement(
                settlement_id=_digits(srng, 11), seller_id=self.account.seller_id, marketplace=mkt,
                start_at=period_start, end_at=period_end, deposit_at=report_created_at + DEPOSIT_AFTER_REPORT,
                report_created_at=report_created_at, closed=report_created_at <= self.now,
                event_group_id=_token("group", self.account.seller_id, mkt, k),
                trace_id=_digits(srng, 12))
            reissue_roll, reissue_after = srng.random(), srng.randrange(2 * DAY, 5 * DAY)
            delta = srng.randrange(100, 5000)
            if MARKETPLACES[mkt].region == "EU" and srng.random() < 0.25:
                settlement.charset = "Cp1252"  # Amazon also sends documents in Cp1252 (windows-1252)
            settlement.charset = MARKETPLACE_CHARSETS.get(mkt, settlement.charset)  # Shift_JIS on Amazon.co.jp
            while cursor < len(postings) and postings[cursor].posted_at < period_end:
                settlement.postings.append(postings[cursor])
                cursor += 1
            if settlement.closed:
                reserve = period_reserve(settlement.postings)
                self.add_posting_to(settlement, "Previous Reserve Amount Balance", held)
                if mkt_index == 0 and k % ZERO_TOTAL_EVERY == ZERO_TOTAL_AT:
                    # the whole balance held in reserve: the settlement totals 0.00, nothing is deposited
                    balance = sum(p.total for p in settlement.postings)
                    reserve = balance if balance > 0 else reserve
                self.add_posting_to(settlement, "Current Reserve Amount", -reserve)
                held = reserve
                if reissue_roll < 0.12 and settlement.report_created_at + reissue_after <= self.now:
                    settlement.reissued_at = settlement.report_created_at + reissue_after
            for p in settlement.postings:
                p.event_group_id = settlement.event_group_id
                p.settlement_id = settlement.settlement_id if settlement.closed else ""
            settlement.total = sum(p.total for p in settlement.postings)
            settlement.line_count = sum(len(p.components) for p in settlement.postings)
            self.deposit(settlement, k, mkt_index, delta)
            if settlement.closed and k == SUMMARY_MISMATCH_AT and mkt_index == 0:
                settlement.summary_delta = 100 + _hashed(settlement.settlement_id) % 4900
                self.finding("settlement_summary_mismatch", mkt, settlement.settlement_id, settlement.summary_delta)
            settlements.append(settlement)
            period_start, period_end, k = period_end, period_end + SETTLEMENT_PERIOD_DAYS * DAY, k + 1
        return settlements

    def add_posting_to(self, settlement: Settlement, description: str, amount: int) -> None:
        if amount:
            settlement.postings.append(self.add_posting(Posting(
                posting_id=_token("reserve", settlement.settlement_id, description, length=32),
                seller_id=self.account.seller_id, marketplace=settlement.marketplace,
                posted_at=settlement.end_at - 1, transaction_type="other-transaction",
                components=[Component("other-transaction", description, amount)])))

    def deposit(self, settlement: Settlement, k: int, mkt_index: int, delta: int) -> None:
        """Amazon transfers the total after close; two settlements per seller are planted to go wrong."""
        if not settlement.closed:
            settlement.fund_transfer_status = "Processing"
            settlement.transferred_amount = None
            return
        if settlement.total == 0:
            # Nothing to transfer. Amazon's docs do not say what such a group shows; the sandbox shows no
            # transfer (no ConvertedTotal, FundTransferDate or trace id) and status Unknown.
            settlement.fund_transfer_status, settlement.transferred_amount = "Unknown", None
            return
        if settlement.deposit_at > self.now:
            settlement.fund_transfer_status, settlement.transferred_amount = "Processing", None
        elif k == 1 and mkt_index == 0:
            settlement.fund_transfer_status, settlement.transferred_amount = "Failed", None
            self.finding("deposit_missing", settlement.marketplace, settlement.settlement_id, settlement.total)
        elif k == 2 and mkt_index == len(self.settlement_codes) - 1:
            settlement.fund_transfer_status = "Succeeded"
            settlement.transferred_amount = settlement.total - delta
            self.finding("deposit_mismatch", settlement.marketplace, settlement.settlement_id, delta)
        else:
            settlement.fund_transfer_status, settlement.transferred_amount = "Succeeded", settlement.total

    def build(self) -> SellerWorld:
        for day in range(self.args.days):
            for mkt in self.account.marketplace_codes:
                self.build_orders(mkt, day)
                if mkt not in self.settlement_codes:
                    # A storefront settled in another marketplace's settlement (Amazon.fr) only sells: the
                    # account's charges and its FBA stock's events stay with that marketplace (Amazon.de).
                    # In the data a seller gets they could not be told apart anyway: account-level settlement
                    # lines carry no marketplace-name (real files), nor does the reimbursements report.
                    continue
                self.account_fees(mkt, day)
                self.lost_inventory(mkt, day)
                self.storefront_postings(mkt, day)
                self.removal_orders(mkt, day)
        self.postings = [p for p in self.postings if p.posted_at < self.now]
        settlements = [s for mkt in self.settlement_codes for s in self.settle(mkt)]
        for posting, kind, reference, amount in self.pending_fee_findings:
            if posting.settlement_id:  # only findings a closed settlement already shows
                self.finding(kind, posting.marketplace, reference, amount)
        return SellerWorld(self.account, self.products, self.orders, self.postings, settlements,
                           self.lost, self.reimbursements)


def _next_tier(tier: str) -> str:
    order = ["Small standard", "Large standard", "Large bulky"]
    return order[min(order.index(tier) + 1, len(order) - 1)]


def _build_seller(args: DataArguments, index: int, start: int,
                  now: int) -> tuple[SellerWorld, list[Discrepancy], list[str]]:
    builder = _SellerBuilder(args, index, start, now)
    seller = builder.build()
    return seller, builder.findings, builder.canaries
