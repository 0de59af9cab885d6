"""Dagster on a lake (SPAPI_LAKEHOUSE=file:///...): the raw assets take no single-writer pool, so two account
partitions materialise at the same time (two processes, as two runs of a real instance would); both complete, and
the lake then holds per raw table exactly the keys one sequential run of both accounts loads into a DuckDB file.
The dbt assets, built by Dagster over the lake (SPAPI_RAW_LAKE, the warehouse file), give the marts `spapi-elt
transform` builds from it (tests/dbt_project/test_lake_marts.py finds those equal to a file's; here the file's
run comes minutes of the sandbox's 300x clock later, so its fee estimate snapshots fall on other days)."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from dlt_sources.spapi.config import load_accounts
from dlt_sources.spapi.tables import PRIMARY_KEYS
from spapi_elt import demo
from spapi_elt.dbt_runner import build
from spapi_elt.lake import as_lake
from spapi_sandbox.truth import truth
from tests.built_lakehouse import TIME_SCALE
from tests.conftest import launch_sandbox
from tests.dbt_project.test_lake_marts import LAKE_ARGUMENTS, marts

pytestmark = pytest.mark.integration


def _environment(facts: dict, accounts: Path, lakehouse: str, dagster_home: str) -> dict[str, str]:
    return {**demo.demo_environment(facts), "SPAPI_ACCOUNTS": str(accounts), "SPAPI_LAKEHOUSE": lakehouse,
            "DAGSTER_HOME": dagster_home, "DO_NOT_TRACK": "1", "DAGSTER_DISABLE_TELEMETRY": "1"}


def _window(facts: dict) -> tuple[str, str]:
    now = datetime.fromtimestamp(facts["now"], UTC)
    return LAKE_ARGUMENTS.start, (now - timedelta(days=1)).date().isoformat()


def _materialise_account(environment: dict[str, str], account: str, first_day: str, last_day: str) -> dict[str, Any]:
    """One account's raw partitions over the window, as a run of its own, in a process of its own (spawned)."""
    os.environ.update(environment)
    from orchestration.definitions import defs
    from orchestration.defs.ingest.partitions import partition_range_tags

    pool = defs.resolve_assets_def(dg.AssetKey(["raw_spapi", "orders"])).op.pool
    with dg.DagsterInstance.get() as instance:
        started = time.time()
        result = defs.resolve_job_def("ingest_spapi").execute_in_process(
            instance=instance, raise_on_error=False, tags=partition_range_tags([account], first_day, last_day))
        return {"account": account, "success": result.success, "started": started, "finished": time.time(),
                "pool": pool}


@pytest.fixture(scope="module")
def lake_run(tmp_path_factory: pytest.TempPathFactory, dagster_home: Path) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("dagster-lake")
    accounts_file, lakehouse, lake = workdir / "accounts.toml", workdir / "file" / "lakehouse.duckdb", \
        f"file://{workdir}/lake"
    sandbox = launch_sandbox(LAKE_ARGUMENTS, time_scale=TIME_SCALE)
    patch = pytest.MonkeyPatch()
    try:
        facts = truth(sandbox.world)
        demo.write_config(accounts_file, sandbox.base_url, facts)
        names = [a.name for a in load_accounts(accounts_file).accounts]
        first_day, last_day = _window(facts)
        patch.setenv("DAGSTER_HOME", str(dagster_home))  # module fixtures run before the autouse environment
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions("seller_accounts", names)
        lake_env = _environment(facts, accounts_file, lake, str(dagster_home))
        with multiprocessing.get_context("spawn").Pool(len(names)) as pool:
            runs = pool.starmap(_materialise_account, [(lake_env, name, first_day, last_day) for name in names])
        # The reference: one sequential run of both accounts into a DuckDB file.
        for name, value in _environment(facts, accounts_file, str(lakehouse), str(dagster_home)).items():
            patch.setenv(name, value)
        from orchestration.definitions import defs
        from orchestration.defs.ingest.partitions import partition_range_tags

        as_of = datetime.fromtimestamp(facts["now"], UTC).date().isoformat()
        with dg.DagsterInstance.get() as instance:
            file_run = defs.resolve_job_def("ingest_spapi").execute_in_process(
                instance=instance, raise_on_error=False, tags=partition_range_tags(names, first_day, last_day))
            patch.setenv("SPAPI_LAKEHOUSE", lake)
            transform = build(lake, date.fromisoformat(as_of))
            transformed = marts(as_lake(lake).warehouse)
            dagster_build = _dbt(defs, instance, as_of)
    finally:
        patch.undo()
        sandbox.close()
    return {"runs": runs, "names": names, "file_run": file_run, "lakehouse": lakehouse, "lake": lake,
            "transform": transform, "transformed": transformed, "dagster_build": dagster_build}


def _dbt(defs: dg.Definitions, instance: dg.DagsterInstance, as_of: str) -> dg.ExecuteInProcessResult:
    """Every dbt model (and its tests as checks) through Dagster's dbt assets, with the configured lakehouse."""
    from orchestration.defs.transform.assets import spapi_dbt

    job = dg.define_asset_job("dbt_only", selection=dg.AssetSelection.assets(spapi_dbt))
    resolved = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("dbt_only")
    return resolved.execute_in_process(instance=instance, raise_on_error=False,
                                       run_config={"ops": {"spapi_dbt": {"config": {"as_of": as_of}}}})


def test_two_account_partitions_materialise_at_once_on_a_lake(lake_run):
    runs = lake_run["runs"]
    assert sorted(r["account"] for r in runs) == sorted(lake_run["names"]) and len(runs) == 2
    assert all(r["success"] for r in runs)
    assert all(r["pool"] is None for r in runs)  # no single-writer pool for the raw loads on a lake
    assert max(r["started"] for r in runs) < min(r["finished"] for r in runs)  # they did run at the same time


def test_the_lake_holds_what_a_sequential_file_run_holds(lake_run):
    assert lake_run["file_run"].success
    lake = as_lake(lake_run["lake"])
    compared = 0
    with duckdb.connect(str(lake_run["lakehouse"]), read_only=True) as file:
        for table, key in PRIMARY_KEYS.items():
            in_file = file.execute("select count(*) from information_schema.tables where table_schema = 'raw_spapi' "
                                   "and table_name = ?", [table]).fetchone()[0]
            if not list(Path(lake.raw_root, table).glob("*.parquet")):
                assert not in_file, table
                continue
            expected = file.execute(f"select count(*) from raw_spapi.{table}").fetchone()[0]
            with duckdb.connect() as con:
                keys = con.execute(f"select count(distinct ({', '.join(key)})) from read_parquet(?, union_by_name = "
                                   "true)", [lake.table_files(table)]).fetchone()[0]
            assert keys == expected > 0, table
            compared += 1
        lines = file.execute("select count(*) from raw_spapi.settlement_lines").fetchone()[0]
    with duckdb.connect() as con:  # appended once per document: even the raw line counts agree
        assert con.execute("select count(*) from read_parquet(?)", [lake.table_files("settlement_lines")]
                           ).fetchone()[0] == lines > 0
    assert compared >= 10


def test_dagsters_dbt_assets_build_the_lakes_marts(lake_run):
    assert lake_run["transform"].ok, lake_run["transform"].failures()
    assert lake_run["dagster_build"].success
    expected, built = lake_run["transformed"], marts(as_lake(lake_run["lake"]).warehouse)
    assert expected["finance.settlement_lines"] and expected["finance.reconciliation_exceptions"]
    assert sorted(built) == sorted(expected)
    assert [t for t in expected if built[t] != expected[t]] == []
    materialised = {tuple(e.asset_key.path) for e in lake_run["dagster_build"].get_asset_materialization_events()}
    assert ("finance", "settlement_lines") in materialised  # built by Dagster's dbt assets, not left from before
