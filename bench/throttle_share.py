"""Benchmark: share of SP-API calls throttled (429) in a full ingest at the sandbox's real, time-scaled
limits, against a baseline in the same run: the same ingest with pacing switched off (every call sent at
once, 429s retried with backoff), which is what a client without a throttle does.

Target (issue 3): under 1% of calls throttled.
Usage: python bench/throttle_share.py [--sellers 2 --days 60 --orders-per-day 100 --time-scale 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(DO_NOT_TRACK="1", RUNTIME__DLTHUB_TELEMETRY="false")

from dlt_sources.spapi.client import SpApiClient  # noqa: E402
from dlt_sources.spapi.config import parse_accounts  # noqa: E402
from dlt_sources.spapi.extraction import Extraction, Progress  # noqa: E402
from dlt_sources.spapi.pii import Protector  # noqa: E402
from dlt_sources.spapi.throttle import Throttle  # noqa: E402
from spapi_elt import demo  # noqa: E402
from spapi_elt.ingest import ingest  # noqa: E402
from spapi_sandbox.world import DataArguments  # noqa: E402


class NoPacing(Throttle):
    """A throttle that never waits: every call goes out at once, as from a client without one. (It still
    reads the rate header, so report polling follows the sandbox's clock as in the product.)"""

    def acquire(self, scope: str, operation: str) -> float:
        return 0.0


def run(data: DataArguments, time_scale: float, paced: bool, buyer_days: int) -> tuple[int, int, float]:
    """(calls, throttled, seconds) of a full ingest of the data window against a fresh sandbox."""
    with demo.sandbox(data, time_scale=time_scale) as running, TemporaryDirectory() as tmp:
        os.environ.update(demo.demo_environment(running.truth))
        accounts = parse_accounts(tomllib.loads(demo.accounts_toml(running.base_url, running.truth)))
        start = datetime.fromisoformat(data.start).replace(tzinfo=UTC)
        throttle = Throttle() if paced else NoPacing()
        ctx = Extraction(accounts=accounts, protector=Protector.from_env(), start=start,
                         end=start + timedelta(days=data.days), buyer_days=buyer_days,
                         client_factory=lambda a, audit, stats: SpApiClient(a, audit=audit, stats=stats,
                                                                            throttle=throttle))
        ctx.progress = Progress(ctx.stats, out=None)
        began = time.perf_counter()
        result = ingest(ctx, Path(tmp) / "lakehouse.duckdb", purge=False)
        if result.failures:
            raise SystemExit(f"ingest failed: {result.failures}")
        return result.calls, result.throttled, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sellers", type=int, default=2)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--orders-per-day", type=int, default=100)
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument("--buyer-days", type=int, default=2, help="as a daily run would (searchOrders is slow)")
    args = parser.parse_args()
    data = DataArguments(seed=9, sellers=args.sellers, days=args.days, orders_per_day=args.orders_per_day)
    print(f"full ingest: {args.sellers} sellers x {args.days} days x {args.orders_per_day} orders/day; "
          f"sandbox clock x{args.time_scale:g} (Amazon's limits, scaled)")
    for label, paced in (("product (paced)", True), ("no pacing (baseline)", False)):
        calls, throttled, seconds = run(data, args.time_scale, paced, args.buyer_days)
        print(f"{label:<22} {calls:>5} calls, {throttled:>4} throttled = {throttled / calls:6.2%}  ({seconds:.0f} s)")
    print("target: under 1% throttled")


if __name__ == "__main__":
    main()
