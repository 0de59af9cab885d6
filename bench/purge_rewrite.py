"""Benchmark: what rewriting the DuckDB file after a purge costs, against the purge's UPDATE alone, in the same run.

Modes (each on a fresh copy of the same synthetic lakehouse; repeated, medians printed):
  update-only    the purge's UPDATE of the expired rows' PII columns, then CHECKPOINT: the purge before it
                 shredded every copy (the old ciphertext stays in the file's freed blocks)
  product        the same UPDATE and CHECKPOINT, then spapi_elt.rewrite.rewrite_database: the file rebuilt
                 from its live contents, replacing the old one atomically
  rewrite-only   rewrite_database alone (what the rewrite costs per MB of lakehouse)

The lakehouse: `--orders` orders and order_buyers rows spread over a year, with ciphertext in the PII columns an
ingest fills (a twelfth past retention: a purge after a month's pause), and `--lines` settlement lines without
PII. Figures: seconds, file size, MB/s of the rewrite, and the
product's ratio to update-only.

Measured (2 shared cores, 195 MB file): update-only 1.46 s, product 4.29 s (2.95x), the rewrite alone 2.66 s
(73 MB/s; it needs the file's size again in free disk space while it runs).

Usage: python bench/purge_rewrite.py [--orders 200000] [--lines 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spapi_elt.purge import PII_TABLES, purge_sql, retention_cutoff  # noqa: E402
from spapi_elt.rewrite import rewrite_database  # noqa: E402

TODAY = date(2026, 3, 3)  # cutoff 2026-02-01: January's orders, a twelfth of the year, are past retention
# The PII columns an ingest fills (the sandbox's, tests/spapi_elt/test_purge_every_copy.py); the policies' other
# columns (address lines 2 and 3, bill-to, tax registrations) are mostly empty in real data.
FILLED = {"orders": ("ship_city", "ship_postal_code"),
          "order_buyers": ("buyer__buyer_email", "buyer__buyer_name", "recipient__delivery_address__name",
                           "recipient__delivery_address__address_line1", "recipient__delivery_address__city",
                           "recipient__delivery_address__postal_code", "recipient__delivery_address__phone")}
# about 120 characters of base64, the size of an encrypted city or street
CIPHERTEXT_SQL = "'e1:k1:' || to_base64(unhex(md5(random()::varchar) || md5(random()::varchar) || md5(i::varchar) " \
                 "|| md5((i * 7)::varchar) || md5((i * 13)::varchar)))"


def build(path: Path, orders: int, lines: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_spapi")
        for pii in PII_TABLES[:2]:
            columns = ", ".join(f'{CIPHERTEXT_SQL} as "{c}"' for c in FILLED[pii.table])
            con.execute(f'create table raw_spapi."{pii.table}" as select i::varchar as order_id, '
                        f"timestamp '2026-01-01' + to_days((i * 365 // {orders})::int) as last_updated_at, "
                        f"{columns} from range({orders}) t(i)")
        con.execute("create table raw_spapi.settlement_lines as select i as line_number, "
                    "(i % 97)::varchar || '-1234567-7654321' as order_id, 'SKU-' || (i % 400)::varchar as sku, "
                    "['Order', 'Refund', 'ServiceFee'][1 + i % 3] as transaction_type, "
                    "(i % 10000 - 3000)::decimal(18, 2) / 100 as amount, 'EUR' as currency, "
                    "date '2026-01-01' + (i % 365)::int as posted_date from range(?) t(i)", [lines])
        con.execute("checkpoint")


def update(path: Path) -> int:
    cutoff = retention_cutoff(TODAY)
    shredded = 0
    with duckdb.connect(str(path)) as con:
        for pii in PII_TABLES[:2]:
            sql, params = purge_sql(pii.table, FILLED[pii.table], pii.date_sql, cutoff, TODAY, "raw_spapi")
            shredded += con.execute(sql, params).fetchone()[0]
        con.execute("checkpoint")
    return shredded


def run(mode: str, source: Path, work: Path) -> float:
    path = work / "lakehouse.duckdb"
    shutil.copyfile(source, path)
    start = time.perf_counter()
    if mode in ("update-only", "product"):
        assert update(path) > 0
    if mode in ("product", "rewrite-only"):
        rewrite_database(path)
    seconds = time.perf_counter() - start
    path.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "source" / "lakehouse.duckdb"
        source.parent.mkdir()
        build(source, args.orders, args.lines)
        megabytes = source.stat().st_size / 2**20
        print(f"lakehouse: {args.orders:,} orders and order_buyers rows with PII, {args.lines:,} settlement lines, "
              f"{megabytes:.1f} MB")
        medians = {}
        for mode in ("update-only", "product", "rewrite-only"):
            times = [run(mode, source, work) for _ in range(args.repeat)]
            medians[mode] = statistics.median(times)
            print(f"{mode:13s} median {medians[mode]:7.3f} s  ({', '.join(f'{t:.3f}' for t in times)})")
        print(f"rewrite: {megabytes / medians['rewrite-only']:.0f} MB/s; "
              f"product / update-only: {medians['product'] / medians['update-only']:.2f}x")


if __name__ == "__main__":
    main()
