"""Token buckets per seller and operation, with Amazon's documented rates, on the sandbox clock."""

from __future__ import annotations

import time

import httpx
import pytest

from spapi_sandbox.clock import SandboxClock
from spapi_sandbox.http import ROUTES
from spapi_sandbox.ratelimit import (
    QUOTA_EXCEEDED,
    RATE_LIMITS,
    RateLimiter,
    TokenBucket,
    format_rate,
    limit_key,
)
from spapi_sandbox.server import SP_API_AUTH, missing_api_modules

RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"  # rate 1 rps, burst 10


class FakeClock(SandboxClock):
    def __init__(self, scale: float = 1.0) -> None:
        super().__init__(0, scale)
        self.t = 0.0

    def now(self) -> float:
        return self.t


def test_bucket_starts_full_and_refills_at_the_documented_rate():
    clock = FakeClock()
    bucket = TokenBucket(0.5, 3, clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    clock.t = 1.9  # 0.95 of a request refilled
    assert not bucket.try_take()
    clock.t = 2.0
    assert bucket.try_take() and not bucket.try_take()
    clock.t = 1000.0  # refills up to the burst only
    assert sum(bucket.try_take() for _ in range(10)) == 3


def test_limiter_keeps_one_bucket_per_seller_and_operation():
    limiter = RateLimiter(FakeClock(scale=10.0))
    assert [limiter.acquire("A", "getCatalogItem")[0] for _ in range(3)] == [True, True, False]
    assert limiter.acquire("B", "getCatalogItem") == (True, 20.0)  # documented 2 rps x time scale 10
    assert limiter.acquire("A", "searchCatalogItems")[0]


def test_rate_header_format():
    assert format_rate(0.0167) == "0.0167"
    assert format_rate(2.0) == "2.0"
    assert format_rate(0.0056 * 10) == "0.056"
    assert format_rate(0.0222 * 3600) == "79.92"


def test_rate_limits_match_the_documented_usage_plans(spapi_models_dir):
    """Every RATE_LIMITS entry equals the rate and burst of Amazon's RATE_LIMITS.md."""
    documented: dict[tuple[str, str], tuple[float, int]] = {}
    for line in (spapi_models_dir / "RATE_LIMITS.md").read_text().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 5 and cells[3] not in ("-", ""):
            operation = cells[1].replace("(deprecated)", "").strip()
            documented[(cells[0], operation)] = (float(cells[3]), int(cells[4]))
    model_of = {"getOrder_2026": ("orders_2026-01-01.json", "getOrder"),
                "getOrder": ("ordersV0.json", "getOrder")}
    for key, plan in RATE_LIMITS.items():
        if key in model_of:
            assert documented[model_of[key]] == plan, key
        else:
            matches = {v for (_, op), v in documented.items() if op == key}
            assert matches == {plan}, key


def test_every_sp_api_route_has_a_rate_limit():
    missing_api_modules()  # register every route that exists
    for route in ROUTES:
        if route.auth in SP_API_AUTH:
            assert limit_key(route.operation, route.template) in RATE_LIMITS, route.operation


def rdt_requests(base_url: str, token: str, count: int, pace: float = 0.0) -> list[httpx.Response]:
    """`count` createRestrictedDataToken calls (empty body: 400 InvalidInput once past the bucket)."""
    responses = []
    with httpx.Client(base_url=base_url, timeout=30, headers={"x-amz-access-token": token}) as client:
        for _ in range(count):
            started = time.monotonic()
            responses.append(client.post(RDT_PATH, json={}))
            if pace:
                time.sleep(max(0.0, pace - (time.monotonic() - started)))
    return responses


@pytest.mark.integration
def test_a_burst_beyond_the_bucket_gets_429_quota_exceeded(start_sandbox):
    sandbox = start_sandbox()  # its own buckets: other tests cannot have drained them
    responses = rdt_requests(sandbox.base_url, sandbox.access_token(), 16)
    statuses = [r.status_code for r in responses]
    assert statuses[:10] == [400] * 10  # burst 10, all reach the operation
    assert statuses.count(429) >= 5  # refill is 1 per second; the loop takes far less
    throttled = next(r for r in responses if r.status_code == 429)
    assert throttled.json() == QUOTA_EXCEEDED
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "1.0"
    assert throttled.headers["x-amzn-RequestId"]
    # another seller account has its own bucket
    assert rdt_requests(sandbox.base_url, sandbox.access_token(1), 1)[0].status_code == 400


@pytest.mark.integration
def test_a_client_pacing_at_the_scaled_rate_is_never_throttled(start_sandbox):
    sandbox = start_sandbox(time_scale=20.0)  # createRestrictedDataToken: 1 rps x 20 = 20 rps
    token = sandbox.access_token()
    paced = rdt_requests(sandbox.base_url, token, 40, pace=1 / 20)
    assert [r.status_code for r in paced] == [400] * 40
    assert {r.headers["x-amzn-RateLimit-Limit"] for r in paced} == {"20.0"}
    unpaced = rdt_requests(sandbox.base_url, token, 40)  # the same load at full speed is throttled
    assert any(r.status_code == 429 for r in unpaced)


@pytest.mark.integration
def test_every_sp_api_response_reports_the_rate_in_effect(sandbox):
    token = sandbox.access_token()
    headers = {"x-amz-access-token": token}
    ok = httpx.post(f"{sandbox.base_url}{RDT_PATH}", json={}, headers=headers, timeout=30)
    assert ok.headers["x-amzn-RateLimit-Limit"] == "1.0"
    denied = httpx.post(f"{sandbox.base_url}{RDT_PATH}", json={}, timeout=30)
    assert denied.status_code == 403 and denied.headers["x-amzn-RateLimit-Limit"] == "1.0"


@pytest.mark.integration
def test_the_token_endpoint_is_not_rate_limited(start_sandbox):
    sandbox = start_sandbox()
    statuses = {sandbox.token_response(0).status_code for _ in range(40)}
    assert statuses == {200}
