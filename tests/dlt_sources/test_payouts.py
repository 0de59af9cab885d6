"""Amazon's balances, payouts and settlement summaries flatten to plain rows, on the examples of Amazon's models
(finances_2024-06-19.json: Balance and listSummary's sandbox response; transfers_2024-06-01.json: Payout)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dlt_sources.spapi.config import AccountConfig, SecretRef
from dlt_sources.spapi.payouts import (
    expected_payout_rows,
    flatten_balance,
    flatten_payout,
    flatten_summary,
    payout_rows,
    settlement_summary_rows,
)

ACCOUNT = AccountConfig("acme-us", "A1SELLER", "NA", ("ATVPDKIKX0DER",), "cid", SecretRef(env="X"),
                        SecretRef(env="Y"), "https://sellingpartnerapi-na.amazon.com", "https://lwa.test/token")
# Amazon.co.uk, Amazon.de, Amazon.fr: Transfers serves DE and FR only (transfers_2024-06-01.json, info).
EU_ACCOUNT = replace(ACCOUNT, name="acme-eu", region="EU",
                     marketplace_ids=("A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"))
PARTNER = {"partnerId": "XXXXXXXXXXXXXX", "accountType": "Standard Orders", "marketplaceId": "AXXXXXXXXXER"}


def usd(amount: float) -> dict:
    return {"currencyAmount": amount, "currencyCode": "USD"}


def test_a_balance_tree_becomes_one_row_per_balance_type_with_its_parent() -> None:
    balance = {"partnerMetadata": PARTNER, "balanceType": "TOTAL", "amount": usd(15000),
               "lastUpdatedTime": "2025-01-12T10:30:00+09:00",
               "balances": [{"balanceType": "AVAILABLE", "amount": usd(8000)},
                            {"balanceType": "RESERVED", "amount": usd(7000), "balances": [
                                {"balanceType": "DEFERRED", "amount": usd(9000)},
                                {"balanceType": "ACCOUNT_LEVEL_RESERVE", "amount": usd(-2000)}]}]}
    rows = list(flatten_balance(ACCOUNT, balance))
    assert [(r["balance_type"], r["parent_balance_type"], r["amount"]) for r in rows] == [
        ("TOTAL", None, 15000), ("AVAILABLE", "TOTAL", 8000), ("RESERVED", "TOTAL", 7000),
        ("DEFERRED", "RESERVED", 9000), ("ACCOUNT_LEVEL_RESERVE", "RESERVED", -2000)]
    assert {(r["seller_id"], r["marketplace_id"], r["account_type"], r["currency"]) for r in rows} == {
        ("A1SELLER", "AXXXXXXXXXER", "Standard Orders", "USD")}


def test_a_summary_becomes_one_row_per_leaf_breakdown_with_its_path() -> None:
    summary = {"partnerMetadata": PARTNER, "periodStart": "2025-01-12", "periodEnd": "2025-01-12",
               "netProceeds": usd(8000),
               "breakdowns": [{"breakdownType": "Sales", "breakdownAmount": usd(8000), "breakdowns": [
                   {"breakdownType": "Product Charges", "breakdownAmount": usd(9000), "breakdowns": []}]},
                   {"breakdownType": "Expenses", "breakdownAmount": usd(-1000), "breakdowns": [
                       {"breakdownType": "FBA fees", "breakdownAmount": usd(-1000), "breakdowns": []}]}]}
    rows = list(flatten_summary(ACCOUNT, "123", summary))
    assert [(r["breakdown_path"], r["breakdown_depth"], r["amount"]) for r in rows] == [
        ("Sales > Product Charges", 2, 9000), ("Expenses > FBA fees", 2, -1000)]
    assert {(r["settlement_id"], r["net_proceeds"], r["currency"]) for r in rows} == {("123", 8000, "USD")}


def test_a_summary_without_breakdowns_still_records_its_net_proceeds() -> None:
    rows = list(flatten_summary(ACCOUNT, "9", {"partnerMetadata": PARTNER, "netProceeds": usd(0)}))
    assert [(r["breakdown_path"], r["amount"], r["net_proceeds"]) for r in rows] == [("", 0, 0)]


def test_a_payout_keeps_its_settlement_latest_status_and_amount() -> None:
    payout = {"id": "11888387941", "partnerMetadata": {**PARTNER, "accountType": "STANDARD_ORDERS"},
              "currentStatus": "PAID",
              "statusHistory": [{"status": "STARTED", "lastUpdatedDate": "2024-06-01T00:00:00Z"},
                                {"status": "IN_TRANSIT", "lastUpdatedDate": "2024-06-01T06:00:00Z"},
                                {"status": "PAID", "lastUpdatedDate": "2024-06-02T12:00:00Z"}],
              "type": "SCHEDULED", "amount": usd(1250.75), "accountTail": "1234", "paymentMethod": "BANK_ACCOUNT",
              "creationDate": "2024-06-01T00:00:00Z", "traceId": "4B03616UONXSAWP",
              "period": {"startDate": "2025-12-13T06:26:45Z", "endDate": "2025-12-14T06:30:45Z"},
              "relatedIdentifiers": [{"relatedIdentifierName": "SETTLEMENT_ID",
                                      "relatedIdentifierValue": "11888387941"}]}
    row = flatten_payout(ACCOUNT, payout)
    assert (row["payout_id"], row["settlement_id"], row["current_status"], row["status_updated_date"],
            row["amount"], row["currency"], row["trace_id"], row["period_start"]) == (
        "11888387941", "11888387941", "PAID", "2024-06-02T12:00:00Z", 1250.75, "USD", "4B03616UONXSAWP",
        "2025-12-13T06:26:45Z")


class RecordingClient:
    """Answers each operation with the given items, one page, and records what it was asked."""

    def __init__(self, answers: dict[str, list[dict[str, Any]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def paginate(self, operation: str, params: dict[str, Any]) -> Any:
        self.calls.append((operation, dict(params)))
        yield from self.answers.get(operation, [])


START, END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 20, 23, 55, tzinfo=UTC)


def test_an_account_without_a_transfers_marketplace_skips_payouts_quietly(caplog) -> None:
    client = RecordingClient({"listPayouts": [{"id": "1"}], "listExpectedPayouts": [{"status": "SCHEDULED"}]})
    with caplog.at_level(logging.INFO, logger="dlt_sources.spapi.payouts"):
        assert list(payout_rows(ACCOUNT, client, START, END)) == []
        assert list(expected_payout_rows(ACCOUNT, client)) == []
    assert client.calls == []
    assert [r.levelname for r in caplog.records] == ["INFO", "INFO"]
    assert all("acme-us" in r.getMessage() and "Transfers" in r.getMessage() for r in caplog.records)


def test_transfers_are_asked_only_for_the_marketplaces_they_serve() -> None:
    payout = {"id": "11888387941", "partnerMetadata": {**PARTNER, "marketplaceId": "A1PA6795UKMFR9"},
              "amount": {"currencyAmount": 10.5, "currencyCode": "EUR"}}
    client = RecordingClient({"listPayouts": [payout], "listExpectedPayouts": [payout]})
    rows = list(payout_rows(EU_ACCOUNT, client, START, END)) + list(expected_payout_rows(EU_ACCOUNT, client))
    assert [(r["marketplace_id"], r["amount"]) for r in rows] == [("A1PA6795UKMFR9", 10.5)] * 2
    assert [(op, p["marketplaceIds"]) for op, p in client.calls] == [
        ("listPayouts", ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"]),
        ("listExpectedPayouts", ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"])]


def _summary(settlement_id: str | None, net: float) -> dict[str, Any]:
    out: dict[str, Any] = {"partnerMetadata": PARTNER, "netProceeds": usd(net),
                           "breakdowns": [{"breakdownType": "Sales", "breakdownAmount": usd(net), "breakdowns": []}]}
    if settlement_id:
        out["relatedIdentifiers"] = [{"relatedIdentifierName": "SETTLEMENT_ID",
                                      "relatedIdentifierValue": settlement_id}]
    return out


def test_settlement_summaries_are_read_by_period_for_every_account_once_per_settlement() -> None:
    """A US-only account too; the open period's summary (no SETTLEMENT_ID) is not kept; a settlement answered
    twice (two pages, or two windows of one run) is kept once."""
    client = RecordingClient({"listSummary": [_summary("111", 80), _summary(None, 5), _summary("222", -3),
                                              _summary("111", 80)]})
    rows = list(settlement_summary_rows(ACCOUNT, client, START, END))
    assert [(r["settlement_id"], r["breakdown_path"], r["amount"]) for r in rows] == [
        ("111", "Sales", 80), ("222", "Sales", -3)]
    assert client.calls == [("listSummary", {"marketplaceIds": ("ATVPDKIKX0DER",), "periodStart": "2026-03-01",
                                             "periodEnd": "2026-03-20"})]
