"""The published reports: the built lakehouse (tests/built_lakehouse.py, shared with tests/dbt_project), one report
pair per seller and the all-accounts workbook published from it once per session, for the report tests and the
Dagster asset's tests."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from dlt_sources.spapi.config import parse_accounts
from spapi_elt import demo
from spapi_elt.reports import PublishedReport, publish_reports, publish_rollup
from tests.built_lakehouse import BuiltLakehouse


@dataclass
class Published:
    folder: Path
    reports: list[PublishedReport]
    lakehouse: BuiltLakehouse
    rollup: Path | None


def account_names(lakehouse: BuiltLakehouse) -> dict[str, str]:
    """seller id -> account name, as the demo's accounts file for this sandbox names them."""
    config = parse_accounts(tomllib.loads(demo.accounts_toml("http://127.0.0.1:1", lakehouse.truth)))
    return {a.seller_id: a.name for a in config.accounts}


@pytest.fixture(scope="session")
def published(built_lakehouse: BuiltLakehouse,
              tmp_path_factory: pytest.TempPathFactory) -> Published:
    assert built_lakehouse.returncode == 0, built_lakehouse.build_output[-5000:]
    folder = tmp_path_factory.mktemp("reports")
    names = account_names(built_lakehouse)
    # The session's lakehouse: tests on the other worker may be reading it (its lock), so wait for them.
    return Published(folder, publish_reports(built_lakehouse.path, folder, names, wait=True), built_lakehouse,
                     publish_rollup(built_lakehouse.path, folder, names, wait=True))
