"""FBA Inventory v1: getInventorySummaries for the seller's FBA (AFN) SKUs in one marketplace.

Quantities are derived, deterministically, from the seed, seller, marketplace and SKU, and agree
with the rest of the world where the world knows better: units of FBA orders not shipped yet are
reserved for customer orders, units lost in the warehouse during the last 30 days are being
researched, units damaged in the warehouse during the last 60 days are unfulfillable.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from spapi_sandbox.api.indexes import seller_index
from spapi_sandbox.api.paging import decode_token, paginate
from spapi_sandbox.api.params import boolean, check_marketplace, marketplaces, seller_world, timestamp
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import Marketplace
from spapi_sandbox.render import iso
from spapi_sandbox.world import Product, SellerWorld

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState

OPERATION = "getInventorySummaries"
DAY = 86_400
PAGE_SIZE = 50
MAX_SKUS = 50
OLDEST_START = 548 * DAY  # startDateTime may be at most 18 months back


def _draw(seed: int, *parts: str, modulo: int) -> int:
    digest = hashlib.sha256(":".join((str(seed), *parts)).encode()).hexdigest()
    return int(digest[:12], 16) % modulo


class _Stock:
    """One SKU's stock in one marketplace, as of `now`."""

    def __init__(self, seed: int, seller: SellerWorld, product: Product, market: Marketplace,
                 now: float) -> None:
        key = (market.code, product.sku)
        parts = (seller.account.seller_id, market.code, product.sku)
        out_of_stock = _draw(seed, "oos", *parts, modulo=10) == 0
        self.fulfillable = 0 if out_of_stock else 5 + _draw(seed, "fulfillable", *parts, modulo=400)
        inbound = _draw(seed, "inbound", *parts, modulo=4) == 0  # a quarter of SKUs have a shipment coming
        self.inbound_working = _draw(seed, "working", *parts, modulo=60) if inbound else 0
        self.inbound_shipped = _draw(seed, "shipped", *parts, modulo=120) if inbound else 0
        self.inbound_receiving = _draw(seed, "receiving", *parts, modulo=20) if inbound else 0
        index = seller_index(seller)
        self.pending_orders = index.open_fba_units.get(key, 0)
        self.transshipment = _draw(seed, "transship", *parts, modulo=8)
        self.fc_processing = _draw(seed, "fcproc", *parts, modulo=4)
        lost = [e for e in seller.lost_units if e.marketplace == market.code and e.sku == product.sku
                and e.happened_at <= now]
        self.researching = {"researchingQuantityInShortTerm": 0, "researchingQuantityInMidTerm": 0,
                            "researchingQuantityInLongTerm": 0}
        for event in lost:
            age = now - event.happened_at
            if event.reason == "Lost_Warehouse" and age < 30 * DAY:
                term = ("researchingQuantityInShortTerm" if age < 10 * DAY else
                        "researchingQuantityInMidTerm" if age < 20 * DAY else "researchingQuantityInLongTerm")
                self.researching[term] += event.quantity
        self.warehouse_damaged = sum(e.quantity for e in lost
                                     if e.reason == "Damaged_Warehouse" and now - e.happened_at < 60 * DAY)
        self.customer_damaged = _draw(seed, "customer-damaged", *parts, modulo=3)
        self.defective = _draw(seed, "defective", *parts, modulo=5) // 4
        times = [index.last_order_activity.get(key, 0), *(e.happened_at for e in lost)]
        self.last_updated = max([product.open_date, *(t for t in times if t <= now)])

    @property
    def reserved(self) -> int:
        return self.pending_orders + self.transshipment + self.fc_processing

    @property
    def unfulfillable(self) -> int:
        return self.warehouse_damaged + self.customer_damaged + self.defective

    @property
    def total(self) -> int:
        return (self.fulfillable + self.inbound_working + self.inbound_shipped + self.inbound_receiving
                + self.reserved + sum(self.researching.values()) + self.unfulfillable)

    def details(self) -> dict[str, Any]:
        return {
            "fulfillableQuantity": self.fulfillable,
            "inboundWorkingQuantity": self.inbound_working,
            "inboundShippedQuantity": self.inbound_shipped,
            "inboundReceivingQuantity": self.inbound_receiving,
            "reservedQuantity": {"totalReservedQuantity": self.reserved,
                                 "pendingCustomerOrderQuantity": self.pending_orders,
                                 "pendingTransshipmentQuantity": self.transshipment,
                                 "fcProcessingQuantity": self.fc_processing},
            "researchingQuantity": {
                "totalResearchingQuantity": sum(self.researching.values()),
                "researchingQuantityBreakdown": [{"name": name, "quantity": quantity}
                                                 for name, quantity in self.researching.items()]},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": self.unfulfillable,
                                      "customerDamagedQuantity": self.customer_damaged,
                                      "warehouseDamagedQuantity": self.warehouse_damaged,
                                      "distributorDamagedQuantity": 0, "carrierDamagedQuantity": 0,
                                      "defectiveQuantity": self.defective, "expiredQuantity": 0},
        }


def _query(state: SandboxState, req: Request, seller: SellerWorld, market: Marketplace) -> dict[str, Any]:
    start = timestamp(req, "startDateTime")
    now = int(state.clock.now())
    if start is not None and start < now - OLDEST_START:
        raise invalid_input("Invalid startDateTime: it must be no earlier than 18 months before the request.")
    skus = list(dict.fromkeys(req.list_param("sellerSkus")))
    if len(skus) > MAX_SKUS:
        raise invalid_input(f"sellerSkus accepts at most {MAX_SKUS} SKUs; {len(skus)} were given.")
    if start is not None:
        skus = []  # the model: with startDateTime, sellerSkus and sellerSku are ignored
    elif not skus and req.param("sellerSku"):
        skus = [req.param("sellerSku") or ""]
    return {"market": market.code, "start": start, "skus": skus, "details": boolean(req, "details", False),
            "now": now}


@route("GET", "/fba/inventory/v1/summaries", OPERATION)
def get_inventory_summaries(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    granularity = req.param("granularityType")
    if not granularity:
        raise invalid_input("Missing required parameter: granularityType.")
    if granularity != "Marketplace":
        raise invalid_input(f"Invalid granularityType: '{granularity}'; the only value is Marketplace.")
    granularity_id = req.param("granularityId")
    if not granularity_id:
        raise invalid_input("Missing required parameter: granularityId.")
    market = check_marketplace(seller, granularity_id, "granularityId")
    if marketplaces(req, seller, "marketplaceIds", max_items=1)[0] != market:
        raise invalid_input("marketplaceIds must be the marketplace given as granularityId.")
    token = req.param("nextToken")
    if token:
        query, offset = decode_token(OPERATION, token, "nextToken", req.seller_id)
        if query["market"] != market.code:
            raise invalid_input("Invalid nextToken: it was issued for another marketplace.")
    else:
        query, offset = _query(state, req, seller, market), 0
    seed = state.world.arguments.seed
    products = sorted((p for p in seller.products
                       if p.fulfillment_channel == "AFN" and market.code in p.prices), key=lambda p: p.sku)
    if query["skus"]:
        wanted = set(query["skus"])
        products = [p for p in products if p.sku in wanted]
    rows = [(p, _Stock(seed, seller, p, market, query["now"])) for p in products]
    if query["start"] is not None:
        rows = [(p, s) for p, s in rows if s.last_updated >= query["start"]]
    page = paginate(OPERATION, query, rows, offset, PAGE_SIZE, req.seller_id)
    summaries = []
    for product, stock in page.items:
        summary: dict[str, Any] = {"asin": product.asin, "fnSku": product.fnsku, "sellerSku": product.sku,
                                   "condition": "NewItem"}
        if query["details"]:
            summary["inventoryDetails"] = stock.details()
        summary.update({"lastUpdatedTime": iso(stock.last_updated), "productName": product.title,
                        "totalQuantity": stock.total})
        summaries.append(summary)
    body: dict[str, Any] = {"payload": {"granularity": {"granularityType": "Marketplace",
                                                        "granularityId": market.marketplace_id},
                                        "inventorySummaries": summaries}}
    if page.next_token:
        body["pagination"] = {"nextToken": page.next_token}
    return Response(body=body)
