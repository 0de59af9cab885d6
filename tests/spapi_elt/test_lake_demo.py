"""`spapi-elt demo --lakehouse file:///...` runs the whole demo on a lake: sandbox, ingest into Parquet (ending with the
PII purge), dbt-duckdb building the marts into the lake's warehouse file; a second demo starts from a clean lake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from spapi_elt import demo
from spapi_elt.lake import as_lake

ROOT = Path(__file__).resolve().parents[2]
SMALL = ("--seed", "16", "--sellers", "2", "--days", "30", "--orders-per-day", "3")


def run_demo(lake: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DO_NOT_TRACK": "1"}
    return subprocess.run([sys.executable, "-m", "spapi_elt.cli", "demo", *SMALL, "--lakehouse", lake], text=True,
                          capture_output=True, cwd=ROOT, env=environment, timeout=1200)


def test_the_demo_runs_on_a_lake(tmp_path):
    lake = f"file://{tmp_path}/lake"
    done = run_demo(lake)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    folder, warehouse = tmp_path / "lake", as_lake(lake).warehouse
    assert (folder / "accounts.toml").read_text(encoding="utf-8").startswith(demo.CONFIG_HEADER)
    assert list((folder / "raw_spapi" / "settlement_lines").glob("*.parquet"))
    assert f"Inspect: duckdb {warehouse}" in done.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines, exceptions = con.execute("select (select count(*) from finance.settlement_lines), "
                                        "(select count(*) from finance.reconciliation_exceptions)").fetchone()
        purged = con.execute("select count(*) from read_parquet(?) where buyer__buyer_name like 'purged:%'",
                             [as_lake(lake).table_files("order_buyers")]).fetchone()[0]
    assert lines > 0 and exceptions > 0
    assert purged > 0  # the world's orders are past the retention today: the ingest's purge shredded them


def test_a_second_demo_on_the_lake_starts_from_a_clean_lake(tmp_path):
    """clear_previous_run on a lake: only a folder an earlier demo wrote, and then its raw tables, state and marts."""
    lake = f"file://{tmp_path}/lake"
    folder = tmp_path / "lake"
    (folder / "raw_spapi" / "orders").mkdir(parents=True)
    (folder / "raw_spapi" / "orders" / "1.a.parquet").write_bytes(b"old")
    (folder / ".dlt").mkdir()
    as_lake(lake).warehouse.write_bytes(b"old")
    for spark_folder in ("spark-warehouse/finance.db", "spark-metastore/metastore_db"):  # a demo on Spark's
        (folder / spark_folder).mkdir(parents=True)
    assert not demo.clear_previous_run(lake)  # no accounts file the demo wrote: someone's data, left alone
    assert (folder / "raw_spapi").exists()
    demo.write_config(folder / "accounts.toml", "http://127.0.0.1:1", {"accounts": []})
    assert demo.clear_previous_run(lake)
    assert sorted(p.name for p in folder.iterdir()) == ["accounts.toml"]
