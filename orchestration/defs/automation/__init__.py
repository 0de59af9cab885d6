"""Automation: the jobs, the daily schedules and the sensors (new settlement reports, the settlement inbox,
seller accounts)."""

import dagster as dg

from orchestration.defs.automation.jobs import (
    daily_lakehouse_job,
    daily_pii_purge,
    settlement_files_job,
    settlements_job,
)
from orchestration.defs.automation.schedules import daily_lakehouse_schedule, daily_pii_purge_schedule
from orchestration.defs.automation.sensors import (
    new_settlement_reports_sensor,
    seller_accounts_sensor,
    settlement_inbox_sensor,
)

defs = dg.Definitions(jobs=[daily_lakehouse_job, daily_pii_purge, settlements_job, settlement_files_job],
                      schedules=[daily_lakehouse_schedule, daily_pii_purge_schedule],
                      sensors=[new_settlement_reports_sensor, seller_accounts_sensor, settlement_inbox_sensor])

__all__ = ["defs"]
