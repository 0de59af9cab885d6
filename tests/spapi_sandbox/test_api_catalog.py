"""Catalog Items 2022-04-01 over real HTTP: identifier and keyword searches, getCatalogItem, datasets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.world import Product
from tests.contract.checker import assert_matches_model
from tests.contract.harness import Api, error_codes, running_api

ITEMS = "/catalog/2022-04-01/items"
MODEL = "catalogItems_2022-04-01.json"
US, UK = MARKETPLACES["US"].marketplace_id, MARKETPLACES["UK"].marketplace_id


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with running_api(time_scale=10.0) as running:  # 2 requests/s become 20: no waiting between calls
        yield running


def products(api: Api, seller: int = 0) -> list[Product]:
    return api.seller(seller).products


def test_search_by_asins_returns_every_listed_item_in_pages(api):
    asins = [p.asin for p in products(api)[:20]]
    first = api.get(ITEMS, {"identifiers": ",".join(asins), "identifiersType": "ASIN", "marketplaceIds": US})
    assert_matches_model(MODEL, "searchCatalogItems", 200, first.json())
    body = first.json()
    assert body["numberOfResults"] == 20 and len(body["items"]) == 10  # pageSize defaults to 10
    second = api.get(ITEMS, {"identifiers": ",".join(asins), "identifiersType": "ASIN", "marketplaceIds": US,
                             "pageToken": body["pagination"]["nextToken"]}).json()
    assert "nextToken" not in second["pagination"] and second["pagination"]["previousToken"]
    assert [i["asin"] for i in body["items"] + second["items"]] == asins
    # summaries only by default
    assert set(body["items"][0]) == {"asin", "summaries"}


def test_items_of_another_region_are_not_in_this_marketplace(api):
    eu_asin = products(api, 1)[0].asin
    body = api.get(ITEMS, {"identifiers": eu_asin, "identifiersType": "ASIN", "marketplaceIds": US}).json()
    assert body == {"numberOfResults": 0, "items": []}
    missing = api.get(f"{ITEMS}/{eu_asin}", {"marketplaceIds": US})
    assert missing.status_code == 404 and error_codes(missing) == ["NotFound"]
    assert missing.json()["errors"][0]["message"] == f"Requested item '{eu_asin}' not found in marketplace(s) {US}."


def test_every_dataset_renders_the_product(api):
    product = next(p for p in products(api) if p.bullet_points and p.browse_node and p.color)
    response = api.get(f"{ITEMS}/{product.asin}", {"marketplaceIds": US, "includedData": (
        "attributes,classifications,dimensions,identifiers,images,productTypes,relationships,salesRanks,summaries")})
    assert_matches_model(MODEL, "getCatalogItem", 200, response.json())
    item = response.json()
    (summary,) = item["summaries"]
    assert summary["itemName"] == product.title and summary["brand"] == product.brand
    assert summary["browseClassification"] == {"displayName": product.category,
                                               "classificationId": product.browse_node}
    assert summary["color"] == product.color
    assert [b["value"] for b in item["attributes"]["bullet_point"]] == list(product.bullet_points)
    assert len(item["images"][0]["images"]) == product.image_count
    assert item["images"][0]["images"][0]["variant"] == "MAIN"
    dimensions = item["dimensions"][0]["item"]
    assert dimensions["weight"] == {"unit": "pounds", "value": round(product.weight_g / 453.59237, 2)}
    assert dimensions["length"] == {"unit": "inches", "value": round(product.dimensions_cm[0] / 2.54, 2)}
    codes = {i["identifierType"]: i["identifier"] for i in item["identifiers"][0]["identifiers"]}
    assert len(codes["EAN"]) == 13 and codes["UPC"] == codes["EAN"][1:]
    assert item["classifications"][0]["classifications"][0]["classificationId"] == product.browse_node


def test_poor_listings_lack_what_their_products_lack(api):
    for product in products(api):
        if product.bullet_points and product.browse_node:
            continue
        item = api.get(f"{ITEMS}/{product.asin}", {"marketplaceIds": US,
                                                    "includedData": "attributes,summaries,classifications"}).json()
        assert ("bullet_point" in item["attributes"]) == bool(product.bullet_points)
        assert ("browseClassification" in item["summaries"][0]) == bool(product.browse_node)
        if not product.browse_node:
            assert item["classifications"] == [{"marketplaceId": US, "classifications": []}]


def test_sku_and_ean_searches(api):
    product = products(api)[3]
    seller_id = api.seller(0).account.seller_id
    body = api.get(ITEMS, {"identifiers": product.sku, "identifiersType": "SKU", "sellerId": seller_id,
                           "marketplaceIds": US, "includedData": "identifiers"}).json()
    assert [i["asin"] for i in body["items"]] == [product.asin]
    ean = next(i["identifier"] for i in body["items"][0]["identifiers"][0]["identifiers"]
               if i["identifierType"] == "EAN")
    by_ean = api.get(ITEMS, {"identifiers": ean, "identifiersType": "EAN", "marketplaceIds": US}).json()
    assert [i["asin"] for i in by_ean["items"]] == [product.asin]


def test_keyword_search_with_refinements(api):
    brand = products(api)[0].brand
    response = api.get(ITEMS, {"keywords": brand, "marketplaceIds": US, "pageSize": 20})
    assert_matches_model(MODEL, "searchCatalogItems", 200, response.json())
    body = response.json()
    expected = sorted(p.asin for p in products(api) if brand.lower() in f"{p.title} {p.brand}".lower())
    assert body["numberOfResults"] == len(expected) and [i["asin"] for i in body["items"]] == expected
    assert {r["brandName"] for r in body["refinements"]["brands"]} == {brand}


@pytest.mark.parametrize(("params", "message"), [
    ({"identifiers": "B000000001", "identifiersType": "ASIN"}, "Missing required parameter: marketplaceIds"),
    ({"identifiers": "B000000001", "marketplaceIds": US}, "identifiersType is required"),
    ({"identifiers": "B000000001", "keywords": "mat", "identifiersType": "ASIN", "marketplaceIds": US},
     "cannot be used in the same request"),
    ({"identifiers": ",".join(f"B00000000{n:02d}" for n in range(21)), "identifiersType": "ASIN",
      "marketplaceIds": US}, "At most 20"),
    ({"identifiers": "S0-X", "identifiersType": "SKU", "marketplaceIds": US}, "sellerId is required"),
    ({"keywords": "mat", "marketplaceIds": f"{US},{MARKETPLACES['CA'].marketplace_id}"}, "at most 1"),
    ({"keywords": "mat", "marketplaceIds": UK}, "not registered"),
    ({"keywords": "mat", "marketplaceIds": US, "pageSize": 21}, "pageSize"),
    ({"keywords": "mat", "marketplaceIds": US, "includedData": "reviews"}, "includedData"),
])
def test_invalid_searches_are_invalid_input(api, params, message):
    response = api.get(ITEMS, params)
    assert response.status_code == 400 and error_codes(response) == ["InvalidInput"]
    assert message in response.json()["errors"][0]["message"]
