"""The journal exports asset: downstream of finance.settlement_journals in the daily and settlement jobs, and
materialising in process every account's files, listed in its metadata."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.reports.assets import ReportsResource
from orchestration.defs.reports.journals import JOURNAL_MARTS, JOURNALS_KEY, journal_exports, journal_paths
from orchestration.resources import LakehouseResource, SpApiResource
from tests.built_lakehouse import BuiltLakehouse


def test_the_journal_asset_is_wired_downstream_of_the_journals() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    assert graph.get(JOURNALS_KEY).parent_keys == set(JOURNAL_MARTS)
    assert graph.get(JOURNALS_KEY).group_name == "reports"
    for job in ("daily_lakehouse", "settlements_and_downstream"):
        assert JOURNALS_KEY in defs.resolve_job_def(job).asset_layer.selected_asset_keys, job


@pytest.mark.integration
def test_the_asset_writes_every_accounts_journals(built_lakehouse: BuiltLakehouse, tmp_path: Path) -> None:
    result = dg.materialize([journal_exports], resources={
        "lakehouse": LakehouseResource(path=str(built_lakehouse.path)),
        "reports": ReportsResource(folder=str(tmp_path)),
        "spapi": SpApiResource(accounts_file=str(tmp_path / "none.toml"))})
    assert result.success
    paths = [Path(p) for p in journal_paths(result)]
    currencies = built_lakehouse.query("select count(distinct seller_id || currency) from finance.settlements")[0][0]
    assert len(paths) == 3 * currencies and all(p.is_file() for p in paths)
    plain = [p for p in paths if p.name.endswith("_csv.csv")]
    with_debits = sum(Decimal(row["debit"]) for p in plain for row in csv.DictReader(p.open(encoding="utf-8")))
    assert with_debits == built_lakehouse.query("select sum(debit) from finance.settlement_journals")[0][0]
