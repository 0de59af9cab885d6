"""Orders 2026-01-01: searchOrders and getOrder, with order items inline and `includedData` datasets.

Buyer and recipient data are personal data. The model does not mark these operations restricted,
so (as Orders v0 does for getOrders) the PII comes only when the request carries a Restricted
Data Token for the path with the matching data element: BUYER needs `buyerInfo`, RECIPIENT needs
`shippingAddress`. Without it BUYER is left out and RECIPIENT carries only the non-personal part
of the address (city, region, postal code, country).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spapi_sandbox.api import order_common as oc
from spapi_sandbox.api.indexes import seller_index
from spapi_sandbox.api.paging import encode_token, resume_or_start
from spapi_sandbox.api.params import enum_list, integer, marketplaces, seller_world, timestamp, window
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import iso, money_orders_2026
from spapi_sandbox.world import Order, OrderItem, SellerWorld

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState

SEARCH = "searchOrders"
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                 "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
FULFILLMENT_STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                        "CANCELLED", "UNFULFILLABLE")
FULFILLED_BY = ("MERCHANT", "AMAZON")
STATUS = {"Pending": "PENDING", "Unshipped": "UNSHIPPED", "PartiallyShipped": "PARTIALLY_SHIPPED",
          "Shipped": "SHIPPED", "Canceled": "CANCELLED"}
SERVICE_LEVEL = {"Standard": "STANDARD", "Expedited": "EXPEDITED", "SecondDay": "SECOND_DAY",
                 "NextDay": "NEXT_DAY", "SameDay": "SAME_DAY", "Priority": "PRIORITY",
                 "FreeEconomy": "FREE_ECONOMY", "Scheduled": "SCHEDULED"}
MAX_PAGE = 100


# --- rendering -------------------------------------------------------------------------------------

class _View:
    """What one request may see of orders: datasets asked for, PII granted, the clock."""

    def __init__(self, seller: SellerWorld, included: set[str], elements: frozenset[str], now: float) -> None:
        self.index = seller_index(seller)
        self.included = included
        self.elements = elements
        self.now = now

    def order(self, order: Order) -> dict[str, Any]:
        market = MARKETPLACES[order.marketplace]
        out: dict[str, Any] = {
            "orderId": order.order_id,
            "createdTime": iso(order.purchased_at),
            "lastUpdatedTime": iso(order.last_updated_at),
        }
        programs = (["PRIME"] if order.is_prime else []) + (["AMAZON_BUSINESS"] if order.is_business else [])
        if programs:
            out["programs"] = programs
        out["salesChannel"] = {"channelName": "AMAZON", "marketplaceId": market.marketplace_id,
                               "marketplaceName": market.name}
        if "BUYER" in self.included and oc.BUYER_INFO in self.elements:
            buyer = {"buyerName": order.buyer.name}
            if order.fulfillment_channel == "MFN":  # the model: buyerEmail only for FBM orders
                buyer["buyerEmail"] = order.buyer.email
            out["buyer"] = buyer
        if "RECIPIENT" in self.included and oc.has_address(order):
            out["recipient"] = {"deliveryAddress": self.address(order)}
        if "PROCEEDS" in self.included and oc.has_pricing(order):
            out["proceeds"] = self.order_proceeds(order)
        if "FULFILLMENT" in self.included:
            out["fulfillment"] = self.order_fulfillment(order)
        out["orderItems"] = [self.item(order, item) for item in order.items]
        shipped_by_seller = order.fulfillment_channel == "MFN" and order.shipped_at is not None
        if "PACKAGES" in self.included and shipped_by_seller:
            out["packages"] = [self.package(order)]
        return out

    def address(self, order: Order) -> dict[str, Any]:
        buyer, pii = order.buyer, oc.SHIPPING_ADDRESS in self.elements
        address: dict[str, Any] = {"name": buyer.name, "addressLine1": buyer.address_line1} if pii else {}
        address.update({"city": buyer.city, "stateOrRegion": buyer.state, "postalCode": buyer.postal_code,
                        "countryCode": buyer.country_code})
        if pii and oc.phone_visible(order, self.now):
            address["phone"] = buyer.phone
        if pii:
            address["addressType"] = "RESIDENTIAL"
        return address

    def order_proceeds(self, order: Order) -> dict[str, Any]:
        currency = MARKETPLACES[order.marketplace].currency
        totals: dict[str, int] = {}
        for item in order.items:
            for kind, amount, _ in _item_breakdowns(item):
                totals[kind] = totals.get(kind, 0) + amount
        return {
            "grandTotal": money_orders_2026(order.total, currency),
            "breakdowns": [{"type": kind, "subtotal": money_orders_2026(amount, currency)}
                           for kind, amount in totals.items()],
        }

    def order_fulfillment(self, order: Order) -> dict[str, Any]:
        out: dict[str, Any] = {
            "fulfillmentStatus": STATUS.get(order.status, "PENDING"),
            "fulfilledBy": "AMAZON" if order.fulfillment_channel == "AFN" else "MERCHANT",
            "fulfillmentServiceLevel": SERVICE_LEVEL.get(order.ship_service_level, "STANDARD"),
        }
        if order.fulfillment_channel == "MFN" and order.status != "Canceled":
            ship, deliver = oc.ship_window(order), oc.delivery_window(order)
            out["shipByWindow"] = {"earliestDateTime": iso(ship.earliest), "latestDateTime": iso(ship.latest)}
            out["deliverByWindow"] = {"earliestDateTime": iso(deliver.earliest),
                                      "latestDateTime": iso(deliver.latest)}
        return out

    def item(self, order: Order, item: OrderItem) -> dict[str, Any]:
        currency = MARKETPLACES[order.marketplace].currency
        product = self.index.products_by_sku.get(item.sku)
        info: dict[str, Any] = {"asin": product.asin} if product else {}
        if product:
            info["title"] = product.title
        info["sellerSku"] = item.sku
        info["condition"] = {"conditionType": "NEW", "conditionSubtype": "NEW"}
        if oc.has_pricing(order):
            info["price"] = {"unitPrice": money_orders_2026(item.item_price // item.quantity, currency)}
        out: dict[str, Any] = {"orderItemId": item.order_item_id, "quantityOrdered": item.quantity,
                               "product": info}
        if "PROCEEDS" in self.included and oc.has_pricing(order):
            out["proceeds"] = _item_proceeds(item, currency)
        if "PROMOTION" in self.included and item.promotion_id:
            out["promotion"] = {"breakdowns": [{"promotionId": item.promotion_id}]}
        if "CANCELLATION" in self.included and order.status == "Canceled":
            reason = "Buyer requested cancellation before shipment"
            out["cancellation"] = {"cancellationRequest": {"requester": "BUYER", "cancelReason": reason},
                                   "cancellationExecution": {"cancelledBy": "BUYER", "cancelReason": reason}}
        if "FULFILLMENT" in self.included:
            shipped = item.quantity if order.status == "Shipped" else 0
            open_units = item.quantity if order.status in ("Pending", "Unshipped") else 0
            out["fulfillment"] = {"quantityFulfilled": shipped, "quantityUnfulfilled": open_units}
        if "TAX" in self.included and MARKETPLACES[order.marketplace].sales_tax_withheld:
            out["tax"] = {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR",
                                              "responsibleParty": "Amazon Services, Inc."}]}
        return out

    def package(self, order: Order) -> dict[str, Any]:
        assert order.shipped_at is not None
        delivered = order.delivered_at is not None and order.delivered_at <= self.now
        return {
            "packageReferenceId": "1",
            "createdTime": iso(order.shipped_at),
            "packageStatus": {"status": "DELIVERED" if delivered else "IN_TRANSIT"},
            "carrier": oc.carrier(order),
            "shipTime": iso(order.shipped_at),
            "shippingService": order.ship_service_level,
            "trackingNumber": oc.tracking_number(order),
            "packageItems": [{"orderItemId": i.order_item_id, "quantity": i.quantity} for i in order.items],
        }


def _item_breakdowns(item: OrderItem) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """(type, subtotal, detailed (subtype, value)) proceeds of one item, in the model's categories."""
    rows: list[tuple[str, int, list[tuple[str, int]]]] = [("ITEM", item.item_price, [])]
    if item.shipping_price:
        rows.append(("SHIPPING", item.shipping_price, []))
    if item.item_tax or item.shipping_tax:
        details = [("ITEM", item.item_tax)] + ([("SHIPPING", item.shipping_tax)] if item.shipping_tax else [])
        rows.append(("TAX", item.item_tax + item.shipping_tax, details))
    if item.promotion_discount:
        rows.append(("DISCOUNT", -item.promotion_discount, [("ITEM", -item.promotion_discount)]))
    return rows


def _item_proceeds(item: OrderItem, currency: str) -> dict[str, Any]:
    rows = _item_breakdowns(item)
    breakdowns = []
    for kind, amount, details in rows:
        row: dict[str, Any] = {"type": kind, "subtotal": money_orders_2026(amount, currency)}
        if details:
            row["detailedBreakdowns"] = [{"subtype": sub, "value": money_orders_2026(value, currency)}
                                         for sub, value in details]
        breakdowns.append(row)
    return {"proceedsTotal": money_orders_2026(sum(amount for _, amount, _ in rows), currency),
            "breakdowns": breakdowns}


# --- searchOrders ----------------------------------------------------------------------------------

def _search_query(state: SandboxState, req: Request, seller: SellerWorld) -> dict[str, Any]:
    """Validate a first-page request into the normalised query a page token carries."""
    created_after, created_before = timestamp(req, "createdAfter"), timestamp(req, "createdBefore")
    updated_after, updated_before = timestamp(req, "lastUpdatedAfter"), timestamp(req, "lastUpdatedBefore")
    if (created_after is None) == (updated_after is None):
        raise invalid_input("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if created_after is not None and updated_before is not None:
        raise invalid_input("lastUpdatedBefore cannot be provided together with createdAfter.")
    if updated_after is not None and created_before is not None:
        raise invalid_input("createdBefore cannot be provided together with lastUpdatedAfter.")
    now = int(state.clock.now())
    if created_after is not None:
        mode, after = "created", created_after
        before = window(created_after, created_before, now, "createdAfter", "createdBefore")
    else:
        mode, after = "updated", updated_after
        before = window(updated_after, updated_before, now, "lastUpdatedAfter", "lastUpdatedBefore")
    markets = marketplaces(req, seller, "marketplaceIds", required=False, max_items=50)
    return {
        "mode": mode, "after": after, "before": before,
        "markets": sorted(m.code for m in markets),
        "statuses": sorted(enum_list(req, "fulfillmentStatuses", FULFILLMENT_STATUSES)),
        "by": sorted(enum_list(req, "fulfilledBy", FULFILLED_BY)),
        "size": integer(req, "maxResultsPerPage", MAX_PAGE, 1, MAX_PAGE),
        "included": sorted(enum_list(req, "includedData", INCLUDED_DATA)),
    }


def _keep(query: dict[str, Any]):
    markets, statuses, by = set(query["markets"]), set(query["statuses"]), set(query["by"])

    def keep(order: Order) -> bool:
        if order.marketplace not in markets:
            return False
        if statuses and STATUS.get(order.status) not in statuses:
            return False
        return not by or ("AMAZON" if order.fulfillment_channel == "AFN" else "MERCHANT") in by

    return keep


@route("GET", "/orders/2026-01-01/orders", SEARCH)
def search_orders(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    query, start = resume_or_start(req, SEARCH, "paginationToken", lambda: _search_query(state, req, seller))
    page, next_start = oc.orders_page(seller_index(seller), query, start, _keep(query))
    view = _View(seller, set(query["included"]), oc.granted_elements(state, req), state.clock.now())
    body: dict[str, Any] = {"orders": [view.order(o) for o in page]}
    if next_start is not None:
        body["pagination"] = {"nextToken": encode_token(SEARCH, query, next_start, req.seller_id)}
    body["createdBefore" if query["mode"] == "created" else "lastUpdatedBefore"] = iso(query["before"])
    return Response(body=body)


@route("GET", "/orders/2026-01-01/orders/{orderId}", "getOrder_2026")
def get_order(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    now = state.clock.now()
    order = oc.find_order(seller, req.path_params["orderId"], now)
    included = set(enum_list(req, "includedData", INCLUDED_DATA))
    view = _View(seller, included, oc.granted_elements(state, req), now)
    return Response(body={"order": view.order(order)})
