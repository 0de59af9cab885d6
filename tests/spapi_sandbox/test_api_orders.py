"""Orders 2026-01-01 over real HTTP: searchOrders paging and filters, getOrder, includedData, PII.

searchOrders allows a burst of 20 calls per seller and then one every three minutes, so each test
here keeps count: seller 0 is used for data checks, seller 1 for validation errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import decimal_str, iso, parse_iso
from spapi_sandbox.world import Order
from tests.contract.checker import assert_matches_model
from tests.contract.harness import Api, error_codes, running_api

SEARCH = "/orders/2026-01-01/orders"
MODEL = "orders_2026-01-01.json"
ALL_DATA = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT," \
           "FULFILLMENT_ORDERS"
US, CA, UK = (MARKETPLACES[c].marketplace_id for c in ("US", "CA", "UK"))


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with running_api() as running:
        yield running


def pages(api: Api, params: dict[str, Any], seller: int = 0) -> list[dict[str, Any]]:
    """Every page of a search, following pagination.nextToken with the token alone."""
    bodies = []
    response = api.get(SEARCH, params, seller=seller)
    while True:
        assert response.status_code == 200, response.text
        assert_matches_model(MODEL, "searchOrders", 200, response.json())
        bodies.append(response.json())
        token = response.json().get("pagination", {}).get("nextToken")
        if not token:
            return bodies
        response = api.get(SEARCH, {"paginationToken": token}, seller=seller)


def ids(bodies: list[dict[str, Any]]) -> list[str]:
    return [o["orderId"] for body in bodies for o in body["orders"]]


def world_orders(api: Api, seller: int = 0) -> list[Order]:
    return api.seller(seller).orders


def test_search_by_creation_walks_every_order_once_in_order(api):  # seller 0: 4-5 calls
    since = parse_iso("2026-02-15T00:00:00Z")
    bodies = pages(api, {"createdAfter": "2026-02-15T00:00:00Z", "maxResultsPerPage": 50})
    expected = sorted((o for o in world_orders(api) if o.purchased_at >= since),
                      key=lambda o: (o.purchased_at, o.order_id))
    assert len(bodies) == -(-len(expected) // 50) > 1
    assert ids(bodies) == [o.order_id for o in expected]
    assert all(len(b["orders"]) == 50 for b in bodies[:-1])
    assert "pagination" not in bodies[-1]
    # the upper bound is the sandbox clock at the first page, echoed on every page
    bound = parse_iso(bodies[0]["createdBefore"])
    assert api.world.now <= bound < api.world.now + 600
    assert {b["createdBefore"] for b in bodies} == {bodies[0]["createdBefore"]}
    assert all("lastUpdatedBefore" not in b for b in bodies)


def test_page_tokens_are_deterministic(api):  # seller 0: 2 calls
    params = {"createdAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-01-20T00:00:00Z",
              "maxResultsPerPage": 10}
    first, again = api.get(SEARCH, params), api.get(SEARCH, params)
    assert first.json()["pagination"]["nextToken"] == again.json()["pagination"]["nextToken"]
    assert first.json()["createdBefore"] == "2026-01-20T00:00:00Z"


def test_filters_select_exactly_the_matching_orders(api):  # seller 0: 1 call
    body = pages(api, {"createdAfter": "2026-01-01T00:00:00Z", "marketplaceIds": CA,
                       "fulfillmentStatuses": "SHIPPED,CANCELLED", "fulfilledBy": "MERCHANT"})
    expected = {o.order_id for o in world_orders(api) if o.marketplace == "CA"
                and o.status in ("Shipped", "Canceled") and o.fulfillment_channel == "MFN"}
    assert expected and set(ids(body)) == expected
    assert all(o["salesChannel"] == {"channelName": "AMAZON", "marketplaceId": CA, "marketplaceName": "Amazon.ca"}
               for b in body for o in b["orders"])


def test_search_by_last_update_uses_the_update_time(api):  # seller 0: 1-2 calls
    since = parse_iso("2026-02-25T00:00:00Z")
    bodies = pages(api, {"lastUpdatedAfter": "2026-02-25T00:00:00Z", "includedData": "FULFILLMENT"})
    expected = sorted((o for o in world_orders(api) if o.last_updated_at >= since),
                      key=lambda o: (o.last_updated_at, o.order_id))
    assert ids(bodies) == [o.order_id for o in expected]
    assert "lastUpdatedBefore" in bodies[0] and "createdBefore" not in bodies[0]
    statuses = {o["orderId"]: o["fulfillment"]["fulfillmentStatus"] for b in bodies for o in b["orders"]}
    names = {"Shipped": "SHIPPED", "Unshipped": "UNSHIPPED", "Canceled": "CANCELLED", "Pending": "PENDING"}
    assert statuses == {o.order_id: names[o.status] for o in expected}


def test_future_bounds_are_capped_at_the_sandbox_clock(api):  # seller 0: 1 call
    body = api.get(SEARCH, {"createdAfter": "2026-03-01T00:00:00Z", "createdBefore": "2099-01-01T00:00:00Z"}).json()
    assert api.world.now <= parse_iso(body["createdBefore"]) < api.world.now + 600
    since = parse_iso("2026-03-01T00:00:00Z")
    assert len(body["orders"]) == sum(1 for o in world_orders(api) if o.purchased_at >= since)


def _mfn_shipped(api: Api, seller: int = 0) -> Order:
    return next(o for o in world_orders(api, seller) if o.fulfillment_channel == "MFN" and o.status == "Shipped"
                and o.marketplace == "US" and o.delivered_at is None)


def test_buyer_and_recipient_pii_need_a_restricted_data_token(api):  # seller 0: getOrder x2, RDT x1
    order = _mfn_shipped(api)
    path = f"{SEARCH}/{order.order_id}"
    plain = api.get(path, {"includedData": "BUYER,RECIPIENT"}).json()["order"]
    assert "buyer" not in plain
    assert plain["recipient"] == {"deliveryAddress": {
        "city": order.buyer.city, "stateOrRegion": order.buyer.state, "postalCode": order.buyer.postal_code,
        "countryCode": "US"}}
    rdt = api.rdt([{"method": "GET", "path": path, "dataElements": ["buyerInfo", "shippingAddress"]}])
    full = api.get(path, {"includedData": "BUYER,RECIPIENT"}, token=rdt).json()["order"]
    assert full["buyer"] == {"buyerName": order.buyer.name, "buyerEmail": order.buyer.email}
    assert full["recipient"]["deliveryAddress"] == {
        "name": order.buyer.name, "addressLine1": order.buyer.address_line1, "city": order.buyer.city,
        "stateOrRegion": order.buyer.state, "postalCode": order.buyer.postal_code, "countryCode": "US",
        "phone": order.buyer.phone, "addressType": "RESIDENTIAL"}
    assert_matches_model(MODEL, "getOrder", 200, {"order": full})


def test_canary_pii_appears_only_with_an_rdt(api):  # seller 0: 2 search calls, RDT x1
    canaries = set(api.world.pii_canaries)
    order = next(o for o in world_orders(api) if o.buyer.name in canaries)
    params = {"createdAfter": iso(order.purchased_at), "createdBefore": iso(order.purchased_at),
              "includedData": "BUYER,RECIPIENT"}
    plain = api.get(SEARCH, params)
    assert [o["orderId"] for o in plain.json()["orders"]] == [order.order_id]
    assert not any(value in plain.text for value in canaries)
    rdt = api.rdt([{"method": "GET", "path": SEARCH, "dataElements": ["buyerInfo", "shippingAddress"]}])
    full = api.get(SEARCH, params, token=rdt)
    assert order.buyer.name in full.text and order.buyer.address_line1 in full.text


def test_proceeds_promotions_and_tax_add_up_to_the_order_total(api):  # seller 0: getOrder x1
    order = next(o for o in world_orders(api) if o.marketplace == "US" and o.status == "Shipped"
                 and any(i.promotion_discount and i.item_tax for i in o.items))
    body = api.get(f"{SEARCH}/{order.order_id}", {"includedData": "PROCEEDS,PROMOTION,TAX"}).json()["order"]
    assert body["proceeds"]["grandTotal"] == {"amount": decimal_str(order.total, "USD"), "currencyCode": "USD"}
    for item, rendered in zip(order.items, body["orderItems"], strict=True):
        subtotals = {b["type"]: b["subtotal"]["amount"] for b in rendered["proceeds"]["breakdowns"]}
        assert subtotals["ITEM"] == decimal_str(item.item_price, "USD")
        if item.promotion_discount:
            assert subtotals["DISCOUNT"] == decimal_str(-item.promotion_discount, "USD")
            assert rendered["promotion"] == {"breakdowns": [{"promotionId": item.promotion_id}]}
        total = item.item_price + item.shipping_price + item.item_tax + item.shipping_tax - item.promotion_discount
        assert rendered["proceeds"]["proceedsTotal"]["amount"] == decimal_str(total, "USD")
        assert rendered["product"]["price"]["unitPrice"]["amount"] == decimal_str(item.item_price // item.quantity,
                                                                               "USD")
        assert rendered["tax"]["taxCollections"][0]["model"] == "MARKETPLACE_FACILITATOR"


def test_packages_and_windows_for_merchant_fulfilled_orders(api):  # seller 0: getOrder x1
    order = _mfn_shipped(api)
    body = api.get(f"{SEARCH}/{order.order_id}", {"includedData": "PACKAGES,FULFILLMENT"}).json()["order"]
    assert body["fulfillment"]["fulfilledBy"] == "MERCHANT"
    assert set(body["fulfillment"]) >= {"shipByWindow", "deliverByWindow"}
    (package,) = body["packages"]
    assert package["shipTime"] == iso(order.shipped_at) and package["packageStatus"] == {"status": "IN_TRANSIT"}
    assert [(p["orderItemId"], p["quantity"]) for p in package["packageItems"]] == [
        (i.order_item_id, i.quantity) for i in order.items]


def test_pending_orders_have_no_prices_and_cancelled_orders_say_who_cancelled(api):  # seller 1: getOrder x2
    pending = next(o for o in world_orders(api, 1) if o.status == "Pending")
    body = api.get(f"{SEARCH}/{pending.order_id}", {"includedData": "PROCEEDS,FULFILLMENT"}, seller=1).json()
    assert "proceeds" not in body["order"] and "price" not in body["order"]["orderItems"][0]["product"]
    assert body["order"]["fulfillment"]["fulfillmentStatus"] == "PENDING"
    cancelled = next(o for o in world_orders(api, 1) if o.status == "Canceled")
    body = api.get(f"{SEARCH}/{cancelled.order_id}", {"includedData": "CANCELLATION"}, seller=1).json()
    assert body["order"]["orderItems"][0]["cancellation"]["cancellationExecution"]["cancelledBy"] == "BUYER"


def test_get_order_is_scoped_to_the_calling_seller(api):  # seller 0: getOrder x3
    other = world_orders(api, 1)[0].order_id
    assert api.get(f"{SEARCH}/{other}").status_code == 404
    missing = api.get(f"{SEARCH}/999-0000000-0000000")
    assert missing.status_code == 404 and error_codes(missing) == ["NotFound"]
    assert error_codes(api.get(f"{SEARCH}/12-34")) == ["InvalidInput"]


@pytest.mark.parametrize(("params", "message"), [
    ({}, "Exactly one of createdAfter and lastUpdatedAfter"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedAfter": "2026-01-01T00:00:00Z"}, "Exactly one of"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": "2026-01-02T00:00:00Z"}, "lastUpdatedBefore"),
    ({"lastUpdatedAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-01-02T00:00:00Z"}, "createdBefore"),
    ({"createdAfter": "01/02/2026"}, "Invalid createdAfter"),
    ({"createdAfter": "2026-01-05T00:00:00Z", "createdBefore": "2026-01-04T00:00:00Z"}, "Invalid createdBefore"),
    ({"createdAfter": "2099-01-01T00:00:00Z"}, "in the future"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": 0}, "maxResultsPerPage"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": 101}, "between 1 and 100"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "marketplaceIds": "NOTAMARKET"}, "not a valid marketplace"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "marketplaceIds": US}, "not registered in marketplace"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "includedData": "EVERYTHING"}, "Invalid includedData"),
    ({"createdAfter": "2026-01-01T00:00:00Z", "fulfillmentStatuses": "Shipped"}, "fulfillmentStatuses"),
    ({"paginationToken": "bm90LWEtdG9rZW4"}, "Invalid paginationToken"),
])
def test_invalid_searches_are_invalid_input(api, params, message):  # seller 1 (EU): 14 calls
    response = api.get(SEARCH, params, seller=1)
    assert response.status_code == 400
    assert error_codes(response) == ["InvalidInput"] and message in response.json()["errors"][0]["message"]
    assert_matches_model(MODEL, "searchOrders", 400, response.json())


def test_unknown_parameters_are_ignored(api):  # seller 1: 1 call
    response = api.get(SEARCH, {"createdAfter": "2026-03-01T00:00:00Z", "marketplaceIds": UK, "foo": "bar"},
                       seller=1)
    assert response.status_code == 200
    assert all(o["salesChannel"]["marketplaceId"] == UK for o in response.json()["orders"])
