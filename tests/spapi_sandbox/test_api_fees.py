"""Product Fees v0 getMyFeesEstimateForSKU over real HTTP: the estimate follows the settlement fee rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from spapi_sandbox import fees
from spapi_sandbox.generate import utc_date
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import decimal_num
from tests.contract.checker import assert_matches_model
from tests.contract.harness import Api, error_codes, running_api

US = MARKETPLACES["US"].marketplace_id


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with running_api(time_scale=10.0) as running:  # 1 request/s becomes 10
        yield running


def estimate(api: Api, sku: str, listing: Any, shipping: Any = None, seller: int = 0, **request: Any):
    prices: dict[str, Any] = {"ListingPrice": {"CurrencyCode": "USD", "Amount": listing}}
    if shipping is not None:
        prices["Shipping"] = {"CurrencyCode": "USD", "Amount": shipping}
    body = {"FeesEstimateRequest": {"MarketplaceId": US, "PriceToEstimateFees": prices, "Identifier": "req-1",
                                    **request}}
    return api.post(f"/products/fees/v0/listings/{sku}/feesEstimate", json=body, seller=seller)


def fee_details(result: dict[str, Any]) -> dict[str, float]:
    return {d["FeeType"]: d["FinalFee"]["Amount"] for d in result["FeesEstimate"]["FeeDetailList"]}


def test_fba_estimate_is_referral_plus_fulfilment_fee(api):
    product = next(p for p in api.seller(0).products if p.fulfillment_channel == "AFN")
    response = estimate(api, product.sku, 24.99, 0)
    assert_matches_model("productFeesV0.json", "getMyFeesEstimateForSKU", 200, response.json())
    result = response.json()["payload"]["FeesEstimateResult"]
    referral, _ = fees.estimated_fees("US", product.category, utc_date(api.world.now), 2499)
    fba = fees.fba_fee_per_unit(product.size_tier, product.weight_g, "US", utc_date(api.world.now))
    assert result["Status"] == "Success"
    assert result["FeesEstimateIdentifier"] == {
        "MarketplaceId": US, "SellerId": api.seller(0).account.seller_id, "IdType": "SellerSKU",
        "IdValue": product.sku, "IsAmazonFulfilled": True, "SellerInputIdentifier": "req-1",
        "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": "USD", "Amount": 24.99},
                                "Shipping": {"CurrencyCode": "USD", "Amount": 0.0}}}
    assert fee_details(result) == {"ReferralFee": decimal_num(referral, "USD"), "VariableClosingFee": 0.0,
                                   "PerItemFee": 0.0, "FBAFees": decimal_num(fba, "USD")}
    assert result["FeesEstimate"]["TotalFeesEstimate"] == {"CurrencyCode": "USD",
                                                           "Amount": decimal_num(referral + fba, "USD")}


def test_estimates_agree_with_the_fees_the_world_expects(api):
    """For single-unit items without shipping or promotion, the estimate is the settled fee's expectation."""
    by_sku = {p.sku: p for p in api.seller(0).products}
    # the estimate is today's fee: the expectation of items bought since the last FBA fee change (2026-01-15, S9)
    since_change = [(o, i) for o in api.seller(0).orders if o.marketplace == "US" and o.fulfillment_channel == "AFN"
                    and utc_date(o.purchased_at) >= date(2026, 1, 15)
                    for i in o.items if i.quantity == 1 and not i.promotion_discount and not i.shipping_price]
    assert len(since_change) >= 4
    for _, item in since_change[:4]:
        result = estimate(api, item.sku, decimal_num(item.item_price, "USD")).json()["payload"]["FeesEstimateResult"]
        details = fee_details(result)
        assert round(details["ReferralFee"] * 100) == item.referral_fee_expected
        assert round(details["FBAFees"] * 100) == item.fba_fee_expected
        assert by_sku[item.sku].fulfillment_channel == "AFN"


def test_merchant_fulfilled_estimates_have_no_fba_fee(api):
    product = api.seller(0).products[0]
    result = estimate(api, product.sku, "10", 4.99, IsAmazonFulfilled=False).json()["payload"]["FeesEstimateResult"]
    assert "FBAFees" not in fee_details(result)
    referral, _ = fees.estimated_fees("US", product.category, utc_date(api.world.now), 1499)
    assert fee_details(result)["ReferralFee"] == decimal_num(referral, "USD")


def test_unknown_sku_is_a_client_error_result(api):
    response = estimate(api, "NO-SUCH-SKU", 10)
    assert response.status_code == 200
    assert_matches_model("productFeesV0.json", "getMyFeesEstimateForSKU", 200, response.json())
    result = response.json()["payload"]["FeesEstimateResult"]
    assert result["Status"] == "ClientError" and result["Error"]["Code"] == "InvalidParameterValue"
    assert "FeesEstimate" not in result


@pytest.mark.parametrize(("body", "message"), [
    ({}, "FeesEstimateRequest"),
    ({"FeesEstimateRequest": {"MarketplaceId": US, "Identifier": "x"}}, "PriceToEstimateFees"),
    ({"FeesEstimateRequest": {"MarketplaceId": US, "Identifier": "x", "PriceToEstimateFees": {}}}, "ListingPrice"),
    ({"FeesEstimateRequest": {"MarketplaceId": US, "Identifier": "x", "PriceToEstimateFees": {
        "ListingPrice": {"CurrencyCode": "EUR", "Amount": 10}}}}, "must be USD"),
    ({"FeesEstimateRequest": {"MarketplaceId": US, "Identifier": "x", "PriceToEstimateFees": {
        "ListingPrice": {"CurrencyCode": "USD", "Amount": 10.001}}}}, "ListingPrice.Amount"),
    ({"FeesEstimateRequest": {"MarketplaceId": US, "Identifier": "x", "PriceToEstimateFees": {
        "ListingPrice": {"CurrencyCode": "USD", "Amount": -1}}}}, "negative"),
    ({"FeesEstimateRequest": {"MarketplaceId": MARKETPLACES["UK"].marketplace_id, "Identifier": "x",
                              "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": "GBP", "Amount": 1}}}},
     "not registered"),
])
def test_malformed_requests_are_invalid_input(api, body, message):
    sku = api.seller(0).products[0].sku
    response = api.post(f"/products/fees/v0/listings/{sku}/feesEstimate", json=body)
    assert response.status_code == 400 and error_codes(response) == ["InvalidInput"]
    assert message in response.json()["errors"][0]["message"]
    assert_matches_model("productFeesV0.json", "getMyFeesEstimateForSKU", 400, response.json())
