"""Which (account, day) partitions a run covers, as the dbt step reads them: from the run's own tags, or,
for the separate dbt run of a backfill launched from the UI, from the tags of that backfill's other runs;
and the window they make."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from orchestration.defs.ingest.partitions import (
    BACKFILL_TAG,
    accounts_partitions,
    partition_range_tags,
    partition_window,
    run_partition_keys,
)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(accounts_partitions.name, ["alpha", "beta", "gamma"])
        yield instance


def keys(pairs: list[tuple[str, str]]) -> list[str]:
    return sorted(str(dg.MultiPartitionKey({"account": a, "day": d})) for a, d in pairs)


def test_a_range_covers_every_account_and_day_between_its_ends(instance: dg.DagsterInstance) -> None:
    tags = partition_range_tags(["alpha", "gamma"], "2026-02-27", "2026-03-01")
    found = run_partition_keys(tags, instance)
    days = ("2026-02-27", "2026-02-28", "2026-03-01")
    assert sorted(map(str, found)) == keys([(a, d) for a in ("alpha", "beta", "gamma") for d in days])
    assert partition_window(found) == (["alpha", "beta", "gamma"], datetime(2026, 2, 27, tzinfo=UTC),
                                       datetime(2026, 3, 2, tzinfo=UTC))


def test_a_single_partition(instance: dg.DagsterInstance) -> None:
    found = run_partition_keys({"dagster/partition": "beta|2026-03-05"}, instance)
    assert list(map(str, found)) == ["beta|2026-03-05"]
    assert partition_window(found) == (["beta"], datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC))


def test_the_dbt_run_of_a_backfill_reads_the_partitions_of_the_backfills_ingest_run(
        instance: dg.DagsterInstance) -> None:
    ingest_tags = {**partition_range_tags(["beta", "beta"], "2026-01-10", "2026-01-11"), BACKFILL_TAG: "abc"}
    create_run_for_test(instance, job_name="__ASSET_JOB", tags=ingest_tags)
    create_run_for_test(instance, job_name="__ASSET_JOB", tags={**partition_range_tags(
        ["gamma", "gamma"], "2026-01-01", "2026-01-31"), BACKFILL_TAG: "another-backfill"})
    found = run_partition_keys({BACKFILL_TAG: "abc"}, instance)
    assert sorted(map(str, found)) == keys([("beta", "2026-01-10"), ("beta", "2026-01-11")])


def test_an_unpartitioned_run_outside_a_backfill_has_no_window(instance: dg.DagsterInstance) -> None:
    assert run_partition_keys({}, instance) == []
    assert run_partition_keys({BACKFILL_TAG: "unknown"}, instance) == []


def test_the_settlement_sensor_looks_back_from_the_demo_worlds_last_day(monkeypatch) -> None:
    """Under `make ui` the sandbox's clock is the demo world's, months before the machine's: listing reports
    created since the machine's 'now - 3 days' was refused by it, on every tick."""
    from datetime import UTC, datetime, timedelta

    from orchestration.defs.ingest.partitions import covered_until

    monkeypatch.setenv("SPAPI_PARTITIONS_END", "2026-03-31")
    assert covered_until() == datetime(2026, 4, 1, tzinfo=UTC)
    monkeypatch.delenv("SPAPI_PARTITIONS_END")
    assert abs(covered_until() - datetime.now(UTC)) < timedelta(minutes=1)
