"""Benchmark: how `dbt build` grows with the data on DuckDB (file), DuckDB (lake) and Spark (local), side by side.

The data: one small sandbox world is ingested once through the real source (HTTP sandbox -> dlt -> a DuckDB file),
then its raw tables are scaled with DuckDB SQL, not through the sandbox (far too slow at tens of millions of lines):
copy k of the world is another pair of seller accounts, every identifier of the copy (seller, settlement, report,
order, transaction, event group, payout, ... ids: the `*_id` columns but the marketplace, product, promotion and
browse-node ones, which name shared things) suffixed `-k`, so each copy is a disjoint world whose settlements add up
exactly as the original's do. Dates are not shifted: Amazon's fees change on effective dates and the FX seeds are
dated, so a shifted copy would be judged by other rules and the marts would no longer grow exactly with the copies.
catalog_items (Amazon's catalogue, keyed by marketplace and ASIN, not by seller) is copied once. The copies are
written twice from the same SQL: as a DuckDB file lakehouse (raw_spapi.<table>) and as a Parquet lake in dlt's
layout (`<lake>/raw_spapi/<table>/<load_id>.<file_id>.parquet`, one file per table per copy, as one load per
account set writes it: spapi_elt/lake.py), so every leg reads identical data.

The legs, each a full `dbt build` (seeds, every model, every data and unit test) through the product's runner
(spapi_elt/dbt_runner.py):
  duckdb-file   dbt-duckdb over the DuckDB file, marts into the same file (the default product)
  duckdb-lake   dbt-duckdb reading the lake's Parquet (SPAPI_RAW_LAKE), marts into <lake>/warehouse.duckdb
  spark         `dbt build --target spark` (dbt-spark, method session, local pyspark) reading the same lake,
                tables as Parquet under <lake>/spark-warehouse (the `.[spark]` extra)
Figures per size and leg: wall time, peak memory (RSS of the whole dbt process tree, a JVM included, sampled every
0.2 s; summed per process, so a shared page counts more than once: an upper bound), rows of the main marts; then how
each leg grows (ratio to the smallest size) and each leg's time against duckdb-file at the same size (the baseline of
the same run). Machines are noisy: read ratios, not seconds.

Measured (2 cores, 24 GiB, 2026-12-02; the README's "Running at scale" has the table): 10 / 100 / 250 copies =
0.16M / 1.6M / 4.0M settlement lines; duckdb-file 33 / 67 / 98 s; duckdb-lake 35 / 146 / 235 s (1.06x / 2.17x /
2.41x the file); spark 341 / 755 / 1,135 s (10.4x / 11.2x / 11.6x); 50 minutes in all. `--sizes 625` (10M lines):
file 195 s, lake 524 s (2.69x), spark 2,586 s (13.3x); 65 minutes.

Usage: python bench/scale.py [--sizes 10,100,250] [--legs duckdb-file,duckdb-lake,spark] [--workdir DIR]
       [--days 90 --orders-per-day 20]  (the base world: 2 sellers; sizes are copies of it)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlt_sources.spapi.config import parse_accounts  # noqa: E402
from dlt_sources.spapi.extraction import Extraction, Progress  # noqa: E402
from dlt_sources.spapi.pii import Protector  # noqa: E402
from spapi_elt import demo  # noqa: E402
from spapi_elt.dbt_runner import DBT_PROJECT, build  # noqa: E402
from spapi_elt.ingest import ingest  # noqa: E402
from spapi_elt.lake import DATASET, as_lake  # noqa: E402
from spapi_sandbox.world import DataArguments  # noqa: E402

LEGS = ("duckdb-file", "duckdb-lake", "spark")
SPARK_DRIVER_MEMORY = "8g"  # the Spark leg's driver (its one JVM), unless SPAPI_SPARK_DRIVER_MEMORY says otherwise
SPARK_MISSING = "spark: not installed (pip install -e '.[spark]')"
# The tables staging reads (its sources): the only raw tables a build touches.
SOURCES = tuple(t["name"] for t in yaml.safe_load(
    (DBT_PROJECT / "models" / "staging" / "spapi" / "_spapi__sources.yml").read_text())["sources"][0]["tables"])
# `*_id` columns that name something shared by every account (a marketplace, a catalogue product, a promotion,
# the fulfilment channel AFN/MFN), not something of the account's own: kept as they are in every copy.
SHARED_IDS = ("marketplace_id", "browse_node_id", "product_id", "promotion_id", "fulfillment_id", "_dlt_load_id")
# The marts whose rows are counted (schema.table, as generate_schema_name names them).
MARTS = ("finance.settlement_lines", "finance.settlements", "finance.reconciliation_exceptions",
         "finance.settlement_journals", "finance.payouts", "roi.sku_profitability_monthly",
         "operations.order_fulfillment")
SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Scaled:
    """One size of scaled raw data, written both ways."""

    copies: int
    file: Path  # the DuckDB file lakehouse
    lake: str  # the Parquet lake's URL (file://)
    settlement_lines: int


@dataclass
class LegRun:
    leg: str
    seconds: float = 0.0
    peak_mb: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # why the leg did not run or did not pass


# --- the base world ----------------------------------------------------------------------------------------------

def ingest_base(data: DataArguments, lakehouse: Path) -> date:
    """The world's whole window ingested through the real source into a DuckDB file; returns its last day (the
    builds' as_of, as the tests take it from the sandbox's clock)."""
    with demo.sandbox(data, time_scale=300.0) as running:
        os.environ.update(demo.demo_environment(running.truth))
        accounts = parse_accounts(tomllib.loads(demo.accounts_toml(running.base_url, running.truth)))
        end = datetime.fromtimestamp(running.truth["now"], UTC)
        ctx = Extraction(accounts=accounts, protector=Protector.from_env(),
                         start=datetime.fromisoformat(data.start).replace(tzinfo=UTC), end=end, buyer_days=data.days)
        ctx.progress = Progress(ctx.stats, out=None)
        result = ingest(ctx, lakehouse, purge=False)
        if result.failures:
            raise SystemExit(f"base ingest failed: {result.failures}")
    return end.date()


# --- scaling -----------------------------------------------------------------------------------------------------

def scaled_sql(con: duckdb.DuckDBPyConnection, table: str, copies: int) -> str | None:
    """A query of `copies` disjoint copies of base.raw_spapi.<table> with a `copy` column; None when the base has
    no such table. Copy 0 is the base itself; copy k's own identifiers end in `-k` (empty and null ones stay)."""
    columns = con.execute("select column_name, data_type from information_schema.columns where table_catalog = "
                          "'base' and table_schema = ? and table_name = ? order by ordinal_position",
                          [DATASET, table]).fetchall()
    if not columns:
        return None
    names = [name for name, _ in columns]
    per_account = "seller_id" in names
    selected = []
    for name, data_type in columns:
        quoted = f'"{name}"'
        if per_account and data_type == "VARCHAR" and _is_own_id(name):
            selected.append(f"case when copy = 0 or {quoted} is null or {quoted} = '' then {quoted} "
                            f"else {quoted} || '-' || copy end as {quoted}")
        else:
            selected.append(quoted)
    return (f"select {', '.join(selected)}, copy from base.{DATASET}.\"{table}\", "
            f"range({copies if per_account else 1}) as copies(copy)")


def _is_own_id(column: str) -> bool:
    return (column.endswith("_id") and not column.endswith(SHARED_IDS)) or column == "order_item_code"


def write_scaled(base: Path, copies: int, out: Path) -> Scaled:
    """`copies` copies of the base's source tables, as a DuckDB file and as a Parquet lake under `out`."""
    file, lake_root = out / "file" / "lakehouse.duckdb", out / "lake"
    file.parent.mkdir(parents=True)
    with duckdb.connect(str(file)) as con:
        con.execute(f"attach '{base}' as base (read_only)")
        con.execute(f"create schema {DATASET}")
        for table in SOURCES:
            sql = scaled_sql(con, table, copies)
            if sql is None:
                continue
            con.execute(f'create table {DATASET}."{table}" as select * exclude (copy) from ({sql})')
            _write_lake_table(con, sql, table, lake_root / DATASET / table)
        lines = con.execute(f"select count(*) from {DATASET}.settlement_lines").fetchone()[0]
        con.execute("detach base")
    return Scaled(copies, file, f"file://{lake_root}", lines)


def _write_lake_table(con: duckdb.DuckDBPyConnection, sql: str, table: str, folder: Path) -> None:
    """One Parquet file per copy (one load per account set), named as dlt's layout names them:
    `<load_id>.<file_id>.parquet` with the copy's newest load id and the copy number as the file id."""
    staging = folder.parent / f".{table}.partitions"
    folder.mkdir(parents=True)
    con.execute(f"copy ({sql}) to '{staging}' (format parquet, partition_by (copy))")
    load_id = con.execute(f'select max(_dlt_load_id) from base.{DATASET}."{table}"').fetchone()[0]
    for partition in staging.iterdir():  # copy=<k>/data_0.parquet
        for number, data in enumerate(sorted(partition.glob("*.parquet"))):
            copy = partition.name.split("=", 1)[1]
            data.rename(folder / f"{load_id}.{copy}{f'_{number}' if number else ''}.parquet")
    shutil.rmtree(staging)


def settlement_differences(con: duckdb.DuckDBPyConnection, schema: str) -> list[tuple[str, int]]:
    """(lines minus reported total, settlements) of every settlement summary in `schema`'s raw tables: a copy
    that adds up as the base does has each difference `copies` times as often."""
    return con.execute(f"""
        select cast(coalesce(lines.amount, 0) - reports.total_amount as varchar) as difference, count(*)
        from {schema}.settlement_reports as reports
        left join (select seller_id, settlement_id, report_id, sum(amount) as amount
                   from {schema}.settlement_lines group by all) as lines
            using (seller_id, settlement_id, report_id)
        group by all order by 1""").fetchall()


# --- the legs ----------------------------------------------------------------------------------------------------

def spark_missing() -> str | None:
    """Why the Spark leg cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return SPARK_MISSING
    outputs = yaml.safe_load((DBT_PROJECT / "profiles.yml").read_text())["spapi_lakehouse"]["outputs"]
    if "spark" not in outputs:
        return "spark: no `spark` target in dbt_project/profiles.yml yet"
    return None


class PeakMemory:
    """The peak RSS of this process's descendants together (dbt, and Spark's JVM under it), sampled from /proc."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, descendants_rss(os.getpid()))


def descendants_rss(root: int) -> int:
    """Bytes resident in every descendant of `root` (processes read from /proc; one that ends meanwhile is 0)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family, found = {root}, True
    while found:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        found = bool(children)
    resident = 0
    for pid in family - {root}:
        with contextlib.suppress(OSError):  # ended meanwhile
            resident += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return resident


def run_leg(leg: str, scaled: Scaled, as_of: date) -> LegRun:
    """One `dbt build` of `scaled` on `leg`: time, peak memory, rows of the marts."""
    run = LegRun(leg)
    if leg == "spark" and (missing := spark_missing()):
        run.error = missing
        return run
    target, extra = (scaled.file, ()) if leg == "duckdb-file" else (scaled.lake, ())
    if leg == "spark":
        extra = ("--target", "spark")
        os.environ["SPAPI_DBT_TARGET"] = "spark"
        # DuckDB may take 80% of the RAM; the profile's 2 GiB driver would make Spark spill from the first size on.
        os.environ.setdefault("SPAPI_SPARK_DRIVER_MEMORY", SPARK_DRIVER_MEMORY)
    try:
        started = time.perf_counter()
        with PeakMemory() as memory:
            result = build(target, as_of, "build", *extra)
        run.seconds, run.peak_mb = time.perf_counter() - started, memory.peak / 2**20
    finally:
        os.environ.pop("SPAPI_DBT_TARGET", None)
    if not result.ok:
        run.error = f"{leg}: dbt build failed: {result.summary_line()}"
        print(result.failures(), file=sys.stderr)
    run.rows = mart_rows(leg, scaled)
    return run


def mart_rows(leg: str, scaled: Scaled) -> dict[str, int]:
    """Rows of each main mart the leg built (Spark's as the Parquet files of its tables under spark-warehouse)."""
    rows = {}
    if leg == "spark":
        warehouse = as_lake(scaled.lake).local_root / "spark-warehouse"
        with duckdb.connect() as con:
            for mart in MARTS:
                files = sorted(warehouse.glob(f"*/{mart.split('.')[1]}/**/*.parquet"))
                if files:
                    rows[mart] = con.execute("select count(*) from read_parquet(?)",
                                             [[str(f) for f in files]]).fetchone()[0]
        return rows
    path = scaled.file if leg == "duckdb-file" else as_lake(scaled.lake).warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        for mart in MARTS:
            schema, table = mart.split(".")
            if con.execute("select count(*) from information_schema.tables where table_schema = ? and "
                           "table_name = ?", [schema, table]).fetchone()[0]:
                rows[mart] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    return rows


# --- the report --------------------------------------------------------------------------------------------------

def report(results: dict[int, dict[str, LegRun]], lines: dict[int, int], legs: list[str]) -> str:
    """The side-by-side table: per size, each leg's time, memory and growth, and its time against duckdb-file."""
    sizes = sorted(results)
    smallest = sizes[0]
    out = [f"{'copies':>7} {'lines':>12} | " + " | ".join(f"{leg:^37}" for leg in legs),
           f"{'':>7} {'':>12} | " + " | ".join(f"{'s':>7} {'x size1':>7} {'MB':>6} {'x size1':>7} {'/file':>5}"
                                                for _ in legs)]
    for size in sizes:
        cells = []
        for leg in legs:
            run, first, base = results[size][leg], results[smallest][leg], results[size].get("duckdb-file")
            if run.error and not run.seconds:
                cells.append(f"{'n/a':>37}")
                continue
            vs_file = f"{run.seconds / base.seconds:5.2f}" if base and base.seconds else f"{'':>5}"
            cells.append(f"{run.seconds:7.1f} {run.seconds / first.seconds:7.2f} {run.peak_mb:6.0f} "
                         f"{run.peak_mb / first.peak_mb:7.2f} {vs_file}")
        out.append(f"{size:>7} {lines[size]:>12,} | " + " | ".join(cells))
    out.append("")
    out.append("rows of the main marts (per leg where they differ):")
    for mart in MARTS:
        counts = []
        for size in sizes:
            seen = {results[size][leg].rows.get(mart) for leg in legs if results[size][leg].rows}
            counts.append("/".join(f"{c:,}" for c in sorted(c for c in seen if c is not None)) or "-")
        out.append(f"  {mart:<36} " + "  ".join(f"{c:>14}" for c in counts))
    errors = sorted({run.error for size in sizes for run in results[size].values() if run.error})
    return "\n".join(out + [""] + errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,250", help="copies of the base world, comma-separated")
    parser.add_argument("--legs", default=",".join(LEGS))
    parser.add_argument("--days", type=int, default=90, help="the base world's days")
    parser.add_argument("--orders-per-day", type=int, default=20, help="the base world's orders per seller and day")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: a temporary folder)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    legs = [leg for leg in args.legs.split(",") if leg]
    unknown = set(legs) - set(LEGS)
    if unknown or not sizes or min(sizes) < 1:
        parser.error(f"legs are {', '.join(LEGS)}; sizes are positive copies")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        data = DataArguments(seed=7, sellers=2, start="2026-01-01", days=args.days,
                             orders_per_day=args.orders_per_day)
        started = time.perf_counter()
        as_of = ingest_base(data, work / "base.duckdb")
        print(f"base world: 2 sellers x {args.days} days x {args.orders_per_day} orders/day, ingested through the "
              f"sandbox in {time.perf_counter() - started:.0f} s; as_of {as_of}", flush=True)
        results: dict[int, dict[str, LegRun]] = {}
        lines: dict[int, int] = {}
        for copies in sizes:
            started = time.perf_counter()
            scaled = write_scaled(work / "base.duckdb", copies, work / f"x{copies}")
            lines[copies] = scaled.settlement_lines
            print(f"{copies} copies: {scaled.settlement_lines:,} settlement lines, written as a file and a lake in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            results[copies] = {}
            for leg in legs:
                run = results[copies][leg] = run_leg(leg, scaled, as_of)
                status = run.error or f"{run.seconds:.1f} s, peak {run.peak_mb:.0f} MB"
                print(f"  {leg:<12} {status}", flush=True)
            shutil.rmtree(work / f"x{copies}")
        print()
        print(report(results, lines, legs))


if __name__ == "__main__":
    main()
