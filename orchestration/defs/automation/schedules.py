"""The daily runs (stopped until switched on, see status.py).

- daily_lakehouse: one run of every asset and check for yesterday's partition of every seller account: the
  ingest reads up to midnight UTC, each account resuming from its cursor (with each resource's lookback, so
  late changes before yesterday are loaded too); dbt builds with as_of = today.
- daily_pii_purge: the PII purge, after the daily run.
"""

from datetime import UTC, timedelta

import dagster as dg

from orchestration.defs.automation.jobs import daily_lakehouse_job, daily_pii_purge
from orchestration.defs.automation.status import default_status
from orchestration.defs.ingest import partitions
from orchestration.defs.ingest.partitions import accounts_partitions, partition_range_tags


@dg.schedule(job=daily_lakehouse_job, cron_schedule="15 0 * * *", execution_timezone="UTC",
             default_status=default_status(dg.DefaultScheduleStatus))
def daily_lakehouse_schedule(context: dg.ScheduleEvaluationContext):
    """Yesterday's (UTC) partitions of every account in one run; `as_of` is the scheduled day."""
    today = context.scheduled_execution_time.astimezone(UTC).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    if not partitions.days_partitions.has_partition_key(yesterday):
        # The data ends earlier (`make ui` on the demo's fixed world): a run would fail on an unknown partition.
        return dg.SkipReason(f"{yesterday} is not a day partition (SPAPI_PARTITIONS_START .. SPAPI_PARTITIONS_END)")
    accounts = context.instance.get_dynamic_partitions(accounts_partitions.name)
    if not accounts:
        return dg.SkipReason("no seller-account partitions yet (the seller_accounts_sensor adds them)")
    return dg.RunRequest(
        run_key=yesterday, tags=partition_range_tags(list(accounts), yesterday, yesterday),
        run_config={"ops": {"spapi_raw": {"config": {"resume": True}},
                            "spapi_dbt": {"config": {"as_of": today.isoformat()}}}})


daily_pii_purge_schedule = dg.ScheduleDefinition(
    job=daily_pii_purge, cron_schedule="45 1 * * *", execution_timezone="UTC",
    default_status=default_status(dg.DefaultScheduleStatus))
