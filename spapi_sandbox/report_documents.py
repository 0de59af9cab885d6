"""The flat-file documents of the report types a client can request (createReport).

Each report is rendered from the generated world as Amazon documents it: tab-separated, UTF-8 (an Amazon.co.jp
listings report in Shift_JIS, see charsets.py),
one header line, `\\n` line ends, no quoting (except the inventory ledger, whose real files quote
every field). Amounts are decimals with '.', dates ISO-8601 in UTC. Rows are written one at a time
into a binary stream (the store passes a GzipFile), so a year of orders never sits in memory as text.

Settlement reports are not here: Amazon generates them (settlement_file.py renders them).
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import BinaryIO

from spapi_sandbox.charsets import MARKETPLACE_CHARSETS, UTF8, codec
from spapi_sandbox.fees import estimated_fees, fba_fee_per_unit
from spapi_sandbox.marketplaces import BY_ID, MARKETPLACES, Marketplace
from spapi_sandbox.money import decimal_string, minor_digits
from spapi_sandbox.world import Order, OrderItem, Product, SellerWorld

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
MERCHANT_LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
FBA_INVENTORY = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
FBA_REIMBURSEMENTS = "GET_FBA_REIMBURSEMENTS_DATA"
FBA_ESTIMATED_FEES = "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA"
INVENTORY_LEDGER = "GET_LEDGER_DETAIL_VIEW_DATA"


@dataclass(frozen=True)
class DocumentScope:
    """What a report covers: the marketplaces and the data window (epoch seconds, inclusive)."""

    marketplace_ids: tuple[str, ...]
    start: int
    end: int
    options: dict[str, str] = field(default_factory=dict)

    def marketplace_codes(self) -> tuple[str, ...]:
        return tuple(BY_ID[m].code for m in self.marketplace_ids if m in BY_ID)

    def covers(self, epoch: int | None) -> bool:
        return epoch is not None and self.start <= epoch <= self.end


Rows = Iterator[list[str]]


@dataclass(frozen=True)
class ReportSpec:
    header: tuple[str, ...]
    rows: Callable[[SellerWorld, DocumentScope], Rows]
    quote_all: bool = False  # the ledger quotes every field
    single_marketplace: bool = False  # Amazon renders these for one marketplace per request


# --- value formats ------------------------------------------------------------------------------------------

def iso(epoch: int | float) -> str:
    """ISO-8601 with an explicit UTC offset, as these reports (and the Reports API) write times."""
    return datetime.fromtimestamp(int(epoch), UTC).isoformat()


def money(minor: int, currency: str) -> str:
    """Minor units as a decimal with '.' and the currency's places: 1234 -> "12.34", -50 -> "-0.50"; JPY 1980 ->
    "1980" (no minor unit)."""
    return decimal_string(minor, digits=minor_digits(currency))


def _draw(*parts: object) -> int:
    """A stable number from `parts` (never Python's salted hash(): same world, same bytes)."""
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _clean(value: str) -> str:
    """A field may not contain the separators of the format it sits in."""
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


# --- GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL ---------------------------------------------------

ALL_ORDERS_HEADER = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku",
    "asin", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order",
    "purchase-order-number", "price-designation",
)

# The flat file spells statuses its own way (Cancelled, not the APIs' Canceled).
_ORDER_STATUS = {"Pending": "Pending", "Unshipped": "Unshipped", "Shipped": "Shipped",
                 "Canceled": "Cancelled"}
_ITEM_STATUS = {"Pending": "Unshipped", "Unshipped": "Unshipped", "Shipped": "Shipped",
                "Canceled": "Cancelled"}


def _all_orders_rows(seller: SellerWorld, scope: DocumentScope) -> Rows:
    """One row per order item of orders last updated inside the window, in the report's marketplaces."""
    codes = set(scope.marketplace_codes())
    products = {p.sku: p for p in seller.products}
    orders = [o for o in seller.orders if o.marketplace in codes and scope.covers(o.last_updated_at)]
    orders.sort(key=lambda o: (o.purchased_at, o.order_id))
    for order in orders:
        market = MARKETPLACES[order.marketplace]
        for item in order.items:
            yield _order_item_row(order, item, products.get(item.sku), market)


def _order_item_row(order: Order, item: OrderItem, product: Product | None, market: Marketplace) -> list[str]:
    buyer = order.buyer
    return [
        order.order_id, "", iso(order.purchased_at), iso(order.last_updated_at),
        _ORDER_STATUS.get(order.status, order.status),
        "Amazon" if order.fulfillment_channel == "AFN" else "Merchant",
        market.name, "", order.ship_service_level,
        product.title if product else "", item.sku, product.asin if product else "",
        _ITEM_STATUS.get(order.status, order.status), str(item.quantity), market.currency,
        *(money(amount, market.currency) for amount in (item.item_price, item.item_tax, item.shipping_price,
                                                        item.shipping_tax, 0, 0, -item.promotion_discount, 0)),
        buyer.city, buyer.state, buyer.postal_code, buyer.country_code, item.promotion_id,
        "true" if order.is_business else "false", "", "BusinessPrice" if order.is_business else "",
    ]


# --- GET_MERCHANT_LISTINGS_ALL_DATA -------------------------------------------------------------------------

MERCHANT_LISTINGS_HEADER = (
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date",
    "image-url", "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note",
    "item-condition", "zshop-category1", "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2",
    "asin3", "will-ship-internationally", "expedited-shipping", "zshop-boldface", "product-id",
    "bid-for-featured-placement", "add-delete", "pending-quantity", "fulfillment-channel",
    "merchant-shipping-group", "status",
)


def listing_id(product: Product, market_code: str) -> str:
    """Amazon's listing ids look like 0101ABCDE12: date-ish digits and a tail; ours are stable per SKU."""
    d = _draw("listing", product.sku, market_code)
    return f"{d % 10000:04d}{(d >> 16) % 16**7:07X}"


def mfn_quantity(product: Product, market_code: str) -> int:
    """What a merchant-fulfilled listing has on hand (the seller's own stock)."""
    return 5 + _draw("mfn", product.sku, market_code) % 120


def _listing_rows(seller: SellerWorld, scope: DocumentScope) -> Rows:
    for code in scope.marketplace_codes():
        region, currency = MARKETPLACES[code].region, MARKETPLACES[code].currency
        for product in seller.products:
            if code not in product.prices:
                continue
            afn = product.fulfillment_channel == "AFN"
            yield [
                product.title, "", listing_id(product, code), product.sku, money(product.prices[code], currency),
                "" if afn else str(mfn_quantity(product, code)),
                datetime.fromtimestamp(product.open_date, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                f"https://m.media-amazon.com/images/I/{product.asin}.jpg", "y", "1", "", "", "11", "", "", "",
                product.asin, "", "", "", "", "", product.asin, "", "", "0" if not afn else "",
                f"AMAZON_{region}" if afn else "DEFAULT", "Migrated Template", "Active",
            ]


# --- GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA ----------------------------------------------------------------

FBA_INVENTORY_HEADER = (
    "sku", "fnsku", "asin", "product-name", "condition", "your-price", "mfn-listing-exists",
    "mfn-fulfillable-quantity", "afn-listing-exists", "afn-warehouse-quantity", "afn-fulfillable-quantity",
    "afn-unsellable-quantity", "afn-reserved-quantity", "afn-total-quantity", "per-unit-volume",
    "afn-inbound-working-quantity", "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity",
    "afn-researching-quantity", "afn-reserved-future-supply", "afn-future-supply-buyable",
)


@dataclass(frozen=True)
class FbaQuantities:
    """An FBA SKU's stock in Amazon's warehouses, stable per SKU and marketplace."""

    fulfillable: int
    unsellable: int
    reserved: int
    inbound_working: int
    inbound_shipped: int
    inbound_receiving: int
    researching: int

    @property
    def warehouse(self) -> int:
        return self.fulfillable + self.unsellable + self.reserved

    @property
    def total(self) -> int:
        return self.warehouse + self.inbound_working + self.inbound_shipped + self.inbound_receiving


def fba_quantities(product: Product, market_code: str) -> FbaQuantities:
    """Deterministic stock figures; the FBA Inventory API can call this too so both agree."""
    d = _draw("fba-stock", product.sku, market_code)
    return FbaQuantities(
        fulfillable=20 + d % 480,
        unsellable=(d >> 9) % 4,
        reserved=(d >> 11) % 15,
        inbound_working=(d >> 15) % 3 * 10,
        inbound_shipped=(d >> 17) % 4 * 12,
        inbound_receiving=(d >> 19) % 2 * 6,
        researching=(d >> 21) % 3,
    )


def _cubic_feet(dimensions_cm: tuple[float, float, float]) -> str:
    length, width, height = dimensions_cm
    return f"{length * width * height / 28316.846592:.2f}"


def _fba_inventory_rows(seller: SellerWorld, scope: DocumentScope) -> Rows:
    for code in scope.marketplace_codes():
        currency = MARKETPLACES[code].currency
        for product in seller.products:
            if product.fulfillment_channel != "AFN" or code not in product.prices:
                continue
            q = fba_quantities(product, code)
            yield [
                product.sku, product.fnsku, product.asin, product.title, "New", money(product.prices[code], currency),
                "No", "", "Yes", str(q.warehouse), str(q.fulfillable), str(q.unsellable), str(q.reserved),
                str(q.total), _cubic_feet(product.dimensions_cm), str(q.inbound_working),
                str(q.inbound_shipped), str(q.inbound_receiving), str(q.researching), "0", "0",
            ]


# --- GET_FBA_REIMBURSEMENTS_DATA ----------------------------------------------------------------------------

FBA_REIMBURSEMENTS_HEADER = (
    "approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku", "fnsku", "asin",
    "product-name", "condition", "currency-unit", "amount-per-unit", "amount-total",
    "quantity-reimbursed-cash", "quantity-reimbursed-inventory", "quantity-reimbursed-total",
    "original-reimbursement-id", "original-reimbursement-type",
)


def _reimbursement_rows(seller: SellerWorld, scope: DocumentScope) -> Rows:
    codes = set(scope.marketplace_codes())
    products = {p.sku: p for p in seller.products}
    chosen = [r for r in seller.reimbursements if r.marketplace in codes and scope.covers(r.approved_at)]
    chosen.sort(key=lambda r: (r.approved_at, r.reimbursement_id))
    for r in chosen:
        product, currency = products.get(r.sku), MARKETPLACES[r.marketplace].currency
        yield [
            iso(r.approved_at), r.reimbursement_id, r.case_id, "", r.reason, r.sku,
            product.fnsku if product else "", product.asin if product else "",
            product.title if product else "",
            "NewItem", currency, money(r.amount_per_unit, currency), money(r.amount_total, currency),
            str(r.quantity), "0", str(r.quantity), "", "",
        ]


# --- GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA --------------------------------------------------------------------

LAST_EPOCH = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last day Python's dates hold
FBA_ESTIMATED_FEES_HEADER = (
    "sku", "fnsku", "asin", "amazon-store", "product-name", "product-group", "brand", "fulfilled-by",
    "your-price", "sales-price", "longest-side", "median-side", "shortest-side", "length-and-girth",
    "unit-of-dimension", "item-package-weight", "unit-of-weight", "product-size-tier", "currency",
    "estimated-fee-total", "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
    "estimated-order-handling-fee-per-unit", "estimated-pick-pack-fee-per-unit",
    "estimated-weight-handling-fee-per-unit", "expected-fulfillment-fee-per-unit",
)


def billable_weight_g(product: Product) -> int:
    """The weight the FBA fee is charged on: the unit weight (the world's fee rule)."""
    return product.weight_g


def expected_fba_fee_per_unit(product: Product, market_code: str, on: date) -> int:
    """The FBA fee per unit in force in the marketplace on the report's day (fees.FBA_FEE_STEPS)."""
    return fba_fee_per_unit(product.size_tier, billable_weight_g(product), market_code, on)


def _fee_dimensions(product: Product, metric: bool) -> tuple[list[str], str, str, str]:
    """Sides, girth and weight in the marketplace's units: inches/pounds in NA, cm/kg in Europe and Japan."""
    factor = 1.0 if metric else 1 / 2.54
    sides = [side * factor for side in product.dimensions_cm]
    girth = sides[0] + 2 * (sides[1] + sides[2])
    weight = product.weight_g / 1000 if metric else product.weight_g / 453.59237
    return [f"{s:.2f}" for s in sides] + [f"{girth:.2f}"], \
        "centimeters" if metric else "inches", f"{weight:.2f}", "kilograms" if metric else "pounds"


def _estimated_fee_rows(seller: SellerWorld, scope: DocumentScope) -> Rows:
    # fees by the schedules in force on the window's last day, the report's day when none was asked (Amazon gives
    # today's estimates only); a scope may end far in the future: up to 9999
    on = datetime.fromtimestamp(min(scope.end, LAST_EPOCH), UTC).date()
    for code in scope.marketplace_codes():
        market = MARKETPLACES[code]
        for product in seller.products:
            if product.fulfillment_channel != "AFN" or code not in product.prices:
                continue
            price = product.prices[code]
            referral, closing = estimated_fees(code, product.category, on, price)
            fulfilment = expected_fba_fee_per_unit(product, code, on)
            dims, dim_unit, weight, weight_unit = _fee_dimensions(product, metric=market.region != "NA")
            fees = (referral + closing + fulfilment, referral, closing, 0, fulfilment, 0, fulfilment)
            yield [
                product.sku, product.fnsku, product.asin, code, product.title, product.category,
                product.brand,
                "AMAZON_" + market.region, money(price, market.currency), money(price, market.currency), *dims,
                dim_unit, weight, weight_unit, product.size_tier, market.currency,
                *(money(fee, market.currency) for fee in fees),
            ]


# --- GET_LEDGER_DETAIL_VIEW_DATA ----------------------------------------------------------------------------

INVENTORY_LEDGER_HEADER = (
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Event Type", "Reference ID", "Quantity", "Fulfillment Center",
    "Disposition", "Reason", "Country", "Reconciled Quantity", "Unreconciled Quantity", "Date and Time",
)

# Adjustment reason codes of the ledger: M = misplaced/lost in the warehouse, E = damaged at Amazon.
LEDGER_REASONS = {"Lost_Warehouse": "M", "Damaged_Warehouse": "E"}
_FULFILLMENT_CENTERS = {"US": ("PHX7", "ONT8", "BFI4", "MDW2"), "CA": ("YYZ4", "YVR3"),
                        "UK": ("LTN4", "BHX4", "EDI4"), "DE": ("LEJ1", "FRA3", "DTM2")}
_COUNTRY = {"US": "US", "CA": "CA", "UK": "GB", "DE": "DE"}
_FULFILLMENT_CENTERS["JP"] = ("NRT1", "NRT5", "KIX1")
_COUNTRY["JP"] = "JP"


def _ledger_rows(seller: SellerWorld, scope: DocumentScope) -> Rows:
    """Lost and damaged units as the ledger's Adjustments: negative quantities, reconciled as far as
    Amazon reimbursed them (the rest stays unreconciled: what the lost-inventory audit looks for)."""
    codes = set(scope.marketplace_codes())
    products = {p.sku: p for p in seller.products}
    reimbursed: dict[str, int] = {}
    for r in seller.reimbursements:
        reimbursed[r.lost_event_id] = reimbursed.get(r.lost_event_id, 0) + r.quantity
    chosen = [u for u in seller.lost_units if u.marketplace in codes and scope.covers(u.happened_at)]
    chosen.sort(key=lambda u: (u.happened_at, u.event_id))
    for unit in chosen:
        product = products.get(unit.sku)
        centers = _FULFILLMENT_CENTERS[unit.marketplace]
        when = datetime.fromtimestamp(unit.happened_at, UTC)
        reconciled = min(unit.quantity, reimbursed.get(unit.event_id, 0))
        yield [
            when.strftime("%m/%d/%Y"), product.fnsku if product else "", product.asin if product else "",
            unit.sku, product.title if product else "", "Adjustments", unit.event_id, str(-unit.quantity),
            centers[_draw("fc", unit.event_id) % len(centers)], "SELLABLE",
            LEDGER_REASONS.get(unit.reason, "M"), _COUNTRY[unit.marketplace], str(-reconciled),
            str(reconciled - unit.quantity),
            when.isoformat(),
        ]


# --- registry and writing -----------------------------------------------------------------------------------

REPORTS: dict[str, ReportSpec] = {
    ALL_ORDERS: ReportSpec(ALL_ORDERS_HEADER, _all_orders_rows),
    MERCHANT_LISTINGS: ReportSpec(MERCHANT_LISTINGS_HEADER, _listing_rows, single_marketplace=True),
    FBA_INVENTORY: ReportSpec(FBA_INVENTORY_HEADER, _fba_inventory_rows, single_marketplace=True),
    FBA_REIMBURSEMENTS: ReportSpec(FBA_REIMBURSEMENTS_HEADER, _reimbursement_rows),
    FBA_ESTIMATED_FEES: ReportSpec(FBA_ESTIMATED_FEES_HEADER, _estimated_fee_rows),
    INVENTORY_LEDGER: ReportSpec(INVENTORY_LEDGER_HEADER, _ledger_rows, quote_all=True),
}

REQUESTABLE_REPORT_TYPES = frozenset(REPORTS)


def _line(values: list[str], quote_all: bool, encoding: str = "utf-8") -> bytes:
    if quote_all:
        return ("\t".join('"' + _clean(v).replace('"', '""') + '"' for v in values) + "\n").encode(encoding)
    line = "\t".join(values)
    if line.count("\t") != len(values) - 1 or "\n" in line or "\r" in line:  # rare: clean field by field
        line = "\t".join(_clean(v) for v in values)
    return (line + "\n").encode(encoding)


def document_charset(report_type: str, scope: DocumentScope) -> str:
    """The charset of a report's document: Shift_JIS for an Amazon.co.jp listings report (charsets.py), else UTF-8."""
    codes = scope.marketplace_codes()
    if report_type == MERCHANT_LISTINGS and len(codes) == 1:
        return MARKETPLACE_CHARSETS.get(codes[0], UTF8)
    return UTF8


def write_report(out: BinaryIO, report_type: str, seller: SellerWorld, scope: DocumentScope) -> None:
    """Write the report's TSV (in `document_charset`) to `out`, one line at a time."""
    spec = REPORTS[report_type]
    encoding = codec(document_charset(report_type, scope))
    out.write(_line(list(spec.header), spec.quote_all, encoding))
    batch: list[bytes] = []
    for row in spec.rows(seller, scope):
        batch.append(_line(row, spec.quote_all, encoding))
        if len(batch) >= 512:  # fewer, larger writes: the gzip stream is the hot path
            out.write(b"".join(batch))
            batch.clear()
    out.write(b"".join(batch))


def render_report(report_type: str, seller: SellerWorld, scope: DocumentScope) -> bytes:
    """The uncompressed document (tests and small callers)."""
    buffer = io.BytesIO()
    write_report(buffer, report_type, seller, scope)
    return buffer.getvalue()


def gzip_report(report_type: str, seller: SellerWorld, scope: DocumentScope) -> bytes:
    """The document as served: gzip with mtime 0 and no file name, so same arguments give same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as stream:
        write_report(stream, report_type, seller, scope)  # type: ignore[arg-type]
    return buffer.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip of ready bytes (settlement files, error documents)."""
    return gzip.compress(data, compresslevel=6, mtime=0)
