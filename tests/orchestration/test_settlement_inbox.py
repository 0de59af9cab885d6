"""The settlement inbox in Dagster: files dropped in an account's folder are seen by the sensor, imported by the
settlement files asset (bad ones named by its check and set aside with their reason), and the marts and reports
downstream follow; a folder naming no account fails the sensor's tick, naming it."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dlt_sources.spapi.config import load_accounts
from orchestration.defs.ingest.settlement_files import READABLE_CHECK, SETTLEMENT_FILES_KEY, InboxResource
from orchestration.defs.reports.assets import REPORT_KEY
from orchestration.resources import LakehouseResource, SpApiResource
from spapi_elt import demo
from spapi_elt.lake import as_lake, lake_pipeline_names, pipeline_name
from spapi_sandbox.generate import build_world
from spapi_sandbox.settlement_file import render_settlement
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments

ARGUMENTS = DataArguments(seed=29, sellers=2, start="2026-01-01", days=40, orders_per_day=5)


@pytest.fixture(scope="module")
def world():
    return build_world(ARGUMENTS)


def sensor_context(instance, accounts: Path, lakehouse: Path, inbox: Path) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(instance=instance, resources={
        "spapi": SpApiResource(accounts_file=str(accounts)), "lakehouse": LakehouseResource(path=str(lakehouse)),
        "inbox": InboxResource(folder=str(inbox))})


def test_dropped_files_are_imported_and_the_marts_follow(world, tmp_path: Path, monkeypatch) -> None:
    from orchestration.definitions import defs

    lakehouse, inbox = tmp_path / "lakehouse.duckdb", tmp_path / "inbox"
    accounts = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", truth(world))
    first, second = world.sellers
    name = {a.seller_id: a.name for a in load_accounts(accounts).accounts}[first.account.seller_id]
    expected: dict[str, Decimal] = {}
    # One account's folder by its name (one file gzipped), the other's by its seller id.
    for seller, folder in ((first, inbox / name), (second, inbox / second.account.seller_id)):
        folder.mkdir(parents=True)
        for index, settlement in enumerate(s for s in seller.settlements if s.closed):
            data = render_settlement(settlement)
            file = folder / f"{settlement.settlement_id}.txt"
            if index == 0:
                file.with_suffix(".txt.gz").write_bytes(gzip.compress(data))
            else:
                file.write_bytes(data)
            expected[settlement.settlement_id] = Decimal(settlement.total) / 100
    (inbox / name / "statement.pdf").write_bytes(b"%PDF-1.7 not a settlement")
    for variable, value in {"SPAPI_LAKEHOUSE": str(lakehouse), "SPAPI_ACCOUNTS": str(accounts),
                        "SPAPI_SETTLEMENT_INBOX": str(inbox), "SPAPI_REPORTS_DIR": str(tmp_path / "reports")}.items():
        monkeypatch.setenv(variable, value)

    with dg.DagsterInstance.get() as instance:
        sensor = defs.resolve_sensor_def("settlement_inbox_sensor")
        request = sensor(sensor_context(instance, accounts, lakehouse, inbox))
        assert isinstance(request, dg.RunRequest)
        job = defs.resolve_job_def("settlement_files_and_downstream")
        as_of = {"ops": {"spapi_dbt": {"config": {"as_of": "2026-03-01"}}}}
        result = job.execute_in_process(instance=instance, run_config=as_of, tags=request.tags, raise_on_error=False)
        assert result.success
        materialised = {e.asset_key for e in result.get_asset_materialization_events()}
        assert {SETTLEMENT_FILES_KEY, REPORT_KEY, dg.AssetKey(["finance", "settlements"])} <= materialised
        (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == READABLE_CHECK]
        assert not check.passed
        assert "statement.pdf" in check.metadata["unreadable files"].value
        skipped = sensor(sensor_context(instance, accounts, lakehouse, inbox))
        assert isinstance(skipped, dg.SkipReason) and "no settlement files waiting" in skipped.skip_message

    with duckdb.connect(str(lakehouse), read_only=True) as con:
        rows = con.execute(
            "select settlement_id, reported_total_amount, lines_amount from finance.settlements").fetchall()
    assert {sid: total for sid, total, _ in rows} == expected
    assert all(total == lines for _, total, lines in rows)
    assert not list((inbox / name).glob("*.*"))  # every file moved out of the way
    assert len(list((inbox / name / "imported").iterdir())) + len(
        list((inbox / second.account.seller_id / "imported").iterdir())) == len(expected)
    reason = (inbox / name / "rejected" / "statement.pdf.error.txt").read_text()
    assert "statement.pdf" in reason and "Error" in reason


def test_a_folder_naming_no_account_fails_the_tick(world, tmp_path: Path) -> None:
    from orchestration.definitions import defs

    accounts = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", truth(world))
    (tmp_path / "inbox" / "somebody-else").mkdir(parents=True)
    (tmp_path / "inbox" / "somebody-else" / "file.txt").write_text("x")
    with dg.DagsterInstance.get() as instance, pytest.raises(dg.Failure, match="somebody-else"):
        defs.resolve_sensor_def("settlement_inbox_sensor")(
            sensor_context(instance, accounts, tmp_path / "lakehouse.duckdb", tmp_path / "inbox"))



def test_on_a_lake_the_sensor_finds_the_lake_inbox_and_the_asset_loads_the_files(world, tmp_path: Path) -> None:
    """SPAPI_LAKEHOUSE a lake: the inbox is `<lake>/inbox`, and the settlement files asset loads each account's files
    into the lake's Parquet, through the account's own pipeline (no account set knows its settlements yet)."""
    from orchestration.defs.ingest.settlement_files import settlement_files

    lake = f"file://{tmp_path}/lake"
    inbox = tmp_path / "lake" / "inbox"
    accounts = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", truth(world))
    expected: dict[str, Decimal] = {}
    for seller in world.sellers:
        folder = inbox / seller.account.seller_id
        folder.mkdir(parents=True)
        for settlement in (s for s in seller.settlements if s.closed):
            (folder / f"{settlement.settlement_id}.txt").write_bytes(render_settlement(settlement))
            expected[settlement.settlement_id] = Decimal(settlement.total) / 100
    resources = {"spapi": SpApiResource(accounts_file=str(accounts)), "lakehouse": LakehouseResource(path=lake),
                 "inbox": InboxResource()}
    with dg.DagsterInstance.ephemeral() as instance:
        request = settlement_inbox_sensor_on(instance, resources)
        assert isinstance(request, dg.RunRequest)
        result = dg.materialize([settlement_files], resources=resources, instance=instance)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed
    with duckdb.connect() as con:
        totals = dict(con.execute("select settlement_id, sum(amount) from read_parquet(?, union_by_name = true) "
                                  "group by 1", [as_lake(lake).table_files("settlement_lines")]).fetchall())
    assert totals == expected
    assert lake_pipeline_names(as_lake(lake)) == sorted(pipeline_name([s.account.seller_id]) for s in world.sellers)
    assert sum(len(list((inbox / s.account.seller_id / "imported").iterdir())) for s in world.sellers) == len(expected)


def settlement_inbox_sensor_on(instance, resources: dict) -> dg.RunRequest | dg.SkipReason:
    from orchestration.definitions import defs

    return defs.resolve_sensor_def("settlement_inbox_sensor")(
        dg.build_sensor_context(instance=instance, resources=resources))
