"""The session's built lakehouse: one sandbox, one full ingest, one `dbt build`, shared by every test that
reads marts (tests/dbt_project, tests/spapi_elt/reports). Registered once for the whole suite by tests/conftest.py
(`pytest_plugins`), so the expensive build runs once per session whichever folders run.
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from spapi_elt.dbt_runner import build
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.conftest import launch_sandbox
from tests.fee_snapshots import purchase_days
from tests.spapi_elt.ingest_helpers import run_ingest

# Small data that still plants every kind of discrepancy the truth knows.
ORACLE_ARGUMENTS = DataArguments(seed=21, sellers=2, start="2026-01-01", days=120, orders_per_day=8)
# Amazon's fee estimates report gives today's estimates only, so the lakehouse holds the snapshots its runs took:
# one on 2026-01-10 (before the US FBA fee change of 2026-01-15, after the European one of 2025-12-15) and the
# last day's, so that every FBA fee of the window is judged by a snapshot with no change in between.
ORACLE_FEE_SNAPSHOT_DAYS = (9,)
TIME_SCALE = 300.0


@dataclass
class BuiltLakehouse:
    """A lakehouse after ingest and `dbt build`, with the sandbox's ground truth and the build's output."""

    path: Path
    truth: dict[str, Any]
    as_of: str
    build_output: str
    returncode: int
    # (seller_id, order item id) -> purchase day, from the sandbox's world (what the truth's fee findings refer to)
    purchased_on: dict[tuple[str, str], date] = field(default_factory=dict)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql).fetchall()


def build_lakehouse(arguments: DataArguments, workdir: Path,
                    fee_snapshot_days: tuple[int, ...] = ()) -> BuiltLakehouse:
    """Ingest a sandbox world's whole window into a fresh DuckDB file in `workdir`, then `dbt build` it once.

    `fee_snapshot_days`: before that, take the fee estimates report on those days of the window too, as a seller
    whose runs went on since then would have (the same world up to that day: worlds are prefix-stable)."""
    lakehouse = workdir / "lakehouse.duckdb"
    for days in fee_snapshot_days:
        earlier = launch_sandbox(replace(arguments, days=days), time_scale=TIME_SCALE)
        try:
            run_ingest(earlier, lakehouse, resources=["fee_estimates"])
        finally:
            earlier.close()
    sandbox = launch_sandbox(arguments, time_scale=TIME_SCALE)
    try:
        run_ingest(sandbox, lakehouse)
        facts = truth(sandbox.world)
        purchased_on = purchase_days(sandbox.world)
    finally:
        sandbox.close()
    as_of = datetime.fromtimestamp(facts["now"], UTC).date()
    result = build(lakehouse, as_of)  # the product's own dbt runner (spapi-elt transform)
    return BuiltLakehouse(lakehouse, facts, as_of.isoformat(), result.output, result.returncode, purchased_on)


@pytest.fixture(scope="session")
def built_lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltLakehouse]:
    """The oracle sandbox's world, ingested and built once for the whole run.

    Under pytest-xdist (`make test` runs two workers) every worker is a session of its own: the first worker
    that needs the lakehouse builds it in the run's shared temporary folder, holding a file lock, and the others
    wait on the lock and read the same file (every test opens it read-only or copies it)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield build_lakehouse(ORACLE_ARGUMENTS, tmp_path_factory.mktemp("dbt-oracle"), ORACLE_FEE_SNAPSHOT_DAYS)
        return
    shared = tmp_path_factory.getbasetemp().parent / "dbt-oracle"
    with open(shared.with_name("dbt-oracle.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = shared / "built.pickle"
        if not saved.exists():
            shared.mkdir(exist_ok=True)
            saved.write_bytes(pickle.dumps(build_lakehouse(ORACLE_ARGUMENTS, shared, ORACLE_FEE_SNAPSHOT_DAYS)))
        built = pickle.loads(saved.read_bytes())
    yield built
