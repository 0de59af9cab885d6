"""Orders v0 over real HTTP: getOrders (NextToken alone), getOrder, getOrderItems, and the restricted
getOrderAddress and getOrderBuyerInfo.

getOrders allows a burst of 20 per seller, then one a minute: seller 0 gets the data checks,
seller 1 the validation errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import decimal_str, parse_iso
from spapi_sandbox.world import Order
from tests.contract.checker import assert_matches_model
from tests.contract.harness import Api, error_codes, running_api

ORDERS = "/orders/v0/orders"
MODEL = "ordersV0.json"
US, CA, UK = (MARKETPLACES[c].marketplace_id for c in ("US", "CA", "UK"))


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with running_api() as running:
        yield running


def all_pages(api: Api, params: dict[str, Any], seller: int = 0, token: str | None = None) -> list[dict]:
    payloads = []
    response = api.get(ORDERS, params, seller=seller, token=token)
    while True:
        assert response.status_code == 200, response.text
        assert_matches_model(MODEL, "getOrders", 200, response.json())
        payloads.append(response.json()["payload"])
        next_token = payloads[-1].get("NextToken")
        if not next_token:
            return payloads
        # NextToken alone (with the required MarketplaceIds) carries the original filters
        response = api.get(ORDERS, {"NextToken": next_token, "MarketplaceIds": params["MarketplaceIds"]},
                           seller=seller, token=token)


def order_ids(payloads: list[dict]) -> list[str]:
    return [o["AmazonOrderId"] for p in payloads for o in p["Orders"]]


def test_get_orders_pages_through_one_marketplace(api):  # seller 0: 3 calls
    since = parse_iso("2026-02-10T00:00:00Z")
    payloads = all_pages(api, {"CreatedAfter": "2026-02-10T00:00:00Z", "MarketplaceIds": US,
                               "MaxResultsPerPage": 60})
    expected = sorted((o for o in api.seller(0).orders if o.marketplace == "US" and o.purchased_at >= since),
                      key=lambda o: (o.purchased_at, o.order_id))
    assert len(payloads) > 1 and order_ids(payloads) == [o.order_id for o in expected]
    assert "CreatedBefore" in payloads[0]
    orders = [o for p in payloads for o in p["Orders"]]
    world = {o.order_id: o for o in expected}
    for rendered in orders:
        order = world[rendered["AmazonOrderId"]]
        assert rendered["OrderStatus"] == order.status
        assert rendered["FulfillmentChannel"] == order.fulfillment_channel
        assert rendered["MarketplaceId"] == US and rendered["SalesChannel"] == "Amazon.com"
        if order.status in ("Pending", "Canceled"):
            assert "OrderTotal" not in rendered
        else:
            assert rendered["OrderTotal"] == {"CurrencyCode": "USD", "Amount": decimal_str(order.total, "USD")}
        assert "BuyerInfo" not in rendered
        assert "Name" not in rendered.get("ShippingAddress", {})


def test_filters_and_amazon_order_ids(api):  # seller 0: 2 calls
    payloads = all_pages(api, {"LastUpdatedAfter": "2026-01-01T00:00:00Z", "MarketplaceIds": f"{US},{CA}",
                               "OrderStatuses": "Canceled,Unshipped", "FulfillmentChannels": "MFN"})
    expected = {o.order_id for o in api.seller(0).orders if o.status in ("Canceled", "Unshipped")
                and o.fulfillment_channel == "MFN"}
    assert expected and set(order_ids(payloads)) == expected
    assert "LastUpdatedBefore" in payloads[0]
    wanted = [o.order_id for o in api.seller(0).orders[:3]]
    payloads = all_pages(api, {"AmazonOrderIds": ",".join(wanted), "MarketplaceIds": f"{US},{CA}"})
    assert sorted(order_ids(payloads)) == sorted(wanted)


def test_buyer_info_and_full_address_come_with_an_rdt(api):  # seller 0: 1 getOrders, RDT x1
    canaries = set(api.world.pii_canaries)
    canary = next(o for o in api.seller(0).orders if o.buyer.name in canaries)
    rdt = api.rdt([{"method": "GET", "path": ORDERS, "dataElements": ["buyerInfo", "shippingAddress"]}])
    market = MARKETPLACES[canary.marketplace].marketplace_id
    payloads = all_pages(api, {"AmazonOrderIds": canary.order_id, "MarketplaceIds": market}, token=rdt)
    (rendered,) = payloads[0]["Orders"]
    assert rendered["BuyerInfo"] == {"BuyerEmail": canary.buyer.email, "BuyerName": canary.buyer.name}
    assert rendered["ShippingAddress"]["Name"] == canary.buyer.name
    assert rendered["ShippingAddress"]["AddressLine1"] == canary.buyer.address_line1


def _order(api: Api, seller: int, **wanted: Any) -> Order:
    return next(o for o in api.seller(seller).orders if all(getattr(o, k) == v for k, v in wanted.items()))


def test_get_order_items_carry_the_worlds_amounts(api):  # seller 0: 1 call
    order = next(o for o in api.seller(0).orders if o.status == "Shipped" and o.marketplace == "US"
                 and any(i.promotion_discount for i in o.items))
    response = api.get(f"{ORDERS}/{order.order_id}/orderItems")
    assert_matches_model(MODEL, "getOrderItems", 200, response.json())
    payload = response.json()["payload"]
    assert payload["AmazonOrderId"] == order.order_id
    for item, rendered in zip(order.items, payload["OrderItems"], strict=True):
        assert rendered["SellerSKU"] == item.sku and rendered["OrderItemId"] == item.order_item_id
        assert rendered["QuantityOrdered"] == rendered["QuantityShipped"] == item.quantity
        assert rendered["ItemPrice"]["Amount"] == decimal_str(item.item_price, "USD")
        assert rendered["ItemTax"]["Amount"] == decimal_str(item.item_tax, "USD")
        assert rendered["PromotionDiscount"]["Amount"] == decimal_str(item.promotion_discount, "USD")
        assert rendered.get("PromotionIds", []) == ([item.promotion_id] if item.promotion_id else [])
        assert rendered["TaxCollection"] == {"Model": "MarketplaceFacilitator",
                                             "ResponsibleParty": "Amazon Services, Inc."}


def test_pending_orders_hide_prices(api):  # seller 1: 2 calls
    order = _order(api, 1, status="Pending")
    items = api.get(f"{ORDERS}/{order.order_id}/orderItems", seller=1).json()["payload"]["OrderItems"]
    assert all("ItemPrice" not in i and "TaxCollection" not in i for i in items)  # UK: no facilitator tax
    rendered = api.get(f"{ORDERS}/{order.order_id}", seller=1).json()["payload"]
    assert rendered["OrderStatus"] == "Pending" and "OrderTotal" not in rendered
    assert "ShippingAddress" not in rendered and rendered["NumberOfItemsUnshipped"] > 0


def test_restricted_operations_need_an_rdt_for_that_order(api):  # seller 0: RDT x1, 4 calls
    order = _order(api, 0, status="Shipped", fulfillment_channel="MFN", marketplace="CA")
    address, buyer = f"{ORDERS}/{order.order_id}/address", f"{ORDERS}/{order.order_id}/buyerInfo"
    assert error_codes(api.get(address)) == ["Unauthorized"]
    rdt = api.rdt([{"method": "GET", "path": address}, {"method": "GET", "path": buyer}])
    response = api.get(address, token=rdt)
    assert_matches_model(MODEL, "getOrderAddress", 200, response.json())
    shipping = response.json()["payload"]["ShippingAddress"]
    assert shipping["Name"] == order.buyer.name and shipping["PostalCode"] == order.buyer.postal_code
    assert shipping["CountryCode"] == "CA" and shipping["AddressType"] == "Residential"
    response = api.get(buyer, token=rdt)
    assert_matches_model(MODEL, "getOrderBuyerInfo", 200, response.json())
    assert response.json()["payload"] == {"AmazonOrderId": order.order_id, "BuyerEmail": order.buyer.email,
                                          "BuyerName": order.buyer.name}
    other = api.seller(0).orders[0].order_id  # the RDT covers this order only
    assert error_codes(api.get(f"{ORDERS}/{other}/address", token=rdt)) == ["Unauthorized"]


def test_orders_of_other_sellers_do_not_exist(api):  # seller 0: 2 calls
    other = api.seller(1).orders[0].order_id
    assert api.get(f"{ORDERS}/{other}").status_code == 404
    assert api.get(f"{ORDERS}/{other}/orderItems").status_code == 404


@pytest.mark.parametrize(("params", "message"), [
    ({"CreatedAfter": "2026-01-01T00:00:00Z"}, "Missing required parameter: MarketplaceIds"),
    ({"MarketplaceIds": UK}, "Either CreatedAfter or LastUpdatedAfter"),
    ({"MarketplaceIds": UK, "CreatedAfter": "2026-01-01", "LastUpdatedAfter": "2026-01-01"}, "cannot be set"),
    ({"MarketplaceIds": UK, "LastUpdatedAfter": "2026-01-01", "CreatedBefore": "2026-01-02"}, "CreatedBefore"),
    ({"MarketplaceIds": US, "CreatedAfter": "2026-01-01"}, "not registered in marketplace"),
    ({"MarketplaceIds": UK, "CreatedAfter": "2026-01-01", "OrderStatuses": "SHIPPED"}, "OrderStatuses"),
    ({"MarketplaceIds": UK, "CreatedAfter": "2026-01-01", "MaxResultsPerPage": 500}, "MaxResultsPerPage"),
    ({"MarketplaceIds": UK, "CreatedAfter": "soon"}, "Invalid CreatedAfter"),
    ({"MarketplaceIds": UK, "NextToken": "abc"}, "Invalid NextToken"),
])
def test_invalid_get_orders_requests_are_invalid_input(api, params, message):  # seller 1: 9 calls
    response = api.get(ORDERS, params, seller=1)
    assert response.status_code == 400 and error_codes(response) == ["InvalidInput"]
    assert message in response.json()["errors"][0]["message"]
    assert_matches_model(MODEL, "getOrders", 400, response.json())
