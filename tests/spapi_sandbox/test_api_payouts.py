"""Balances, summaries, payouts and expected payouts over real HTTP agree with the world, to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from spapi_sandbox.api.balances import open_balance
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
    seller = api.seller(0)
    response = api.get("/finances/transfers/2024-06-01/payouts", {}, seller=0)
    assert response.status_code == 200
    assert_matches_model(TRANSFERS, "listPayouts", 200, response.json())
    payouts = {p["relatedIdentifiers"][0]["relatedIdentifierValue"]: p for p in response.json()["payouts"]}
    closed = [s for s in seller.settlements if s.closed]
    assert set(payouts) == {s.settlement_id for s in closed}
    statuses = set()
    for s in closed:
        payout = payouts[s.settlement_id]
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
    seller = api.seller(0)
    now = api.world.now
    balances = api.get("/finances/2024-06-19/balances", {}, seller=0).json()["balances"]
    expected = api.get("/finances/transfers/2024-06-01/payouts/expected", {}, seller=0).json()["expectedPayouts"]
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
