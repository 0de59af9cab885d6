"""Benchmark: SP-API calls per 10,000 orders for a 90-day backfill of orders with their items.

Both sides run in the same process against the same sandbox (real HTTP, Amazon's rate limits on a
time-scaled clock), through the product's client, and count every HTTP call (retries included):
  product    the source's `orders` resource: the all-orders report per 30-day window
             (createReport, getReport polls, getReportDocument, download)
  per-order  what common connectors do: Orders v0 getOrders pages, then getOrderItems for every order
Target (issue 3): product <= 100 calls per 10,000 orders; per-order needs about 10,100.

Usage: python bench/order_api_calls.py [--orders-per-day 120 --days 90 --time-scale 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(DO_NOT_TRACK="1", RUNTIME__DLTHUB_TELEMETRY="false")

from dlt_sources.spapi.call_stats import CallStats  # noqa: E402
from dlt_sources.spapi.client import SpApiClient  # noqa: E402
from dlt_sources.spapi.config import parse_accounts  # noqa: E402
from dlt_sources.spapi.extraction import Extraction, Progress  # noqa: E402
from dlt_sources.spapi.pii import Protector  # noqa: E402
from dlt_sources.spapi.settings import OPERATIONS, Operation  # noqa: E402
from dlt_sources.spapi.throttle import Throttle  # noqa: E402
from spapi_elt import demo  # noqa: E402
from spapi_elt.ingest import ingest  # noqa: E402
from spapi_sandbox.world import DataArguments  # noqa: E402

V0_OPERATIONS = {
    **OPERATIONS,
    "getOrders": Operation("getOrders", "GET", "/orders/v0/orders", 0.0167, 20),
    "getOrderItems": Operation("getOrderItems", "GET", "/orders/v0/orders/{orderId}/orderItems", 0.5, 30),
}


def per_order_calls(account, start: datetime, end: datetime) -> tuple[int, int]:
    """(orders, calls) for the per-order approach: getOrders pages, then getOrderItems per order."""
    stats = CallStats()
    with SpApiClient(account, stats=stats, operations=V0_OPERATIONS, throttle=Throttle(V0_OPERATIONS)) as client:
        params = {"MarketplaceIds": list(account.marketplace_ids), "CreatedAfter": start, "CreatedBefore": end,
                  "MaxResultsPerPage": 100}
        orders = list(client.paginate("getOrders", params, token_path=("payload", "NextToken"),
                                      token_param="NextToken", items_path=("payload", "Orders")))
        for order in orders:
            for _ in client.paginate("getOrderItems", path_params={"orderId": order["AmazonOrderId"]},
                                     token_path=("payload", "NextToken"), token_param="NextToken",
                                     items_path=("payload", "OrderItems")):
                pass
    return len(orders), stats.totals().calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders-per-day", type=int, default=120)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--time-scale", type=float, default=1000.0)
    args = parser.parse_args()
    data = DataArguments(seed=3, sellers=1, start="2026-01-01", days=args.days, orders_per_day=args.orders_per_day)
    with demo.sandbox(data, time_scale=args.time_scale) as running, TemporaryDirectory() as tmp:
        os.environ.update(demo.demo_environment(running.truth))
        accounts = parse_accounts(tomllib.loads(demo.accounts_toml(running.base_url, running.truth)))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        end = start + timedelta(days=args.days)
        ctx = Extraction(accounts=accounts, protector=Protector.from_env(), start=start, end=end, buyer_days=0)
        ctx.progress = Progress(ctx.stats, out=None)
        result = ingest(ctx, Path(tmp) / "lakehouse.duckdb", ["orders"], purge=False)
        orders = result.rows["orders"]
        product_calls = result.calls
        baseline_orders, baseline_calls = per_order_calls(replace(accounts.accounts[0]), start, end)
    print(f"90-day backfill, 1 seller, {orders:,} orders ({result.rows['order_items']:,} items); "
          f"sandbox clock x{args.time_scale:g}")
    print(f"product (all-orders report):  {product_calls:>6,} calls = {product_calls / orders * 10_000:>8.1f} "
          f"per 10,000 orders")
    print(f"per-order (getOrders + getOrderItems): {baseline_calls:>6,} calls = "
          f"{baseline_calls / baseline_orders * 10_000:>8.1f} per 10,000 orders")
    print(f"ratio product/per-order: {product_calls / baseline_calls:.4f}   target: <= 100 per 10,000 orders")


if __name__ == "__main__":
    main()
