"""Amazon's own view of the money: balances and settlement summaries (Finances 2024-06-19), payouts and
expected payouts (Transfers 2024-06-01). Role: Finance and Accounting; no Restricted Data Token.

- `balances` (snapshot): listBalances' point-in-time tree, one row per balance type and marketplace;
- `expected_payouts` (snapshot): listExpectedPayouts, one row per marketplace and period; a period's row is
  merged over until it closes, so the last expected amount stays next to what was paid;
- `payouts` (windowed on creationDate, with a lookback: a payout moves from STARTED to PAID or FAILED within
  days): listPayouts;
- `settlement_summaries` (windowed on the period, with a lookback): listSummary(periodStart, periodEnd), one row
  per leaf breakdown of each settlement's summary, for every account.
Transfers serves only some marketplaces (settings.TRANSFERS_MARKETPLACE_IDS): `payouts` and `expected_payouts`
ask for the account's marketplaces among them, and skip an account with none. Summaries are Finances', which
has no such limit, so they are their own resource rather than hanging off payouts.
Amounts and dates are flattened to plain columns; the nesting is kept as a path where it carries meaning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, snapshot_resource, windowed_resource
from dlt_sources.spapi.settings import TRANSFERS_MARKETPLACE_IDS

logger = logging.getLogger(__name__)

PAYOUT_LOOKBACK = timedelta(days=14)
# A settlement's summary carries its SETTLEMENT_ID only once its report is issued, about a day after the period
# ends (DESIGN.md); reading one settlement period (14 days) back finds it closed on the next run, late or not.
SUMMARY_LOOKBACK = timedelta(days=14)
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


def transfers_marketplaces(account: AccountConfig, resource: str) -> list[str]:
    """The account's marketplaces Transfers serves; none (Amazon.com, Amazon.co.uk, ...): say so, once."""
    served = [m for m in account.marketplace_ids if m in TRANSFERS_MARKETPLACE_IDS]
    if not served:
        logger.info("%s: %s skipped: the Transfers API serves none of its marketplaces (only DE, FR, IT, ES, SE, "
                    "NL, PL and BE)", account.name, resource)
    return served


def expected_payout_rows(account: AccountConfig, client: SpApiClient) -> Iterator[dict[str, Any]]:
    markets = transfers_marketplaces(account, "expected_payouts")
    if not markets:
        return
    for payout in client.paginate("listExpectedPayouts", {"marketplaceIds": markets}):
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
                end: datetime) -> Iterator[dict[str, Any]]:
    markets = transfers_marketplaces(account, "payouts")
    if not markets:
        return
    for payout in client.paginate("listPayouts", {"marketplaceIds": markets, "createdAfter": start,
                                                  "createdBefore": end}):
        yield flatten_payout(account, payout)


def settlement_summary_rows(account: AccountConfig, client: SpApiClient, start: datetime,
                            end: datetime) -> Iterator[dict[str, Any]]:
    """Each settlement's summary once. An open period's summary (no SETTLEMENT_ID yet) is skipped: its figures
    change until it closes, it has no file to compare with, and the key needs the id; the lookback brings the
    settlement back once it is issued. The open money is in `balances` and `expected_payouts`."""
    params = {"marketplaceIds": account.marketplace_ids, "periodStart": start.date().isoformat(),
              "periodEnd": end.date().isoformat()}
    seen: set[str] = set()
    for summary in client.paginate("listSummary", params):
        settlement_id = _settlement_id(summary)
        if settlement_id and settlement_id not in seen:
            seen.add(settlement_id)
            yield from flatten_summary(account, settlement_id, summary)


def balances(ctx: Extraction) -> Any:
    return snapshot_resource(ctx, "balances", balance_rows)


def expected_payouts(ctx: Extraction) -> Any:
    return snapshot_resource(ctx, "expected_payouts", expected_payout_rows)


def payouts(ctx: Extraction) -> Any:
    return windowed_resource(ctx, "payouts", PAYOUT_LOOKBACK, payout_rows)


def settlement_summaries(ctx: Extraction) -> Any:
    return windowed_resource(ctx, "settlement_summaries", SUMMARY_LOOKBACK, settlement_summary_rows)
