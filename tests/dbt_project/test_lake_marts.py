"""The raw layer as a Parquet lake (spapi_elt/lake.py, macros/raw_table.sql): one small world ingested into a DuckDB
file and into a lake folder (its two accounts in two processes at once), both built by dbt-duckdb, must give the
same marts row for row and decimal for decimal; a second ingest of the same window leaves the lake's marts as
they were."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from dlt_sources.spapi.tables import PRIMARY_KEYS
from spapi_elt.dbt_runner import DBT_PROJECT, build, default_as_of
from spapi_elt.lake import as_lake, lake_tables
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.built_lakehouse import TIME_SCALE
from tests.conftest import launch_sandbox
from tests.spapi_elt.ingest_helpers import run_ingest

# Small: two sellers (NA and EU), a month, few orders; enough for settlements, fees, refunds and payouts, and a
# settlement of each seller re-issued by Amazon (a second document of the same settlement, loaded as well).
LAKE_ARGUMENTS = DataArguments(seed=7, sellers=2, start="2026-01-01", days=30, orders_per_day=3)
MART_SCHEMAS = ("finance", "roi", "operations", "catalog")
MARTS = DBT_PROJECT / "models" / "marts"
# When dlt loaded a settlement's document: the clock of the run that loaded it, so it differs between any two loads.
LOAD_TIME = "report_loaded_at"


def marts(warehouse: Path) -> dict[str, list[str]]:
    """Every mart table's rows, sorted, each as its repr (so 1.10 and 1.1 differ, as types and scales must);
    the load time left out."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        timed = {r[0] for r in con.execute("select table_schema || '.' || table_name from information_schema.columns "
                                           "where column_name = ?", [LOAD_TIME]).fetchall()}
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
            f"and table_schema in ({', '.join('?' for _ in MART_SCHEMAS)}) order by 1, 2", list(MART_SCHEMAS)
        ).fetchall()
        rows = {}
        for schema, table in tables:
            columns = f"* exclude ({LOAD_TIME})" if f"{schema}.{table}" in timed else "*"
            rows[f"{schema}.{table}"] = sorted(
                repr(row) for row in con.execute(f'select {columns} from "{schema}"."{table}"').fetchall())
        return rows


def _ingest_account(base_url: str, arguments: DataArguments, lake: str, seller_id: str) -> dict[str, Any]:
    """One account's ingest into the lake, in a process of its own (spawned by the fixture)."""
    from spapi_sandbox.generate import build_world

    sandbox = SimpleNamespace(base_url=base_url, arguments=arguments, world=build_world(arguments))
    started = time.time()
    result = run_ingest(sandbox, lake, accounts=[seller_id])
    return {"seller_id": seller_id, "started": started, "finished": time.time(),
            "failures": [str(f) for f in result.failures]}


@pytest.fixture(scope="module")
def lake_and_file(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("lake")
    lakehouse = workdir / "file" / "lakehouse.duckdb"
    lake = f"file://{workdir}/lake"
    sandbox = launch_sandbox(LAKE_ARGUMENTS, time_scale=TIME_SCALE)
    try:
        run_ingest(sandbox, lakehouse)
        sellers = [seller.account.seller_id for seller in sandbox.world.sellers]
        with multiprocessing.get_context("spawn").Pool(len(sellers)) as pool:
            runs = pool.starmap(_ingest_account, [(sandbox.base_url, LAKE_ARGUMENTS, lake, s) for s in sellers])
        keys_loaded = lake_keys(lake)  # before the second ingest, whose day may be the sandbox's next one
        facts = truth(sandbox.world)
        as_of = datetime.fromtimestamp(facts["now"], UTC).date()
        assert default_as_of(lake) == as_of  # how far the lake's data reaches, from every account set's state
        file_build, lake_build = build(lakehouse, as_of), build(lake, as_of)
        assert file_build.ok, file_build.failures()
        assert lake_build.ok, lake_build.failures()
        warehouse = as_lake(lake).warehouse
        first = marts(warehouse)
        raw_before = raw_rows(lake, "settlement_lines")
        transactions_before = raw_rows(lake, "financial_transactions")
        run_ingest(sandbox, lake)  # the same window again, both accounts in one run
        rebuilt = build(lake, as_of)
        assert rebuilt.ok, rebuilt.failures()
    finally:
        sandbox.close()
    return {"lakehouse": lakehouse, "lake": lake, "sellers": sellers, "runs": runs, "file_marts": marts(lakehouse),
            "lake_marts": first, "lake_marts_again": marts(warehouse), "raw_lines_before": raw_before,
            "transactions_before": transactions_before, "keys_loaded": keys_loaded,
            "reissued": [(s["settlement_id"], s["lines"]) for s in facts["settlements"] if s["reissued"]]}


def lake_keys(lake: str) -> dict[str, int]:
    """Distinct primary keys per raw table the lake holds (tables no load wrote left out)."""
    files = as_lake(lake)
    written = set(lake_tables(files))
    with duckdb.connect() as con:
        return {table: con.execute(f"select count(distinct ({', '.join(key)})) from read_parquet(?, union_by_name = "
                                   "true)", [files.table_files(table)]).fetchone()[0]
                for table, key in PRIMARY_KEYS.items() if table in written}


def raw_rows(lake: str, table: str) -> int:
    with duckdb.connect() as con:
        return con.execute("select count(*) from read_parquet(?, union_by_name = true)",
                           [as_lake(lake).table_files(table)]).fetchone()[0]


def test_the_lake_gives_the_same_marts_as_the_file(lake_and_file):
    file_marts, lake_marts = lake_and_file["file_marts"], lake_and_file["lake_marts"]
    assert len(file_marts) == len(list(MARTS.rglob("*.sql")))  # every mart, built
    assert file_marts["finance.settlement_lines"] and file_marts["finance.reconciliation_exceptions"]
    assert sorted(lake_marts) == sorted(file_marts)
    differing = [table for table in file_marts if lake_marts[table] != file_marts[table]]
    assert differing == []


def test_two_accounts_load_into_the_lake_at_once_without_losing_or_doubling_a_row(lake_and_file):
    runs = lake_and_file["runs"]
    assert sorted(r["seller_id"] for r in runs) == sorted(lake_and_file["sellers"])
    assert all(r["failures"] == [] for r in runs)
    assert max(r["started"] for r in runs) < min(r["finished"] for r in runs)  # they did run at the same time
    # Each raw table holds, per primary key, what the file holds: nothing lost, nothing doubled. Settlement lines
    # are appended once per document, so even their raw row counts agree (before the second ingest).
    keys_loaded = lake_and_file["keys_loaded"]
    with duckdb.connect(str(lake_and_file["lakehouse"]), read_only=True) as file:
        for table in PRIMARY_KEYS:
            in_file = file.execute("select count(*) from information_schema.tables where table_schema = 'raw_spapi' "
                                   "and table_name = ?", [table]).fetchone()[0]
            expected = file.execute(f"select count(*) from raw_spapi.{table}").fetchone()[0] if in_file else None
            assert keys_loaded.get(table) == expected, table
        lines = file.execute("select count(*) from raw_spapi.settlement_lines").fetchone()[0]
    assert lines > 0 and lake_and_file["raw_lines_before"] == lines


def test_a_second_ingest_of_the_same_window_leaves_the_lake_marts_unchanged(lake_and_file):
    lake = lake_and_file["lake"]
    # The second run did load the window's rows again (the lake only appends), and recorded its re-read windows.
    assert raw_rows(lake, "financial_transactions") > lake_and_file["transactions_before"] > 0
    assert raw_rows(lake, "window_replacements") >= 2
    assert lake_and_file["lake_marts_again"] == lake_and_file["lake_marts"]


def test_a_reissued_settlement_has_only_its_new_document_in_the_lake_marts(lake_and_file):
    """Both documents of a re-issued settlement are recorded in the lake's append-only files (a changed one's lines
    loaded beside the old ones, an identical one recorded only: dlt_sources/spapi/settlements.py); the marts hold
    the lines of the newest document that carried lines, all of them, and no other."""
    reissued = lake_and_file["reissued"]
    assert len(reissued) == 2
    lake = as_lake(lake_and_file["lake"])
    documents_sql = ("select report_id, content from read_parquet(?, union_by_name = true) where settlement_id = ? "
                     "order by created_at desc, report_id desc")
    with duckdb.connect(str(lake.warehouse), read_only=True) as marts_db, duckdb.connect() as raw:
        for settlement_id, lines in reissued:
            documents = raw.execute(documents_sql, [lake.table_files("settlement_report_documents"),
                                                    settlement_id]).fetchall()
            assert len({report for report, _ in documents}) == 2, settlement_id
            newest_with_lines = next(report for report, content in documents if content in ("loaded", "changed"))
            in_marts = marts_db.execute("select min(report_id), count(distinct report_id), count(*) "
                                        "from finance.settlement_lines where settlement_id = ?",
                                        [settlement_id]).fetchone()
            assert in_marts == (newest_with_lines, 1, lines), settlement_id
