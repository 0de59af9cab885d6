"""Finances: event groups (Finances v0, still current) and transactions (Finances 2024-06-19).

Both change after they first appear: an open event group grows until its settlement closes, and a
DEFERRED transaction becomes DEFERRED_RELEASED. So each run re-reads a lookback before the account's cursor
and merges on the entity id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, windowed_resource
from dlt_sources.spapi.settings import OPERATIONS
from dlt_sources.spapi.wire import date_windows

GROUP_LOOKBACK = timedelta(days=45)  # an event group stays open up to a settlement period and a bit
TRANSACTION_LOOKBACK = timedelta(days=14)  # deferred transactions are released within about 7 days
RELATED = {"ORDER_ID": "order_id", "SETTLEMENT_ID": "settlement_id",
           "FINANCIAL_EVENT_GROUP_ID": "financial_event_group_id"}


def event_group_rows(account: AccountConfig, client: SpApiClient, start: datetime,
                     end: datetime) -> Iterator[dict[str, Any]]:
    for lower, upper in date_windows(start, end, OPERATIONS["listFinancialEventGroups"].max_window_days):
        params = {"FinancialEventGroupStartedAfter": lower, "FinancialEventGroupStartedBefore": upper,
                  "MaxResultsPerPage": 100}
        for group in client.paginate("listFinancialEventGroups", params):
            yield {"seller_id": account.seller_id, **group}


def transaction_rows(account: AccountConfig, client: SpApiClient, start: datetime,
                     end: datetime) -> Iterator[dict[str, Any]]:
    for lower, upper in date_windows(start, end, OPERATIONS["listTransactions"].max_window_days):
        for transaction in client.paginate("listTransactions", {"postedAfter": lower, "postedBefore": upper}):
            yield flatten_transaction(account, transaction)


def flatten_transaction(account: AccountConfig, transaction: dict[str, Any]) -> dict[str, Any]:
    """The transaction as Amazon sent it, plus its marketplace and related ids as plain columns for joins."""
    row: dict[str, Any] = {"seller_id": account.seller_id,
                           "marketplace_id": (transaction.get("marketplaceDetails") or {}).get("marketplaceId")}
    for identifier in transaction.get("relatedIdentifiers") or []:
        column = RELATED.get(identifier.get("relatedIdentifierName"))
        if column:
            row[column] = identifier.get("relatedIdentifierValue")
    row.update(transaction)
    return row


def financial_event_groups(ctx: Extraction) -> Any:
    return windowed_resource(ctx, "financial_event_groups", GROUP_LOOKBACK, event_group_rows)


def financial_transactions(ctx: Extraction) -> Any:
    return windowed_resource(ctx, "financial_transactions", TRANSACTION_LOOKBACK, transaction_rows)
