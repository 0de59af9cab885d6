"""FBA Inventory v1 getInventorySummaries over real HTTP: FBA SKUs, consistent quantities, filters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import iso, parse_iso
from tests.contract.checker import assert_matches_model
from tests.contract.harness import Api, error_codes, running_api

SUMMARIES = "/fba/inventory/v1/summaries"
US, CA, UK = (MARKETPLACES[c].marketplace_id for c in ("US", "CA", "UK"))
DAY = 86_400


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with running_api(time_scale=10.0) as running:  # 2 requests/s become 20
        yield running


def summaries(api: Api, market: str = US, seller: int = 0, **params: str) -> list[dict]:
    response = api.get(SUMMARIES, {"granularityType": "Marketplace", "granularityId": market,
                                   "marketplaceIds": market, **params}, seller=seller)
    assert response.status_code == 200, response.text
    assert_matches_model("fbaInventory.json", "getInventorySummaries", 200, response.json())
    assert response.json()["payload"]["granularity"] == {"granularityType": "Marketplace", "granularityId": market}
    assert "pagination" not in response.json()  # 30 SKUs a seller: one page of 50
    return response.json()["payload"]["inventorySummaries"]


def test_one_summary_per_fba_sku_with_consistent_totals(api):
    rows = summaries(api, details="true")
    fba = sorted(p.sku for p in api.seller(0).products if p.fulfillment_channel == "AFN")
    assert [r["sellerSku"] for r in rows] == fba
    by_sku = {p.sku: p for p in api.seller(0).products}
    for row in rows:
        product, details = by_sku[row["sellerSku"]], row["inventoryDetails"]
        assert (row["asin"], row["fnSku"], row["productName"]) == (product.asin, product.fnsku, product.title)
        reserved, researching = details["reservedQuantity"], details["researchingQuantity"]
        unfulfillable = details["unfulfillableQuantity"]
        assert reserved["totalReservedQuantity"] == (reserved["pendingCustomerOrderQuantity"]
                                                     + reserved["pendingTransshipmentQuantity"]
                                                     + reserved["fcProcessingQuantity"])
        assert researching["totalResearchingQuantity"] == sum(
            e["quantity"] for e in researching["researchingQuantityBreakdown"])
        assert unfulfillable["totalUnfulfillableQuantity"] == sum(
            v for k, v in unfulfillable.items() if k != "totalUnfulfillableQuantity")
        assert row["totalQuantity"] == (details["fulfillableQuantity"] + details["inboundWorkingQuantity"]
                                        + details["inboundShippedQuantity"] + details["inboundReceivingQuantity"]
                                        + reserved["totalReservedQuantity"]
                                        + researching["totalResearchingQuantity"]
                                        + unfulfillable["totalUnfulfillableQuantity"])


def test_quantities_follow_the_world(api):
    rows = {r["sellerSku"]: r["inventoryDetails"] for r in summaries(api, details="true")}
    open_units: dict[str, int] = {}
    for order in api.seller(0).orders:
        if order.marketplace == "US" and order.fulfillment_channel == "AFN" and order.status in ("Pending",
                                                                                                "Unshipped"):
            for item in order.items:
                open_units[item.sku] = open_units.get(item.sku, 0) + item.quantity
    for sku, details in rows.items():
        assert details["reservedQuantity"]["pendingCustomerOrderQuantity"] == open_units.get(sku, 0)
    now = api.world.now  # the server's clock is a few (x10) seconds later: stay clear of the 30-day edge
    lost = [e for e in api.seller(0).lost_units if e.marketplace == "US" and e.reason == "Lost_Warehouse"]
    near_edge = {e.sku for e in lost if abs(now - e.happened_at - 30 * DAY) < 3600}
    researched = {e.sku for e in lost if now - e.happened_at < 30 * DAY} - near_edge
    assert researched
    for sku in researched:
        assert rows[sku]["researchingQuantity"]["totalResearchingQuantity"] == sum(
            e.quantity for e in lost if e.sku == sku and now - e.happened_at < 30 * DAY)


def test_answers_are_deterministic_and_details_optional(api):
    plain = summaries(api)
    assert all("inventoryDetails" not in r for r in plain)
    assert plain == summaries(api)
    assert {r["sellerSku"]: r["totalQuantity"] for r in plain} == {
        r["sellerSku"]: r["totalQuantity"] for r in summaries(api, details="true")}


def test_sku_and_start_date_filters(api):
    skus = [r["sellerSku"] for r in summaries(api)][:3]
    assert [r["sellerSku"] for r in summaries(api, sellerSkus=",".join(skus))] == sorted(skus)
    assert [r["sellerSku"] for r in summaries(api, sellerSku=skus[1])] == [skus[1]]
    start = "2026-02-25T00:00:00Z"
    recent = summaries(api, startDateTime=start, sellerSkus=skus[0])  # sellerSkus is ignored with a start
    everything = summaries(api)
    assert [r["sellerSku"] for r in recent] == [r["sellerSku"] for r in everything
                                                if parse_iso(r["lastUpdatedTime"]) >= parse_iso(start)]
    assert all(parse_iso(r["lastUpdatedTime"]) <= api.world.now + 3600 for r in everything)


def test_each_marketplace_has_its_own_stock(api):
    us, ca = summaries(api, US), summaries(api, CA)
    assert [r["sellerSku"] for r in us] == [r["sellerSku"] for r in ca]
    assert [r["totalQuantity"] for r in us] != [r["totalQuantity"] for r in ca]


@pytest.mark.parametrize(("params", "message"), [
    ({"granularityId": US, "marketplaceIds": US}, "Missing required parameter: granularityType"),
    ({"granularityType": "Country", "granularityId": US, "marketplaceIds": US}, "granularityType"),
    ({"granularityType": "Marketplace", "marketplaceIds": US}, "granularityId"),
    ({"granularityType": "Marketplace", "granularityId": US}, "marketplaceIds"),
    ({"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": CA}, "must be the marketplace"),
    ({"granularityType": "Marketplace", "granularityId": UK, "marketplaceIds": UK}, "not registered"),
    ({"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US, "details": "yes"}, "details"),
    ({"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US,
      "startDateTime": iso(1_700_000_000)}, "18 months"),
    ({"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US, "nextToken": "x"}, "nextToken"),
])
def test_invalid_requests_are_invalid_input(api, params, message):
    response = api.get(SUMMARIES, params)
    assert response.status_code == 400 and error_codes(response) == ["InvalidInput"]
    assert message in response.json()["errors"][0]["message"]
