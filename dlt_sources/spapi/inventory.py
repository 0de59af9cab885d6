"""The `inventory` resource: FBA inventory summaries (FBA Inventory v1), a snapshot per marketplace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, snapshot_resource


def inventory_rows(account: AccountConfig, client: SpApiClient) -> Iterator[dict[str, Any]]:
    for marketplace_id in account.marketplace_ids:
        params = {"details": "true", "granularityType": "Marketplace", "granularityId": marketplace_id,
                  "marketplaceIds": [marketplace_id]}
        for summary in client.paginate("getInventorySummaries", params):
            yield {"seller_id": account.seller_id, "marketplace_id": marketplace_id, **summary}


def inventory(ctx: Extraction) -> Any:
    return snapshot_resource(ctx, "inventory", inventory_rows)
