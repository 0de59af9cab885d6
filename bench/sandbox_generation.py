"""Benchmark: time and peak memory to generate a big seller world (default 1 seller x 365 days x 300
orders/day), against a floor measured in the same run: a loop making the same number of random draws
into plain tuples, which is the least any pure-Python generator of this data must spend.

Each measurement runs in a fresh child process (peak RSS is per process); medians of --repeat runs.
Usage: python bench/sandbox_generation.py [--sellers 1 --days 365 --orders-per-day 300 --repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, random, resource, sys, time
mode, sellers, days, per_day = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
if mode == "generate":
    from spapi_sandbox.generate import build_world
    from spapi_sandbox.world import DataArguments
    world = build_world(DataArguments(seed=1, sellers=sellers, days=days, orders_per_day=per_day))
    facts = {"orders": sum(len(s.orders) for s in world.sellers),
             "postings": sum(len(s.postings) for s in world.sellers),
             "settlement_lines": sum(st.line_count for s in world.sellers for st in s.settlements)}
else:  # floor: the same number of orders, ~60 random draws each, kept as tuples
    rng = random.Random(1)
    kept = [tuple(rng.random() for _ in range(60)) for _ in range(sellers * days * per_day)]
    facts = {"orders": len(kept)}
elapsed = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, **facts}))
"""


def run(mode: str, args: argparse.Namespace) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(args.sellers), str(args.days),
                          str(args.orders_per_day)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sellers", type=int, default=1)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {mode: [run(mode, args) for _ in range(args.repeat)] for mode in ("generate", "floor")}
    gen, floor = results["generate"], results["floor"]
    g_s, f_s = statistics.median(r["seconds"] for r in gen), statistics.median(r["seconds"] for r in floor)
    g_mb, f_mb = statistics.median(r["peak_mb"] for r in gen), statistics.median(r["peak_mb"] for r in floor)
    print(f"world: {args.sellers} seller(s) x {args.days} days x {args.orders_per_day} orders/day -> "
          f"{gen[0]['orders']:,} orders, {gen[0]['postings']:,} postings, "
          f"{gen[0]['settlement_lines']:,} settlement lines")
    print(f"generate: median {g_s:.2f} s, peak RSS {g_mb:.0f} MB   (runs: "
          + ", ".join(f"{r['seconds']:.2f}" for r in gen) + ")")
    print(f"floor (random draws into tuples): median {f_s:.2f} s, peak RSS {f_mb:.0f} MB")
    print(f"ratio generate/floor: time {g_s / f_s:.2f}x, memory {g_mb / f_mb:.2f}x")


if __name__ == "__main__":
    main()
