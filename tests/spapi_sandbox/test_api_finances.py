"""Finances over real HTTP: event groups agree with settlements, transactions with postings, to the cent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import decimal_num, iso, parse_iso
from spapi_sandbox.world import Posting, Settlement
from tests.contract.checker import assert_matches_model
from tests.contract.harness import Api, error_codes, running_api

GROUPS = "/finances/v0/financialEventGroups"
TRANSACTIONS = "/finances/2024-06-19/transactions"
DAY = 86_400


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with running_api() as running:
        yield running


def group_pages(api: Api, params: dict[str, Any], seller: int = 0) -> list[dict[str, Any]]:
    groups, response = [], api.get(GROUPS, params, seller=seller)
    while True:
        assert response.status_code == 200, response.text
        assert_matches_model("financesV0.json", "listFinancialEventGroups", 200, response.json())
        payload = response.json()["payload"]
        groups += payload["FinancialEventGroupList"]
        if not payload.get("NextToken"):
            return groups
        response = api.get(GROUPS, {"NextToken": payload["NextToken"]}, seller=seller)


def transaction_pages(api: Api, params: dict[str, Any], seller: int = 0) -> list[dict[str, Any]]:
    found, response = [], api.get(TRANSACTIONS, params, seller=seller)
    while True:
        assert response.status_code == 200, response.text
        assert_matches_model("finances_2024-06-19.json", "listTransactions", 200, response.json())
        payload = response.json()["payload"]
        found += payload["transactions"]
        if not payload.get("nextToken"):
            return found
        response = api.get(TRANSACTIONS, {**params, "nextToken": payload["nextToken"]}, seller=seller)


def currency(settlement: Settlement | Posting) -> str:
    return MARKETPLACES[settlement.marketplace].currency


def amount(minor: int, code: str) -> dict[str, Any]:
    return {"CurrencyCode": code, "CurrencyAmount": decimal_num(minor, code)}


def test_one_event_group_per_settlement_with_its_totals(api):  # seller 0: 1 call
    groups = {g["FinancialEventGroupId"]: g for g in group_pages(api, {"MaxResultsPerPage": 100})}
    settlements = api.seller(0).settlements
    assert set(groups) == {s.event_group_id for s in settlements}
    for s in settlements:
        group, code = groups[s.event_group_id], currency(s)
        assert group["FinancialEventGroupStart"] == iso(s.start_at)
        if not s.closed:
            assert group["ProcessingStatus"] == "Open" and group["FundTransferStatus"] == "Unknown"
            assert group["OriginalTotal"] == amount(s.total, code)
            assert not {"FinancialEventGroupEnd", "ConvertedTotal", "FundTransferDate", "TraceId"} & set(group)
            continue
        assert group["ProcessingStatus"] == "Closed"
        assert group["FundTransferStatus"] == s.fund_transfer_status
        assert group["OriginalTotal"] == amount(s.total, code)
        assert group["FinancialEventGroupEnd"] == iso(s.end_at)
        previous = sum(c.amount for p in s.postings for c in p.components
                       if c.description == "Previous Reserve Amount Balance")
        assert group["BeginningBalance"] == amount(previous, code)
        if s.transferred_amount is None:
            assert not {"ConvertedTotal", "FundTransferDate", "TraceId"} & set(group)
        else:
            assert group["ConvertedTotal"] == amount(s.transferred_amount, code)
            assert group["FundTransferDate"] == iso(s.deposit_at) and group["TraceId"] == s.trace_id


def test_planted_deposit_problems_show_in_the_groups(api):  # seller 0: 1 call
    seller_id = api.seller(0).account.seller_id
    by_settlement = {s.settlement_id: s for s in api.seller(0).settlements}
    groups = {g["FinancialEventGroupId"]: g for g in group_pages(api, {"MaxResultsPerPage": 100})}
    planted = [d for d in api.world.discrepancies if d.seller_id == seller_id and d.kind.startswith("deposit_")]
    assert {d.kind for d in planted} == {"deposit_missing", "deposit_mismatch"}
    for finding in planted:
        group = groups[by_settlement[finding.reference_id].event_group_id]
        original = round(group["OriginalTotal"]["CurrencyAmount"] * 100)
        if finding.kind == "deposit_missing":
            assert group["FundTransferStatus"] == "Failed" and "ConvertedTotal" not in group
            assert original == finding.amount
        else:
            converted = round(group["ConvertedTotal"]["CurrencyAmount"] * 100)
            assert original - converted == finding.amount


def test_group_pages_with_next_token_alone_cover_the_same_groups(api):  # seller 0: 5 calls
    everything = group_pages(api, {"MaxResultsPerPage": 100})
    paged = group_pages(api, {"MaxResultsPerPage": 2})
    assert paged == everything and len(everything) > 4


def test_group_start_filters(api):  # seller 0: 2 calls
    after, before = "2026-01-15T00:00:00Z", "2026-02-15T00:00:00Z"
    groups = group_pages(api, {"FinancialEventGroupStartedAfter": after, "FinancialEventGroupStartedBefore": before,
                               "MaxResultsPerPage": 100})
    expected = {s.event_group_id for s in api.seller(0).settlements
                if parse_iso(after) <= s.start_at < parse_iso(before)}
    assert expected and {g["FinancialEventGroupId"] for g in groups} == expected
    # Amazon returns nothing for windows longer than 180 days
    assert group_pages(api, {"FinancialEventGroupStartedAfter": "2025-06-01T00:00:00Z",
                             "FinancialEventGroupStartedBefore": "2026-02-01T00:00:00Z"}) == []


def _expected_status(posting: Posting, now: int) -> str:
    if posting.transaction_type != "Order":  # only order payments wait for delivery
        return "RELEASED"
    return "DEFERRED" if not posting.settlement_id and posting.posted_at > now - 7 * DAY else "DEFERRED_RELEASED"


def test_transactions_mirror_postings_and_add_up_to_the_groups(api):  # seller 0: 5 calls
    since = parse_iso("2026-02-01T00:00:00Z")
    transactions = transaction_pages(api, {"postedAfter": "2026-02-01T00:00:00Z"})
    postings = sorted((p for p in api.seller(0).postings if p.posted_at >= since),
                      key=lambda p: (p.posted_at, p.posting_id))
    assert [t["transactionId"] for t in transactions] == [p.posting_id for p in postings]
    by_group: dict[str, int] = defaultdict(int)
    for posting, rendered in zip(postings, transactions, strict=True):
        code = currency(posting)
        assert rendered["totalAmount"] == {"currencyCode": code, "currencyAmount": decimal_num(posting.total, code)}
        assert rendered["postedDate"] == iso(posting.posted_at)
        # breakdowns: settlement amount-type, then amount-description: the settlement lines, to the cent
        lines = sorted((top["breakdownType"], leaf["breakdownType"], round(leaf["breakdownAmount"]["currencyAmount"]
                                                                           * 100))
                       for top in rendered["breakdowns"] for leaf in top["breakdowns"])
        assert lines == sorted((c.amount_type, c.description, c.amount) for c in posting.components)
        for top in rendered["breakdowns"]:
            assert round(top["breakdownAmount"]["currencyAmount"] * 100) == sum(
                round(leaf["breakdownAmount"]["currencyAmount"] * 100) for leaf in top["breakdowns"])
        related = {r["relatedIdentifierName"]: r["relatedIdentifierValue"] for r in rendered["relatedIdentifiers"]}
        assert related["FINANCIAL_EVENT_GROUP_ID"] == posting.event_group_id
        assert related.get("SETTLEMENT_ID", "") == posting.settlement_id
        if posting.order_id and not posting.order_id.startswith("FBA"):
            assert related["ORDER_ID"] == posting.order_id
        if posting.sku:
            (item,) = rendered["items"]
            assert item["contexts"][0]["sku"] == posting.sku
        if abs(posting.posted_at - (api.world.now - 7 * DAY)) > 600:  # away from the 7-day boundary
            assert rendered["transactionStatus"] == _expected_status(posting, api.world.now)
        by_group[posting.event_group_id] += posting.total
    for settlement in api.seller(0).settlements:
        if settlement.closed and settlement.start_at >= since:
            assert by_group[settlement.event_group_id] == settlement.total


def test_transaction_filters(api):  # seller 0: 4-5 calls
    deferred = transaction_pages(api, {"postedAfter": "2026-02-15T00:00:00Z", "transactionStatus": "DEFERRED"})
    assert deferred and all(t["transactionStatus"] == "DEFERRED" for t in deferred)
    assert all(t["contexts"][0]["contextType"] == "DeferredContext" for t in deferred)
    assert all("SETTLEMENT_ID" not in {r["relatedIdentifierName"] for r in t["relatedIdentifiers"]}
               for t in deferred)
    assert {t["transactionType"] for t in deferred} == {"Shipment"}  # only order payments wait for delivery
    released = transaction_pages(api, {"postedAfter": "2026-02-15T00:00:00Z", "transactionStatus": "DEFERRED_RELEASED"})
    assert released and {t["transactionType"] for t in released} == {"Shipment"}
    refund = next(p for p in api.seller(0).postings if p.transaction_type == "Refund")
    by_order = transaction_pages(api, {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": refund.order_id})
    assert {t["transactionId"] for t in by_order} == {p.posting_id for p in api.seller(0).postings
                                                       if p.order_id == refund.order_id}
    assert {t["transactionType"] for t in by_order} == {"Shipment", "Refund"}
    ca = MARKETPLACES["CA"].marketplace_id
    in_ca = transaction_pages(api, {"postedAfter": "2026-02-25T00:00:00Z", "marketplaceId": ca})
    assert in_ca and {t["marketplaceDetails"]["marketplaceId"] for t in in_ca} == {ca}
    too_wide = transaction_pages(api, {"postedAfter": "2025-06-01T00:00:00Z", "postedBefore": "2026-01-15T00:00:00Z"})
    assert too_wide == []


@pytest.mark.parametrize(("path", "params", "message"), [
    (GROUPS, {"MaxResultsPerPage": 0}, "MaxResultsPerPage"),
    (GROUPS, {"MaxResultsPerPage": "ten"}, "MaxResultsPerPage"),
    (GROUPS, {"FinancialEventGroupStartedAfter": "2026-02-01", "FinancialEventGroupStartedBefore": "2026-01-01"},
     "FinancialEventGroupStartedBefore"),
    (GROUPS, {"NextToken": "garbage"}, "Invalid NextToken"),
    (TRANSACTIONS, {}, "postedAfter"),
    (TRANSACTIONS, {"postedAfter": "2026-02-01T00:00:00Z", "transactionStatus": "PENDING"}, "transactionStatus"),
    (TRANSACTIONS, {"postedAfter": "2026-02-01T00:00:00Z", "postedBefore": "2026-01-01T00:00:00Z"}, "postedBefore"),
    (TRANSACTIONS, {"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": "1"}, "SETTLEMENT_ID"),
    (TRANSACTIONS, {"postedAfter": "2026-02-01T00:00:00Z", "marketplaceId": MARKETPLACES["US"].marketplace_id},
     "not registered"),
])
def test_invalid_finance_requests_are_invalid_input(api, path, params, message):  # seller 1: 9 calls
    response = api.get(path, params, seller=1)
    assert response.status_code == 400 and error_codes(response) == ["InvalidInput"]
    assert message in response.json()["errors"][0]["message"]
    model, operation = (("financesV0.json", "listFinancialEventGroups") if path == GROUPS
                        else ("finances_2024-06-19.json", "listTransactions"))
    assert_matches_model(model, operation, 400, response.json())
