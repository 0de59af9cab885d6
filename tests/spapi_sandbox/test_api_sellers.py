"""Sellers v1 getMarketplaceParticipations over real HTTP: each account's own regional marketplaces."""

from __future__ import annotations

from tests.contract.checker import assert_matches_model


def test_each_seller_sees_its_own_marketplaces(sandbox):
    """Two calls on the shared session sandbox (burst 15 per seller), one per account."""
    expected = {
        "NA": [("ATVPDKIKX0DER", "Amazon.com", "US", "USD", "en_US", "www.amazon.com"),
               ("A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "CAD", "en_CA", "www.amazon.ca")],
        "EU": [("A1F83G8C2ARO7P", "Amazon.co.uk", "GB", "GBP", "en_GB", "www.amazon.co.uk"),
               ("A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", "de_DE", "www.amazon.de"),
               ("A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR", "fr_FR", "www.amazon.fr")],
    }
    for index in range(2):
        account = sandbox.account(index)
        with sandbox.client() as client:
            response = client.get("/sellers/v1/marketplaceParticipations",
                                  headers={"x-amz-access-token": sandbox.access_token(index)})
        assert response.status_code == 200
        assert_matches_model("sellers.json", "getMarketplaceParticipations", 200, response.json())
        payload = response.json()["payload"]
        assert [tuple(p["marketplace"].values()) for p in payload] == expected[account.region]
        assert all(p["participation"] == {"isParticipating": True, "hasSuspendedListings": False}
                   and p["storeName"] == account.name for p in payload)
