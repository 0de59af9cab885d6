"""Every SP-API operation the sandbox serves answers exactly as Amazon's model says, good or bad.

For each served route the test finds the operation in Amazon's models by method and path, then
validates real responses from a running server in strict mode (no field the model does not
define): the good answers (with every includedData dataset and with Restricted Data Tokens where
they change the body), the 400/404 errors the operation can produce, 403 without an access token,
and 429 once the seller's bucket for the operation is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from spapi_sandbox.faults import ERROR_BODIES
from spapi_sandbox.http import ROUTES
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.ratelimit import RATE_LIMITS, TEMPLATE_KEYS
from spapi_sandbox.server import SP_API_AUTH, missing_api_modules
from tests.contract.checker import assert_matches_model, find_operation
from tests.contract.harness import Api, running_api

ORDERS_2026_DATA = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT," \
                   "FULFILLMENT_ORDERS"
CATALOG_DATA = "attributes,classifications,dimensions,identifiers,images,productTypes,relationships,salesRanks," \
               "summaries,vendorDetails"
SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
PII = ["buyerInfo", "shippingAddress"]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    rdt: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (method, path, dataElements) for an RDT
    expect: int = 200


@dataclass
class Context:
    """What the calls need to know about the running sandbox, per seller account."""

    api: Api
    _rdts: dict[int, str] = field(default_factory=dict)
    _reports: dict[int, str] = field(default_factory=dict)
    _documents: dict[int, str] = field(default_factory=dict)

    def market(self, seller: int) -> str:
        return self.api.marketplace_id(seller)

    def order_id(self, seller: int, status: str = "Shipped", channel: str | None = None) -> str:
        for order in self.api.seller(seller).orders:
            if order.status == status and channel in (None, order.fulfillment_channel):
                return order.order_id
        raise LookupError(f"no {status} {channel} order for seller {seller}")

    def settlement_id(self, seller: int) -> str:
        return next(s.settlement_id for s in self.api.seller(seller).settlements if s.closed)

    def sku(self, seller: int) -> tuple[str, str]:
        product = next(p for p in self.api.seller(seller).products if p.fulfillment_channel == "AFN")
        return product.sku, product.asin

    def report_id(self, seller: int) -> str:
        if seller not in self._reports:
            response = self.api.post("/reports/2021-06-30/reports", seller=seller, json={
                "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [self.market(seller)]})
            assert response.status_code == 202, response.text
            self._reports[seller] = response.json()["reportId"]
        return self._reports[seller]

    def document_id(self, seller: int) -> str:
        if seller not in self._documents:
            response = self.api.get("/reports/2021-06-30/reports", seller=seller,
                                    params={"reportTypes": SETTLEMENT_REPORT, "pageSize": 1})
            assert response.status_code == 200, response.text
            self._documents[seller] = response.json()["reports"][0]["reportDocumentId"]
        return self._documents[seller]

    def prepare_rdt(self, seller: int) -> str:
        """One RDT per seller for every restricted resource the cases use (RDTs are rate-limited too)."""
        if seller not in self._rdts:
            resources = {r for cases in CASES.values() for make in cases.good + cases.errors
                         for r in make(self, seller).rdt}
            self._rdts[seller] = self.api.rdt([{"method": m, "path": p, "dataElements": list(e)}
                                               for m, p, e in sorted(resources)], seller)
        return self._rdts[seller]

    def send(self, call: Call, seller: int, anonymous: bool = False, paced: bool = True) -> httpx.Response:
        token = self.prepare_rdt(seller) if call.rdt and not anonymous else None
        return self.api.request(call.method, call.path, params=call.params, json=call.json, seller=seller,
                                token=token, anonymous=anonymous, paced=paced)


CallFor = Callable[[Context, int], Call]


@dataclass
class Cases:
    model: str
    good: list[CallFor]
    errors: list[CallFor] = field(default_factory=list)


def _fees_body(ctx: Context, seller: int, **overrides: Any) -> dict[str, Any]:
    currency = "USD" if ctx.market(seller) == "ATVPDKIKX0DER" else "GBP"
    request = {"MarketplaceId": ctx.market(seller), "IsAmazonFulfilled": True, "Identifier": "contract-1",
               "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": currency, "Amount": 25.0},
                                       "Shipping": {"CurrencyCode": currency, "Amount": 0}}}
    return {"FeesEstimateRequest": {**request, **overrides}}


def _v0_order(path: str, elements: tuple[str, ...] = ()) -> CallFor:
    """A v0 call on a shipped FBM order with an RDT for exactly that path (and PII data elements)."""
    def call(ctx: Context, seller: int) -> Call:
        full = path.format(order_id=ctx.order_id(seller, channel="MFN"))
        return Call("GET", full, rdt=(("GET", full, elements),))
    return call


def _restricted(path: str, order_id: str, expect: int) -> Call:
    full = path.format(order_id=order_id)
    return Call("GET", full, rdt=(("GET", full, ()),), expect=expect)


CASES: dict[str, Cases] = {
    "getMarketplaceParticipations": Cases("sellers.json", [
        lambda ctx, s: Call("GET", "/sellers/v1/marketplaceParticipations")]),
    "searchOrders": Cases("orders_2026-01-01.json", [
        lambda ctx, s: Call("GET", "/orders/2026-01-01/orders", {
            "createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": 100, "includedData": ORDERS_2026_DATA}),
        lambda ctx, s: Call("GET", "/orders/2026-01-01/orders", {
            "lastUpdatedAfter": "2026-02-01T00:00:00Z", "includedData": ORDERS_2026_DATA},
            rdt=(("GET", "/orders/2026-01-01/orders", tuple(PII)),)),
    ], [
        lambda ctx, s: Call("GET", "/orders/2026-01-01/orders", {"maxResultsPerPage": 5}, expect=400),
        lambda ctx, s: Call("GET", "/orders/2026-01-01/orders", {
            "createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": 101}, expect=400),
    ]),
    "getOrder_2026": Cases("orders_2026-01-01.json", [
        lambda ctx, s: Call("GET", f"/orders/2026-01-01/orders/{ctx.order_id(s, channel='MFN')}",
                            {"includedData": ORDERS_2026_DATA},
                            rdt=(("GET", f"/orders/2026-01-01/orders/{ctx.order_id(s, channel='MFN')}",
                                  tuple(PII)),)),
        lambda ctx, s: Call("GET", f"/orders/2026-01-01/orders/{ctx.order_id(s, 'Canceled')}",
                            {"includedData": ORDERS_2026_DATA}),
        lambda ctx, s: Call("GET", f"/orders/2026-01-01/orders/{ctx.order_id(s, 'Unshipped', 'MFN')}"),
    ], [
        lambda ctx, s: Call("GET", "/orders/2026-01-01/orders/not-an-order", expect=400),
        lambda ctx, s: Call("GET", "/orders/2026-01-01/orders/999-0000000-0000000", expect=404),
    ]),
    "getOrders": Cases("ordersV0.json", [
        lambda ctx, s: Call("GET", "/orders/v0/orders", {"CreatedAfter": "2026-01-01T00:00:00Z",
                                                          "MarketplaceIds": ctx.market(s)}),
        lambda ctx, s: Call("GET", "/orders/v0/orders", {"LastUpdatedAfter": "2026-02-01T00:00:00Z",
                                                          "MarketplaceIds": ctx.market(s)},
                            rdt=(("GET", "/orders/v0/orders", tuple(PII)),)),
    ], [
        lambda ctx, s: Call("GET", "/orders/v0/orders", {"CreatedAfter": "2026-01-01T00:00:00Z"}, expect=400),
        lambda ctx, s: Call("GET", "/orders/v0/orders", {"MarketplaceIds": ctx.market(s)}, expect=400),
    ]),
    "getOrder": Cases("ordersV0.json", [
        _v0_order("/orders/v0/orders/{order_id}", tuple(PII)),
        lambda ctx, s: Call("GET", f"/orders/v0/orders/{ctx.order_id(s, 'Unshipped', 'MFN')}"),
    ], [
        lambda ctx, s: Call("GET", "/orders/v0/orders/12345", expect=400),
        lambda ctx, s: Call("GET", "/orders/v0/orders/999-0000000-0000000", expect=404),
    ]),
    "getOrderItems": Cases("ordersV0.json", [
        lambda ctx, s: Call("GET", f"/orders/v0/orders/{ctx.order_id(s)}/orderItems"),
        lambda ctx, s: Call("GET", f"/orders/v0/orders/{ctx.order_id(s, 'Canceled')}/orderItems"),
    ], [
        lambda ctx, s: Call("GET", f"/orders/v0/orders/{ctx.order_id(s)}/orderItems", {"NextToken": "x"},
                            expect=400),
        lambda ctx, s: Call("GET", "/orders/v0/orders/999-0000000-0000000/orderItems", expect=404),
    ]),
    "getOrderAddress": Cases("ordersV0.json", [
        _v0_order("/orders/v0/orders/{order_id}/address"),
    ], [
        lambda ctx, s: _restricted("/orders/v0/orders/{order_id}/address", "bad-id", 400),
        lambda ctx, s: _restricted("/orders/v0/orders/{order_id}/address", "999-0000000-0000000", 404),
    ]),
    "getOrderBuyerInfo": Cases("ordersV0.json", [
        _v0_order("/orders/v0/orders/{order_id}/buyerInfo"),
    ], [
        lambda ctx, s: _restricted("/orders/v0/orders/{order_id}/buyerInfo", "bad-id", 400),
        lambda ctx, s: _restricted("/orders/v0/orders/{order_id}/buyerInfo", "999-0000000-0000000", 404),
    ]),
    "listFinancialEventGroups": Cases("financesV0.json", [
        lambda ctx, s: Call("GET", "/finances/v0/financialEventGroups", {"MaxResultsPerPage": 100}),
    ], [
        lambda ctx, s: Call("GET", "/finances/v0/financialEventGroups", {"MaxResultsPerPage": 0}, expect=400),
        lambda ctx, s: Call("GET", "/finances/v0/financialEventGroups",
                            {"FinancialEventGroupStartedAfter": "yesterday"}, expect=400),
    ]),
    "listTransactions": Cases("finances_2024-06-19.json", [
        lambda ctx, s: Call("GET", "/finances/2024-06-19/transactions", {"postedAfter": "2026-02-15T00:00:00Z"}),
        lambda ctx, s: Call("GET", "/finances/2024-06-19/transactions",
                            {"postedAfter": "2026-02-20T00:00:00Z", "transactionStatus": "DEFERRED"}),
    ], [
        lambda ctx, s: Call("GET", "/finances/2024-06-19/transactions", {}, expect=400),
        lambda ctx, s: Call("GET", "/finances/2024-06-19/transactions",
                            {"postedAfter": "2026-02-15T00:00:00Z", "marketplaceId": "XXXXXXXX"}, expect=400),
    ]),
    "listBalances": Cases("finances_2024-06-19.json", [
        lambda ctx, s: Call("GET", "/finances/2024-06-19/balances"),
        lambda ctx, s: Call("GET", "/finances/2024-06-19/balances",
                            {"marketplaceIds": ctx.market(s), "balanceType": "RESERVED"}),
    ], [
        lambda ctx, s: Call("GET", "/finances/2024-06-19/balances", {"balanceType": "EVERYTHING"}, expect=400),
        lambda ctx, s: Call("GET", "/finances/2024-06-19/balances", {"marketplaceIds": "XXXXXXXX"}, expect=400),
    ]),
    "listSummary": Cases("finances_2024-06-19.json", [
        lambda ctx, s: Call("GET", "/finances/2024-06-19/summary", {
            "relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": ctx.settlement_id(s)}),
        lambda ctx, s: Call("GET", "/finances/2024-06-19/summary",
                            {"periodStart": "2026-02-01", "periodEnd": "2026-02-14"}),
    ], [
        lambda ctx, s: Call("GET", "/finances/2024-06-19/summary",
                            {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": "1"}, expect=400),
        lambda ctx, s: Call("GET", "/finances/2024-06-19/summary", {"periodStart": "soon"}, expect=400),
    ]),
    # Seller 0 sells in Amazon.com and Amazon.ca, which Transfers does not serve: an empty answer, and a 400 when
    # named (test_transfers_answer_with_payouts_where_amazon_serves_them checks full answers for an EU seller).
    "listPayouts": Cases("transfers_2024-06-01.json", [
        lambda ctx, s: Call("GET", "/finances/transfers/2024-06-01/payouts"),
    ], [
        lambda ctx, s: Call("GET", "/finances/transfers/2024-06-01/payouts", {"createdAfter": "soon"},
                            expect=400),
        lambda ctx, s: Call("GET", "/finances/transfers/2024-06-01/payouts",
                            {"marketplaceIds": ctx.market(s), "createdAfter": "2026-02-01T00:00:00Z"}, expect=400),
    ]),
    "listExpectedPayouts": Cases("transfers_2024-06-01.json", [
        lambda ctx, s: Call("GET", "/finances/transfers/2024-06-01/payouts/expected"),
    ], [
        lambda ctx, s: Call("GET", "/finances/transfers/2024-06-01/payouts/expected",
                            {"marketplaceIds": "XXXXXXXX"}, expect=400),
        lambda ctx, s: Call("GET", "/finances/transfers/2024-06-01/payouts/expected",
                            {"marketplaceIds": ctx.market(s)}, expect=400),
    ]),
    "searchCatalogItems": Cases("catalogItems_2022-04-01.json", [
        lambda ctx, s: Call("GET", "/catalog/2022-04-01/items", {
            "identifiers": ",".join(p.asin for p in ctx.api.seller(s).products[:20]), "identifiersType": "ASIN",
            "marketplaceIds": ctx.market(s), "includedData": CATALOG_DATA, "pageSize": 20}),
        lambda ctx, s: Call("GET", "/catalog/2022-04-01/items", {
            "keywords": "Northwind", "marketplaceIds": ctx.market(s), "pageSize": 2}),
    ], [
        lambda ctx, s: Call("GET", "/catalog/2022-04-01/items", {"keywords": "mat"}, expect=400),
    ]),
    "getCatalogItem": Cases("catalogItems_2022-04-01.json", [
        lambda ctx, s: Call("GET", f"/catalog/2022-04-01/items/{ctx.sku(s)[1]}",
                            {"marketplaceIds": ctx.market(s), "includedData": CATALOG_DATA}),
    ], [
        lambda ctx, s: Call("GET", f"/catalog/2022-04-01/items/{ctx.sku(s)[1]}", expect=400),
        lambda ctx, s: Call("GET", "/catalog/2022-04-01/items/B000000000", {"marketplaceIds": ctx.market(s)},
                            expect=404),
    ]),
    "getInventorySummaries": Cases("fbaInventory.json", [
        lambda ctx, s: Call("GET", "/fba/inventory/v1/summaries", {
            "granularityType": "Marketplace", "granularityId": ctx.market(s), "marketplaceIds": ctx.market(s),
            "details": "true"}),
    ], [
        lambda ctx, s: Call("GET", "/fba/inventory/v1/summaries", {
            "granularityType": "Country", "granularityId": ctx.market(s), "marketplaceIds": ctx.market(s)},
            expect=400),
    ]),
    "getMyFeesEstimateForSKU": Cases("productFeesV0.json", [
        lambda ctx, s: Call("POST", f"/products/fees/v0/listings/{ctx.sku(s)[0]}/feesEstimate",
                            json=_fees_body(ctx, s)),
        lambda ctx, s: Call("POST", "/products/fees/v0/listings/NO-SUCH-SKU/feesEstimate",
                            json=_fees_body(ctx, s)),
    ], [
        lambda ctx, s: Call("POST", f"/products/fees/v0/listings/{ctx.sku(s)[0]}/feesEstimate", json={},
                            expect=400),
    ]),
    "createRestrictedDataToken": Cases("tokens_2021-03-01.json", [
        lambda ctx, s: Call("POST", "/tokens/2021-03-01/restrictedDataToken", json={"restrictedResources": [
            {"method": "GET", "path": "/orders/v0/orders", "dataElements": PII}]}),
    ], [
        lambda ctx, s: Call("POST", "/tokens/2021-03-01/restrictedDataToken", json={}, expect=400),
    ]),
    "createReport": Cases("reports_2021-06-30.json", [
        lambda ctx, s: Call("POST", "/reports/2021-06-30/reports", json={
            "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", "marketplaceIds": [ctx.market(s)],
            "dataStartTime": "2026-02-01T00:00:00Z"}, expect=202),
    ], [
        lambda ctx, s: Call("POST", "/reports/2021-06-30/reports", json={
            "reportType": SETTLEMENT_REPORT, "marketplaceIds": [ctx.market(s)]}, expect=400),
    ]),
    "getReports": Cases("reports_2021-06-30.json", [
        lambda ctx, s: Call("GET", "/reports/2021-06-30/reports", {"reportTypes": SETTLEMENT_REPORT}),
    ], [
        lambda ctx, s: Call("GET", "/reports/2021-06-30/reports", {}, expect=400),
    ]),
    "getReport": Cases("reports_2021-06-30.json", [
        lambda ctx, s: Call("GET", f"/reports/2021-06-30/reports/{ctx.report_id(s)}"),
    ], [
        lambda ctx, s: Call("GET", "/reports/2021-06-30/reports/999999999999", expect=404),
    ]),
    "cancelReport": Cases("reports_2021-06-30.json", [
        lambda ctx, s: Call("DELETE", f"/reports/2021-06-30/reports/{ctx.report_id(s)}"),
    ], [
        lambda ctx, s: Call("DELETE", "/reports/2021-06-30/reports/999999999999", expect=404),
    ]),
    "getReportDocument": Cases("reports_2021-06-30.json", [
        lambda ctx, s: Call("GET", f"/reports/2021-06-30/documents/{ctx.document_id(s)}"),
    ], [
        lambda ctx, s: Call("GET", "/reports/2021-06-30/documents/amzn1.spdoc.1.4.na.nope", expect=404),
    ]),
}

# Operation names whose model operationId differs (two APIs both call theirs getOrder).
MODEL_OPERATION_ID = {"getOrder_2026": "getOrder"}


def _body(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def _check(ctx: Context, operation: str, call: Call, seller: int, status: int | None = None) -> httpx.Response:
    response = ctx.send(call, seller)
    expected = call.expect if status is None else status
    assert response.status_code == expected, f"{call.method} {call.path}: {response.status_code} {response.text}"
    cases = CASES[operation]
    assert_matches_model(cases.model, MODEL_OPERATION_ID.get(operation, operation), response.status_code,
                         _body(response))
    return response


@pytest.fixture(scope="module")
def ctx() -> Iterator[Context]:
    with running_api() as api:
        yield Context(api)


def _sp_api_routes() -> list:
    missing_api_modules()
    return [r for r in ROUTES if r.auth in SP_API_AUTH and not r.template.startswith("/testing/")]


def test_every_served_operation_is_in_amazons_models_and_has_contract_cases():
    served = _sp_api_routes()
    assert served, "no SP-API routes are registered"
    for route in served:
        found = find_operation(route.method, route.template)
        assert found is not None, f"{route.method} {route.template} is in none of Amazon's models"
        model, operation_id = found
        assert route.operation in CASES, f"no contract cases for {route.operation}"
        assert CASES[route.operation].model == model
        assert MODEL_OPERATION_ID.get(route.operation, route.operation) == operation_id
        # the operation name is also the rate-limit key Amazon's usage plan is documented for
        assert TEMPLATE_KEYS.get(route.template, route.operation) in RATE_LIMITS


def test_routes_outside_the_sp_api_are_in_no_model():
    """The LWA token endpoint and report document downloads are not SP-API operations (no model)."""
    missing_api_modules()
    others = [r for r in ROUTES if r.auth not in SP_API_AUTH and not r.template.startswith("/testing/")]
    assert others
    assert all(find_operation(r.method, r.template) is None for r in others)


@pytest.mark.parametrize("operation", sorted(CASES))
def test_injected_fault_bodies_match_the_model(operation):
    """The fault profiles' 429/500/503 bodies are valid answers of every operation."""
    for status, body in ERROR_BODIES.values():
        assert_matches_model(CASES[operation].model, MODEL_OPERATION_ID.get(operation, operation), status, body)


@pytest.mark.parametrize("operation", sorted(CASES))
def test_good_responses_match_the_model(ctx, operation):
    for make in CASES[operation].good:
        call = make(ctx, 0)
        _check(ctx, operation, call, 0)


@pytest.mark.parametrize("operation", sorted(o for o in CASES if CASES[o].errors))
def test_error_responses_match_the_model(ctx, operation):
    for make in CASES[operation].errors:
        response = _check(ctx, operation, make(ctx, 0), 0)
        assert response.json()["errors"][0]["code"] in ("InvalidInput", "NotFound")


@pytest.mark.parametrize("operation", ["listPayouts", "listExpectedPayouts"])
def test_transfers_answer_with_payouts_where_amazon_serves_them(ctx, operation):
    """Seller 1 sells in Amazon.de, one of the marketplaces Transfers serves (transfers_2024-06-01.json, info)."""
    path = {"listPayouts": "/finances/transfers/2024-06-01/payouts",
            "listExpectedPayouts": "/finances/transfers/2024-06-01/payouts/expected"}[operation]
    assert "DE" in ctx.api.seller(1).account.marketplace_codes
    response = ctx.send(Call("GET", path, {"marketplaceIds": MARKETPLACES["DE"].marketplace_id}), 1)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["payouts" if operation == "listPayouts" else "expectedPayouts"]
    assert_matches_model(CASES[operation].model, operation, 200, body)


@pytest.mark.parametrize("operation", sorted(CASES))
def test_missing_access_token_is_a_403_the_model_allows(ctx, operation):
    call = CASES[operation].good[0](ctx, 0)
    response = ctx.send(call, 0, anonymous=True)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"
    assert_matches_model(CASES[operation].model, MODEL_OPERATION_ID.get(operation, operation), 403,
                         response.json())


@pytest.fixture(scope="module")
def seller1_ready(ctx):
    """Create what seller 1's calls need (RDTs, a report) before any of its buckets is drained."""
    ctx.prepare_rdt(1)
    ctx.report_id(1)
    ctx.document_id(1)
    return ctx


@pytest.mark.parametrize("operation", sorted(CASES))
def test_an_empty_bucket_is_a_429_the_model_allows(seller1_ready, operation):
    ctx = seller1_ready
    """Seller 1's bucket is drained (other tests use seller 0); the clock runs at x1, so no refill."""
    rate, burst = RATE_LIMITS[operation]
    call = CASES[operation].good[0](ctx, 1)
    statuses = [ctx.send(call, 1, paced=False).status_code for _ in range(burst + 1)]
    assert statuses[-1] == 429, statuses
    response = ctx.send(call, 1, paced=False)
    assert response.status_code == 429
    assert response.headers["x-amzn-RateLimit-Limit"]
    assert response.json()["errors"][0]["code"] == "QuotaExceeded"
    assert_matches_model(CASES[operation].model, MODEL_OPERATION_ID.get(operation, operation), 429,
                         response.json())
