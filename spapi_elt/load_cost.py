"""What a load costs under Amazon's quotas: calls per operation and wall-clock time, per resource, for a first
load (90 days back, `extraction.DEFAULT_HISTORY_DAYS`) and for the daily run, from stated volumes.

Everything Amazon decides comes from the source itself, so this table cannot drift from what the client does:
rates and bursts, paging and maximum date windows (settings.OPERATIONS), report windows
(settings.REPORT_MAX_WINDOW_DAYS), each resource's lookback (its module), the client's pacing at 95% of the rate
(throttle.DEFAULT_SAFETY) and the report polling schedule (reports.ReportPolicy). What only the seller knows
(orders a day, listings, how long Amazon's report queue takes today) is a `Volume`.

The model, per account (accounts run side by side, each inside its own quota, `max_parallel_accounts` at once):
- an operation called N times with burst b at rate r waits ceil((N - b) / (0.95 r)) seconds beyond its burst
  (Amazon's buckets start full);
- a report waits in Amazon's queue `report_minutes`, and is seen DONE at the first poll after that;
- a resource's time is its throttle waits plus its report waits. Resources share the account's buckets (every
  report resource spends createReport, getReports and getReportDocument), so the run's time is given as a
  range: resources side by side (dlt interleaves them; at least the slowest resource, and at least the shared
  buckets' waits) to one after another (the sum).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from dlt_sources.spapi.extraction import DEFAULT_HISTORY_DAYS
from dlt_sources.spapi.finances import GROUP_LOOKBACK, TRANSACTION_LOOKBACK
from dlt_sources.spapi.orders import ORDER_LOOKBACK
from dlt_sources.spapi.payouts import SUMMARY_LOOKBACK
from dlt_sources.spapi.reports import ReportPolicy
from dlt_sources.spapi.settings import (
    ALL_ORDERS_REPORT,
    CATALOG_BATCH,
    OPERATIONS,
    REPORT_MAX_WINDOW_DAYS,
)
from dlt_sources.spapi.throttle import DEFAULT_SAFETY

# Items per page as the source asks for them: searchOrders maxResultsPerPage 100 and getReports pageSize 100 (the
# models' maxima), listFinancialEventGroups MaxResultsPerPage 100 (financesV0 model). Amazon documents no page
# size for listTransactions, getInventorySummaries or listSummary: 100, 50 and 10 are assumptions (the sandbox's).
PAGE_SIZE = {"searchOrders": 100, "getReports": 100, "listFinancialEventGroups": 100, "listTransactions": 100,
             "getInventorySummaries": 50, "searchCatalogItems": CATALOG_BATCH, "listSummary": 10}


@dataclass(frozen=True)
class Volume:
    """What the seller's business decides, per account, and how the run is set up."""

    accounts: int = 1
    parallel_accounts: int = 4  # [settings] max_parallel_accounts
    marketplaces: int = 2
    orders_per_day: int = 100  # per account, all its marketplaces
    transactions_per_order: float = 1.2  # Finances transactions per order (shipments, refunds, fees)
    listings: int = 500  # SKUs (and ASINs) per marketplace
    settlement_days: int = 14  # Amazon issues a settlement about every 14 days, per marketplace (upper bound)
    buyer_days: int = 7  # `ingest --buyer-days`
    report_minutes: float = 5.0  # Amazon's report queue: request to DONE (not published; it varies)
    days: int = DEFAULT_HISTORY_DAYS  # the first load's window

    def describe(self) -> str:
        return (f"{self.accounts} account(s), {self.parallel_accounts} at once; per account {self.marketplaces} "
                f"marketplaces, {self.orders_per_day} orders/day, {self.transactions_per_order:g} finance "
                f"transactions per order, {self.listings} listings per marketplace, a settlement every "
                f"{self.settlement_days} days per marketplace, buyer details for the last {self.buyer_days} days, "
                f"reports DONE {self.report_minutes:g} min after their request")


@dataclass
class ResourceCost:
    """One resource's calls per operation and its report waits, for one account."""

    resource: str
    calls: Counter[str] = field(default_factory=Counter)
    report_wait: float = 0.0  # seconds waiting for Amazon's report queue (the polling schedule's)

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())

    @property
    def seconds(self) -> float:
        return throttle_seconds(self.calls) + self.report_wait


def throttle_wait(operation: str, calls: int, safety: float = DEFAULT_SAFETY) -> int:
    """Seconds `calls` of `operation` wait for their bucket: none within the burst, then one token per
    1 / (safety x rate) seconds, rounded up to whole seconds."""
    op = OPERATIONS[operation]
    beyond = max(0, calls - op.burst)
    return math.ceil(beyond / (op.rate * safety)) if beyond else 0


def throttle_seconds(calls: Counter[str]) -> int:
    """Buckets are per operation and fill independently: each operation's wait, added up (they run in turn)."""
    return sum(throttle_wait(op, n) for op, n in calls.items())


def report_polls(processing_seconds: float, policy: ReportPolicy | None = None) -> tuple[int, float]:
    """(getReport calls, seconds waited) until a report that takes `processing_seconds` is seen DONE, following
    the client's schedule: first poll after poll_initial, each next delay x poll_factor, at most poll_max."""
    policy = policy or ReportPolicy()
    polls, waited, delay = 0, 0.0, policy.poll_initial
    while True:
        waited += delay
        polls += 1
        if waited >= processing_seconds:
            return polls, waited
        delay = min(policy.poll_max, delay * policy.poll_factor)


def _windows(days: float, max_days: int | None) -> int:
    return math.ceil(days / max_days) if max_days else 1


def _pages(items: float, operation: str) -> int:
    """An empty answer is still one call."""
    return max(1, math.ceil(items / PAGE_SIZE[operation]))


def _request_reports(cost: ResourceCost, reports: int, volume: Volume) -> None:
    """What request_report spends per report: a getReports lookup for an equivalent report, createReport, the
    getReport polls, getReportDocument."""
    polls, waited = report_polls(volume.report_minutes * 60)
    cost.calls.update({"getReports": reports, "createReport": reports, "getReport": polls * reports,
                       "getReportDocument": reports})
    cost.report_wait += waited * reports


def resource_costs(volume: Volume, daily: bool = False) -> list[ResourceCost]:
    """Per resource, for one account: a first load of `volume.days`, or a daily run (one new day plus each
    resource's lookback)."""

    def window(lookback: timedelta) -> float:
        return 1 + lookback / timedelta(days=1) if daily else volume.days

    new_days = 1 if daily else volume.days
    mps = volume.marketplaces
    costs = []

    participations = ResourceCost("marketplace_participations", Counter({"getMarketplaceParticipations": 1}))
    costs.append(participations)

    settlements = ResourceCost("settlements")
    documents = math.ceil(mps * new_days / volume.settlement_days)
    settlements.calls.update({"getReports": _pages(documents, "getReports"), "getReportDocument": documents})
    # Listed again from a day before the newest seen: those already seen are skipped, not downloaded again.
    costs.append(settlements)

    groups = ResourceCost("financial_event_groups")
    days = window(GROUP_LOOKBACK)
    per_window = mps * min(days, 180) / volume.settlement_days
    groups.calls["listFinancialEventGroups"] = _windows(days, OPERATIONS["listFinancialEventGroups"].max_window_days) \
        * _pages(per_window, "listFinancialEventGroups")
    costs.append(groups)

    transactions = ResourceCost("financial_transactions")
    days = window(TRANSACTION_LOOKBACK)
    count = _windows(days, OPERATIONS["listTransactions"].max_window_days)
    per_window = volume.orders_per_day * volume.transactions_per_order * days / count
    transactions.calls["listTransactions"] = count * _pages(per_window, "listTransactions")
    costs.append(transactions)

    orders = ResourceCost("orders")
    _request_reports(orders, _windows(window(ORDER_LOOKBACK), REPORT_MAX_WINDOW_DAYS.get(ALL_ORDERS_REPORT)), volume)
    costs.append(orders)

    buyers = ResourceCost("order_buyers")
    buyer_orders = volume.orders_per_day * min(volume.buyer_days, window(ORDER_LOOKBACK))
    buyers.calls.update({"createRestrictedDataToken": 1, "searchOrders": _pages(buyer_orders, "searchOrders")})
    costs.append(buyers)

    listings = ResourceCost("listings")  # one listings report per marketplace, then the catalog of its ASINs
    _request_reports(listings, mps, volume)
    listings.calls["searchCatalogItems"] = mps * _pages(volume.listings, "searchCatalogItems")
    costs.append(listings)

    inventory = ResourceCost("inventory", Counter(
        {"getInventorySummaries": mps * _pages(volume.listings, "getInventorySummaries")}))
    costs.append(inventory)

    # One report each: fee estimates are a snapshot; reimbursements and the ledger have no window cap.
    for name in ("fba_reimbursements", "fee_estimates", "inventory_ledger"):
        report = ResourceCost(name)
        _request_reports(report, 1, volume)
        costs.append(report)

    # One summary per settlement with a posting in the window, per marketplace (the open period's too), one window.
    summaries = ResourceCost("settlement_summaries")
    summaries.calls["listSummary"] = _pages(mps * (window(SUMMARY_LOOKBACK) / volume.settlement_days + 1),
                                            "listSummary")
    costs.append(summaries)
    return costs


@dataclass(frozen=True)
class RunCost:
    calls: int  # every account
    fastest: float  # seconds: resources side by side
    slowest: float  # seconds: resources one after another


def run_cost(costs: Iterable[ResourceCost], volume: Volume) -> RunCost:
    costs = list(costs)
    shared: Counter[str] = Counter()
    for cost in costs:
        shared.update(cost.calls)
    rounds = math.ceil(volume.accounts / volume.parallel_accounts)  # accounts never share a bucket
    fastest = max(max(c.seconds for c in costs), throttle_seconds(shared))
    slowest = sum(c.seconds for c in costs)
    return RunCost(sum(shared.values()) * volume.accounts, fastest * rounds, slowest * rounds)


def duration(seconds: float) -> str:
    """`0 s`, `45 s`, `6 min 18 s`, `1 h 05 min`: rounded up to the second, hours to the minute."""
    whole = math.ceil(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = math.ceil(whole / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def cost_table(volume: Volume) -> str:
    """The Markdown table the README shows (tests compare them): per resource and in total, calls for every
    account and the wall-clock time of the first load and of a daily run."""
    first, daily = resource_costs(volume), resource_costs(volume, daily=True)
    rounds = math.ceil(volume.accounts / volume.parallel_accounts)
    lines = [f"| resource | first {volume.days} days: calls | time | daily: calls | time "
             "| first load's calls per account |",
             "|---|---:|---:|---:|---:|---|"]
    for a, b in zip(first, daily, strict=True):
        ops = ", ".join(f"{op} {n}" for op, n in sorted(a.calls.items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(f"| {a.resource} | {a.call_count * volume.accounts:,} | {duration(a.seconds * rounds)} | "
                     f"{b.call_count * volume.accounts:,} | {duration(b.seconds * rounds)} | {ops} |")
    total, total_daily = run_cost(first, volume), run_cost(daily, volume)
    lines.append(f"| **whole run** | **{total.calls:,}** | **{duration(total.fastest)} to {duration(total.slowest)}**"
                 f" | **{total_daily.calls:,}** | **{duration(total_daily.fastest)} to "
                 f"{duration(total_daily.slowest)}** | calls and times for all {volume.accounts} account(s) |")
    return "\n".join(lines)
