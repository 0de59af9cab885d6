"""Amazon's own view of the money: balances and settlement summaries (Finances 2024-06-19), payouts and
expected payouts (Transfers 2024-06-01). Role: Finance and Accounting; no Restricted Data Token.

- `balances` (snapshot): listBalances' point-in-time tree, one row per balance type and marketplace;
- `expected_payouts` (snapshot): listExpectedPayouts, one row per marketplace and period; a period's row is
  merged over until it closes, so the last expected amount stays next to what was paid;
- `payouts` (windowed on creationDate, with a lookback: a payout moves from STARTED to PAID or FAILED within
  days): listPayouts, and for every settlement a payout names, listSummary by SETTLEMENT_ID, one row per leaf
  breakdown into `settlement_summaries` (Amazon's summary by settlement is only reachable by its id).
Amounts and dates are flattened to plain columns; the nesting is kept as a path where it carries meaning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, snapshot_resource, windowed_resource
from dlt_sources.spapi.tables import to_table

PAYOUT_LOOKBACK = timedelta(days=14)
PATH_SEPARATOR = " > "


def _settlement_id(item: dict[str, Any]) -> str | None:
    for identifier in item.get("relatedIdentifiers") or []:
        if identifier.get("relatedIdentifierName") == "SETTLEMENT_ID":
            return identifier.get("relatedIdentifierValue")
    return None


def _money(amount: dict[str, Any] | None) -> tuple[Any, Any]:
    return (amount or {}).get("currencyAmount"), (amount or {}).get("currencyCode")


def _partner(account: AccountConfig, item: dict[str, Any]) -> dict[str, Any]:
    meta = item.get("partnerMetadata") or {}
    return {"seller_id": account.seller_id, "marketplace_id": meta.get("marketplaceId"),
            "account_type": meta.get("accountType")}


def flatten_balance(account: AccountConfig, balance: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per node of the balance tree (TOTAL > AVAILABLE, RESERVED > DEFERRED, ...)."""
    base = {**_partner(account, balance), "last_updated_time": balance.get("lastUpdatedTime")}

    def walk(node: dict[str, Any], parent: str | None) -> Iterator[dict[str, Any]]:
        amount, currency = _money(node.get("amount"))
        yield {**base, "balance_type": node.get("balanceType"), "parent_balance_type": parent, "amount": amount,
               "currency": currency}
        for child in node.get("balances") or []:
            yield from walk(child, node.get("balanceType"))

    yield from walk(balance, None)


def balance_rows(account: AccountConfig, client: SpApiClient) -> Iterator[dict[str, Any]]:
    for balance in client.paginate("listBalances", {"marketplaceIds": account.marketplace_ids}):
        yield from flatten_balance(account, balance)


def flatten_expected_payout(account: AccountConfig, payout: dict[str, Any]) -> dict[str, Any]:
    amount, currency = _money(payout.get("amount"))
    period = payout.get("period") or {}
    return {**_partner(account, payout), "period_start": period.get("startDate"), "period_end": period.get("endDate"),
            "settlement_id": _settlement_id(payout), "status": payout.get("status"), "amount": amount,
            "currency": currency, "scheduled_date": payout.get("scheduledDate")}


def expected_payout_rows(account: AccountConfig, client: SpApiClient) -> Iterator[dict[str, Any]]:
    for payout in client.paginate("listExpectedPayouts", {"marketplaceIds": account.marketplace_ids}):
        yield flatten_expected_payout(account, payout)


def flatten_payout(account: AccountConfig, payout: dict[str, Any]) -> dict[str, Any]:
    amount, currency = _money(payout.get("amount"))
    period = payout.get("period") or {}
    latest = (payout.get("statusHistory") or [{}])[-1]
    return {**_partner(account, payout), "payout_id": payout.get("id"), "settlement_id": _settlement_id(payout),
            "current_status": payout.get("currentStatus"), "status_updated_date": latest.get("lastUpdatedDate"),
            "failure_reason": latest.get("failureReason"), "payout_type": payout.get("type"), "amount": amount,
            "currency": currency, "account_tail": payout.get("accountTail"),
            "payment_method": payout.get("paymentMethod"), "creation_date": payout.get("creationDate"),
            "trace_id": payout.get("traceId"), "period_start": period.get("startDate"),
            "period_end": period.get("endDate")}


def flatten_summary(account: AccountConfig, settlement_id: str, summary: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per leaf breakdown, its path from the top (e.g. `Order > ItemPrice > Principal`)."""
    net, currency = _money(summary.get("netProceeds"))
    base = {**_partner(account, summary), "settlement_id": settlement_id, "net_proceeds": net,
            "period_start": summary.get("periodStart"), "period_end": summary.get("periodEnd")}

    def walk(nodes: list[dict[str, Any]], path: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        for node in nodes:
            here = (*path, str(node.get("breakdownType")))
            if node.get("breakdowns"):
                yield from walk(node["breakdowns"], here)
            else:
                amount, code = _money(node.get("breakdownAmount"))
                yield {**base, "breakdown_path": PATH_SEPARATOR.join(here), "breakdown_depth": len(here),
                       "amount": amount, "currency": code or currency}

    rows = list(walk(summary.get("breakdowns") or [], ()))
    # A summary without breakdowns still records its net proceeds.
    yield from rows or [{**base, "breakdown_path": "", "breakdown_depth": 0, "amount": net, "currency": currency}]


def payout_rows(account: AccountConfig, client: SpApiClient, start: datetime,
                end: datetime) -> Iterator[Any]:
    settlements: list[str] = []
    params = {"marketplaceIds": account.marketplace_ids, "createdAfter": start, "createdBefore": end}
    for payout in client.paginate("listPayouts", params):
        row = flatten_payout(account, payout)
        if row["settlement_id"] and row["settlement_id"] not in settlements:
            settlements.append(row["settlement_id"])
        yield row
    for settlement_id in settlements:
        summary = [r for s in client.paginate("listSummary", {"relatedIdentifierName": "SETTLEMENT_ID",
                                                             "relatedIdentifierValue": settlement_id})
                   for r in flatten_summary(account, settlement_id, s)]
        if summary:
            yield to_table("settlement_summaries", summary)


def balances(ctx: Extraction) -> Any:
    return snapshot_resource(ctx, "balances", balance_rows)


def expected_payouts(ctx: Extraction) -> Any:
    return snapshot_resource(ctx, "expected_payouts", expected_payout_rows)


def payouts(ctx: Extraction) -> Any:
    return windowed_resource(ctx, "payouts", PAYOUT_LOOKBACK, payout_rows)
