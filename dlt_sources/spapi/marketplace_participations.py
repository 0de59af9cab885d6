"""The marketplaces each seller account participates in (Sellers v1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, snapshot_resource


def participation_rows(account: AccountConfig, client: SpApiClient) -> Iterator[dict[str, Any]]:
    for entry in client.call("getMarketplaceParticipations").get("payload") or []:
        marketplace = entry.get("marketplace") or {}
        participation = entry.get("participation") or {}
        yield {"seller_id": account.seller_id, "marketplace_id": marketplace.get("id"),
               "marketplace_name": marketplace.get("name"), "country_code": marketplace.get("countryCode"),
               "default_currency_code": marketplace.get("defaultCurrencyCode"),
               "default_language_code": marketplace.get("defaultLanguageCode"),
               "domain_name": marketplace.get("domainName"), "store_name": entry.get("storeName"),
               "is_participating": participation.get("isParticipating"),
               "has_suspended_listings": participation.get("hasSuspendedListings")}


def marketplace_participations(ctx: Extraction) -> Any:
    return snapshot_resource(ctx, "marketplace_participations", participation_rows)
