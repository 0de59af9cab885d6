"""Finances 2024-06-19 listBalances: what the seller's open settlement periods hold, per marketplace.

Per settlement marketplace (Amazon.fr's money sits in Amazon.de's) the point-in-time balance is built from
the periods not settled yet, as Amazon's model describes the balance types (finances_2024-06-19.json, Balance):
- TOTAL = the reserve carried from the last settlement + everything posted since (AVAILABLE + RESERVED);
- RESERVED = DEFERRED (postings of the last 7 days, listTransactions' DEFERRED) + ACCOUNT_LEVEL_RESERVE (the
  reserve carried, shown as money held for the seller: positive);
- AVAILABLE = TOTAL - RESERVED.
`asOfDate` (historical ending balances) is not served: the sandbox answers point-in-time balances only and
refuses the parameter rather than answer a wrong history. Balances are as of the world's snapshot, like
listTransactions' statuses.

`expected_deposits` is the same open-period arithmetic for Transfers' listExpectedPayouts: what each open
period would deposit if it closed now (the world's closing rule, generate.py: carried reserve released, the
period's own reserve held).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spapi_sandbox.api.finances import status_of
from spapi_sandbox.api.indexes import seller_index
from spapi_sandbox.api.params import enum_value, marketplaces, seller_world
from spapi_sandbox.generate import period_reserve
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import MARKETPLACES, settlement_marketplace
from spapi_sandbox.render import currency_finances_2024, iso
from spapi_sandbox.world import SellerWorld, Settlement

BALANCES = "listBalances"
BALANCE_TYPES = ("AVAILABLE", "RESERVED", "TOTAL", "DEFERRED", "ACCOUNT_LEVEL_RESERVE")
ACCOUNT_TYPE = "Standard Orders"  # Finances 2024-06-19's spelling (Transfers writes STANDARD_ORDERS)


@dataclass(frozen=True)
class ExpectedDeposit:
    settlement: Settlement
    amount: int  # minor units; what the period would deposit if it closed now


@dataclass(frozen=True)
class OpenBalance:
    marketplace: str
    total: int
    deferred: int
    reserve: int
    last_posted_at: int
    deposits: tuple[ExpectedDeposit, ...]

    @property
    def available(self) -> int:
        return self.total - self.deferred - self.reserve


def settlement_marketplaces(seller: SellerWorld) -> list[str]:
    """The seller's marketplaces that have settlements of their own, in account order."""
    return list(dict.fromkeys(settlement_marketplace(code) for code in seller.account.marketplace_codes))


def open_balance(seller: SellerWorld, marketplace: str, now: int) -> OpenBalance:
    periods = sorted((s for s in seller.settlements if s.marketplace == marketplace), key=lambda s: s.start_at)
    closed = [s for s in periods if s.closed]
    carried = seller_index(seller).reserve_held.get(closed[-1].event_group_id, 0) if closed else 0
    total, deferred, last, deposits, released = carried, 0, 0, [], carried
    for settlement in (s for s in periods if not s.closed and s.start_at <= now):
        posted = [p for p in settlement.postings if p.posted_at <= now]
        total += sum(p.total for p in posted)
        deferred += sum(p.total for p in posted if status_of(p, now) == "DEFERRED")
        last = max([last, *(p.posted_at for p in posted)])
        held = period_reserve(posted)
        deposits.append(ExpectedDeposit(settlement, released + sum(p.total for p in posted) - held))
        released = held
    return OpenBalance(marketplace, total, deferred, carried, last or now, tuple(deposits))


def _amount(minor: int, marketplace: str) -> dict[str, Any]:
    return currency_finances_2024(minor, MARKETPLACES[marketplace].currency)


def render_balance(seller: SellerWorld, balance: OpenBalance) -> dict[str, Any]:
    code = balance.marketplace

    def node(kind: str, minor: int, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"balanceType": kind, "amount": _amount(minor, code)}
        if children:
            out["balances"] = children
        return out

    reserved = node("RESERVED", balance.deferred + balance.reserve,
                    [node("DEFERRED", balance.deferred), node("ACCOUNT_LEVEL_RESERVE", balance.reserve)])
    top = node("TOTAL", balance.total, [node("AVAILABLE", balance.available), reserved])
    return {"partnerMetadata": {"partnerId": seller.account.seller_id, "accountType": ACCOUNT_TYPE,
                                "marketplaceId": MARKETPLACES[code].marketplace_id},
            **top, "lastUpdatedTime": iso(balance.last_posted_at)}


def _pick(tree: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The balance of `kind` in a rendered tree, with its own sub-balances (balanceType filter)."""
    if tree["balanceType"] == kind:
        return tree
    for child in tree.get("balances", []):
        found = _pick(child, kind)
        if found:
            return found
    return None


@route("GET", "/finances/2024-06-19/balances", BALANCES)
def list_balances(state: Any, req: Request) -> Response:
    seller = seller_world(state, req)
    if req.param("asOfDate"):
        raise invalid_input("asOfDate is not supported by this sandbox: it serves point-in-time balances only.")
    kind = enum_value(req, "balanceType", BALANCE_TYPES)
    account_type = req.param("accountType")
    wanted = {settlement_marketplace(m.code) for m in marketplaces(req, seller, "marketplaceIds", required=False)}
    now = state.world.now
    found = []
    if account_type in (None, ACCOUNT_TYPE):
        for code in settlement_marketplaces(seller):
            if code in wanted:
                rendered = render_balance(seller, open_balance(seller, code, now))
                if kind and kind != "TOTAL":
                    picked = _pick(rendered, kind)
                    assert picked is not None
                    rendered = {"partnerMetadata": rendered["partnerMetadata"], **picked,
                                "lastUpdatedTime": rendered["lastUpdatedTime"]}
                found.append(rendered)
    return Response(body={"balances": found})
