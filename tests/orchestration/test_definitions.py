"""The code location loads, and its asset graph is the product: every raw table and dbt model an asset,
lineage unbroken from each dlt resource through the marts, checks attached, schedules present."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from dlt_sources.spapi import RESOURCE_TABLES, RESOURCES
from dlt_sources.spapi.tables import PRIMARY_KEYS
from orchestration.defs.ingest.assets import RAW_ASSET_KEYS
from orchestration.defs.transform.project import dbt_project
from orchestration.resources import SpApiResource
from spapi_elt import demo
from spapi_elt.dbt_runner import DBT_PROJECT

ROOT = Path(__file__).resolve().parents[2]
MODELS = DBT_PROJECT / "models"
# Raw data no mart reads, each for a reason: buyer PII is never staged; inventory and Amazon's balances and payouts
# are staged for analysts (deposits are checked from the event groups; Amazon's settlement summaries, the
# `settlement_summaries` resource since payouts exist only where Transfers is served, feed finance.settlements).
NOT_IN_MARTS = {"order_buyers", "inventory", "balances", "payouts"}


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


def test_the_asset_keys_are_the_listed_ones(graph) -> None:
    """Asset keys are what runs, backfills and the UI's history hang on: renaming one orphans its history,
    so a change here must be deliberate (edit tests/orchestration/asset_keys.txt in the same commit)."""
    listed = Path(__file__).with_name("asset_keys.txt").read_text(encoding="utf-8").split()
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == sorted(listed)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))


def model_files(layer: str) -> dict[str, str]:
    """Model name -> its area folder (staging/spapi -> 'spapi') for one layer of dbt_project/models."""
    return {p.stem: p.parent.name for p in (MODELS / layer).rglob("*.sql")}


def model_key(manifest: dict, name: str) -> dg.AssetKey:
    node = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == name)
    return dg.AssetKey([node["schema"], name])


def test_definitions_load_and_validate(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)


def test_every_dlt_resource_is_an_asset(graph) -> None:
    assert set(RAW_ASSET_KEYS) == set(RESOURCES)
    for key in RAW_ASSET_KEYS.values():
        assert graph.has(key), key
        assert graph.get(key).group_name == "raw_spapi"


def test_every_raw_table_belongs_to_one_resource() -> None:
    tables = [t for ts in RESOURCE_TABLES.values() for t in ts]
    assert sorted(tables) == sorted(PRIMARY_KEYS), "RESOURCE_TABLES must list exactly the tables of tables.py"


def test_dbt_sources_map_to_the_resource_that_writes_them(manifest: dict) -> None:
    writer = {t: RAW_ASSET_KEYS[r] for r, ts in RESOURCE_TABLES.items() for t in ts}
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "raw_spapi"]
    assert sources
    for source in sources:
        meta = source["config"]["meta"]["dagster"]["asset_key"]
        assert dg.AssetKey(meta) == writer[source["name"]], source["name"]


@pytest.mark.parametrize("layer", ["staging", "intermediate", "marts"])
def test_every_model_is_an_asset_grouped_by_area(graph, manifest: dict, layer: str) -> None:
    models = model_files(layer)
    assert models
    for name, area in models.items():
        key = model_key(manifest, name)
        assert graph.has(key), f"{layer} model {name} has no asset"
        assert graph.get(key).group_name == ("staging" if layer == "staging" else area), name


def test_staging_reads_from_the_raw_assets(graph, manifest: dict) -> None:
    """SP-API staging models read the raw assets; seed staging models (stg_seeds__*) read their seed."""
    for name in model_files("staging"):
        parents = graph.get(model_key(manifest, name)).parent_keys
        if name.startswith("stg_seeds__"):
            assert parents == {dg.AssetKey(["seeds", name.removeprefix("stg_seeds__")])}, name
        else:
            assert parents & set(RAW_ASSET_KEYS.values()), f"{name} is not downstream of a raw asset"


def test_lineage_runs_from_each_resource_through_the_marts(graph, manifest: dict) -> None:
    marts = {model_key(manifest, name) for name in model_files("marts")}
    for mart in marts:
        assert graph.get(mart).parent_keys, mart
        assert _ancestors(graph, mart) & set(RAW_ASSET_KEYS.values()), f"{mart} does not reach a raw asset"
    for resource, key in RAW_ASSET_KEYS.items():
        reaches = _descendants(graph, key) & marts
        assert bool(reaches) == (resource not in NOT_IN_MARTS), (resource, sorted(k.to_user_string() for k in reaches))


def _ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen, todo = set(), [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def _descendants(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen, todo = set(), [key]
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_dbt_tests_are_asset_checks(graph, manifest: dict) -> None:
    checks = set(graph.asset_check_keys)
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and n.get("attached_node")
             and manifest["nodes"][n["attached_node"]]["resource_type"] == "model"]
    assert tests
    names = {c.name for c in checks}
    missing = [t["name"] for t in tests if t["name"] not in names]
    assert not missing, f"dbt tests without an asset check: {missing[:10]}"
    settlements = dg.AssetKey(["finance", "settlements"])
    assert any(c.asset_key == settlements for c in checks)


def test_lakehouse_checks_are_attached(defs: dg.Definitions, graph) -> None:
    checks = set(graph.asset_check_keys)
    for key in RAW_ASSET_KEYS.values():
        assert dg.AssetCheckKey(key, "raw_tables_fresh") in checks
        assert dg.AssetCheckKey(key, "api_throttle_rate") in checks
    blocking = dg.AssetCheckKey(dg.AssetKey(["finance", "settlements"]), "assert_settlements_reconciled_or_explained")
    assert blocking in checks
    assert dg.AssetCheckKey(RAW_ASSET_KEYS["order_buyers"], "pii_canary_scan") in checks
    assert graph.get_check_spec(blocking).blocking


def test_every_lakehouse_writer_is_in_the_lakehouse_pool(defs: dg.Definitions) -> None:
    repo = defs.get_repository_def()
    for assets_def in repo.asset_graph.assets_defs:
        if assets_def.is_executable and any(k.path[0] != "__" for k in assets_def.keys):
            assert assets_def.node_def.pool == "lakehouse", assets_def.node_def.name
    purge = defs.resolve_job_def("daily_pii_purge")
    assert {node.definition.pool for node in purge.graph.node_dict.values()} == {"lakehouse"}


def test_schedules_and_jobs(defs: dg.Definitions) -> None:
    assert defs.resolve_sensor_def("seller_accounts_sensor")
    assert defs.resolve_sensor_def("new_settlement_reports_sensor").job_name == "settlements_and_downstream"
    downstream = defs.resolve_job_def("settlements_and_downstream").asset_layer.selected_asset_keys
    assert {dg.AssetKey(["raw_spapi", "settlements"]), dg.AssetKey(["finance", "settlements"]),
            dg.AssetKey(["finance", "reconciliation_exceptions"])} <= set(downstream)
    for job_name in ("daily_lakehouse", "daily_pii_purge"):
        assert defs.resolve_schedule_def(f"{job_name}_schedule").job_name == job_name
    job = defs.resolve_job_def("daily_lakehouse")
    assert job.tags.get("dagster/max_retries")


def test_daily_schedule_runs_yesterday_for_every_account(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("daily_lakehouse_schedule")
    with dg.instance_for_test() as instance:
        when = datetime(2026, 3, 2, 0, 15, tzinfo=UTC)
        skipped = schedule.evaluate_tick(dg.build_schedule_context(instance, scheduled_execution_time=when))
        assert not skipped.run_requests, "no accounts known yet: nothing to run"
        instance.add_dynamic_partitions("seller_accounts", ["north", "south"])
        request = schedule.evaluate_tick(dg.build_schedule_context(instance, scheduled_execution_time=when)
                                         ).run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "north|2026-03-01"
    assert request.tags["dagster/asset_partition_range_end"] == "south|2026-03-01"
    assert request.run_config["ops"]["spapi_raw"]["config"]["resume"] is True
    assert request.run_config["ops"]["spapi_dbt"]["config"]["as_of"] == "2026-03-02"


def test_daily_schedule_skips_a_day_after_the_last_partition(defs: dg.Definitions,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`make ui` ends the days with the demo's world (SPAPI_PARTITIONS_END): the schedule says so, not a failed run."""
    from orchestration.defs.ingest import partitions

    monkeypatch.setattr(partitions, "days_partitions", dg.DailyPartitionsDefinition(
        start_date="2026-01-01", end_date="2026-01-31", timezone="UTC"))
    schedule = defs.resolve_schedule_def("daily_lakehouse_schedule")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("seller_accounts", ["north"])
        inside = schedule.evaluate_tick(dg.build_schedule_context(
            instance, scheduled_execution_time=datetime(2026, 1, 31, 0, 15, tzinfo=UTC)))
        after = schedule.evaluate_tick(dg.build_schedule_context(
            instance, scheduled_execution_time=datetime(2026, 2, 1, 0, 15, tzinfo=UTC)))
    assert inside.run_requests[0].tags["dagster/asset_partition_range_end"] == "north|2026-01-30"
    assert not after.run_requests and "2026-01-31 is not a day partition" in after.skip_message


def test_raw_assets_are_partitioned_by_account_and_day(graph) -> None:
    for key in RAW_ASSET_KEYS.values():
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.MultiPartitionsDefinition), key
        assert {d.name for d in partitions.partitions_defs} == {"account", "day"}
        assert graph.get(key).backfill_policy == dg.BackfillPolicy.single_run()


def test_accounts_sensor_keeps_partitions_in_step(defs: dg.Definitions, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(demo.accounts_toml("http://127.0.0.1:1", {"accounts": [
        {"name": name, "seller_id": f"S{i}", "region": "NA", "marketplace_ids": ["ATVPDKIKX0DER"],
         "lwa_client_id": "client", "lwa_client_secret_issued": "2026-01-01"} for i, name in enumerate(["a", "b"])]}))
    sensor = defs.resolve_sensor_def("seller_accounts_sensor")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("seller_accounts", ["gone"])
        context = dg.build_sensor_context(instance=instance, resources={
            "spapi": SpApiResource(accounts_file=str(accounts))})
        result = sensor(context)
        requests = {type(r).__name__: list(r.partition_keys) for r in result.dynamic_partitions_requests}
    assert requests == {"AddDynamicPartitionsRequest": ["a", "b"], "DeleteDynamicPartitionsRequest": ["gone"]}


def test_dagster_validates_the_workspace() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w",
                           "workspace.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


SECRET_WORDS = ("key", "secret", "token", "password", "passphrase", "credential", "kek", "hmac")
NOT_SECRET = {"lwa_token_url"}  # the URL of Amazon's token endpoint (an override for the sandbox), not a token


def config_field_names(config_type) -> list[str]:
    """Every field name of a Dagster config type, nested ones included."""
    names = []
    for name, field in (getattr(config_type, "fields", None) or {}).items():
        names.append(name)
        names += config_field_names(field.config_type)
    return names


def test_no_resource_config_can_carry_key_material(defs: dg.Definitions) -> None:
    """Dagster stores a run's resource config in its run storage and serves it over GraphQL: PII keys and other
    secrets must never be settable there, only read from the environment by the steps that need them."""
    resources = defs.resources or {}
    assert {"spapi", "lakehouse"} <= set(resources)
    for name, resource in resources.items():
        fields = config_field_names(resource.get_resource_definition().config_schema.config_type)
        assert fields or name != "spapi"  # the schema was really read: spapi has its accounts_file etc.
        leaky = [f for f in fields if f not in NOT_SECRET and any(word in f.lower() for word in SECRET_WORDS)]
        assert not leaky, f"resource {name!r} has config fields that could carry key material: {leaky}"
    assert "accounts_file" in config_field_names(
        SpApiResource().get_resource_definition().config_schema.config_type)
    # A run config that still sets a key (e.g. copied from an older launchpad) is rejected, not stored.
    job = defs.resolve_job_def("ingest_spapi")
    dg.validate_run_config(job, {"resources": {"spapi": {"config": {"accounts_file": "accounts.toml"}}}})
    with pytest.raises(dg.DagsterInvalidConfigError, match="pii_keys"):
        dg.validate_run_config(job, {"resources": {"spapi": {"config": {"pii_keys": "k1:AAAA"}}}})


def test_the_spapi_resource_reads_pii_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlt_sources.spapi.keys import PiiKeyMissing, new_key

    for variable in ("SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS", "SPAPI_PII_ACTIVE_KEY_ID"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(PiiKeyMissing):
        SpApiResource().protector()
    monkeypatch.setenv("SPAPI_PII_HMAC_KEY", "3:" + new_key())
    monkeypatch.setenv("SPAPI_PII_KEYS", f"k1:{new_key()},k2:{new_key()}")
    monkeypatch.setenv("SPAPI_PII_ACTIVE_KEY_ID", "k2")
    protector = SpApiResource().protector()
    assert (protector.hmac_key.version, protector.keyring.active) == (3, "k2")
