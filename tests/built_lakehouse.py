"""The session's built lakehouse: one sandbox, one full ingest, one `dbt build`, shared by every test that
reads marts (tests/dbt_project, tests/spapi_elt/reports). Registered once for the whole suite by tests/conftest.py
(`pytest_plugins`), so the expensive build runs once per session whichever folders run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from spapi_elt.dbt_runner import build
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.conftest import launch_sandbox
from tests.spapi_elt.ingest_helpers import run_ingest

# Small data that still plants every kind of discrepancy the truth knows.
ORACLE_ARGUMENTS = DataArguments(seed=21, sellers=2, start="2026-01-01", days=120, orders_per_day=8)
TIME_SCALE = 300.0


@dataclass
class BuiltLakehouse:
    """A lakehouse after ingest and `dbt build`, with the sandbox's ground truth and the build's output."""

    path: Path
    truth: dict[str, Any]
    as_of: str
    build_output: str
    returncode: int

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql).fetchall()


def build_lakehouse(arguments: DataArguments, workdir: Path) -> BuiltLakehouse:
    """Ingest a sandbox world's whole window into a fresh DuckDB file in `workdir`, then `dbt build` it once."""
    lakehouse = workdir / "lakehouse.duckdb"
    sandbox = launch_sandbox(arguments, time_scale=TIME_SCALE)
    try:
        run_ingest(sandbox, lakehouse)
        facts = truth(sandbox.world)
    finally:
        sandbox.close()
    as_of = datetime.fromtimestamp(facts["now"], UTC).date()
    result = build(lakehouse, as_of)  # the product's own dbt runner (spapi-elt transform)
    return BuiltLakehouse(lakehouse, facts, as_of.isoformat(), result.output, result.returncode)


@pytest.fixture(scope="session")
def built_lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltLakehouse]:
    """The oracle sandbox's world, ingested and built once for the session."""
    yield build_lakehouse(ORACLE_ARGUMENTS, tmp_path_factory.mktemp("dbt-oracle"))
