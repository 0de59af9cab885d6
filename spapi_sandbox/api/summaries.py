"""Finances 2024-06-19 listSummary: a settlement's (or a period's) net proceeds and their breakdown.

Amazon's model (finances_2024-06-19.json, Summary) gives netProceeds, relatedIdentifiers (SETTLEMENT_ID) and a
recursive list of breakdowns whose types it shows only by example ("Sales" > "Product Charges", "Expenses" >
"FBA fees"). The sandbox nests the settlement file's own labels instead, transaction-type > amount-type >
amount-description, so a summary can be checked against the file line by line (the same choice as its
listTransactions breakdowns). One settlement per seller is planted to disagree with its file
(Settlement.summary_delta, generate.py): its first line's label shows that much more, and so do its net proceeds.

- relatedIdentifierName=SETTLEMENT_ID with a value: that closed settlement's summary (none if unknown);
- otherwise periodStart/periodEnd (dates, both optional): "the response will only include summaries with
  transactions that occurred on or after [periodStart]" ("on or before" periodEnd), read as: the summary of every
  settlement period with a posting on those days, whole. A closed settlement's carries its SETTLEMENT_ID (the
  Summary example's relatedIdentifiers) and is the one the id lookup answers; the open period's, what is posted so
  far, has no settlement issued yet and carries no related identifiers, as Amazon's listSummary example shows.
"""

from __future__ import annotations

from typing import Any

from spapi_sandbox.api.balances import ACCOUNT_TYPE
from spapi_sandbox.api.paging import paginate, resume_or_start
from spapi_sandbox.api.params import marketplaces, seller_world
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import MARKETPLACES, settlement_marketplace
from spapi_sandbox.render import currency_finances_2024, iso, parse_iso
from spapi_sandbox.world import Posting, SellerWorld

SUMMARY = "listSummary"
PAGE = 10
DAY = 86_400
Label = tuple[str, str, str]  # transaction-type, amount-type, amount-description


def _totals(postings: list[Posting], delta: int) -> dict[Label, int]:
    totals: dict[Label, int] = {}
    for posting in postings:
        for c in posting.components:
            label = (posting.transaction_type, c.amount_type, c.description)
            totals[label] = totals.get(label, 0) + c.amount
    if delta and totals:
        first = next(iter(totals))
        totals[first] += delta
    return totals


def _breakdowns(totals: dict[Label, int], currency: str) -> list[dict[str, Any]]:
    """The labels' amounts nested level by level; each level's amount is the sum of the one below."""
    def level(labels: dict[tuple[str, ...], int]) -> list[dict[str, Any]]:
        groups: dict[str, dict[tuple[str, ...], int]] = {}
        for label, amount in labels.items():
            groups.setdefault(label[0], {})[label[1:]] = amount
        return [{"breakdownType": name,
                 "breakdownAmount": currency_finances_2024(sum(rest.values()), currency),
                 "breakdowns": level({k: v for k, v in rest.items() if k}) if any(rest) else []}
                for name, rest in groups.items()]

    return level(dict(totals))


def _summary(seller: SellerWorld, marketplace: str, postings: list[Posting], start: int, end: int,
             settlement_id: str | None = None, delta: int = 0) -> dict[str, Any]:
    currency = MARKETPLACES[marketplace].currency
    totals = _totals(postings, delta)
    out: dict[str, Any] = {
        "partnerMetadata": {"partnerId": seller.account.seller_id, "accountType": ACCOUNT_TYPE,
                            "marketplaceId": MARKETPLACES[marketplace].marketplace_id},
        "netProceeds": currency_finances_2024(sum(totals.values()), currency),
    }
    if settlement_id:
        out["relatedIdentifiers"] = [{"relatedIdentifierName": "SETTLEMENT_ID",
                                      "relatedIdentifierValue": settlement_id}]
    out["breakdowns"] = _breakdowns(totals, currency)
    out["periodStart"], out["periodEnd"] = iso(start), iso(end)
    return out


def _date(req: Request, name: str) -> int | None:
    value = req.param(name)
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise invalid_input(f"Invalid {name}: '{value}' is not an ISO-8601 date.") from None


def _query(state: Any, req: Request, seller: SellerWorld) -> dict[str, Any]:
    name, value = req.param("relatedIdentifierName"), req.param("relatedIdentifierValue")
    if name and name != "SETTLEMENT_ID":
        raise invalid_input(f"Invalid relatedIdentifierName: '{name}'; the only possible value is SETTLEMENT_ID.")
    if bool(name) != bool(value):
        raise invalid_input("relatedIdentifierName and relatedIdentifierValue must be provided together.")
    start, end = _date(req, "periodStart"), _date(req, "periodEnd")
    if start is not None and end is not None and end < start:
        raise invalid_input("Invalid periodEnd: it must not be before periodStart.")
    codes = sorted({settlement_marketplace(m.code) for m in marketplaces(req, seller, "marketplaceIds",
                                                                         required=False)})
    account_type = req.param("accountType")
    return {"settlement_id": value, "start": start, "end": end, "markets": codes,
            "none": account_type not in (None, ACCOUNT_TYPE), "now": state.world.now}


def summaries(seller: SellerWorld, query: dict[str, Any]) -> list[dict[str, Any]]:
    if query["none"]:
        return []
    if query["settlement_id"]:
        return [_summary(seller, s.marketplace, s.postings, s.start_at, s.end_at, s.settlement_id, s.summary_delta)
                for s in seller.settlements
                if s.closed and s.settlement_id == query["settlement_id"] and s.marketplace in query["markets"]]
    start = query["start"] or 0
    end = (query["end"] + DAY if query["end"] is not None else query["now"])  # periodEnd: on or before that day
    out = []
    for s in sorted(seller.settlements, key=lambda s: (s.start_at, s.marketplace)):
        posted = [p for p in s.postings if p.posted_at <= query["now"]]
        if s.marketplace not in query["markets"] or not any(start <= p.posted_at < end for p in posted):
            continue
        if s.closed:
            out.append(_summary(seller, s.marketplace, s.postings, s.start_at, s.end_at, s.settlement_id,
                                s.summary_delta))
        else:
            out.append(_summary(seller, s.marketplace, posted, s.start_at, max(p.posted_at for p in posted)))
    return out


@route("GET", "/finances/2024-06-19/summary", SUMMARY)
def list_summary(state: Any, req: Request) -> Response:
    seller = seller_world(state, req)
    query, offset = resume_or_start(req, SUMMARY, "nextToken", lambda: _query(state, req, seller))
    page = paginate(SUMMARY, query, summaries(seller, query), max(offset, 0), PAGE, req.seller_id)
    body: dict[str, Any] = {"summaries": page.items}
    if page.next_token:
        body["nextToken"] = page.next_token
    return Response(body=body)
