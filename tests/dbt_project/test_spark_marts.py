"""The same dbt project on Spark (issue 16): the oracle's world ingested into a DuckDB file and into a lake folder at
once, the file built by dbt-duckdb and the lake by `SPAPI_DBT_TARGET=spark spapi-elt transform` (`dbt build
--target spark`: a local Spark, dbt-spark's session method on the pyspark wheel's jars). One Spark world for every
test here (the module fixture); its build runs dbt's data and unit tests on Spark too.

- The oracle on Spark: every test of test_oracle.py runs again on Spark's marts (imported below, with this module's
  `built_lakehouse`): every planted discrepancy found with its amount, nothing else reported.
- Equality: every mart (and every staging and intermediate relation) of the Spark build equals dbt-duckdb's row for
  row and decimal for decimal, the documents' load time aside (the two ingests load at different moments).
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from spapi_elt.cli import main as spapi_elt
from spapi_elt.dbt_runner import DBT_PROJECT, BuildResult, build
from spapi_elt.lake import as_lake
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.built_lakehouse import ORACLE_ARGUMENTS, ORACLE_FEE_SNAPSHOT_DAYS, TIME_SCALE, BuiltLakehouse
from tests.conftest import launch_sandbox
from tests.dbt_project.test_oracle import (  # noqa: F401  (collected here, on Spark's marts)
    test_amazons_expected_payouts_and_payouts_exist_only_where_transfers_is_served,
    test_amazons_summary_agrees_with_each_settlement_but_the_planted_one,
    test_amounts_equal_the_truth,
    test_consistent_settlements_reconcile,
    test_dbt_build_passes,
    test_drill_down_adds_up_to_each_settlement,
    test_every_planted_discrepancy_is_found,
    test_no_line_is_unmapped,
    test_nothing_else_is_reported,
    test_the_forecast_shows_amazons_expected_payout_and_the_difference,
    test_the_truth_plants_every_kind,
)
from tests.fee_snapshots import purchase_days
from tests.spapi_elt.ingest_helpers import run_ingest
from tests.spark_warehouse import export_spark_warehouse

pytestmark = pytest.mark.integration

MART_SCHEMAS = ("finance", "roi", "operations", "catalog")
# When dlt loaded a settlement's document: each ingest's own clock.
LOAD_TIME = "report_loaded_at"


def _ingest(base_url: str, arguments: DataArguments, target: str, resources: list[str] | None) -> None:
    """One ingest of the sandbox's world into `target`, in a process of its own (spawned by the fixture)."""
    from spapi_sandbox.generate import build_world

    sandbox = SimpleNamespace(base_url=base_url, arguments=arguments, world=build_world(arguments))
    result = run_ingest(sandbox, target, resources=resources)
    assert not result.failures, result.failures


def ingest_both(arguments: DataArguments, targets: list[str], resources: list[str] | None = None) -> Any:
    """Ingest one sandbox into every target at once: both read the same sandbox day (its clock runs 300x; a day
    is under five minutes), so the day-stamped fee estimate snapshots are the same on both sides."""
    sandbox = launch_sandbox(arguments, time_scale=TIME_SCALE)
    try:
        with multiprocessing.get_context("spawn").Pool(len(targets)) as pool:
            pool.starmap(_ingest, [(sandbox.base_url, arguments, target, resources) for target in targets])
        return sandbox.world
    finally:
        sandbox.close()


@pytest.fixture(scope="module")
def spark_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("spark")
    lakehouse, lake = workdir / "lakehouse.duckdb", f"file://{workdir}/lake"
    for days in ORACLE_FEE_SNAPSHOT_DAYS:  # the earlier fee estimate snapshots, as built_lakehouse takes them
        ingest_both(replace(ORACLE_ARGUMENTS, days=days), [str(lakehouse), lake], ["fee_estimates"])
    world = ingest_both(ORACLE_ARGUMENTS, [str(lakehouse), lake])
    facts = truth(world)
    as_of = datetime.fromtimestamp(facts["now"], UTC).date()
    duckdb_build = build(lakehouse, as_of)
    assert duckdb_build.ok, duckdb_build.failures()
    # Spark through the CLI, as a user runs it: SPAPI_DBT_TARGET=spark spapi-elt transform --lakehouse file://...
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        patch.setenv("SPAPI_DBT_TARGET", "spark")
        started = time.monotonic()
        code = spapi_elt(["transform", "--lakehouse", lake, "--as-of", as_of.isoformat()])
        seconds = time.monotonic() - started
    spark_build = BuildResult(code, output.getvalue())
    print(f"dbt build on Spark: {seconds:.0f} s ({spark_build.summary_line()})")
    exported = workdir / "spark.duckdb"
    export_spark_warehouse(as_lake(lake).local_root, exported)
    spark_built = BuiltLakehouse(exported, facts, as_of.isoformat(), spark_build.output, spark_build.returncode,
                                 purchase_days(world))
    return {"lakehouse": lakehouse, "lake": lake, "spark": spark_built, "build": spark_build,
            "duckdb_build": duckdb_build, "seconds": seconds}


@pytest.fixture(scope="module")
def built_lakehouse(spark_world: dict[str, Any]) -> BuiltLakehouse:
    """What test_oracle.py's tests read: here the Spark build's tables."""
    return spark_world["spark"]


def relations(path: Path, schemas: tuple[str, ...]) -> dict[str, list[str]]:
    """Every table's rows, sorted, each the repr of its values in column-name order (Spark puts a partitioned
    table's partition columns last), so 1.10 and 1.1 differ as types and scales must; the load time left out."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name, list(column_name order by column_name) from information_schema.columns "
            f"where table_schema in ({', '.join('?' for _ in schemas)}) group by all order by 1, 2", list(schemas)
        ).fetchall()
        return {f"{schema}.{table}": sorted(repr(row) for row in con.execute(
                    f'select {", ".join(chr(34) + c + chr(34) for c in columns if c != LOAD_TIME)} '
                    f'from "{schema}"."{table}"').fetchall())
                for schema, table, columns in tables}


def test_the_spark_build_runs_every_model_seed_data_test_and_unit_test(spark_world):
    spark_build = spark_world["build"]
    assert spark_build.ok, spark_build.failures()
    summary = spark_build.summary_line()
    assert "ERROR=0" in summary and "SKIP=0" in summary and "WARN=0" in summary, summary
    assert f"Spark's tables: {as_lake(spark_world['lake']).local_root}/spark-warehouse" in spark_build.output
    # The same nodes as on DuckDB: none left out on Spark.
    total = summary.split("TOTAL=")[-1].split()[0]
    assert int(total) > 300 and spark_world["duckdb_build"].summary_line().endswith(f"TOTAL={total}")


def test_spark_gives_the_same_marts_as_duckdb(spark_world):
    duckdb_marts = relations(spark_world["lakehouse"], MART_SCHEMAS)
    spark_marts = relations(spark_world["spark"].path, MART_SCHEMAS)
    assert len(duckdb_marts) == len(list((DBT_PROJECT / "models" / "marts").rglob("*.sql")))  # every mart
    assert duckdb_marts["finance.settlement_lines"] and duckdb_marts["finance.reconciliation_exceptions"]
    assert sorted(spark_marts) == sorted(duckdb_marts)
    differing = {table: (len(duckdb_marts[table]), len(spark_marts[table]))
                 for table in duckdb_marts if spark_marts[table] != duckdb_marts[table]}
    assert differing == {}


def test_spark_gives_the_same_staging_and_intermediate_relations(spark_world):
    duckdb_relations = relations(spark_world["lakehouse"], ("staging", "intermediate"))
    spark_relations = relations(spark_world["spark"].path, ("staging", "intermediate"))
    assert sorted(spark_relations) == sorted(duckdb_relations)
    differing = [name for name in duckdb_relations if spark_relations[name] != duckdb_relations[name]]
    assert differing == []
