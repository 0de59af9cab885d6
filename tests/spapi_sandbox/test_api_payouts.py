"""Balances, summaries, payouts and expected payouts over real HTTP agree with the world, to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from spapi_sandbox.api.balances import open_balance
from spapi_sandbox.api.transfers import render_payout
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import iso
from spapi_sandbox.world import DataArguments
from tests.contract.checker import assert_matches_model
from tests.contract.harness import Api, running_api

FINANCES = "finances_2024-06-19.json"
TRANSFERS = "transfers_2024-06-01.json"


# Long enough that each seller's fifth settlement (the one planted to disagree with its summary) is issued.
ARGUMENTS = DataArguments(seed=7, sellers=2, start="2026-01-01", days=90, orders_per_day=4)


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with running_api(arguments=ARGUMENTS) as running:
        yield running


def cents(amount: dict) -> int:
    return int(Decimal(str(amount["currencyAmount"])) * 100)


def test_every_issued_settlement_has_one_payout_as_its_event_group_transferred_it(api):
    """Seller 1 (UK, DE, FR): Transfers serves DE and FR (FR settles in DE's settlement), not UK."""
    seller = api.seller(1)
    response = api.get("/finances/transfers/2024-06-01/payouts", {}, seller=1)
    assert response.status_code == 200
    assert_matches_model(TRANSFERS, "listPayouts", 200, response.json())
    payouts = {p["relatedIdentifiers"][0]["relatedIdentifierValue"]: p for p in response.json()["payouts"]}
    de = [s for s in seller.settlements if s.closed and s.marketplace == "DE"]
    assert de and set(payouts) == {s.settlement_id for s in de}
    assert {p["partnerMetadata"]["marketplaceId"] for p in payouts.values()} == {MARKETPLACES["DE"].marketplace_id}
    for s in de:
        arrived = s.transferred_amount if s.transferred_amount is not None else s.total
        assert cents(payouts[s.settlement_id]["amount"]) == arrived


def test_a_payout_shows_its_settlements_transfer_status(api):
    """Rendered for every closed settlement of both sellers, so each status the world plants is seen."""
    statuses = set()
    for seller in (api.seller(0), api.seller(1)):
        for s in (s for s in seller.settlements if s.closed):
            payout = render_payout(seller, s, api.world.now)
            statuses.add(payout["currentStatus"])
            if s.total == 0:
                assert payout["currentStatus"] == "NO_PAYOUT" and "amount" not in payout
                continue
            arrived = s.transferred_amount if s.transferred_amount is not None else s.total
            assert cents(payout["amount"]) == arrived
            expected = {"Succeeded": "PAID", "Failed": "FAILED"}.get(s.fund_transfer_status)
            if expected:
                assert payout["currentStatus"] == expected
                assert payout["statusHistory"][-1]["lastUpdatedDate"] == iso(s.deposit_at)
            assert ("traceId" in payout) == (payout["currentStatus"] == "PAID")
    assert {"PAID", "FAILED", "NO_PAYOUT"} <= statuses


@pytest.mark.parametrize("path", ["/finances/transfers/2024-06-01/payouts",
                                  "/finances/transfers/2024-06-01/payouts/expected"])
def test_transfers_answer_only_for_the_marketplaces_amazon_supports(api, path):
    """transfers_2024-06-01.json: "This API supports the following marketplaces: DE, FR, IT, ES, SE, NL, PL, and
    BE." Seller 0 (US, CA) has none of them: nothing without marketplaceIds, 400 when naming its own."""
    items = "payouts" if path.endswith("payouts") else "expectedPayouts"
    assert api.get(path, {}, seller=0).json() == {items: []}
    for code in ("US", "CA"):
        refused = api.get(path, {"marketplaceIds": MARKETPLACES[code].marketplace_id}, seller=0)
        assert refused.status_code == 400
        [error] = refused.json()["errors"]
        assert error["code"] == "InvalidInput" and MARKETPLACES[code].marketplace_id in error["message"]
    refused = api.get(path, {"marketplaceIds": ",".join(MARKETPLACES[c].marketplace_id for c in ("DE", "UK"))},
                      seller=1)
    assert refused.status_code == 400 and MARKETPLACES["UK"].marketplace_id in refused.json()["errors"][0]["message"]
    assert MARKETPLACES["DE"].marketplace_id not in refused.json()["errors"][0]["message"]
    fr = api.get(path, {"marketplaceIds": MARKETPLACES["FR"].marketplace_id}, seller=1)
    assert fr.status_code == 200 and fr.json()[items]  # FR's money is in DE's settlement


def test_a_settlements_summary_adds_up_to_its_lines_except_the_planted_one(api):
    seller = api.seller(0)
    closed = [s for s in seller.settlements if s.closed]
    assert any(s.summary_delta for s in closed)
    for s in closed:
        response = api.get("/finances/2024-06-19/summary", {"relatedIdentifierName": "SETTLEMENT_ID",
                                                             "relatedIdentifierValue": s.settlement_id}, seller=0)
        assert response.status_code == 200
        assert_matches_model(FINANCES, "listSummary", 200, response.json())
        [summary] = response.json()["summaries"]
        assert cents(summary["netProceeds"]) == s.total + s.summary_delta
        leaves = [leaf for top in summary["breakdowns"] for mid in top["breakdowns"] for leaf in mid["breakdowns"]]
        assert sum(cents(leaf["breakdownAmount"]) for leaf in leaves) == s.total + s.summary_delta
        assert sum(cents(top["breakdownAmount"]) for top in summary["breakdowns"]) == s.total + s.summary_delta


def test_balances_and_expected_payouts_are_the_open_periods(api):
    """Seller 1: its balances for every marketplace, its expected payouts for DE (Transfers' only one of its)."""
    seller = api.seller(1)
    now = api.world.now
    balances = api.get("/finances/2024-06-19/balances", {}, seller=1).json()["balances"]
    expected = api.get("/finances/transfers/2024-06-01/payouts/expected", {}, seller=1).json()["expectedPayouts"]
    assert {p["partnerMetadata"]["marketplaceId"] for p in expected} == {MARKETPLACES["DE"].marketplace_id}
    assert len(expected) == len(open_balance(seller, "DE", now).deposits)
    assert_matches_model(TRANSFERS, "listExpectedPayouts", 200, {"expectedPayouts": expected})
    by_market = {MARKETPLACES[c].marketplace_id: c for c in seller.account.marketplace_codes}
    assert balances and expected
    for balance in balances:
        state = open_balance(seller, by_market[balance["partnerMetadata"]["marketplaceId"]], now)
        available, reserved = balance["balances"]
        assert cents(balance["amount"]) == state.total == cents(available["amount"]) + cents(reserved["amount"])
        deferred, reserve = reserved["balances"]
        assert (cents(deferred["amount"]), cents(reserve["amount"])) == (state.deferred, state.reserve)
    for payout in expected:
        state = open_balance(seller, by_market[payout["partnerMetadata"]["marketplaceId"]], now)
        [deposit] = [d for d in state.deposits
                     if d.settlement.settlement_id == payout["relatedIdentifiers"][0]["relatedIdentifierValue"]]
        assert cents(payout["amount"]) == deposit.amount
        assert payout["scheduledDate"] == iso(deposit.settlement.deposit_at)
        assert not deposit.settlement.closed


def _all_pages(api, params: dict, seller: int) -> list[dict]:
    found, token = [], None
    while True:
        body = api.get("/finances/2024-06-19/summary", {**params, **({"nextToken": token} if token else {})},
                       seller=seller).json()
        assert_matches_model(FINANCES, "listSummary", 200, body)
        found += body["summaries"]
        token = body.get("nextToken")
        if not token:
            return found


@pytest.mark.parametrize("index", [0, 1])
def test_a_period_query_answers_each_settlement_with_a_posting_in_it_whole(api, index):
    """Every seller, US included: closed settlements carry their SETTLEMENT_ID and the id lookup's figures (the
    planted disagreement too); open periods carry no identifier."""
    seller = api.seller(index)
    summaries = _all_pages(api, {"periodStart": "2026-01-01", "periodEnd": iso(api.world.now)[:10]}, index)
    by_id = {s["relatedIdentifiers"][0]["relatedIdentifierValue"]: s for s in summaries if "relatedIdentifiers" in s}
    closed = [s for s in seller.settlements if s.closed]
    assert set(by_id) == {s.settlement_id for s in closed}
    assert any(s.summary_delta for s in closed)
    for s in closed:
        assert cents(by_id[s.settlement_id]["netProceeds"]) == s.total + s.summary_delta
    open_ones = [s for s in summaries if "relatedIdentifiers" not in s]
    assert len(open_ones) == sum(1 for s in seller.settlements if not s.closed and s.start_at <= api.world.now)


def test_a_one_day_period_answers_the_whole_settlement_it_falls_in(api):
    s = next(s for s in api.seller(0).settlements if s.closed and s.summary_delta)
    day = iso(s.postings[len(s.postings) // 2].posted_at)[:10]
    summaries = _all_pages(api, {"periodStart": day, "periodEnd": day,
                                 "marketplaceIds": MARKETPLACES[s.marketplace].marketplace_id}, 0)
    ids = [x["relatedIdentifiers"][0]["relatedIdentifierValue"] for x in summaries]
    assert s.settlement_id in ids and len(ids) <= 2  # a day on a period's boundary touches two
    [mine] = [x for x in summaries if x["relatedIdentifiers"][0]["relatedIdentifierValue"] == s.settlement_id]
    assert cents(mine["netProceeds"]) == s.total + s.summary_delta
