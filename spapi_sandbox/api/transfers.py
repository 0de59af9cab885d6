"""Transfers 2024-06-01 listPayouts and listExpectedPayouts: the event groups' transfers, and what comes next.

Payouts (transfers_2024-06-01.json, Payout): one per closed settlement, created when its report is
(report_created_at), amount and trace id as its event group shows them (finances.py):
- Succeeded: STARTED, IN_TRANSIT half a day later, PAID on the deposit date; the amount that arrived;
- Failed: STARTED, IN_TRANSIT, FAILED on the deposit date; the settlement total;
- still Processing: STARTED (and IN_TRANSIT once half a day has passed); the settlement total;
- a settlement totalling 0.00: NO_PAYOUT, without amount or type ("Can be null when there is no payout").
Expected payouts (ExpectedPayout): one per open period, what it would deposit if it closed now (balances.py),
SCHEDULED on the period's deposit date, NO_PAYOUT_EXPECTED when that is not positive ("The expected balance
is negative, resulting in no payout").
Both answer only for the marketplaces the Transfers model names (TRANSFERS_MARKETPLACE_IDS): asked for another,
they refuse; asked for none, they answer for the seller's supported marketplaces alone (none: empty).
"""

from __future__ import annotations

import hashlib
from typing import Any

from spapi_sandbox.api.balances import open_balance, settlement_marketplaces
from spapi_sandbox.api.finances import account_tail
from spapi_sandbox.api.paging import paginate, resume_or_start
from spapi_sandbox.api.params import marketplaces, seller_world, timestamp
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import MARKETPLACES, settlement_marketplace
from spapi_sandbox.render import currency_finances_2024, iso
from spapi_sandbox.world import SellerWorld, Settlement

PAYOUTS = "listPayouts"
EXPECTED = "listExpectedPayouts"
ACCOUNT_TYPE = "STANDARD_ORDERS"  # the Transfers model's spelling
PAGE = 50
IN_TRANSIT_AFTER = 12 * 3_600

# transfers_2024-06-01.json, info.description: "This API supports the following marketplaces: DE, FR, IT, ES, SE,
# NL, PL, and BE." Amazon's ids for them (developer-docs.amazon.com/sp-api/docs/marketplace-ids).
TRANSFERS_MARKETPLACE_IDS = frozenset({
    "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1RKKUPIHCS9HS",  # DE, FR, IT, ES
    "A2NODRKZP88ZB9", "A1805IZSGTT6HS", "A1C3SOZRARQ6R3", "AMEN7PMS3EDWL",  # SE, NL, PL, BE
})


def payout_id(settlement: Settlement) -> str:
    """Eleven digits, stable per settlement (Amazon's example: 11888387941)."""
    return str(int(hashlib.sha256(f"payout:{settlement.settlement_id}".encode()).hexdigest()[:12], 16)
               % 10**11).zfill(11)


def _metadata(seller: SellerWorld, marketplace: str) -> dict[str, str]:
    return {"partnerId": seller.account.seller_id, "accountType": ACCOUNT_TYPE,
            "marketplaceId": MARKETPLACES[marketplace].marketplace_id}


def _settlement_ref(settlement: Settlement) -> list[dict[str, str]]:
    return [{"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": settlement.settlement_id}]


def _history(settlement: Settlement, now: int) -> list[dict[str, str]]:
    created = settlement.report_created_at
    if settlement.total == 0:
        return [{"status": "NO_PAYOUT", "lastUpdatedDate": iso(created)}]
    steps = [("STARTED", created), ("IN_TRANSIT", created + IN_TRANSIT_AFTER)]
    if settlement.fund_transfer_status == "Succeeded":
        steps.append(("PAID", settlement.deposit_at))
    elif settlement.fund_transfer_status == "Failed":
        steps.append(("FAILED", settlement.deposit_at))
    return [{"status": status, "lastUpdatedDate": iso(at)} for status, at in steps if at <= now]


def render_payout(seller: SellerWorld, settlement: Settlement, now: int) -> dict[str, Any]:
    history = _history(settlement, now)
    out: dict[str, Any] = {"id": payout_id(settlement), "partnerMetadata": _metadata(seller, settlement.marketplace),
                           "currentStatus": history[-1]["status"], "statusHistory": history}
    if settlement.total != 0:
        amount = settlement.transferred_amount if settlement.transferred_amount is not None else settlement.total
        out["type"] = "SCHEDULED"
        out["amount"] = currency_finances_2024(amount, MARKETPLACES[settlement.marketplace].currency)
    out["accountTail"] = account_tail(seller.account.seller_id)
    out["paymentMethod"] = "BANK_ACCOUNT"
    out["creationDate"] = iso(settlement.report_created_at)
    if out["currentStatus"] == "PAID":
        out["traceId"] = settlement.trace_id
    out["period"] = {"startDate": iso(settlement.start_at), "endDate": iso(settlement.end_at)}
    out["relatedIdentifiers"] = _settlement_ref(settlement)
    return out


def _markets(req: Request, seller: SellerWorld) -> list[str]:
    """The settlement marketplaces asked for (all of the seller's when none is named) that Transfers serves."""
    chosen = marketplaces(req, seller, "marketplaceIds", required=False)
    unsupported = [m.marketplace_id for m in chosen if m.marketplace_id not in TRANSFERS_MARKETPLACE_IDS]
    if unsupported and req.list_param("marketplaceIds"):
        # The model states the restriction (info.description) but not the error Amazon returns for another
        # marketplace; a 400 InvalidInput naming them is this sandbox's choice.
        raise invalid_input(f"Unsupported marketplaceIds for the Transfers API: {', '.join(unsupported)}. "
                            "It supports DE, FR, IT, ES, SE, NL, PL and BE.")
    return sorted({settlement_marketplace(m.code) for m in chosen if m.marketplace_id in TRANSFERS_MARKETPLACE_IDS})


def _payouts_query(state: Any, req: Request, seller: SellerWorld) -> dict[str, Any]:
    return {"after": timestamp(req, "createdAfter"), "before": timestamp(req, "createdBefore"),
            "payout_id": req.param("payoutId"), "markets": _markets(req, seller),
            "none": req.param("accountType") not in (None, ACCOUNT_TYPE), "now": state.world.now}


def _payouts(seller: SellerWorld, query: dict[str, Any]) -> list[Settlement]:
    def keep(s: Settlement) -> bool:
        return (s.closed and s.marketplace in query["markets"]
                and (query["after"] is None or s.report_created_at >= query["after"])
                and (query["before"] is None or s.report_created_at < query["before"])
                and query["payout_id"] in (None, payout_id(s)))

    if query["none"]:
        return []
    return sorted(filter(keep, seller.settlements), key=lambda s: (s.report_created_at, s.settlement_id))


@route("GET", "/finances/transfers/2024-06-01/payouts", PAYOUTS)
def list_payouts(state: Any, req: Request) -> Response:
    seller = seller_world(state, req)
    query, offset = resume_or_start(req, PAYOUTS, "nextToken", lambda: _payouts_query(state, req, seller))
    page = paginate(PAYOUTS, query, _payouts(seller, query), max(offset, 0), PAGE, req.seller_id)
    body: dict[str, Any] = {"payouts": [render_payout(seller, s, query["now"]) for s in page.items]}
    if page.next_token:
        body["nextToken"] = page.next_token
    return Response(body=body)


def render_expected(seller: SellerWorld, settlement: Settlement, amount: int) -> dict[str, Any]:
    currency = MARKETPLACES[settlement.marketplace].currency
    return {"partnerMetadata": _metadata(seller, settlement.marketplace),
            "amount": currency_finances_2024(amount, currency),
            "status": "SCHEDULED" if amount > 0 else "NO_PAYOUT_EXPECTED",
            "period": {"startDate": iso(settlement.start_at), "endDate": iso(settlement.end_at)},
            "scheduledDate": iso(settlement.deposit_at),
            "accountTail": account_tail(seller.account.seller_id),
            "paymentMethod": "BANK_ACCOUNT",
            "relatedIdentifiers": _settlement_ref(settlement)}


@route("GET", "/finances/transfers/2024-06-01/payouts/expected", EXPECTED)
def list_expected_payouts(state: Any, req: Request) -> Response:
    seller = seller_world(state, req)
    query, offset = resume_or_start(req, EXPECTED, "nextToken", lambda: {
        "markets": _markets(req, seller), "none": req.param("accountType") not in (None, ACCOUNT_TYPE)})
    found = [] if query["none"] else [
        render_expected(seller, deposit.settlement, deposit.amount)
        for code in settlement_marketplaces(seller) if code in query["markets"]
        for deposit in open_balance(seller, code, state.world.now).deposits]
    page = paginate(EXPECTED, query, found, max(offset, 0), PAGE, req.seller_id)
    body: dict[str, Any] = {"expectedPayouts": page.items}
    if page.next_token:
        body["nextToken"] = page.next_token
    return Response(body=body)
