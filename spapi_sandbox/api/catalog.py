"""Catalog Items 2022-04-01: searchCatalogItems and getCatalogItem.

Amazon's catalog is shared by all sellers, so the sandbox's catalog is every product of every
generated seller, visible in the marketplaces the product is listed in (it has a price there).
The caller must still participate in the marketplace it asks about. Products generated without
bullet points, images or a browse node come back without them, as listings of poor quality do.
Identifiers (EAN/UPC), image links and sales ranks are derived from the ASIN, so they are stable.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from spapi_sandbox.api.paging import decode_token, paginate
from spapi_sandbox.api.params import enum_list, enum_value, integer, marketplaces, seller_world
from spapi_sandbox.http import ApiError, Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import Marketplace
from spapi_sandbox.world import Product, World

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState

SEARCH = "searchCatalogItems"
INCLUDED_DATA = ("attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
                 "relationships", "salesRanks", "summaries", "vendorDetails")
IDENTIFIER_TYPES = ("ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
PRODUCT_TYPES = {"Home & Kitchen": "HOME", "Electronics": "CONSUMER_ELECTRONICS",
                 "Beauty & Personal Care": "BEAUTY", "Toys & Games": "TOYS_AND_GAMES",
                 "Sports & Outdoors": "SPORTING_GOODS", "Clothing & Accessories": "APPAREL",
                 "Books": "ABIS_BOOK", "Jewelry": "JEWELRY"}
DISPLAY_GROUPS = {"Home & Kitchen": "home_display_on_website", "Electronics": "ce_display_on_website",
                  "Beauty & Personal Care": "beauty_display_on_website",
                  "Toys & Games": "toy_display_on_website",
                  "Sports & Outdoors": "sporting_goods_display_on_website",
                  "Clothing & Accessories": "apparel_display_on_website", "Books": "book_display_on_website",
                  "Jewelry": "jewelry_display_on_website"}
VARIANTS = ("MAIN", "PT01", "PT02", "PT03", "PT04", "PT05", "PT06", "PT07", "PT08")
MAX_IDENTIFIERS = 20
MAX_PAGE = 20


def _hash(*parts: str) -> int:
    return int(hashlib.sha256(":".join(parts).encode()).hexdigest()[:15], 16)


def _check_digit(body: str) -> str:
    """GS1 check digit (EAN-13/UPC-A)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def product_codes(product: Product) -> dict[str, str]:
    """Stable barcodes for a product: an EAN-13 and the UPC-A it contains (leading 0)."""
    body = "0" + str(_hash("gtin", product.asin) % 10**11).zfill(11)
    ean = body + _check_digit(body)
    return {"EAN": ean, "UPC": ean[1:], "GTIN": ean.zfill(14)}


def all_products(world: World) -> dict[str, Product]:
    """Every ASIN in the world's shared catalog (the first seller listing an ASIN describes it)."""
    catalog: dict[str, Product] = {}
    for seller in world.sellers:
        for product in seller.products:
            catalog.setdefault(product.asin, product)
    return catalog


def _listed(product: Product, market: Marketplace) -> bool:
    return market.code in product.prices


def _summary(product: Product, market: Marketplace) -> dict[str, Any]:
    out: dict[str, Any] = {"marketplaceId": market.marketplace_id, "brand": product.brand}
    if product.browse_node:
        out["browseClassification"] = {"displayName": product.category,
                                       "classificationId": product.browse_node}
    if product.color:
        out["color"] = product.color
    out.update({"itemClassification": "BASE_PRODUCT", "itemName": product.title,
                "manufacturer": product.brand, "packageQuantity": 1,
                "websiteDisplayGroup": DISPLAY_GROUPS.get(product.category, "home_display_on_website"),
                "websiteDisplayGroupName": product.category})
    return out


def _attributes(product: Product, markets: list[Marketplace]) -> dict[str, Any]:
    """Attribute values keyed by attribute name, as the product type definitions spell them."""
    def values(value: Any, localized: bool = True) -> list[dict[str, Any]]:
        return [{"value": value, **({"language_tag": m.language} if localized else {}),
                 "marketplace_id": m.marketplace_id} for m in markets]

    length, width, height = product.dimensions_cm
    attributes: dict[str, Any] = {
        "item_name": values(product.title),
        "brand": values(product.brand),
        "manufacturer": values(product.brand),
    }
    if product.bullet_points:
        attributes["bullet_point"] = [row for bullet in product.bullet_points for row in values(bullet)]
    if product.color:
        attributes["color"] = values(product.color)
    attributes["item_weight"] = [
        {"unit": "grams", "value": product.weight_g, "marketplace_id": m.marketplace_id} for m in markets]
    attributes["item_dimensions"] = [{
        "length": {"unit": "centimeters", "value": length},
        "width": {"unit": "centimeters", "value": width},
        "height": {"unit": "centimeters", "value": height},
        "marketplace_id": m.marketplace_id} for m in markets]
    attributes["externally_assigned_product_identifier"] = [
        {"type": "ean", "value": product_codes(product)["EAN"], "marketplace_id": m.marketplace_id}
        for m in markets]
    return attributes


def _dimensions(product: Product, market: Marketplace) -> dict[str, Any]:
    """US pages show inches and pounds; the other marketplaces centimetres and kilograms."""
    imperial = market.code == "US"
    length_unit, weight_unit = ("inches", "pounds") if imperial else ("centimeters", "kilograms")

    def length(cm: float) -> dict[str, Any]:
        return {"unit": length_unit, "value": round(cm / 2.54 if imperial else cm, 2)}

    def weight(grams: float) -> dict[str, Any]:
        return {"unit": weight_unit, "value": round(grams / 453.59237 if imperial else grams / 1000, 2)}

    l_cm, w_cm, h_cm = product.dimensions_cm
    item = {"height": length(h_cm), "length": length(l_cm), "weight": weight(product.weight_g),
            "width": length(w_cm)}
    package = {"height": length(h_cm + 2), "length": length(l_cm + 2),
               "weight": weight(product.weight_g * 1.1 + 50), "width": length(w_cm + 2)}
    return {"marketplaceId": market.marketplace_id, "item": item, "package": package}


def _images(product: Product, market: Marketplace) -> dict[str, Any]:
    images = []
    for n in range(min(product.image_count, len(VARIANTS))):
        key = format(_hash("image", product.asin, str(n)), "x")[:11]
        size = 1500 if n == 0 else 1000
        images.append({"variant": VARIANTS[n], "link": f"https://m.media-amazon.com/images/I/{key}L.jpg",
                       "height": size, "width": size})
    return {"marketplaceId": market.marketplace_id, "images": images}


def _sales_ranks(product: Product, market: Marketplace) -> dict[str, Any]:
    out: dict[str, Any] = {"marketplaceId": market.marketplace_id}
    rank = 1 + _hash("rank", product.asin, market.code) % 250_000
    if product.browse_node:
        out["classificationRanks"] = [{"classificationId": product.browse_node, "title": product.category,
                                       "rank": max(1, rank // 40)}]
    out["displayGroupRanks"] = [{"websiteDisplayGroup": DISPLAY_GROUPS.get(product.category, "home_display"),
                                 "title": product.category, "rank": rank}]
    return out


def render_item(product: Product, markets: list[Marketplace], included: list[str]) -> dict[str, Any]:
    listed = [m for m in markets if _listed(product, m)]
    out: dict[str, Any] = {"asin": product.asin}
    if "attributes" in included:
        out["attributes"] = _attributes(product, listed)
    if "classifications" in included:
        out["classifications"] = [
            {"marketplaceId": m.marketplace_id,
             "classifications": [{"displayName": product.category, "classificationId": product.browse_node}]
             if product.browse_node else []} for m in listed]
    if "dimensions" in included:
        out["dimensions"] = [_dimensions(product, m) for m in listed]
    if "identifiers" in included:
        codes = product_codes(product)
        out["identifiers"] = [{"marketplaceId": m.marketplace_id,
                               "identifiers": [{"identifierType": "EAN", "identifier": codes["EAN"]},
                                               {"identifierType": "UPC", "identifier": codes["UPC"]}]}
                              for m in listed]
    if "images" in included:
        out["images"] = [_images(product, m) for m in listed]
    if "productTypes" in included:
        kind = PRODUCT_TYPES.get(product.category, "PRODUCT")
        out["productTypes"] = [{"marketplaceId": m.marketplace_id, "productType": kind} for m in listed]
    if "relationships" in included:
        out["relationships"] = [{"marketplaceId": m.marketplace_id, "relationships": []} for m in listed]
    if "salesRanks" in included:
        out["salesRanks"] = [_sales_ranks(product, m) for m in listed]
    if "summaries" in included:
        out["summaries"] = [_summary(product, m) for m in listed]
    return out


def _included(req: Request) -> list[str]:
    """includedData (default summaries); vendorDetails is for vendors, so sellers get it left out."""
    return enum_list(req, "includedData", INCLUDED_DATA) or ["summaries"]


def _matches_keywords(product: Product, keywords: list[str]) -> bool:
    text = f"{product.title} {product.brand} {product.category}".lower()
    return all(word.lower() in text for word in keywords)


def _search_query(req: Request, market: Marketplace) -> dict[str, Any]:
    identifiers = list(dict.fromkeys(req.list_param("identifiers")))
    keywords = req.list_param("keywords")
    if identifiers and keywords:
        raise invalid_input("identifiers and keywords cannot be used in the same request.")
    if not identifiers and not keywords:
        raise invalid_input("Either identifiers or keywords must be provided.")
    if len(identifiers) > MAX_IDENTIFIERS or len(keywords) > MAX_IDENTIFIERS:
        raise invalid_input(f"At most {MAX_IDENTIFIERS} identifiers or keywords may be provided.")
    id_type = enum_value(req, "identifiersType", IDENTIFIER_TYPES)
    if identifiers and id_type is None:
        raise invalid_input("identifiersType is required when identifiers are provided.")
    if id_type == "SKU":
        seller_id = req.param("sellerId")
        if not seller_id:
            raise invalid_input("sellerId is required when identifiersType is SKU.")
        if seller_id != req.seller_id:
            raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                           "sellerId must be the seller the access token belongs to.")
    if identifiers and (req.list_param("brandNames") or req.list_param("classificationIds")):
        raise invalid_input("brandNames and classificationIds cannot be used with identifiers.")
    return {"market": market.code, "ids": identifiers, "id_type": id_type, "keywords": keywords,
            "brands": req.list_param("brandNames"), "classes": req.list_param("classificationIds"),
            "included": _included(req), "size": integer(req, "pageSize", 10, 1, MAX_PAGE)}


def _find(state: SandboxState, req: Request, query: dict[str, Any], market: Marketplace) -> list[Product]:
    catalog = all_products(state.world)
    listed = [p for p in catalog.values() if _listed(p, market)]
    if query["ids"]:
        if query["id_type"] == "ASIN":
            by_id = {p.asin: p for p in listed}
        elif query["id_type"] == "SKU":
            seller = seller_world(state, req)
            by_id = {p.sku: p for p in seller.products if _listed(p, market)}
        else:
            by_id = {}
            for p in listed:
                code = product_codes(p).get(query["id_type"])
                if code:
                    by_id[code] = p
        found = [by_id[i] for i in query["ids"] if i in by_id]
        return list({p.asin: p for p in found}.values())
    hits = [p for p in listed if _matches_keywords(p, query["keywords"])]
    if query["brands"]:
        hits = [p for p in hits if p.brand in query["brands"]]
    if query["classes"]:
        hits = [p for p in hits if p.browse_node in query["classes"]]
    return sorted(hits, key=lambda p: p.asin)


def _refinements(products: list[Product]) -> dict[str, Any]:
    brands: dict[str, int] = {}
    classes: dict[tuple[str, str], int] = {}
    for p in products:
        brands[p.brand] = brands.get(p.brand, 0) + 1
        if p.browse_node:
            classes[(p.browse_node, p.category)] = classes.get((p.browse_node, p.category), 0) + 1
    return {
        "brands": [{"numberOfResults": n, "brandName": b} for b, n in sorted(brands.items())],
        "classifications": [{"numberOfResults": n, "displayName": name, "classificationId": cid}
                            for (cid, name), n in sorted(classes.items())],
    }


@route("GET", "/catalog/2022-04-01/items", SEARCH)
def search_catalog_items(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    market = marketplaces(req, seller, "marketplaceIds", max_items=1)[0]
    token = req.param("pageToken")
    if token:
        query, offset = decode_token(SEARCH, token, "pageToken", req.seller_id)
        if market.code != query["market"]:
            raise invalid_input("Invalid pageToken: it was issued for another marketplace.")
    else:
        query, offset = _search_query(req, market), 0
    found = _find(state, req, query, market)
    page = paginate(SEARCH, query, found, offset, query["size"], req.seller_id)
    body: dict[str, Any] = {"numberOfResults": len(found)}
    links = (("nextToken", page.next_token), ("previousToken", page.previous_token))
    pagination = {name: token for name, token in links if token}
    if pagination:
        body["pagination"] = pagination
    if query["keywords"]:
        body["refinements"] = _refinements(found)
    body["items"] = [render_item(p, [market], query["included"]) for p in page.items]
    return Response(body=body)


@route("GET", "/catalog/2022-04-01/items/{asin}", "getCatalogItem")
def get_catalog_item(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    markets = marketplaces(req, seller, "marketplaceIds")
    asin = req.path_params["asin"]
    product = all_products(state.world).get(asin)
    if product is None or not any(_listed(product, m) for m in markets):
        ids = ",".join(m.marketplace_id for m in markets)
        raise ApiError(404, "NotFound", f"Requested item '{asin}' not found in marketplace(s) {ids}.")
    return Response(body=render_item(product, markets, _included(req)))
