"""The SP-API client against the real sandbox: calls, errors, retries, paging, RDTs, audit and stats.

Also home of the helpers the other client tests import (`account_config`, `make_client`): an
AccountConfig for a sandbox account whose secrets live in a private environment mapping.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from dlt_sources.spapi.audit import AuditKind, MemoryAuditSink, count
from dlt_sources.spapi.auth import TokenStore, account_key
from dlt_sources.spapi.call_stats import CallStats
from dlt_sources.spapi.client import (
    RetryPolicy,
    SpApiClient,
    SpApiError,
)
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.credentials import Secret, SecretRef
from dlt_sources.spapi.settings import OPERATIONS, SETTLEMENT_REPORT
from dlt_sources.spapi.throttle import Throttle
from dlt_sources.spapi.wire import date_windows, encode_params
from spapi_sandbox.marketplaces import MARKETPLACES
from tests.conftest import TEST_ARGUMENTS, Sandbox, running_sandbox

pytestmark = pytest.mark.integration

FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.02, max_delay=0.5)
START = datetime(2026, 1, 1, tzinfo=UTC)
TIME_SCALE = 100.0  # documented limits x100: paging stays quick, tokens live 36 s


def account_config(sandbox: Sandbox, index: int = 0) -> tuple[AccountConfig, dict[str, str]]:
    """The sandbox account as the product configures it: secrets referenced through (private) env vars."""
    account = sandbox.account(index)
    env = {f"SPAPI_TEST_REFRESH_{index}": account.refresh_token,
           f"SPAPI_TEST_SECRET_{index}": account.lwa_client_secret}
    config = AccountConfig(
        name=account.name, seller_id=account.seller_id, region=account.region,
        marketplace_ids=tuple(MARKETPLACES[c].marketplace_id for c in account.marketplace_codes),
        lwa_client_id=account.lwa_client_id, lwa_client_secret=SecretRef(env=f"SPAPI_TEST_SECRET_{index}"),
        refresh_token=SecretRef(env=f"SPAPI_TEST_REFRESH_{index}"), endpoint=sandbox.base_url,
        lwa_token_url=f"{sandbox.base_url}/auth/o2/token")
    return config, env


def make_client(sandbox: Sandbox, index: int = 0, audit: Any = None, env: dict[str, str] | None = None,
                **options: Any) -> SpApiClient:
    """A client with its own throttle, token store and stats (tests never share process-wide state);
    `env` replaces the account's secret environment (to present wrong secrets)."""
    config, own_env = account_config(sandbox, index)
    env = own_env if env is None else env
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("throttle", Throttle())
    options.setdefault("tokens", TokenStore())
    sink = audit if audit is not None else MemoryAuditSink()
    return SpApiClient(config, lambda ref: ref.resolve(env), sink, **options)


@pytest.fixture(scope="module")
def fast() -> Iterator[Sandbox]:
    with running_sandbox(TEST_ARGUMENTS, time_scale=TIME_SCALE) as running:
        yield running


# --- calls --------------------------------------------------------------------------------------------------


def test_call_returns_the_payload_and_audits_names_not_values(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    with make_client(fast, audit=audit) as client:
        body = client.call("getMarketplaceParticipations")
        order = fast.world.sellers[0].orders[0]
        found = client.call("getOrder", {"orderId": order.order_id}, {"includedData": ["PROCEEDS"]})
    served = {p["marketplace"]["id"] for p in body["payload"]}
    assert served == set(client.account.marketplace_ids)
    assert found["order"]["orderId"] == order.order_id

    events = audit.events()
    assert [e.kind for e in events] == [AuditKind.TOKEN_REFRESH, AuditKind.API_CALL, AuditKind.API_CALL]
    call = events[2]
    assert (call.operation, call.method, call.status, call.attempt) == ("getOrder", "GET", 200, 1)
    assert not call.throttled
    assert call.path == "/orders/2026-01-01/orders/{orderId}"  # the template, not the order id
    assert call.param_names == ("includedData",)
    assert call.request_id and call.latency_ms is not None and call.latency_ms > 0
    assert call.account == client.account.name and call.seller_id == client.account.seller_id
    assert all(order.order_id not in repr(e) and "PROCEEDS" not in repr(e) for e in events)
    row = call.as_row()
    assert row["kind"] == "api_call" and row["param_names"] == "includedData"

    stats = client.stats.snapshot()[(client.account.name, "getOrder")]
    assert (stats.calls, stats.retries, stats.throttled, stats.errors) == (1, 0, 0, 0)


def test_client_errors_raise_at_once_with_amazons_details(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    client = make_client(fast, audit=audit)
    with pytest.raises(SpApiError) as missing:
        client.call("getReport", {"reportId": "999999"})
    error = missing.value
    assert (error.status, error.code, error.attempts) == (404, "NotFound", 1)
    assert "getReport" in str(error) and repr(client.account.name) in str(error)
    assert error.request_id and error.request_id in str(error)

    with pytest.raises(SpApiError) as invalid:
        client.call("searchOrders", params={"marketplaceIds": client.account.marketplace_ids})
    assert (invalid.value.status, invalid.value.code) == (400, "InvalidInput")
    assert "createdAfter" in str(invalid.value)  # Amazon's message says what is wrong
    assert count(audit.events(), AuditKind.API_CALL) == 2  # no retries of client errors
    assert client.stats.totals().errors == 2


def test_pagination_collects_every_page_as_in_the_world(fast: Sandbox) -> None:
    seller = fast.world.sellers[0]
    client = make_client(fast)
    markets = client.account.marketplace_ids
    orders = list(client.paginate("searchOrders", {"createdAfter": START, "marketplaceIds": markets,
                                                   "maxResultsPerPage": 50}))
    assert sorted(o["orderId"] for o in orders) == sorted(o.order_id for o in seller.orders)
    assert len(orders) > 50 * 3  # several pages, token sent back as paginationToken

    transactions = list(client.paginate("listTransactions", {"postedAfter": START - timedelta(days=30)}))
    assert sorted(t["transactionId"] for t in transactions) == sorted(p.posting_id for p in seller.postings)

    groups = list(client.paginate("listFinancialEventGroups", {
        "FinancialEventGroupStartedAfter": START - timedelta(days=30), "MaxResultsPerPage": 3}))
    expected_groups = {s.event_group_id for s in seller.settlements if s.start_at <= fast.world.now}
    assert {g["FinancialEventGroupId"] for g in groups} == expected_groups

    # getReports refuses a nextToken that comes with any other parameter: paging proves it is sent alone.
    reports = list(client.paginate("getReports", {"reportTypes": [SETTLEMENT_REPORT], "pageSize": 2}))
    closed = [s for s in seller.settlements if s.closed]
    assert len(reports) == len(closed) + sum(1 for s in closed if s.reissued)
    assert len(reports) > 2

    pages = client.stats.snapshot()
    assert pages[(client.account.name, "searchOrders")].calls == -(-len(orders) // 50)
    assert pages[(client.account.name, "getReports")].calls == -(-len(reports) // 2)


def test_restricted_data_token_is_granted_once_and_unlocks_pii(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    client = make_client(fast, audit=audit)
    params = {"createdAfter": START, "marketplaceIds": client.account.marketplace_ids, "maxResultsPerPage": 5,
              "includedData": ["BUYER"]}
    plain = client.call("searchOrders", params=params)
    first = client.call("searchOrders", params=params, data_elements=["buyerInfo"])
    second = client.call("searchOrders", params=params, data_elements=["buyerInfo"])
    assert not any("buyer" in o for o in plain["orders"])
    assert all("buyerName" in o["buyer"] for o in first["orders"])
    assert first["orders"] == second["orders"]
    events = audit.events()
    assert count(events, AuditKind.RDT_GRANT) == 1  # cached for the second call
    assert count(events, AuditKind.API_CALL, "createRestrictedDataToken") == 1
    grant = next(e for e in events if e.kind == AuditKind.RDT_GRANT)
    assert grant.detail == "GET /orders/2026-01-01/orders"


def test_flaky_server_retries_give_the_same_data(start_sandbox) -> None:
    """faults=flaky (429s, 500/503, slow answers, dropped connections): identical results, only more calls."""

    def collect(sandbox: Sandbox) -> tuple[dict[str, Any], SpApiClient, MemoryAuditSink]:
        audit = MemoryAuditSink()
        client = make_client(sandbox, audit=audit)
        markets = client.account.marketplace_ids
        orders = client.paginate("searchOrders", {"createdAfter": START, "marketplaceIds": markets,
                                                  "maxResultsPerPage": 25})
        data = {
            "orders": [(o["orderId"], o["createdTime"], o["salesChannel"]["marketplaceId"],
                        len(o["orderItems"])) for o in orders],
            "transactions": [(t["transactionId"], t["postedDate"], t["totalAmount"], t["relatedIdentifiers"])
                             for t in client.paginate("listTransactions", {"postedAfter": START})],
            "groups": [(g["FinancialEventGroupId"], g["OriginalTotal"]) for g in client.paginate(
                "listFinancialEventGroups",
                {"FinancialEventGroupStartedAfter": START, "MaxResultsPerPage": 2})],
            "reports": [(r["reportId"], r["reportDocumentId"]) for r in client.paginate(
                "getReports", {"reportTypes": [SETTLEMENT_REPORT], "pageSize": 1})],
            "participations": client.call("getMarketplaceParticipations"),
        }
        return data, client, audit

    calm, calm_client, _ = collect(start_sandbox(time_scale=1000.0, faults="none"))
    rough, rough_client, audit = collect(start_sandbox(time_scale=1000.0, faults="flaky"))
    assert rough == calm
    assert all(calm.values())
    faulted = {e.outcome for e in audit.events() if e.kind == AuditKind.API_CALL and e.outcome != "ok"}
    assert rough_client.stats.totals().retries > 0
    assert faulted & {"QuotaExceeded", "InternalFailure", "ServiceUnavailable", "RemoteProtocolError"}
    assert rough_client.stats.totals().errors == 0


# --- retry bounds (a scripted transport: the sandbox's faults always let a retry through) -------------------


def _scripted_client(handler: Any, sleeps: list[float],
                     attempts: int = 4) -> tuple[SpApiClient, MemoryAuditSink]:
    config = AccountConfig("acme-eu", "A1SELLER", "EU", ("A1PM8B3LH8WCS2",), "client-id", SecretRef(env="X"),
                           SecretRef(env="Y"), "https://sellingpartnerapi-eu.amazon.com",
                           "https://lwa.test/token")
    tokens = TokenStore()
    tokens.access.get(account_key(config), lambda: (Secret("Atza|scripted"), 3600.0))
    audit = MemoryAuditSink()
    client = SpApiClient(config, audit=audit, retry=RetryPolicy(attempts, base_delay=0.5, max_delay=1.0),
                         throttle=Throttle(), tokens=tokens,
                         http=httpx.Client(transport=httpx.MockTransport(handler)),
                         sleep=sleeps.append, rng=random.Random(1))
    return client, audit


def test_retries_are_bounded_with_jittered_backoff_then_a_clear_error() -> None:
    sleeps: list[float] = []
    seen: list[httpx.Request] = []

    def unavailable(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"errors": [{"code": "ServiceUnavailable", "message": "Try again."}]},
                              headers={"x-amzn-RequestId": "req-1", "x-amzn-RateLimit-Limit": "0.5"})

    client, audit = _scripted_client(unavailable, sleeps)
    with pytest.raises(SpApiError) as failed:
        client.call("listTransactions", params={"postedAfter": START})
    assert len(seen) == 4
    assert all(r.headers["x-amz-access-token"] == "Atza|scripted" for r in seen)
    assert seen[0].url.params["postedAfter"] == "2026-01-01T00:00:00Z"
    message = str(failed.value)
    for part in ("listTransactions", "'acme-eu'", "HTTP 503", "ServiceUnavailable", "after 4 attempts"):
        assert part in message
    assert len(sleeps) == 3  # between attempts: full jitter under min(cap, base * 2^(n-1))
    assert all(0 <= s <= bound for s, bound in zip(sleeps, (0.5, 1.0, 1.0), strict=True))
    assert [e.attempt for e in audit.events()] == [1, 2, 3, 4]
    assert client.throttle.state(client.scope, "listTransactions").rate == 0.5  # followed the header


def test_dropped_connections_are_retried_then_reported() -> None:
    sleeps: list[float] = []
    calls = {"n": 0}

    def drop_twice(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                            request=request)
        return httpx.Response(200, json={"payload": []})

    client, audit = _scripted_client(drop_twice, sleeps)
    assert client.call("getMarketplaceParticipations") == {"payload": []}
    assert [e.outcome for e in audit.events()] == ["RemoteProtocolError", "RemoteProtocolError", "ok"]

    def never(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, _ = _scripted_client(never, sleeps, attempts=3)
    with pytest.raises(SpApiError) as failed:
        client.call("getMarketplaceParticipations")
    assert failed.value.status is None and "ConnectError" in str(failed.value)


def test_a_closed_port_is_a_clear_auth_error_not_a_hang() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = AccountConfig("nowhere", "A0", "NA", ("ATVPDKIKX0DER",), "cid", SecretRef(env="S"),
                           SecretRef(env="R"), f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/auth/o2/token")
    client = SpApiClient(config, lambda ref: Secret("value-" + str(ref.env)),
                         retry=RetryPolicy(2, 0.001, 0.001), throttle=Throttle(), tokens=TokenStore())
    with pytest.raises(Exception, match="unreachable for account 'nowhere'.*ConnectError"):
        client.call("getMarketplaceParticipations")


# --- helpers ------------------------------------------------------------------------------------------------


def test_query_values_are_spelled_as_amazon_expects() -> None:
    assert encode_params({"marketplaceIds": ["A", "B"], "details": True, "postedAfter": START,
                          "day": date(2026, 2, 1), "pageSize": 10, "skip": None}) == {
        "marketplaceIds": "A,B", "details": "true", "postedAfter": "2026-01-01T00:00:00Z",
        "day": "2026-02-01T00:00:00Z", "pageSize": "10"}


def test_date_windows_cover_the_range_without_gaps_or_overlap() -> None:
    end = START + timedelta(days=400, hours=5)
    windows = date_windows(START, end, 180)
    assert windows[0][0] == START and windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
    assert all(upper - lower <= timedelta(days=180) for lower, upper in windows)
    assert len(windows) == 3
    assert date_windows(START, START, 30) == []


# Every operation's paging, from the one table of operations.
PAGING = {name: operation.paging for name, operation in OPERATIONS.items() if operation.paging}


def test_paging_lives_in_the_table_of_operations() -> None:
    assert {"listTransactions", "listFinancialEventGroups", "searchOrders", "getReports", "getInventorySummaries",
            "searchCatalogItems", "listBalances", "listSummary", "listPayouts", "listExpectedPayouts"} == set(PAGING)
    assert OPERATIONS["listTransactions"].max_window_days == 180
    assert PAGING["getReports"].token_alone and not PAGING["listTransactions"].token_alone
    assert PAGING["searchOrders"].token_param == "paginationToken"


def _schema_at(model: dict, schema: dict, path: tuple[str, ...]) -> dict | None:
    """The schema found by following `path` through properties (and $refs) of a model's schema."""
    for key in path:
        while "$ref" in schema:
            schema = model["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
        schema = schema.get("properties", {}).get(key)
        if schema is None:
            return None
    while "$ref" in schema:
        schema = model["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_paging_matches_amazons_models(spapi_models_dir, spapi_model) -> None:
    """Where each token and item list lives, and the parameter that sends the token back, per the models."""
    models = {p.name: spapi_model(p.name) for p in sorted(spapi_models_dir.glob("*.json"))}
    for operation, paging in PAGING.items():
        path = OPERATIONS[operation].path
        model = next(m for m in models.values() if path in m.get("paths", {}))
        spec = model["paths"][path]["get"]
        assert spec["operationId"] == operation
        names = {p.get("name") for p in spec.get("parameters", [])}
        assert paging.token_param in names, operation
        response = spec["responses"]["200"]["schema"]
        token = _schema_at(model, response, paging.token_path)
        items = _schema_at(model, response, paging.items_path)
        assert token is not None and token.get("type") == "string", operation
        assert items is not None and items.get("type") == "array", operation


def test_call_stats_add_up_per_account() -> None:
    stats = CallStats()
    stats.record("a", "x", calls=3, throttled=1)
    stats.record("b", "x", calls=1)
    assert stats.totals("a").calls == 3 and stats.totals().calls == 4
    assert stats.totals("a").throttle_share == pytest.approx(1 / 3)
