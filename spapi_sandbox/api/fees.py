"""Product Fees v0: getMyFeesEstimateForSKU, priced with the same rules the settlements follow.

Referral fee on the given listing price plus shipping (spapi_sandbox.fees), and for FBA offers the
fulfilment fee of the SKU's size tier at its unit weight, exactly as the generator charges them.
So an estimate is the fee a settlement line should show, which is what a fee audit compares.
A SKU the seller does not have gets Amazon's in-band ClientError result (HTTP 200), a malformed
request a 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from spapi_sandbox import fees
from spapi_sandbox.api.indexes import seller_index
from spapi_sandbox.api.params import check_marketplace, seller_world
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.render import iso, money_fees_v0, to_minor

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState


def _money_in(raw: Any, name: str, currency: str) -> int:
    """A MoneyType from the request body, in the marketplace's currency, as minor units."""
    if not isinstance(raw, dict) or "Amount" not in raw or "CurrencyCode" not in raw:
        raise invalid_input(f"{name} must be an object with CurrencyCode and Amount.")
    if raw["CurrencyCode"] != currency:
        raise invalid_input(f"{name}.CurrencyCode must be {currency}, the marketplace's currency.")
    amount = raw["Amount"]
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        raise invalid_input(f"{name}.Amount must be a number.")
    try:
        minor = to_minor(amount, currency)
    except ValueError as exc:
        raise invalid_input(f"Invalid {name}.Amount: {exc}.") from None
    if minor < 0:
        raise invalid_input(f"{name}.Amount must not be negative.")
    return minor


def _fee(fee_type: str, minor: int, currency: str,
         included: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    amount, zero = money_fees_v0(minor, currency), money_fees_v0(0, currency)
    out: dict[str, Any] = {"FeeType": fee_type, "FeeAmount": amount, "FeePromotion": zero, "TaxAmount": zero,
                           "FinalFee": amount}
    if included is not None:
        out["IncludedFeeDetailList"] = included
    return out


@route("POST", "/products/fees/v0/listings/{SellerSKU}/feesEstimate", "getMyFeesEstimateForSKU")
def get_my_fees_estimate_for_sku(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    sku = req.path_params["SellerSKU"]
    body = req.json()
    request = body.get("FeesEstimateRequest") if isinstance(body, dict) else None
    if not isinstance(request, dict):
        raise invalid_input("The request body must contain a FeesEstimateRequest object.")
    for name in ("MarketplaceId", "PriceToEstimateFees", "Identifier"):
        if name not in request:
            raise invalid_input(f"Missing required field: FeesEstimateRequest.{name}.")
    market = check_marketplace(seller, str(request["MarketplaceId"]), "MarketplaceId")
    prices = request["PriceToEstimateFees"]
    if not isinstance(prices, dict) or "ListingPrice" not in prices:
        raise invalid_input("Missing required field: PriceToEstimateFees.ListingPrice.")
    listing = _money_in(prices["ListingPrice"], "ListingPrice", market.currency)
    shipping = _money_in(prices["Shipping"], "Shipping", market.currency) if "Shipping" in prices else 0
    product = seller_index(seller).products_by_sku.get(sku)
    amazon_fulfilled = request.get("IsAmazonFulfilled")
    if amazon_fulfilled is not None and not isinstance(amazon_fulfilled, bool):
        raise invalid_input("IsAmazonFulfilled must be a boolean.")
    if amazon_fulfilled is None:
        amazon_fulfilled = product is not None and product.fulfillment_channel == "AFN"

    echoed = {"ListingPrice": money_fees_v0(listing, market.currency)}
    if "Shipping" in prices:
        echoed["Shipping"] = money_fees_v0(shipping, market.currency)
    identifier: dict[str, Any] = {
        "MarketplaceId": market.marketplace_id, "SellerId": seller.account.seller_id, "IdType": "SellerSKU",
        "IdValue": sku, "IsAmazonFulfilled": amazon_fulfilled, "PriceToEstimateFees": echoed,
        "SellerInputIdentifier": str(request["Identifier"])}
    if product is None or market.code not in product.prices:
        result = {"Status": "ClientError", "FeesEstimateIdentifier": identifier,
                  "Error": {"Type": "Sender", "Code": "InvalidParameterValue",
                            "Message": f"The seller SKU {sku} was not found in marketplace "
                                       f"{market.marketplace_id}.",
                            "Detail": []}}
        return Response(body={"payload": {"FeesEstimateResult": result}})

    currency = market.currency
    today = datetime.fromtimestamp(state.clock.now(), UTC).date()
    referral, closing = fees.estimated_fees(market.code, product.category, today, listing + shipping)
    details = [_fee("ReferralFee", referral, currency), _fee("VariableClosingFee", closing, currency),
               _fee("PerItemFee", 0, currency)]
    total = referral + closing
    if amazon_fulfilled:
        fba = fees.fba_fee_per_unit(product.size_tier, product.weight_g, market.code, today)
        details.append(_fee("FBAFees", fba, currency, [_fee("FBAPerUnitFulfillmentFee", fba, currency)]))
        total += fba
    estimate = {"TimeOfFeesEstimation": iso(int(state.clock.now())),
                "TotalFeesEstimate": money_fees_v0(total, currency), "FeeDetailList": details}
    result = {"Status": "Success", "FeesEstimateIdentifier": identifier, "FeesEstimate": estimate}
    return Response(body={"payload": {"FeesEstimateResult": result}})
