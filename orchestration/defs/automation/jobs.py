"""The jobs that schedules and sensors launch (and a user can launch from the UI).

- daily_lakehouse: every asset and check;
- settlements_and_downstream: the settlements asset for one account's day, then everything downstream;
- settlement_files_and_downstream: the settlement inbox's files, then every model and report (not the API's
  raw assets);
- daily_pii_purge: crypto-shreds buyer PII past the retention (spapi_elt.purge.purge_pii).
"""

import dagster as dg

from orchestration.defs.ingest.assets import RAW_ASSET_KEYS
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource
from spapi_elt.purge import RETENTION_DAYS, purge_pii

# Transient failures (API outages, a lock taken by a process outside Dagster) are retried as whole runs
# from the failed step; requires run retries enabled on the instance (orchestration/dagster.yaml).
RETRY_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}

daily_lakehouse_job = dg.define_asset_job(
    "daily_lakehouse", selection=dg.AssetSelection.all(), tags=RETRY_TAGS,
    description="Ingest every SP-API resource for every account, build every dbt model, run every check.")

settlements_job = dg.define_asset_job(
    "settlements_and_downstream",
    selection=dg.AssetSelection.assets(RAW_ASSET_KEYS["settlements"]).downstream(),
    description="The settlements asset for one account's day, then every model and check downstream of it.")

# Every model, not only those downstream of the settlement tables: a lakehouse of imported files alone has never
# had its other staging views built, which the settlement marts join.
settlement_files_job = dg.define_asset_job(
    "settlement_files_and_downstream",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*RAW_ASSET_KEYS.values()),
    description="The settlement files dropped in the inbox, then every model, check and report.")


class PurgeConfig(dg.Config):
    retention_days: int = RETENTION_DAYS


@dg.op(pool=LAKEHOUSE_POOL)
def purge_expired_pii(context: dg.OpExecutionContext, config: PurgeConfig, lakehouse: LakehouseResource) -> int:
    """Shred protected PII older than the retention; the purge records itself in pii_purges and the audit log."""
    purged = purge_pii(lakehouse.setting(), retention_days=config.retention_days, wait=True)
    context.log.info(f"PII values purged: {purged}")
    return purged


@dg.job(tags=RETRY_TAGS, description="Crypto-shred buyer PII older than the retention (Amazon: 30 days).")
def daily_pii_purge():
    purge_expired_pii()
