"""The resources that are one FBA flat-file report each: `fba_reimbursements` and `inventory_ledger` (windowed
by event time), `fee_estimates` (one snapshot per day: Amazon's expected FBA fees per SKU, for the fee audit)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, snapshot_resource, windowed_resource
from dlt_sources.spapi.report_tables import report_tables
from dlt_sources.spapi.settings import FEE_ESTIMATES_REPORT, LEDGER_REPORT, REIMBURSEMENTS_REPORT

REPORT_LOOKBACK = timedelta(days=2)


def fee_estimates(ctx: Extraction) -> Any:
    """Amazon's report gives today's estimates only (no history), so every day's snapshot is kept: the key
    includes `snapshot_date` (tables.py); a re-run on the same day replaces that day's rows. The fee audit
    judges an order by the snapshot in force on its purchase date (int_order_item_fees_expected)."""
    return snapshot_resource(ctx, "fee_estimates", lambda account, client: report_tables(
        ctx, account, client, FEE_ESTIMATES_REPORT, snapshot_date=True))


def _windowed_report(ctx: Extraction, name: str, report_type: str) -> Any:
    def rows(account: AccountConfig, client: SpApiClient, start: datetime, end: datetime) -> Iterator[Any]:
        return report_tables(ctx, account, client, report_type, start, end)

    return windowed_resource(ctx, name, REPORT_LOOKBACK, rows)


def fba_reimbursements(ctx: Extraction) -> Any:
    return _windowed_report(ctx, "fba_reimbursements", REIMBURSEMENTS_REPORT)


def inventory_ledger(ctx: Extraction) -> Any:
    return _windowed_report(ctx, "inventory_ledger", LEDGER_REPORT)
