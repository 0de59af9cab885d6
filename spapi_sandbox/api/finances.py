"""Finances v0 listFinancialEventGroups and Finances 2024-06-19 listTransactions.

Event groups, one per settlement period and marketplace:
- a closed settlement is a Closed group: OriginalTotal is the settlement total; FundTransferStatus
  is the settlement's; ConvertedTotal, FundTransferDate and TraceId appear only once money was
  actually transferred (transferred_amount is not None), ConvertedTotal being the amount that
  arrived. A deposit that never arrived therefore shows as a Closed group without ConvertedTotal,
  and a short deposit as ConvertedTotal != OriginalTotal.
- a period not closed yet is an Open group: OriginalTotal is the balance posted so far,
  FundTransferStatus "Unknown", no end, transfer or trace.
BeginningBalance is the reserve carried over from the previous period of the same marketplace.

Transactions, one per posting (settlement line group): breakdowns mirror the settlement lines,
top level = settlement amount-type, nested = amount-description, so the lines can be rebuilt to
the cent. Only order payments are deferred (Amazon's help, "What is a deferred transaction?": a transaction is
deferred while an order is awaiting delivery or pending buyer payment): an order posting of an open period posted
less than 7 days ago is DEFERRED (maturity 7 days after posting, standing in for delivery + 7 days), and
DEFERRED_RELEASED once released (the 2024-06-19 model: "the transaction was deferred in the past, but is now
released"); every other posting is RELEASED from the start.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from spapi_sandbox.api.indexes import RESERVE_CURRENT, seller_index
from spapi_sandbox.api.paging import decode_token, encode_token, paginate, resume_or_start, scan_page
from spapi_sandbox.api.params import (
    check_marketplace,
    enum_value,
    integer,
    seller_world,
    timestamp,
    window,
)
from spapi_sandbox.http import Request, Response, invalid_input, route
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import currency_finances_2024, currency_finances_v0, iso
from spapi_sandbox.world import Posting, SellerWorld, Settlement

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState

DAY = 86_400
MAX_WINDOW = 180 * DAY  # both APIs return nothing for windows longer than 180 days
DEFERRAL = 7 * DAY
GROUPS = "listFinancialEventGroups"
TRANSACTIONS = "listTransactions"
TRANSACTION_PAGE = 100
STATUSES = ("DEFERRED", "RELEASED", "DEFERRED_RELEASED")
FILTERABLE_IDENTIFIERS = ("FINANCIAL_EVENT_GROUP_ID", "ORDER_ID")


# --- listFinancialEventGroups ----------------------------------------------------------------------

def account_tail(seller_id: str) -> str:
    """The last digits of the seller's bank account, stable per seller."""
    return str(int(hashlib.sha256(f"account-tail:{seller_id}".encode()).hexdigest()[:8], 16) % 1000).zfill(3)


def _groups(seller: SellerWorld, now: float) -> list[tuple[Settlement, int]]:
    """(settlement, beginning balance) for every period started by now, in start order."""
    out = []
    held = seller_index(seller).reserve_held
    for code in seller.account.marketplace_codes:
        carried = 0
        for settlement in sorted((s for s in seller.settlements if s.marketplace == code),
                                 key=lambda s: s.start_at):
            if settlement.start_at <= now:
                out.append((settlement, carried))
            carried = held.get(settlement.event_group_id, 0) if settlement.closed else carried
    return sorted(out, key=lambda pair: (pair[0].start_at, pair[0].event_group_id))


def render_group(settlement: Settlement, beginning: int, now: float) -> dict[str, Any]:
    currency = MARKETPLACES[settlement.marketplace].currency
    out: dict[str, Any] = {"FinancialEventGroupId": settlement.event_group_id}
    if settlement.closed:
        out["ProcessingStatus"] = "Closed"
        out["FundTransferStatus"] = settlement.fund_transfer_status
        out["OriginalTotal"] = currency_finances_v0(settlement.total, currency)
        if settlement.transferred_amount is not None:
            out["ConvertedTotal"] = currency_finances_v0(settlement.transferred_amount, currency)
            out["FundTransferDate"] = iso(settlement.deposit_at)
            out["TraceId"] = settlement.trace_id
        out["AccountTail"] = account_tail(settlement.seller_id)
    else:
        out["ProcessingStatus"] = "Open"
        out["FundTransferStatus"] = "Unknown"
        balance = sum(p.total for p in settlement.postings if p.posted_at <= now)
        out["OriginalTotal"] = currency_finances_v0(balance, currency)
    out["BeginningBalance"] = currency_finances_v0(beginning, currency)
    out["FinancialEventGroupStart"] = iso(settlement.start_at)
    if settlement.closed:
        out["FinancialEventGroupEnd"] = iso(settlement.end_at)
    return out


@route("GET", "/finances/v0/financialEventGroups", GROUPS)
def list_financial_event_groups(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    token = req.param("NextToken")
    if token:
        query, offset = decode_token(GROUPS, token, "NextToken", req.seller_id)
    else:
        now = int(state.clock.now())
        after = timestamp(req, "FinancialEventGroupStartedAfter")
        before_given = timestamp(req, "FinancialEventGroupStartedBefore")
        before = window(after, before_given, now, "FinancialEventGroupStartedAfter",
                        "FinancialEventGroupStartedBefore")
        too_wide = after is not None and before_given is not None and before_given - after > MAX_WINDOW
        query = {"after": after, "before": before, "empty": too_wide,
                 "size": integer(req, "MaxResultsPerPage", 10, 1, 100)}
        offset = 0
    now = state.clock.now()
    groups = [] if query["empty"] else [
        (s, b) for s, b in _groups(seller, min(now, query["before"]))
        if (query["after"] is None or s.start_at >= query["after"]) and s.start_at < query["before"]
    ]
    page = paginate(GROUPS, query, groups, offset, query["size"], req.seller_id)
    payload: dict[str, Any] = {}
    if page.next_token:
        payload["NextToken"] = page.next_token
    payload["FinancialEventGroupList"] = [render_group(s, b, now) for s, b in page.items]
    return Response(body={"payload": payload})


# --- listTransactions ------------------------------------------------------------------------------

TRANSACTION_TYPES = {  # settlement transaction-type or amount-description -> (transactionType, description)
    "Order": ("Shipment", "Order Payment"),
    "Refund": ("Refund", "Refund Order"),
    "ServiceFee": ("ProductAdsPayment", "Cost of Advertising"),
    "Storage Fee": ("ServiceFee", "FBA Storage Fee"),
    "FBA Inbound Transportation Fee": ("ServiceFee", "FBA Inbound Transportation Fee"),
    "Subscription Fee": ("ServiceFee", "Subscription Fee"),
    "WAREHOUSE_LOST": ("Adjustment", "FBA Inventory Reimbursement - Lost:Warehouse"),
    "WAREHOUSE_DAMAGE": ("Adjustment", "FBA Inventory Reimbursement - Damaged:Warehouse"),
    RESERVE_CURRENT: ("Transfer", "Current Reserve Amount"),
    "Previous Reserve Amount Balance": ("Transfer", "Previous Reserve Amount Balance"),
}


def _kind(posting: Posting) -> tuple[str, str]:
    if posting.transaction_type in TRANSACTION_TYPES:
        return TRANSACTION_TYPES[posting.transaction_type]
    description = posting.components[0].description if posting.components else ""
    return TRANSACTION_TYPES.get(description, ("Adjustment", description or posting.transaction_type))


def status_of(posting: Posting, now: float) -> str:
    """An order payment: DEFERRED while its period is open and it was posted less than 7 days ago, then
    DEFERRED_RELEASED. Anything else: RELEASED."""
    if posting.transaction_type != "Order":
        return "RELEASED"
    return "DEFERRED" if not posting.settlement_id and posting.posted_at > now - DEFERRAL else "DEFERRED_RELEASED"


def _breakdowns(posting: Posting, currency: str) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    totals: dict[str, int] = {}
    for c in posting.components:
        groups.setdefault(c.amount_type, []).append(
            {"breakdownType": c.description, "breakdownAmount": currency_finances_2024(c.amount, currency)})
        totals[c.amount_type] = totals.get(c.amount_type, 0) + c.amount
    return [{"breakdownType": kind, "breakdownAmount": currency_finances_2024(totals[kind], currency),
             "breakdowns": rows} for kind, rows in groups.items()]


def _is_shipment_id(value: str) -> bool:
    """FBA fee rows carry an inbound shipment id (FBA15...) where orders carry an order id."""
    return value.startswith("FBA")


def related_identifiers(posting: Posting) -> list[dict[str, str]]:
    ids: list[tuple[str, str]] = []
    if posting.order_id:
        ids.append(("SHIPMENT_ID" if _is_shipment_id(posting.order_id) else "ORDER_ID", posting.order_id))
    if posting.shipment_id:
        ids.append(("SHIPMENT_ID", posting.shipment_id))
    if posting.transaction_type == "Refund" and posting.adjustment_id:
        ids.append(("REFUND_ID", posting.adjustment_id))
    if posting.settlement_id:
        ids.append(("SETTLEMENT_ID", posting.settlement_id))
    if posting.event_group_id:
        ids.append(("FINANCIAL_EVENT_GROUP_ID", posting.event_group_id))
    return [{"relatedIdentifierName": name, "relatedIdentifierValue": value} for name, value in ids]


def render_transaction(posting: Posting, seller: SellerWorld, now: float) -> dict[str, Any]:
    market = MARKETPLACES[posting.marketplace]
    currency = market.currency
    kind, description = _kind(posting)
    status = status_of(posting, now)
    breakdowns = _breakdowns(posting, currency)
    out: dict[str, Any] = {
        "sellingPartnerMetadata": {"sellingPartnerId": posting.seller_id, "accountType": "Standard Orders",
                                   "marketplaceId": market.marketplace_id},
        "relatedIdentifiers": related_identifiers(posting),
        "transactionType": kind,
        "transactionId": posting.posting_id,
        "transactionStatus": status,
        "description": description,
        "postedDate": iso(posting.posted_at),
        "totalAmount": currency_finances_2024(posting.total, currency),
        "marketplaceDetails": {"marketplaceId": market.marketplace_id, "marketplaceName": market.name},
    }
    if posting.sku:
        product = seller_index(seller).products_by_sku.get(posting.sku)
        context: dict[str, Any] = {"contextType": "ProductContext"}
        if product:
            context["asin"] = product.asin
        context["sku"] = posting.sku
        if posting.quantity is not None:
            context["quantityShipped"] = posting.quantity
        if posting.fulfillment_id:
            context["fulfillmentNetwork"] = posting.fulfillment_id
        item: dict[str, Any] = {"description": product.title if product else posting.sku}
        if posting.merchant_adjustment_item_id:
            item["relatedIdentifiers"] = [{"itemRelatedIdentifierName": "ORDER_ADJUSTMENT_ITEM_ID",
                                           "itemRelatedIdentifierValue": posting.merchant_adjustment_item_id}]
        item["totalAmount"] = currency_finances_2024(posting.total, currency)
        item["breakdowns"] = breakdowns
        item["contexts"] = [context]
        out["items"] = [item]
    if status == "DEFERRED":
        out["contexts"] = [{"contextType": "DeferredContext", "deferralReason": "DD7",
                            "maturityDate": iso(posting.posted_at + DEFERRAL)}]
    out["breakdowns"] = breakdowns
    return out


def _transactions_query(state: SandboxState, req: Request, seller: SellerWorld) -> dict[str, Any]:
    now = int(state.clock.now())
    name, value = req.param("relatedIdentifierName"), req.param("relatedIdentifierValue")
    if name and name not in FILTERABLE_IDENTIFIERS:
        raise invalid_input(f"Invalid relatedIdentifierName: '{name}'; only "
                            f"{' and '.join(FILTERABLE_IDENTIFIERS)} can be used for filtering.")
    if bool(name) != bool(value):
        raise invalid_input("relatedIdentifierName and relatedIdentifierValue must be provided together.")
    after = timestamp(req, "postedAfter")
    if after is None and not name:
        raise invalid_input("Missing required parameter: postedAfter (required unless a related identifier "
                            "is given).")
    before_given = timestamp(req, "postedBefore")
    if after is not None and before_given is not None and before_given <= after:
        raise invalid_input("Invalid postedBefore: it must be later than postedAfter.")
    before = window(after, before_given, now, "postedAfter", "postedBefore")
    marketplace_id = req.param("marketplaceId")
    market = check_marketplace(seller, marketplace_id) if marketplace_id else None
    too_wide = after is not None and before_given is not None and before_given - after > MAX_WINDOW
    return {"after": after or 0, "before": before, "market": market.code if market else None,
            "status": enum_value(req, "transactionStatus", STATUSES), "id_name": name, "id_value": value,
            "empty": too_wide,
            # Statuses are as of the world's snapshot: the data does not move on with the clock.
            "now": state.world.now}


def _keep(query: dict[str, Any]):
    def keep(posting: Posting) -> bool:
        if posting.posted_at >= query["before"]:  # postedBefore: "before (but not on)"
            return False
        if query["market"] and posting.marketplace != query["market"]:
            return False
        if query["id_name"] == "ORDER_ID" and posting.order_id != query["id_value"]:
            return False
        if query["id_name"] == "FINANCIAL_EVENT_GROUP_ID" and posting.event_group_id != query["id_value"]:
            return False
        return not query["status"] or status_of(posting, query["now"]) == query["status"]

    return keep


@route("GET", "/finances/2024-06-19/transactions", TRANSACTIONS)
def list_transactions(state: SandboxState, req: Request) -> Response:
    seller = seller_world(state, req)
    query, start = resume_or_start(req, TRANSACTIONS, "nextToken", lambda: _transactions_query(state, req, seller))
    index = seller_index(seller)
    if start < 0:
        start = bisect_left(index.posting_keys, query["after"])
    stop = len(index.postings) if not query["empty"] else start
    stop = min(stop, bisect_left(index.posting_keys, query["before"]))
    page, next_start = scan_page(index.postings, start, stop, _keep(query), TRANSACTION_PAGE)
    now = query["now"]
    payload: dict[str, Any] = {}
    if next_start is not None:
        payload["nextToken"] = encode_token(TRANSACTIONS, query, next_start, req.seller_id)
    payload["transactions"] = [render_transaction(p, seller, now) for p in page]
    return Response(body={"payload": payload})
