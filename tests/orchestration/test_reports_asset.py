"""The Dagster asset: wired into the graph as the product's other areas are, and materialising in process
one report pair per seller with the files and counts in its metadata."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.reports.assets import MARTS, REPORT_KEY, ReportsResource, settlement_reconciliation
from orchestration.resources import LakehouseResource, SpApiResource
from spapi_elt import demo
from spapi_elt.reports.generate import file_stem, reports_dir
from tests.published_reports import Published, account_names


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def test_the_report_asset_is_wired_downstream_of_the_marts(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    node = graph.get(REPORT_KEY)
    assert node.group_name == "reports"
    assert node.partitions_def is None
    assert node.parent_keys == set(MARTS)
    assert all(graph.has(k) for k in MARTS)
    assert defs.resolve_assets_def(REPORT_KEY).node_def.pool == "lakehouse"
    for job in ("daily_lakehouse", "settlements_and_downstream"):
        assert REPORT_KEY in defs.resolve_job_def(job).asset_layer.selected_asset_keys, job


def materialise(published: Published, folder: Path, accounts_file: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize([settlement_reconciliation], resources={
        "lakehouse": LakehouseResource(path=str(published.lakehouse.path)),
        "reports": ReportsResource(folder=str(folder)), "spapi": SpApiResource(accounts_file=str(accounts_file))})


def test_the_asset_materialises_and_lists_its_files(published: Published, tmp_path: Path) -> None:
    accounts = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", published.lakehouse.truth)
    result = materialise(published, tmp_path / "reports", accounts)
    assert result.success
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == REPORT_KEY]
    metadata = event.materialization.metadata
    counts = dict(published.lakehouse.query("select seller_id, count(*) from finance.settlements group by 1"))
    findings = dict(published.lakehouse.query(
        "select seller_id, count(*) from finance.reconciliation_exceptions group by 1"))
    names = account_names(published.lakehouse)
    assert metadata["accounts"].value == len(counts)
    assert metadata["folder"].value == str((tmp_path / "reports").resolve())
    for seller_id, name in names.items():
        for kind in ("workbook", "page"):
            value = metadata[f"{name}/{kind}"]
            assert isinstance(value, dg.PathMetadataValue)
            path = Path(value.value)
            assert path.is_file() and path.stat().st_size > 0
            assert path.parent == tmp_path / "reports" / name
        assert metadata[f"{name}/settlements"].value == counts[seller_id]
        assert metadata[f"{name}/exceptions"].value == findings.get(seller_id, 0)
    rollup = Path(metadata["all-accounts/workbook"].value)  # the aggregator's workbook, in a folder of its own
    assert rollup.is_file() and rollup.parent == tmp_path / "reports" / "all-accounts"


def test_without_an_accounts_file_reports_are_named_by_seller_id(published: Published, tmp_path: Path) -> None:
    result = materialise(published, tmp_path / "reports", tmp_path / "missing.toml")
    assert result.success
    folders = {p.name for p in (tmp_path / "reports").iterdir()}
    assert folders == {a["seller_id"] for a in published.lakehouse.truth["accounts"]} | {"all-accounts"}


def test_the_reports_folder_is_configured_then_the_environment_then_beside_the_lakehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lakehouse = tmp_path / "data" / "lakehouse.duckdb"
    monkeypatch.delenv("SPAPI_REPORTS_DIR", raising=False)
    assert reports_dir(None, lakehouse) == tmp_path / "data" / "reports"
    monkeypatch.setenv("SPAPI_REPORTS_DIR", str(tmp_path / "from-env"))
    assert reports_dir(None, lakehouse) == tmp_path / "from-env"
    assert reports_dir(str(tmp_path / "configured"), lakehouse) == tmp_path / "configured"
    assert file_stem("Kestrel Trading/1") == "Kestrel-Trading-1"
    assert file_stem("../..") == "account"


def test_the_asset_runs_with_the_products_resources_and_no_pii_keys(
        published: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The code location's own `spapi` resource: naming accounts needs the accounts file, not the PII keys."""
    from orchestration.definitions import RESOURCES

    for name in ("SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS", "SPAPI_PII_ACTIVE_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    accounts = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", published.lakehouse.truth)
    monkeypatch.setenv("SPAPI_ACCOUNTS", str(accounts))
    result = dg.materialize([settlement_reconciliation], resources={
        **RESOURCES, "lakehouse": LakehouseResource(path=str(published.lakehouse.path)),
        "reports": ReportsResource(folder=str(tmp_path / "reports"))})
    assert result.success
    assert {p.name for p in (tmp_path / "reports").iterdir()} == {*account_names(published.lakehouse).values(),
                                                                   "all-accounts"}
