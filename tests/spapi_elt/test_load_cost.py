"""The load-cost arithmetic on cases computed by hand from Amazon's documented rates and bursts."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from dlt_sources.spapi.reports import ReportPolicy
from spapi_elt.load_cost import (
    ResourceCost,
    Volume,
    duration,
    report_polls,
    resource_costs,
    run_cost,
    throttle_seconds,
    throttle_wait,
)

ROOT = Path(__file__).resolve().parents[2]


def test_calls_within_the_burst_do_not_wait_and_the_rest_wait_one_paced_token_each() -> None:
    # getReportDocument: 0.0167 rps, burst 15, paced at 95%: 21 calls are 6 beyond the burst,
    # 6 / (0.0167 x 0.95) = 378.19 s -> 379 s.
    assert throttle_wait("getReportDocument", 15) == 0
    assert throttle_wait("getReportDocument", 21) == 379
    # searchCatalogItems: 2 rps, burst 2: 50 calls -> 48 / 1.9 = 25.26 -> 26 s.
    assert throttle_wait("searchCatalogItems", 50) == 26
    # searchOrders: 0.0056 rps, burst 20: 21 calls -> 1 / 0.00532 = 187.97 -> 188 s (one every three minutes).
    assert throttle_wait("searchOrders", 21) == 188
    assert throttle_wait("searchOrders", 21, safety=1.0) == 179  # 1 / 0.0056 = 178.57
    # Operations have buckets of their own: the waits add up, they do not pool.
    assert throttle_seconds(Counter({"getReportDocument": 21, "searchCatalogItems": 50})) == 379 + 26


def test_a_report_is_seen_done_at_the_first_poll_after_it_finishes() -> None:
    # The schedule: 15, 22.5, 33.75, 50.625, 75.9375, 113.90625, then 120 s (poll_max):
    # cumulative 15, 37.5, 71.25, 121.875, 197.8125, 311.71875, 431.71875.
    assert report_polls(300) == (6, 311.71875)
    assert report_polls(10) == (1, 15.0)
    assert report_polls(15) == (1, 15.0)
    assert report_polls(400) == (7, 431.71875)
    assert report_polls(60, ReportPolicy(poll_initial=60)) == (1, 60.0)


def test_a_first_load_of_90_days_per_resource() -> None:
    costs = {c.resource: c for c in resource_costs(Volume(report_minutes=5))}
    # The all-orders report takes at most 30 days: three windows, each a getReports lookup, createReport,
    # six polls (5 minutes) and getReportDocument.
    assert costs["orders"].calls == Counter({"getReports": 3, "createReport": 3, "getReport": 18,
                                             "getReportDocument": 3})
    assert costs["orders"].report_wait == 3 * 311.71875
    # A settlement every 14 days in each of 2 marketplaces over 90 days: ceil(12.86) = 13 documents, one listing page.
    assert costs["settlements"].calls == Counter({"getReports": 1, "getReportDocument": 13})
    # 100 orders x 1.2 transactions x 90 days = 10,800 transactions, 100 a page, one 180-day window.
    assert costs["financial_transactions"].calls == Counter({"listTransactions": 108})
    assert costs["financial_transactions"].seconds == 207  # (108 - 10) / (0.5 x 0.95) = 206.3
    # Buyer details for the last 7 days only: 700 orders, 7 pages, within searchOrders' burst of 20.
    assert costs["order_buyers"].calls == Counter({"createRestrictedDataToken": 1, "searchOrders": 7})
    # 500 listings in each of 2 marketplaces: 25 catalog calls of 20 ASINs each, 10 inventory pages of 50 each.
    assert costs["listings"].calls["searchCatalogItems"] == 50
    assert costs["inventory"].calls == Counter({"getInventorySummaries": 20})


def test_a_daily_run_reads_one_day_plus_each_resources_lookback() -> None:
    costs = {c.resource: c for c in resource_costs(Volume(), daily=True)}
    # 1 day + 14 days' lookback of transactions: 100 x 1.2 x 15 = 1,800 -> 18 pages.
    assert costs["financial_transactions"].calls["listTransactions"] == 18
    # 1 day + 3 days' lookback of orders: one report window; buyer details for those 4 days: 400 orders, 4 pages.
    assert costs["orders"].calls["createReport"] == 1
    assert costs["order_buyers"].calls["searchOrders"] == 4
    # At most one new settlement a day per run.
    assert costs["settlements"].calls == Counter({"getReports": 1, "getReportDocument": 1})


def test_accounts_run_in_rounds_of_max_parallel_accounts_with_buckets_of_their_own() -> None:
    costs = [ResourceCost("a", Counter({"getReportDocument": 10}), report_wait=100.0),
             ResourceCost("b", Counter({"getReportDocument": 11}), report_wait=50.0)]
    one = run_cost(costs, Volume(accounts=1))
    # Side by side the shared bucket serves 21 calls: 379 s, more than either resource alone (100 s).
    assert (one.calls, one.fastest, one.slowest) == (21, 379, 150.0)
    five = run_cost(costs, Volume(accounts=5, parallel_accounts=2))  # three rounds
    assert (five.calls, five.fastest, five.slowest) == (105, 3 * 379, 3 * 150.0)


def test_durations_read_as_a_person_says_them() -> None:
    assert [duration(s) for s in (0, 44.2, 60, 378.2, 3600, 3661, 7199)] == [
        "0 s", "45 s", "1 min 00 s", "6 min 19 s", "1 h 00 min", "1 h 02 min", "2 h 00 min"]


def test_the_command_prints_the_table_for_the_stated_volume() -> None:
    done = subprocess.run([sys.executable, "-m", "spapi_elt.cli", "load-cost", "--accounts", "3",
                           "--orders-per-day", "1000"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line.split("|") for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| resource")}
    # 1000 orders x 1.2 x 90 days = 108,000 transactions: 1,080 pages per account, 3 accounts.
    assert rows["financial_transactions"][2].strip() == "3,240"
    assert "3 account(s)" in done.stdout and "1000 orders/day" in done.stdout
