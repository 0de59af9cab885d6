"""Sellers v1: getMarketplaceParticipations, the first call every client makes to learn its markets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spapi_sandbox.api.params import seller_marketplaces, seller_world
from spapi_sandbox.http import Request, Response, route

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState


@route("GET", "/sellers/v1/marketplaceParticipations", "getMarketplaceParticipations")
def get_marketplace_participations(state: SandboxState, req: Request) -> Response:
    """One entry per marketplace of the seller's unified regional account, all participating."""
    seller = seller_world(state, req)
    payload = [
        {
            "marketplace": {
                "id": market.marketplace_id,
                "name": market.name,
                "countryCode": "GB" if market.code == "UK" else market.code,
                "defaultCurrencyCode": market.currency,
                "defaultLanguageCode": market.language,
                "domainName": market.domain,
            },
            "participation": {"isParticipating": True, "hasSuspendedListings": False},
            "storeName": seller.account.name,
        }
        for market in seller_marketplaces(seller)
    ]
    return Response(body={"payload": payload})
