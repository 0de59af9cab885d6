"""The daily runs. Both are stopped until switched on in the UI, or on from the start when
SPAPI_SCHEDULES_RUNNING=1 (the demo sets it), so loading the code location never starts work by itself.

- daily_lakehouse: one run of every asset and check for yesterday's partition of every seller account: the
  ingest reads up to midnight UTC, each account resuming from its cursor (with each resource's lookback, so
  late changes before yesterday are loaded too); dbt builds with as_of = today.
- daily_pii_purge: crypto-shreds buyer PII past the retention (dlt_sources.spapi.lakehouse.purge_pii).
"""

import os
from datetime import UTC, timedelta

import dagster as dg

from dlt_sources.spapi.lakehouse import RETENTION_DAYS, purge_pii
from orchestration.defs.ingest.partitions import accounts_partitions, partition_range_tags
from orchestration.defs.schedules.sensors import new_settlement_reports_sensor, settlements_job
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource

# Transient failures (API outages, a lock taken by a process outside Dagster) are retried as whole runs
# from the failed step; requires run retries enabled on the instance (orchestration/dagster.yaml).
RETRY_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}


def _default_status() -> dg.DefaultScheduleStatus:
    running = os.environ.get("SPAPI_SCHEDULES_RUNNING") == "1"
    return dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED


daily_lakehouse_job = dg.define_asset_job(
    "daily_lakehouse", selection=dg.AssetSelection.all(), tags=RETRY_TAGS,
    description="Ingest every SP-API resource for every account, build every dbt model, run every check.")


@dg.schedule(job=daily_lakehouse_job, cron_schedule="15 0 * * *", execution_timezone="UTC",
             default_status=_default_status())
def daily_lakehouse_schedule(context: dg.ScheduleEvaluationContext):
    """Yesterday's (UTC) partitions of every account in one run; `as_of` is the scheduled day."""
    today = context.scheduled_execution_time.astimezone(UTC).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    accounts = context.instance.get_dynamic_partitions(accounts_partitions.name)
    if not accounts:
        return dg.SkipReason("no seller-account partitions yet (the seller_accounts_sensor adds them)")
    return dg.RunRequest(
        run_key=yesterday, tags=partition_range_tags(list(accounts), yesterday, yesterday),
        run_config={"ops": {"spapi_raw": {"config": {"resume": True}},
                            "spapi_dbt": {"config": {"as_of": today.isoformat()}}}})


class PurgeConfig(dg.Config):
    retention_days: int = RETENTION_DAYS


@dg.op(pool=LAKEHOUSE_POOL)
def purge_expired_pii(context: dg.OpExecutionContext, config: PurgeConfig, lakehouse: LakehouseResource) -> int:
    """Shred protected PII older than the retention; the purge records itself in pii_purges and the audit log."""
    purged = purge_pii(lakehouse.resolved(), retention_days=config.retention_days)
    context.log.info(f"PII values purged: {purged}")
    return purged


@dg.job(tags=RETRY_TAGS, description="Crypto-shred buyer PII older than the retention (Amazon: 30 days).")
def daily_pii_purge():
    purge_expired_pii()


daily_pii_purge_schedule = dg.ScheduleDefinition(
    job=daily_pii_purge, cron_schedule="45 1 * * *", execution_timezone="UTC", default_status=_default_status())


defs = dg.Definitions(jobs=[daily_lakehouse_job, daily_pii_purge, settlements_job],
                      schedules=[daily_lakehouse_schedule, daily_pii_purge_schedule],
                      sensors=[new_settlement_reports_sensor])
