"""The whole graph through Dagster, in process, against a sandbox on loopback.

The accounts sensor adds the two seller accounts as partitions; the daily job materialises every raw asset
and dbt model for both accounts over the window but its last two days, then a backfill of those two days
(one run for 2 accounts x 2 days), and runs every check; the marts agree with the sandbox's ground truth
(settlements, their totals, every planted discrepancy found and nothing else). Re-running one partition
leaves every raw table's row count unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingest.assets import RAW_ASSET_KEYS
from orchestration.defs.ingest.partitions import partition_range_tags
from orchestration.resources import SpApiResource
from spapi_elt import demo
from spapi_elt.lakehouse import table_counts
from spapi_sandbox.marketplaces import BY_ID
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.built_lakehouse import BuiltLakehouse
from tests.conftest import launch_sandbox
from tests.dbt_project.test_oracle import planted, reported
from tests.fee_snapshots import purchase_days, unjudgeable_fba_plants
from tests.spapi_elt.ingest_helpers import RUN_FACT_TABLES

pytestmark = pytest.mark.integration

# Small, but long enough for closed settlements and every kind of planted finding.
ARGUMENTS = DataArguments(seed=21, sellers=2, start="2026-01-01", days=75, orders_per_day=5)
TIME_SCALE = 300.0


@dataclass
class DagsterRun:
    first: dg.ExecuteInProcessResult  # the window but its last two days
    logs: list[str]  # the backfill run's log messages
    result: dg.ExecuteInProcessResult  # the backfill of the last two days
    lakehouse: Path
    truth: dict[str, Any]
    as_of: str
    accounts: list[str]
    backfill_days: tuple[str, str]
    counts: dict[str, int]  # raw row counts after the backfill
    rerun: dg.ExecuteInProcessResult  # one partition again, raw assets only
    counts_after_rerun: dict[str, int]
    sensor_results: tuple[dg.SensorResult, dg.SensorResult]  # from the data's start, then from its cursor
    purchased_on: dict[tuple[str, str], date]  # (seller, order item) -> purchase day, from the sandbox's world
    fee_snapshots: tuple[dict[date, int], dict[date, int]]  # fee estimate rows per snapshot day, before/after the rerun

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.lakehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def dagster_run(tmp_path_factory: pytest.TempPathFactory, dagster_home: Path) -> Iterator[DagsterRun]:
    """A sandbox, an accounts configuration written as the demo writes it, and the daily job run once."""
    workdir = tmp_path_factory.mktemp("dagster-e2e")
    lakehouse, accounts = workdir / "lakehouse.duckdb", workdir / "accounts.toml"
    sandbox = launch_sandbox(ARGUMENTS, time_scale=TIME_SCALE)
    patch = pytest.MonkeyPatch()
    try:
        facts = truth(sandbox.world)
        demo.write_config(accounts, sandbox.base_url, facts)
        for name, value in {**demo.demo_environment(facts), "SPAPI_PII_CANARY_VALUES": "\n".join(facts["pii_canaries"]),
                            "SPAPI_LAKEHOUSE": str(lakehouse),
                            "SPAPI_ACCOUNTS": str(accounts), "DAGSTER_HOME": str(dagster_home)}.items():
            patch.setenv(name, value)
        from orchestration.definitions import defs

        now = datetime.fromtimestamp(facts["now"], UTC)
        last_day = (now - timedelta(days=1)).date()
        first_day, backfill_day = ARGUMENTS.start, (last_day - timedelta(days=1)).isoformat()
        run_config = {"ops": {"spapi_raw": {"config": {"buyer_days": ARGUMENTS.days}},
                              "spapi_dbt": {"config": {"as_of": now.date().isoformat()}}}}
        with dg.DagsterInstance.get() as instance:
            sensor = defs.resolve_sensor_def("seller_accounts_sensor")
            context = dg.build_sensor_context(instance=instance, resources={"spapi": SpApiResource()})
            for request in sensor(context).dynamic_partitions_requests:
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            accounts = list(instance.get_dynamic_partitions("seller_accounts"))
            job = defs.resolve_job_def("daily_lakehouse")
            first = job.execute_in_process(
                run_config=run_config, instance=instance, raise_on_error=False,
                tags=partition_range_tags(accounts, first_day, (last_day - timedelta(days=2)).isoformat()))
            result = job.execute_in_process(
                run_config=run_config, instance=instance, raise_on_error=False,
                tags=partition_range_tags(accounts, backfill_day, last_day.isoformat()))
            counts = table_counts(lakehouse)
            snapshots_before = fee_snapshot_rows(lakehouse)
            logs = [entry.user_message for entry in instance.all_logs(result.run_id)]
            rerun = defs.resolve_job_def("ingest_spapi").execute_in_process(
                run_config={"ops": {"spapi_raw": {"config": {"buyer_days": ARGUMENTS.days}}}}, instance=instance,
                raise_on_error=False, partition_key=str(dg.MultiPartitionKey(
                    {"account": accounts[0], "day": backfill_day})))
            counts_after_rerun = table_counts(lakehouse)
            snapshots_after = fee_snapshot_rows(lakehouse)
            sensor_results = _settlement_sensor_ticks(defs, instance, facts)
        yield DagsterRun(first, logs, result, lakehouse, facts, now.date().isoformat(), accounts,
                         (backfill_day, last_day.isoformat()), counts, rerun, counts_after_rerun, sensor_results,
                         purchase_days(sandbox.world), (snapshots_before, snapshots_after))
    finally:
        patch.undo()
        sandbox.close()


def _settlement_sensor_ticks(defs: dg.Definitions, instance: dg.DagsterInstance, facts: dict):
    """Two ticks of the settlement sensor: one whose cursor is the data's start, one from where it left off."""
    sensor = defs.resolve_sensor_def("new_settlement_reports_sensor")
    start = datetime.fromisoformat(ARGUMENTS.start).replace(tzinfo=UTC)
    cursor = json.dumps({a["seller_id"]: start.isoformat() for a in facts["accounts"]})
    results = []
    for _ in range(2):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"spapi": SpApiResource()})
        results.append(sensor(context))
        cursor = results[-1].cursor
    return tuple(results)


def test_the_settlement_sensor_requests_a_run_per_account_with_new_reports(dagster_run: DagsterRun) -> None:
    first, second = dagster_run.sensor_results
    sellers = {s["seller_id"] for s in dagster_run.truth["settlements"]}
    assert len(first.run_requests) == len(sellers) == ARGUMENTS.sellers
    for request in first.run_requests:
        account, day = request.partition_key.split("|")
        assert account in dagster_run.accounts
        assert ARGUMENTS.start <= day <= dagster_run.as_of
    assert second.run_requests == [], "nothing new since the cursor"
    assert json.loads(second.cursor) == json.loads(first.cursor)


def test_the_ingest_step_logs_its_progress(dagster_run: DagsterRun) -> None:
    """Rows, calls, 429s and retries per account every few seconds, in the run's log (it was silent)."""
    progress = [line for line in dagster_run.logs if line.startswith("... ") and "| calls " in line]
    assert progress, [line for line in dagster_run.logs if "spapi_raw" in line][:20]
    assert all(any(name in line for name in dagster_run.accounts) for line in progress)


def test_the_runs_succeed(dagster_run: DagsterRun) -> None:
    assert len(dagster_run.accounts) == ARGUMENTS.sellers
    for result in (dagster_run.first, dagster_run.result, dagster_run.rerun):
        failures = [e.message for e in result.all_events if e.is_failure]
        assert result.success, failures


def test_a_backfill_is_one_run_over_its_partitions(dagster_run: DagsterRun) -> None:
    events = [e for e in dagster_run.result.get_asset_materialization_events()
              if e.asset_key == RAW_ASSET_KEYS["settlements"]]
    assert {e.partition for e in events} == {
        f"{account}|{day}" for account in dagster_run.accounts for day in dagster_run.backfill_days}


def fee_snapshot_rows(lakehouse: Path) -> dict[date, int]:
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        return dict(con.execute("select snapshot_date, count(*) from raw_spapi.fee_estimates group by 1").fetchall())


def test_rerunning_a_partition_changes_no_counts(dagster_run: DagsterRun) -> None:
    """Nothing changes but the fee estimates of a new day: Amazon's report gives today's only, so a rerun on a
    later day (of the sandbox's fast clock) adds that day's snapshot and leaves the earlier ones as they were."""
    data = {t: n for t, n in dagster_run.counts.items() if t not in (*RUN_FACT_TABLES, "fee_estimates")}
    assert data
    assert {t: dagster_run.counts_after_rerun[t] for t in data} == data
    before, after = dagster_run.fee_snapshots
    assert before and {day: after[day] for day in before} == before


def test_every_raw_asset_materialised_with_its_metadata(dagster_run: DagsterRun) -> None:
    materialised = {e.asset_key: e.materialization.metadata
                    for e in dagster_run.result.get_asset_materialization_events()}
    for key in RAW_ASSET_KEYS.values():
        assert key in materialised, key
        assert {"api_calls", "throttled", "extract_seconds", "dagster/row_count"} <= set(materialised[key])
    rows = materialised[RAW_ASSET_KEYS["settlements"]]["dagster/row_count"].value
    assert rows > 0
    # Calls are counted per resource (each made its own), not the run's total repeated on every asset.
    calls = {name: materialised[key]["api_calls"].value for name, key in RAW_ASSET_KEYS.items()}
    assert all(n > 0 for n in calls.values()), calls
    assert len(set(calls.values())) > 1, calls


def test_every_dbt_model_materialised_with_its_row_count(dagster_run: DagsterRun) -> None:
    materialised = {e.asset_key: e.materialization.metadata
                    for e in dagster_run.result.get_asset_materialization_events()}
    counted = {key.to_user_string(): meta["dagster/row_count"].value for key, meta in materialised.items()
               if key.path[0] not in ("raw_spapi",) and "dagster/row_count" in meta}
    for mart in ("finance/settlements", "finance/settlement_lines", "finance/reconciliation_exceptions",
                 "roi/sku_profitability", "intermediate/int_order_item_settlements_joined",
                 "seeds/settlement_line_categories"):
        schema, name = mart.split("/")
        assert counted[mart] == dagster_run.query(f'select count(*) from "{schema}"."{name}"')[0][0], mart
    assert counted["finance/settlements"] == len(dagster_run.truth["settlements"])
    assert not any(key.startswith("staging/") for key in counted), "views are not counted"


def test_the_backfill_passes_its_window_to_dbt(dagster_run: DagsterRun) -> None:
    first_day, last_day = dagster_run.backfill_days
    end = (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()
    prefix = f"dbt build as of {dagster_run.as_of}; rebuilding settlements documented in [{first_day}, {end}) of "
    logged = [line.removeprefix(prefix) for line in dagster_run.logs if line.startswith(prefix)]
    assert len(logged) == 1, [line for line in dagster_run.logs if "dbt build" in line]
    assert set(logged[0].split(", ")) == {a["seller_id"] for a in dagster_run.truth["accounts"]}


def test_checks_pass(dagster_run: DagsterRun) -> None:
    evaluations = dagster_run.result.get_asset_check_evaluations()
    by_key = {e.asset_check_key: e for e in evaluations}
    blocking = dg.AssetCheckKey(dg.AssetKey(["finance", "settlements"]), "assert_settlements_reconciled_or_explained")
    assert by_key[blocking].passed, by_key[blocking].metadata
    for key in RAW_ASSET_KEYS.values():
        assert by_key[dg.AssetCheckKey(key, "raw_tables_fresh")].passed, key
        throttle = by_key[dg.AssetCheckKey(key, "api_throttle_rate")]
        assert throttle.passed and throttle.metadata["api_calls"].value > 0, key
    canary = by_key[dg.AssetCheckKey(RAW_ASSET_KEYS["order_buyers"], "pii_canary_scan")]
    assert canary.passed and canary.metadata["canaries"].value > 0
    failed = [e.asset_check_key.to_user_string() for e in evaluations if not e.passed]
    assert not failed, failed
    assert len(evaluations) > 100  # the dbt tests came through as checks


def test_settlements_match_the_truth(dagster_run: DagsterRun) -> None:
    rows = dagster_run.query("select settlement_id, seller_id, reported_total_amount, lines_amount "
                             "from finance.settlements")
    mart = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    expected = {(s["settlement_id"], s["seller_id"]): Decimal(s["total"]) for s in dagster_run.truth["settlements"]}
    assert expected
    assert set(mart) == set(expected)
    for key, total in expected.items():
        assert mart[key] == (total, total), key


def test_reconciliation_exceptions_match_the_truth(dagster_run: DagsterRun) -> None:
    built = BuiltLakehouse(dagster_run.lakehouse, dagster_run.truth, dagster_run.as_of, "", 0)
    expected = planted(dagster_run.truth)
    assert len({kind for kind, *_ in expected}) >= 4, "the sandbox should plant several kinds of finding"
    # FBA overcharges bought before a fee change no loaded snapshot can judge: reported as not audited instead
    unjudged = unjudgeable_fba_plants(dagster_run.truth, dagster_run.purchased_on, dagster_run.fee_snapshots[1])
    for kind, seller, marketplace, reference, _ in unjudged:
        del expected[(kind, seller, marketplace, reference, BY_ID[marketplace].currency)]
    assert reported(built) == expected
    not_audited = {tuple(row) for row in dagster_run.query("""
        select seller_id, order_item_code from intermediate.int_order_item_fees_expected
        where fba_fee_audit = 'no fee estimate in force'""")}
    assert {(f[1], f[3]) for f in unjudged} <= not_audited
