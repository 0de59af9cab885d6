"""Raw assets are partitioned by seller account (dynamic, kept in step with the accounts file by a sensor)
x day (UTC, from SPAPI_PARTITIONS_START, default 2026-01-01, to SPAPI_PARTITIONS_END inclusive, default
yesterday: `make ui` ends them with the demo's data, whose world stops on a fixed day). A backfill of N days
for K accounts is one run (single-run backfill policy) that extracts the K accounts in parallel over one
N-day window."""

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

ACCOUNT, DAY = "account", "day"
DEFAULT_PARTITIONS_START = "2026-01-01"



def _day_after(day: str | None) -> str | None:
    """Dagster's end_date is exclusive; SPAPI_PARTITIONS_END names the last day, as a person says it."""
    return (datetime.fromisoformat(day).date() + timedelta(days=1)).isoformat() if day else None


def covered_until() -> datetime:
    """The newest moment the deployment covers: now, or the end of SPAPI_PARTITIONS_END's day when that is earlier
    (a demo's world, whose sandbox clock is not the machine's)."""
    end = _day_after(os.environ.get("SPAPI_PARTITIONS_END"))
    now = datetime.now(UTC)
    return min(now, datetime.fromisoformat(end).replace(tzinfo=UTC)) if end else now


accounts_partitions = dg.DynamicPartitionsDefinition(name="seller_accounts")
days_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("SPAPI_PARTITIONS_START", DEFAULT_PARTITIONS_START),
    end_date=_day_after(os.environ.get("SPAPI_PARTITIONS_END")), timezone="UTC")
raw_partitions = dg.MultiPartitionsDefinition({ACCOUNT: accounts_partitions, DAY: days_partitions})


def partition_window(keys: list[dg.MultiPartitionKey]) -> tuple[list[str], datetime, datetime]:
    """The accounts and the [first day, day after the last) window a set of partitions covers."""
    accounts = sorted({k.keys_by_dimension[ACCOUNT] for k in keys})
    days = sorted({k.keys_by_dimension[DAY] for k in keys})
    start = datetime.fromisoformat(days[0]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(days[-1]).replace(tzinfo=UTC) + timedelta(days=1)
    return accounts, start, end


BACKFILL_TAG = "dagster/backfill"


def run_partition_keys(run_tags: dict[str, str], instance: dg.DagsterInstance) -> list[dg.MultiPartitionKey]:
    """The (account, day) partitions a run covers: what an unpartitioned step (the dbt build) needs to know.

    From the run's own partition tags (a job run over partitions, the daily schedule, the settlement
    sensor); else, for a run of a backfill launched from the UI (which runs the unpartitioned dbt assets in
    a run of their own after the partitioned ingest), from the partition tags of that backfill's other runs.
    Empty for an unpartitioned run outside any backfill.
    """
    keys = _tagged_partition_keys(run_tags, instance)
    if keys or BACKFILL_TAG not in run_tags:
        return keys
    siblings = instance.get_run_records(dg.RunsFilter(tags={BACKFILL_TAG: run_tags[BACKFILL_TAG]}))
    found = {key for record in siblings for key in _tagged_partition_keys(dict(record.dagster_run.tags), instance)}
    return sorted(found, key=str)


def _tagged_partition_keys(run_tags: dict[str, str], instance: dg.DagsterInstance) -> list[dg.MultiPartitionKey]:
    if "dagster/partition" in run_tags:
        return [raw_partitions.get_partition_key_from_str(run_tags["dagster/partition"])]
    start, end = run_tags.get("dagster/asset_partition_range_start"), run_tags.get("dagster/asset_partition_range_end")
    if not (start and end):
        return []
    keys = raw_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(start, end),
                                                      dynamic_partitions_store=instance)
    return [raw_partitions.get_partition_key_from_str(k) for k in keys]


def partition_range_tags(accounts: list[str], first_day: str, last_day: str) -> dict[str, str]:
    """Run tags selecting every (account, day) for the given accounts (in partition order) and days."""
    first = dg.MultiPartitionKey({ACCOUNT: accounts[0], DAY: first_day})
    last = dg.MultiPartitionKey({ACCOUNT: accounts[-1], DAY: last_day})
    return {"dagster/asset_partition_range_start": str(first), "dagster/asset_partition_range_end": str(last)}
