"""Benchmark: the reconciliation workbook's settlement-lines sheet for a big seller, against floors measured in
the same run on the same rows.

Modes (each in a fresh child process, so peak RSS is per mode; repeated, medians printed):
  product        spapi_elt.reports.workbook.write_workbook: typed cells, a currency format per amount,
                 frozen header, filter, column widths
  floor-openpyxl openpyxl's write-only mode appending the same values as plain cells (no formats): the
                 least any .xlsx written with this library costs
  floor-csv      csv.writer of the same values: the least any text export costs

The rows are synthetic settlement lines shaped like finance.settlement_lines (built in the child before the
clock starts, so every mode holds the same list). Figures: seconds, microseconds per line, peak RSS, and
the product's ratio to each floor.

Usage: python bench/report_workbook.py [--lines 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("product", "floor-openpyxl", "floor-csv")

CHILD = r"""
import csv, io, json, resource, sys, time
from datetime import date, timedelta
from decimal import Decimal
sys.path.insert(0, sys.argv[4])
from spapi_elt.reports.columns import LINES
from spapi_elt.reports.marts import ReportData
from spapi_elt.reports.workbook import write_workbook

mode, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
first = date(2026, 1, 1)
kinds = [("Order", "ItemPrice", "Principal", "sales"), ("Order", "ItemFees", "Commission", "referral_fee"),
         ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "fba_fee"), ("Refund", "ItemPrice", "Principal", "refunds")]
lines = []
for n in range(count):
    transaction, amount_type, description, category = kinds[n % 4]
    lines.append({"settlement_id": str(11000000000 + n // 50000), "line_number": n + 1,
                  "posted_date": first + timedelta(days=(n // 3000) % 365), "marketplace_id": "A1PA6795UKMFR9",
                  "marketplace_name": "Amazon.de",
                  "transaction_type": transaction, "amount_type": amount_type, "amount_description": description,
                  "category": category, "order_id": f"302-{n:07d}-{n % 9973:07d}", "adjustment_id": None,
                  "sku": f"SKU-{n % 400:04d}", "quantity": 1 + n % 3, "fulfillment_channel": "AFN",
                  "amount": Decimal(n % 10000 - 3000) / 100, "currency": "EUR"})
data = ReportData("A1SELLER", "bench", first, first + timedelta(days=365), [], [], lines, [], [], [], [], [], [])

t0 = time.perf_counter()
if mode == "product":
    with open(path, "wb") as file:
        write_workbook(data, file)
elif mode == "floor-openpyxl":
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Settlement lines")
    sheet.append([c.header for c in LINES])
    for row in lines:
        sheet.append([row[c.key] for c in LINES])
    book.save(path)
else:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([c.header for c in LINES])
        for row in lines:
            writer.writerow([row[c.key] for c in LINES])
seconds = time.perf_counter() - t0
import os
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bytes": os.path.getsize(path)}))
"""


def measure(mode: str, lines: int, work: Path) -> dict:
    out = work / f"{mode}.out"
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(lines), str(out), str(ROOT)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    ns = parser.parse_args()
    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="spapi-bench-report-") as work:
        for _ in range(ns.repeat):  # interleaved, so a noisy moment hits every mode alike
            for mode in MODES:
                results[mode].append(measure(mode, ns.lines, Path(work)))
    medians = {mode: {k: statistics.median(r[k] for r in runs) for k in ("seconds", "rss_mb", "bytes")}
               for mode, runs in results.items()}
    print(f"{ns.lines:,} settlement lines, {ns.repeat} runs each (medians)")
    for mode, m in medians.items():
        print(f"  {mode:<15} {m['seconds']:7.2f} s  {1e6 * m['seconds'] / ns.lines:6.1f} us/line  "
              f"peak RSS {m['rss_mb']:7.0f} MB  {m['bytes'] / 1e6:7.1f} MB file")
    product = medians["product"]["seconds"]
    for floor in MODES[1:]:
        print(f"  product / {floor}: {product / medians[floor]['seconds']:.2f}x time")


if __name__ == "__main__":
    main()
