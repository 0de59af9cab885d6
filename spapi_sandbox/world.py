"""The generated seller world: plain records every API view and flat file is rendered from.

Money is in minor units (int cents) and times are epoch seconds (UTC), so generation is fast
and exact; rendering turns them into Amazon's strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataArguments:
    """The arguments that decide the data: same arguments, same bytes."""

    seed: int = 7
    sellers: int = 2
    start: str = "2026-01-01"  # YYYY-MM-DD, first day of orders
    days: int = 90
    orders_per_day: int = 20  # per seller account, across its marketplaces
    # Seller account i is of region regions[i % len(regions)]: the default alternates NA and EU, so an FE
    # (Amazon.co.jp) seller exists only when asked for, and default worlds stay as they were.
    regions: tuple[str, ...] = ("NA", "EU")
    # False: Amazon charges every referral, closing, FBA and refund administration fee by its rule (no fee
    # finding planted), so a fee audit must report nothing of those kinds.
    fee_overcharges: bool = True

    def as_dict(self) -> dict:
        out = {"seed": self.seed, "sellers": self.sellers, "start": self.start,
               "days": self.days, "orders_per_day": self.orders_per_day, "regions": list(self.regions)}
        if not self.fee_overcharges:  # only when asked: default worlds' truth stays as it was
            out["fee_overcharges"] = False
        return out


@dataclass
class Account:
    index: int
    seller_id: str
    name: str
    region: str
    marketplace_codes: tuple[str, ...]
    lwa_client_id: str
    lwa_client_secret: str
    refresh_token: str
    secret_issued_date: str  # LWA client secrets must be rotated every 180 days


@dataclass
class Product:
    sku: str
    asin: str
    fnsku: str
    title: str
    brand: str
    category: str
    size_tier: str
    weight_g: int
    dimensions_cm: tuple[float, float, float]
    prices: dict[str, int]  # marketplace code -> listing price, minor units
    bullet_points: tuple[str, ...]
    image_count: int
    browse_node: str | None
    color: str | None
    open_date: int  # listing created, epoch seconds
    fulfillment_channel: str  # AFN (FBA) or MFN


@dataclass(slots=True)
class Buyer:
    name: str
    email: str
    phone: str
    address_line1: str
    city: str
    state: str
    postal_code: str
    country_code: str


@dataclass(slots=True)
class OrderItem:
    order_item_id: str
    sku: str
    quantity: int
    item_price: int  # unit price x quantity
    shipping_price: int
    promotion_discount: int  # positive amount taken off the principal
    promotion_id: str
    item_tax: int
    shipping_tax: int
    referral_fee: int  # charged (positive; the settlement line is negative)
    referral_fee_expected: int
    fba_fee: int  # charged, 0 for merchant-fulfilled
    fba_fee_expected: int
    closing_fee: int = 0  # charged media closing fee (per unit x quantity), 0 where none
    closing_fee_expected: int = 0
    category: str = ""  # the product's sandbox category, for the refund administration fee's scope


@dataclass(slots=True)
class Order:
    order_id: str
    seller_id: str
    marketplace: str  # marketplace code
    purchased_at: int
    last_updated_at: int
    status: str  # Pending, Unshipped, Shipped, Canceled (as of the sandbox's now)
    fulfillment_channel: str  # AFN or MFN
    ship_service_level: str
    is_prime: bool
    is_business: bool
    shipped_at: int | None
    delivered_at: int | None
    buyer: Buyer
    items: list[OrderItem]
    settled: bool = True  # False for a planted "shipped order never settled"

    @property
    def total(self) -> int:
        """OrderTotal as the buyer paid it: price + shipping + tax - promotions."""
        return sum(i.item_price + i.shipping_price + i.item_tax + i.shipping_tax - i.promotion_discount
                   for i in self.items)


@dataclass(slots=True)
class Component:
    """One amount of a posting: a settlement line's amount-type, amount-description and amount."""

    amount_type: str
    description: str
    amount: int


@dataclass(slots=True)
class Posting:
    """One financial event as Amazon posts it: a settlement's detail lines come one per component."""

    posting_id: str  # transaction id in Finances 2024-06-19
    seller_id: str
    marketplace: str
    posted_at: int
    transaction_type: str  # settlement transaction-type: Order, Refund, other-transaction, ServiceFee
    components: list[Component]
    order_id: str = ""
    adjustment_id: str = ""
    shipment_id: str = ""
    order_item_code: str = ""
    merchant_adjustment_item_id: str = ""
    sku: str = ""
    quantity: int | None = None
    promotion_id: str = ""
    fulfillment_id: str = ""  # AFN or MFN on order lines
    settlement_id: str = ""  # set when its settlement period closes
    event_group_id: str = ""  # the financial event group (open or closed) it belongs to
    # What the settlement file prints in marketplace-name when it is not the posting's own storefront
    # (Order/Refund, even in another marketplace's settlement: Amazon.fr in Amazon.de's) or empty (account-level
    # rows): `Non-Amazon US` for a Multi-Channel Fulfilment order.
    marketplace_name: str | None = None

    @property
    def total(self) -> int:
        return sum(c.amount for c in self.components)


@dataclass
class Settlement:
    settlement_id: str
    seller_id: str
    marketplace: str
    start_at: int
    end_at: int
    deposit_at: int
    postings: list[Posting] = field(default_factory=list)
    report_created_at: int = 0  # Amazon generates the settlement report a day after the period ends
    closed: bool = True  # report generated by now; until then only an open event group shows the money
    reissued_at: int | None = None  # when a second report of the same settlement appeared, if it did
    total: int = 0
    line_count: int = 0
    event_group_id: str = ""
    fund_transfer_status: str = "Succeeded"
    transferred_amount: int | None = None  # None: no deposit (yet)
    charset: str = "UTF-8"  # of the report document: Amazon also sends Cp1252, and Shift_JIS for Amazon.co.jp
    # What Amazon's financial summary of the settlement (Finances 2024-06-19 listSummary) shows beyond the file's
    # lines: 0, except on the settlement planted to disagree with its own file.
    summary_delta: int = 0

    @property
    def reissued(self) -> bool:
        return self.reissued_at is not None
    trace_id: str = ""


@dataclass
class LostUnits:
    """Units lost or damaged in an Amazon warehouse (inventory ledger adjustment)."""

    event_id: str
    seller_id: str
    marketplace: str
    sku: str
    happened_at: int
    quantity: int
    reason: str  # Lost_Warehouse or Damaged_Warehouse


@dataclass
class Reimbursement:
    reimbursement_id: str
    case_id: str
    seller_id: str
    marketplace: str
    sku: str
    approved_at: int
    reason: str
    quantity: int
    amount_per_unit: int
    lost_event_id: str

    @property
    def amount_total(self) -> int:
        return self.amount_per_unit * self.quantity


@dataclass
class Discrepancy:
    kind: str
    seller_id: str
    marketplace_id: str
    reference_id: str
    amount: int  # minor units, positive: the money at stake
    currency: str


@dataclass
class SellerWorld:
    account: Account
    products: list[Product]
    orders: list[Order]
    postings: list[Posting]
    settlements: list[Settlement]
    lost_units: list[LostUnits]
    reimbursements: list[Reimbursement]


@dataclass
class World:
    arguments: DataArguments
    now: int  # the sandbox's "now" at start: midnight after the last generated day
    sellers: list[SellerWorld]
    discrepancies: list[Discrepancy]
    pii_canaries: list[str]

    def seller(self, seller_id: str) -> SellerWorld | None:
        for s in self.sellers:
            if s.account.seller_id == seller_id:
                return s
        return None
