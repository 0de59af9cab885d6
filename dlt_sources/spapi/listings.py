"""Listings (merchant listings report, one marketplace per request) and the catalog items behind them.

Catalog Items 2022-04-01 takes up to 20 ASINs per searchCatalogItems call, so the catalog of a
seller's listed ASINs costs ceil(ASINs / 20) calls per marketplace. Items are flattened to what the
listing-quality mart scores: title, brand, bullet points, images, dimensions, browse node, attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, snapshot_resource
from dlt_sources.spapi.report_tables import report_tables
from dlt_sources.spapi.settings import CATALOG_BATCH, LISTINGS_REPORT
from dlt_sources.spapi.tables import to_table

INCLUDED_DATA = ["summaries", "attributes", "dimensions", "images", "classifications", "productTypes"]


def listing_and_catalog_rows(ctx: Extraction, account: AccountConfig, client: SpApiClient) -> Iterator[Any]:
    asins: dict[str, set[str]] = {}
    for item in report_tables(ctx, account, client, LISTINGS_REPORT, per_marketplace=True):
        table: pa.Table = item.data
        for marketplace_id, asin in zip(table.column("marketplace_id").to_pylist(),
                                        table.column("asin1").to_pylist(), strict=True):
            if marketplace_id and asin:
                asins.setdefault(marketplace_id, set()).add(asin)
        yield item
    for marketplace_id, found in sorted(asins.items()):
        ordered = sorted(found)
        for i in range(0, len(ordered), CATALOG_BATCH):
            params = {"identifiers": ordered[i:i + CATALOG_BATCH], "identifiersType": "ASIN",
                      "marketplaceIds": [marketplace_id], "includedData": INCLUDED_DATA,
                      "pageSize": CATALOG_BATCH}
            rows = [catalog_row(found_item, marketplace_id)
                    for found_item in client.paginate("searchCatalogItems", params)]
            if rows:
                yield to_table("catalog_items", rows)


def _for_marketplace(entries: list[dict[str, Any]] | None, marketplace_id: str) -> dict[str, Any]:
    return next((e for e in entries or [] if e.get("marketplaceId") == marketplace_id), {})


def catalog_row(item: dict[str, Any], marketplace_id: str) -> dict[str, Any]:
    """One catalog item in one marketplace, flattened to the facts listing quality is judged on."""
    summary = _for_marketplace(item.get("summaries"), marketplace_id)
    attributes = item.get("attributes") or {}
    bullets = [b for b in attributes.get("bullet_point") or [] if b.get("marketplace_id") in (None, marketplace_id)]
    images = _for_marketplace(item.get("images"), marketplace_id).get("images") or []
    dimensions = _for_marketplace(item.get("dimensions"), marketplace_id)
    product_type = _for_marketplace(item.get("productTypes"), marketplace_id).get("productType")
    browse = summary.get("browseClassification") or {}
    classifications = _for_marketplace(item.get("classifications"), marketplace_id).get("classifications") or []
    return {
        "marketplace_id": marketplace_id,
        "asin": item["asin"],
        "item_name": summary.get("itemName"),
        "brand": summary.get("brand"),
        "color": summary.get("color"),
        "manufacturer": summary.get("manufacturer"),
        "product_type": product_type,
        "browse_node_id": browse.get("classificationId") or next(
            (c.get("classificationId") for c in classifications), None),
        "bullet_point_count": len(bullets),
        "image_count": len(images),
        "attribute_count": len(attributes),
        "has_item_dimensions": bool(dimensions.get("item")),
        "has_package_dimensions": bool(dimensions.get("package")),
    }


def listings(ctx: Extraction) -> Any:
    return snapshot_resource(ctx, "listings",
                             lambda account, client: listing_and_catalog_rows(ctx, account, client))
