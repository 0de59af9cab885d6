"""Client-side token buckets: unit behaviour, and the 429 share of a run at the sandbox's real limits."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dlt_sources.spapi.audit import AuditKind, MemoryAuditSink
from dlt_sources.spapi.auth import TokenStore
from dlt_sources.spapi.call_stats import CallStats
from dlt_sources.spapi.client import RetryPolicy, SpApiClient
from dlt_sources.spapi.settings import OPERATIONS, SETTLEMENT_REPORT
from dlt_sources.spapi.throttle import Throttle, TokenBucket, parse_rate_header
from tests.dlt_sources.test_client import make_client


def timed(bucket: TokenBucket, n: int) -> list[float]:
    """Seconds from the start at which each of n sequential acquisitions got its token."""
    started = time.monotonic()
    marks = []
    for _ in range(n):
        bucket.acquire()
        marks.append(time.monotonic() - started)
    return marks


def test_bucket_starts_full_then_paces_at_the_safe_rate() -> None:
    bucket = TokenBucket(rate=40.0, burst=5, safety=0.8)  # pace: 32 per second
    marks = timed(bucket, 9)
    assert marks[4] < 0.02  # the burst goes at once, like Amazon's full bucket
    assert 3.5 / 32 <= marks[8] <= 4 / 32 + 0.3  # then one per 1/32 s (slack for a busy machine)


def test_adapting_to_the_header_keeps_the_burst_and_wakes_waiting_callers() -> None:
    bucket = TokenBucket(rate=0.01, burst=3, safety=1.0)
    for _ in range(3):
        bucket.acquire()
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (bucket.acquire(), got.set()))
    waiter.start()
    assert not got.wait(0.1)  # at 0.01 per second the next token is 100 s away
    bucket.adapt(50.0)  # a response says the rate in force is 50/s: the waiter recomputes at once
    assert got.wait(1.0)
    waiter.join()
    assert (bucket.rate, bucket.burst, bucket.documented_rate) == (50.0, 3, 0.01)
    time.sleep(0.2)
    assert bucket.tokens == pytest.approx(3.0)  # refills up to the documented burst, no further


def test_a_429_empties_the_bucket() -> None:
    bucket = TokenBucket(rate=20.0, burst=10, safety=1.0)
    bucket.throttled()
    assert bucket.tokens < 0.1
    assert 0.03 <= timed(bucket, 1)[0] <= 0.5  # the retry waits one refill interval (0.05 s)


def test_buckets_are_per_account_and_operation() -> None:
    throttle = Throttle()
    for _ in range(OPERATIONS["searchOrders"].burst):
        throttle.acquire("acct-a", "searchOrders")
    assert throttle.state("acct-a", "searchOrders").tokens < 1
    assert throttle.state("acct-b", "searchOrders").tokens == OPERATIONS["searchOrders"].burst
    assert throttle.state("acct-a", "getReport").tokens == OPERATIONS["getReport"].burst
    throttle.observe("acct-a", "getReport", "7.5")
    throttle.observe("acct-a", "getReport", "garbage")
    assert throttle.state("acct-a", "getReport").rate == 7.5
    assert Throttle.shared() is Throttle.shared()


def test_rate_header_values() -> None:
    assert parse_rate_header("0.0167") == 0.0167
    assert parse_rate_header(" 2.0 ") == 2.0
    assert parse_rate_header(None) is None and parse_rate_header("") is None
    assert all(parse_rate_header(value) is None for value in ("0", "-1", "x", "inf"))


@pytest.mark.integration
def test_a_run_at_the_real_time_scaled_limits_gets_under_1_percent_429s(start_sandbox) -> None:
    """Two accounts in parallel, several threads per operation, far beyond every burst.

    At time scale 300 the limits are 300x Amazon's documented ones (getReports 6.7/s burst 10,
    getMarketplaceParticipations 4.8/s burst 15, searchOrders 1.7/s burst 20, listTransactions 150/s
    burst 10); the client learns them from `x-amzn-RateLimit-Limit`.
    """
    sandbox = start_sandbox(time_scale=300.0)
    stats, throttle, tokens, audit = CallStats(), Throttle(), TokenStore(), MemoryAuditSink()
    clients = [make_client(sandbox, i, audit, stats=stats, throttle=throttle, tokens=tokens,
                           retry=RetryPolicy(8, 0.05, 1.0)) for i in range(2)]

    def run(client: SpApiClient, operation: str, calls: int) -> None:
        params = {
            "getMarketplaceParticipations": {},
            "getReports": {"reportTypes": [SETTLEMENT_REPORT], "pageSize": 1},
            "searchOrders": {"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": 5,
                             "marketplaceIds": client.account.marketplace_ids},
            "listTransactions": {"postedAfter": "2026-01-01T00:00:00Z"},
        }[operation]
        for _ in range(calls):
            client.call(operation, params=params)

    plan = [("getMarketplaceParticipations", 1, 42), ("getReports", 2, 24), ("searchOrders", 1, 29),
            ("listTransactions", 2, 100)]  # (operation, threads, calls per thread) per account
    with ThreadPoolExecutor(16) as pool:
        jobs = [pool.submit(run, client, op, n) for client in clients for op, threads, n in plan
                for _ in range(threads)]
        for job in jobs:
            job.result()

    total = stats.totals()
    throttled = sum(1 for e in audit.events() if e.kind == AuditKind.API_CALL and e.throttled)
    assert total.calls >= 2 * (42 + 48 + 29 + 200) and total.errors == 0
    assert throttled == total.throttled
    print(f"\n429 share at time scale 300: {total.throttled} of {total.calls} calls "
          f"= {total.throttle_share:.2%}")
    assert total.throttle_share < 0.01
    # The quota was really used: the throttled operations waited for their buckets.
    snapshot = stats.snapshot()
    assert all(snapshot[(c.account.name, "getReports")].waited_s > 1.0 for c in clients)
