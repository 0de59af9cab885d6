"""Orders v0 (deprecated, still what most clients call): getOrders, getOrder, getOrderItems and the
restricted getOrderAddress and getOrderBuyerInfo.

getOrders/getOrder return buyer info and the full shipping address only when the request carries
an RDT for the path with `buyerInfo` / `shippingAddress`; otherwise the address has only city,
region, postal code and country, as on Amazon. `NextToken` alone (with MarketplaceIds) continues a
search: the token carries the original filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spapi_sandbox.api import order_common as oc
from spapi_sandbox.api.indexes import seller_index
from spapi_sandbox.api.paging import encode_token, resume_or_start
from spapi_sandbox.api.params import (
    boolean,
    enum_list,
    integer,
    marketplaces,
    seller_world,
    timestamp,
    window,
)
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import iso, money_orders_v0
from spapi_sandbox.world import Order, OrderItem, SellerWorld

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState

GET_ORDERS = "getOrders"
ORDER_STATUSES = ("PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped",
                  "InvoiceUnconfirmed", "Canceled", "Unfulfillable")
CHANNELS = ("AFN", "MFN")
PAYMENT_METHODS = ("COD", "CVS", "Other")
EASY_SHIP = ("PendingSchedule", "PendingPickUp", "PendingDropOff", "LabelCanceled", "PickedUp", "DroppedOff",
             "AtOriginFC", "AtDestinationFC", "Delivered", "RejectedByBuyer", "Undeliverable",
             "ReturningToSeller", "ReturnedToSeller", "Lost", "OutForDelivery", "Damaged")
INVOICE_STATUSES = ("NotRequired", "NotFound", "Processing", "Errored", "Accepted")
DELIVERY_FILTERS = ("EarliestDeliveryDateBefore", "EarliestDeliveryDateAfter", "LatestDeliveryDateBefore",
                    "LatestDeliveryDateAfter")
MAX_PAGE = 100


def _address(order: Order, elements: frozenset[str], now: float) -> dict[str, Any]:
    buyer, pii = order.buyer, oc.SHIPPING_ADDRESS in elements
    out: dict[str, Any] = {"Name": buyer.name, "AddressLine1": buyer.address_line1} if pii else {}
    out.update({"City": buyer.city, "StateOrRegion": buyer.state, "PostalCode": buyer.postal_code,
                "CountryCode": buyer.country_code})
    if pii and oc.phone_visible(order, now):
        out["Phone"] = buyer.phone
    if pii:
        out["AddressType"] = "Residential"
    return out


def render_order(order: Order, elements: frozenset[str], now: float) -> dict[str, Any]:
    market = MARKETPLACES[order.marketplace]
    out: dict[str, Any] = {
        "AmazonOrderId": order.order_id,
        "SellerOrderId": order.order_id,
        "PurchaseDate": iso(order.purchased_at),
        "LastUpdateDate": iso(order.last_updated_at),
        "OrderStatus": order.status,
        "FulfillmentChannel": order.fulfillment_channel,
        "SalesChannel": market.name,
        "ShipServiceLevel": order.ship_service_level,
    }
    if oc.has_pricing(order):
        out["OrderTotal"] = money_orders_v0(order.total, market.currency)
    out.update({
        "NumberOfItemsShipped": oc.units_shipped(order),
        "NumberOfItemsUnshipped": oc.units_unshipped(order),
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": market.marketplace_id,
        "ShipmentServiceLevelCategory": order.ship_service_level,
        "OrderType": "StandardOrder",
    })
    if order.fulfillment_channel == "MFN" and order.status != "Canceled":
        ship, deliver = oc.ship_window(order), oc.delivery_window(order)
        out.update({"EarliestShipDate": iso(ship.earliest), "LatestShipDate": iso(ship.latest),
                    "EarliestDeliveryDate": iso(deliver.earliest), "LatestDeliveryDate": iso(deliver.latest)})
    out.update({
        "IsBusinessOrder": order.is_business,
        "IsPrime": order.is_prime,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    })
    if oc.has_address(order):
        out["ShippingAddress"] = _address(order, elements, now)
    if oc.BUYER_INFO in elements:
        out["BuyerInfo"] = {"BuyerEmail": order.buyer.email, "BuyerName": order.buyer.name}
    return out


def render_item(order: Order, item: OrderItem, seller: SellerWorld) -> dict[str, Any]:
    market = MARKETPLACES[order.marketplace]
    product = seller_index(seller).products_by_sku.get(item.sku)
    out: dict[str, Any] = {
        "ASIN": product.asin if product else "",
        "SellerSKU": item.sku,
        "OrderItemId": item.order_item_id,
        "Title": product.title if product else item.sku,
        "QuantityOrdered": item.quantity,
        "QuantityShipped": item.quantity if order.status == "Shipped" else 0,
        "ProductInfo": {"NumberOfItems": "1"},
    }
    if oc.has_pricing(order):
        def money(minor: int) -> dict[str, str]:
            return money_orders_v0(minor, market.currency)

        out.update({
            "ItemPrice": money(item.item_price),
            "ShippingPrice": money(item.shipping_price),
            "ItemTax": money(item.item_tax),
            "ShippingTax": money(item.shipping_tax),
            "ShippingDiscount": money(0),
            "ShippingDiscountTax": money(0),
            "PromotionDiscount": money(item.promotion_discount),
            "PromotionDiscountTax": money(0),
        })
        if item.promotion_id:
            out["PromotionIds"] = [item.promotion_id]
    out.update({"IsGift": "false", "ConditionId": "New", "ConditionSubtypeId": "New",
                "IsTransparency": False})
    if market.sales_tax_withheld:
        out["TaxCollection"] = {"Model": "MarketplaceFacilitator",
                                "ResponsibleParty": "Amazon Services, Inc."}
    cancelled = order.status == "Canceled"
    out["BuyerRequestedCancel"] = {"IsBuyerRequestedCancel": "true" if cancelled else "false"}
    if cancelled:
        out["BuyerRequestedCancel"]["BuyerCancelReason"] = "Buyer requested cancellation before shipment"
    return out


# --- getOrders -------------------------------------------------------------------------------------

def _orders_query(state: SandboxState, req: Request, markets: list[str]) -> dict[str, Any]:
    created_after, created_before = timestamp(req, "CreatedAfter"), timestamp(req, "CreatedBefore")
    updated_after, updated_before = timestamp(req, "LastUpdatedAfter"), timestamp(req, "LastUpdatedBefore")
    order_ids = list(dict.fromkeys(req.list_param("AmazonOrderIds")))
    if len(order_ids) > 50:
        raise invalid_input(f"AmazonOrderIds accepts at most 50 values; {len(order_ids)} were given.")
    if created_after is not None and (updated_after is not None or updated_before is not None):
        raise invalid_input("LastUpdatedAfter and LastUpdatedBefore cannot be set when CreatedAfter is set.")
    if updated_after is not None and created_before is not None:
        raise invalid_input("CreatedBefore cannot be set when LastUpdatedAfter is set.")
    if created_after is None and updated_after is None and not order_ids:
        raise invalid_input("Either CreatedAfter or LastUpdatedAfter must be specified.")
    now = int(state.clock.now())
    if created_after is not None or updated_after is None:
        mode, after = "created", created_after or 0
        before = window(created_after, created_before, now, "CreatedAfter", "CreatedBefore")
    else:
        mode, after = "updated", updated_after
        before = window(updated_after, updated_before, now, "LastUpdatedAfter", "LastUpdatedBefore")
    delivery = {name: timestamp(req, name) for name in DELIVERY_FILTERS}
    return {
        "mode": mode, "after": after, "before": before,
        "explicit": created_after is not None or updated_after is not None, "markets": markets,
        "statuses": sorted(enum_list(req, "OrderStatuses", ORDER_STATUSES)),
        "channels": sorted(enum_list(req, "FulfillmentChannels", CHANNELS)),
        "payments": sorted(enum_list(req, "PaymentMethods", PAYMENT_METHODS)),
        "easy_ship": bool(enum_list(req, "EasyShipShipmentStatuses", EASY_SHIP)),
        "invoice": bool(enum_list(req, "ElectronicInvoiceStatuses", INVOICE_STATUSES)),
        "ispu": boolean(req, "IsISPU", False),
        "email": req.param("BuyerEmail") or "",
        "seller_order_id": req.param("SellerOrderId") or "",
        "ids": sorted(order_ids),
        "delivery": {k: v for k, v in delivery.items() if v is not None},
        "size": integer(req, "MaxResultsPerPage", MAX_PAGE, 1, MAX_PAGE),
    }


def _delivery_ok(order: Order, bounds: dict[str, int]) -> bool:
    if not bounds:
        return True
    if order.fulfillment_channel != "MFN" or order.status == "Canceled":
        return False  # delivery windows exist for seller-fulfilled orders only
    w = oc.delivery_window(order)
    earliest_before = bounds.get("EarliestDeliveryDateBefore", w.earliest)
    earliest_after = bounds.get("EarliestDeliveryDateAfter", w.earliest)
    latest_before = bounds.get("LatestDeliveryDateBefore", w.latest)
    latest_after = bounds.get("LatestDeliveryDateAfter", w.latest)
    return earliest_after <= w.earliest <= earliest_before and latest_after <= w.latest <= latest_before


def _keep(query: dict[str, Any]):
    markets, statuses, channels = set(query["markets"]), set(query["statuses"]), set(query["channels"])
    ids, email, seller_order_id = set(query["ids"]), query["email"], query["seller_order_id"]
    nothing = (query["easy_ship"] or query["invoice"] or query["ispu"]
               or (query["payments"] and "Other" not in query["payments"]))

    def keep(order: Order) -> bool:
        if nothing or order.marketplace not in markets:
            return False
        if statuses and order.status not in statuses:
            return False
        if channels and order.fulfillment_channel not in channels:
            return False
        if ids and order.order_id not in ids:
            return False
        if email and order.buyer.email != email:
            return False
        if seller_order_id and order.order_id != seller_order_id:
            return False
        return _delivery_ok(order, query["delivery"])

    return keep


@route("GET", "/orders/v0/orders", GET_ORDERS)
def get_orders(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    markets = sorted(m.code for m in marketplaces(req, seller, "MarketplaceIds", max_items=50))
    query, start = resume_or_start(req, GET_ORDERS, "NextToken", lambda: _orders_query(state, req, markets))
    page, next_start = oc.orders_page(seller_index(seller), query, start, _keep(query))
    elements = oc.granted_elements(state, req)
    now = state.clock.now()
    payload: dict[str, Any] = {"Orders": [render_order(o, elements, now) for o in page]}
    if next_start is not None:
        payload["NextToken"] = encode_token(GET_ORDERS, query, next_start, req.seller_id)
    if query["explicit"]:
        payload["CreatedBefore" if query["mode"] == "created" else "LastUpdatedBefore"] = iso(query["before"])
    return Response(body={"payload": payload})


# --- single-order operations ---------------------------------------------------------------------

@route("GET", "/orders/v0/orders/{orderId}", "getOrder")
def get_order(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    now = state.clock.now()
    order = oc.find_order(seller, req.path_params["orderId"], now)
    return Response(body={"payload": render_order(order, oc.granted_elements(state, req), now)})


@route("GET", "/orders/v0/orders/{orderId}/orderItems", "getOrderItems")
def get_order_items(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    order = oc.find_order(seller, req.path_params["orderId"], state.clock.now())
    if req.param("NextToken"):  # an order's items always fit on one page: no token was ever issued
        raise invalid_input("Invalid NextToken: the token is malformed or was not issued for this request.")
    items = [render_item(order, item, seller) for item in order.items]
    return Response(body={"payload": {"OrderItems": items, "AmazonOrderId": order.order_id}})


@route("GET", "/orders/v0/orders/{orderId}/address", "getOrderAddress", auth="restricted")
def get_order_address(state: SandboxState, req: Request) -> Response:
    """Restricted: the server only lets an RDT for this path through, so the address is complete."""
    seller = seller_world(state, req)
    now = state.clock.now()
    order = oc.find_order(seller, req.path_params["orderId"], now)
    payload: dict[str, Any] = {"AmazonOrderId": order.order_id}
    if oc.has_address(order):
        payload["ShippingAddress"] = _address(order, frozenset({oc.SHIPPING_ADDRESS}), now)
    return Response(body={"payload": payload})


@route("GET", "/orders/v0/orders/{orderId}/buyerInfo", "getOrderBuyerInfo", auth="restricted")
def get_order_buyer_info(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    order = oc.find_order(seller, req.path_params["orderId"], state.clock.now())
    return Response(body={"payload": {"AmazonOrderId": order.order_id, "BuyerEmail": order.buyer.email,
                                      "BuyerName": order.buyer.name}})
