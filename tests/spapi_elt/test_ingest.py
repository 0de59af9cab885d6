"""The whole source against a real sandbox server into a real DuckDB file: every resource loads, the
numbers equal the sandbox's ground truth, re-runs change nothing, faults change nothing, PII never lands."""

from __future__ import annotations

import collections
from decimal import Decimal
from pathlib import Path

import pytest

from dlt_sources.spapi.pii import hash_value
from spapi_elt.lakehouse import DATASET
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.conftest import launch_sandbox
from tests.spapi_elt.ingest_helpers import checksum, data_tables, protector_for, query, run_ingest

ARGS = DataArguments(seed=21, sellers=2, start="2026-01-01", days=50, orders_per_day=8)
TIME_SCALE = 300.0  # Amazon's quotas and report processing, 300x faster


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One sandbox, one full ingest (logged at DEBUG), then the same window again into the same file."""
    sandbox = launch_sandbox(ARGS, time_scale=TIME_SCALE)
    workdir = tmp_path_factory.mktemp("ingest")
    lakehouse = workdir / "lakehouse.duckdb"
    try:
        first = run_ingest(sandbox, lakehouse, log_file=workdir / "ingest.log")
        before = {t: checksum(lakehouse, t) for t in data_tables(lakehouse)}
        second = run_ingest(sandbox, lakehouse, log_file=workdir / "ingest-again.log")
        after = {t: checksum(lakehouse, t) for t in data_tables(lakehouse)}
        yield {"sandbox": sandbox, "lakehouse": lakehouse, "workdir": workdir, "first": first, "second": second,
               "before": before, "after": after, "truth": truth(sandbox.world)}
    finally:
        sandbox.close()


def test_every_resource_loads_rows(loaded):
    rows = loaded["first"].rows
    for table in ("marketplace_participations", "settlement_reports", "settlement_report_documents",
                  "settlement_lines", "financial_event_groups", "financial_transactions", "orders", "order_items",
                  "order_buyers", "listings", "catalog_items", "inventory", "fba_reimbursements", "fee_estimates",
                  "inventory_ledger", "api_audit_log", "balances", "expected_payouts", "payouts",
                  "settlement_summaries"):
        assert rows.get(table, 0) > 0, table
    assert loaded["first"].failures == []


def test_orders_and_items_equal_the_truth(loaded):
    world, lakehouse = loaded["sandbox"].world, loaded["lakehouse"]
    per_seller = dict(query(lakehouse, f"select seller_id, count(*) from {DATASET}.orders group by 1"))
    assert per_seller == loaded["truth"]["orders"]
    items = dict(query(lakehouse, f"select seller_id, count(*) from {DATASET}.order_items group by 1"))
    assert items == loaded["truth"]["order_items"]
    buyers = query(lakehouse, f"select count(*) from {DATASET}.order_buyers")[0][0]
    assert buyers == sum(len(s.orders) for s in world.sellers)


def test_settlements_equal_the_truth_and_reissues_load_once(loaded):
    lakehouse, facts = loaded["lakehouse"], loaded["truth"]
    loaded_reports = {sid: (total, lines) for sid, total, lines in query(
        lakehouse, f"select settlement_id, total_amount, line_count from {DATASET}.settlement_reports")}
    expected = {s["settlement_id"]: (Decimal(s["total"]), s["lines"]) for s in facts["settlements"]}
    assert loaded_reports == expected
    sums = dict(query(lakehouse, f"select settlement_id, sum(amount) from {DATASET}.settlement_lines group by 1"))
    assert {sid: total for sid, (total, _) in expected.items()} == sums
    documents = collections.Counter(r[0] for r in query(
        lakehouse, f"select settlement_id from {DATASET}.settlement_report_documents"))
    reissued = {s["settlement_id"] for s in facts["settlements"] if s["reissued"]}
    assert reissued, "the data set should contain a re-issued settlement"
    assert {sid for sid, n in documents.items() if n == 2} == reissued
    assert all(n == 1 for sid, n in documents.items() if sid not in reissued)


def test_finances_and_catalog_equal_the_world(loaded):
    world, lakehouse = loaded["sandbox"].world, loaded["lakehouse"]
    groups = query(lakehouse, f"select count(*) from {DATASET}.financial_event_groups")[0][0]
    assert groups == sum(len(s.settlements) for s in world.sellers)
    transactions = query(lakehouse, f"select count(*), count(distinct transaction_id) "
                                    f"from {DATASET}.financial_transactions")[0]
    assert transactions == (sum(len(s.postings) for s in world.sellers),) * 2
    listings = query(lakehouse, f"select count(*) from {DATASET}.listings")[0][0]
    assert listings == sum(len(s.products) * len(s.account.marketplace_codes) for s in world.sellers)
    reimbursements = query(lakehouse, f"select count(*), sum(amount_total) from {DATASET}.fba_reimbursements")[0]
    assert reimbursements[0] == sum(len(s.reimbursements) for s in world.sellers)
    assert reimbursements[1] == sum(Decimal(r.amount_total) / 100 for s in world.sellers for r in s.reimbursements)
    marketplaces = dict(query(lakehouse, f"select seller_id, count(*) from {DATASET}.marketplace_participations "
                                         f"group by 1"))
    assert marketplaces == {s.account.seller_id: len(s.account.marketplace_codes) for s in world.sellers}


def test_summaries_for_every_seller_transfers_only_where_amazon_serves_them(loaded):
    """Transfers serves DE, FR, IT, ES, SE, NL, PL and BE (transfers_2024-06-01.json): the NA seller loads no payouts
    and fails nothing; every seller's closed settlements have Amazon's summary (Finances), each once."""
    world, lakehouse = loaded["sandbox"].world, loaded["lakehouse"]
    closed = {(s.account.seller_id, x.settlement_id) for s in world.sellers for x in s.settlements if x.closed}
    summaries = query(lakehouse, f"select distinct seller_id, settlement_id from {DATASET}.settlement_summaries")
    assert set(summaries) == closed
    net = query(lakehouse, f"select count(*) from (select seller_id, settlement_id, count(distinct net_proceeds) n "
                           f"from {DATASET}.settlement_summaries group by all) where n <> 1")
    assert net == [(0,)]
    de = MARKETPLACES["DE"].marketplace_id
    payouts = query(lakehouse, f"select marketplace_id, count(*) from {DATASET}.payouts group by 1")
    assert payouts == [(de, sum(1 for s in world.sellers for x in s.settlements if x.closed and x.marketplace == "DE"))]
    expected = query(lakehouse, f"select distinct marketplace_id from {DATASET}.expected_payouts")
    assert expected == [(de,)]


def test_running_the_same_window_again_changes_nothing(loaded):
    assert loaded["second"].failures == []
    assert loaded["after"] == loaded["before"]


def test_pii_canaries_appear_nowhere(loaded):
    canaries = loaded["truth"]["pii_canaries"]
    assert len(canaries) >= 8
    lakehouse, workdir = loaded["lakehouse"], loaded["workdir"]
    # Every text value of every table (DuckDB compresses strings, so the file's bytes alone prove little).
    for table in [r[0] for r in query(lakehouse, "select table_name from information_schema.tables "
                                                 "where table_schema = ?", [DATASET])]:
        columns = [c for (c,) in query(lakehouse, "select column_name from information_schema.columns where "
                                                  "table_schema = ? and table_name = ?", [DATASET, table])]
        concat = " || '|' || ".join(f'coalesce(cast("{c}" as varchar), \'\')' for c in columns)
        for canary in canaries:
            hits = query(lakehouse, f'select count(*) from {DATASET}."{table}" where position(? in {concat}) > 0',
                         [canary])[0][0]
            assert hits == 0, (table, canary)
    # Every byte the runs wrote: the DuckDB file, dlt's working directory, the logs.
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert any(p.name == "ingest.log" for p in files) and any(".dlt" in p.parts for p in files)
    for path in files:
        data = path.read_bytes()
        for canary in canaries:
            assert canary.encode() not in data, (path, canary)


def test_protected_values_decrypt_and_hashes_are_stable(loaded):
    sandbox, lakehouse = loaded["sandbox"], loaded["lakehouse"]
    protector = protector_for(sandbox)
    orders = {o.order_id: o for s in sandbox.world.sellers for o in s.orders}
    rows = query(lakehouse, f"select seller_id, order_id, buyer__buyer_name, buyer__buyer_email, "
                            f"recipient__delivery_address__address_line1 from {DATASET}.order_buyers")
    canary_orders = [o for o in orders.values() if o.buyer.name in loaded["truth"]["pii_canaries"]]
    checked = 0
    for seller_id, order_id, name, email, street in rows:
        buyer = orders[order_id].buyer
        assert protector.decrypt(name, "buyer.buyerName", seller_id) == buyer.name
        if orders[order_id].status in ("Unshipped", "Shipped"):  # Amazon has an address for these only
            assert protector.decrypt(street, "recipient.deliveryAddress.addressLine1", seller_id) == buyer.address_line1
        else:
            assert street is None
        # Amazon gives the buyer's (relay) email for merchant-fulfilled orders only.
        expected = hash_value(buyer.email, protector.hmac_key, "email") if orders[order_id].fulfillment_channel \
            == "MFN" else None
        assert email == expected
        checked += 1
    assert checked == len(orders) and canary_orders
    # The re-run wrote the same hashes (stable for joins), though every ciphertext is new.
    assert loaded["before"]["order_buyers"] == loaded["after"]["order_buyers"]


def test_throttled_calls_are_under_one_percent(loaded):
    for result in (loaded["first"], loaded["second"]):
        assert result.calls > 50
        assert result.throttled / result.calls < 0.01


def test_audit_log_records_calls_without_secrets(loaded):
    lakehouse, facts = loaded["lakehouse"], loaded["truth"]
    kinds = dict(query(lakehouse, f"select kind, count(*) from {DATASET}.api_audit_log group by 1"))
    assert kinds["api_call"] >= loaded["first"].calls and kinds["token_refresh"] >= 2 and kinds["rdt_grant"] >= 2
    secrets = [v for a in facts["accounts"] for v in (a["refresh_token"], a["lwa_client_secret"])]
    text = " ".join(str(r) for r in query(lakehouse, f"select * from {DATASET}.api_audit_log"))
    assert not any(s in text for s in secrets)


@pytest.mark.parametrize("faults", ["flaky", "reports", "auth"])
def test_fault_profiles_give_the_same_data(loaded, faults, tmp_path):
    sandbox = launch_sandbox(ARGS, time_scale=TIME_SCALE, faults=faults)
    try:
        result = run_ingest(sandbox, tmp_path / "lakehouse.duckdb")
    finally:
        sandbox.close()
    assert result.failures == []
    lakehouse = tmp_path / "lakehouse.duckdb"
    assert {t: checksum(lakehouse, t) for t in data_tables(lakehouse)} == loaded["before"]
    if faults == "flaky":
        assert result.retries > 0  # the faults really happened and were retried


def test_de_settlements_keep_exact_amounts(loaded):
    lakehouse = loaded["lakehouse"]
    de = MARKETPLACES["DE"].marketplace_id
    rows = query(lakehouse, f"select number_format, currency, total_amount, lines_amount_sum "
                            f"from {DATASET}.settlement_reports where marketplace_id = ?", [de])
    assert rows and all(r[0] == "DE" and r[1] == "EUR" and r[2] == r[3] for r in rows)


def test_ingest_writes_nothing_outside_its_lakehouse_folder(loaded):
    lakehouse: Path = loaded["lakehouse"]
    assert (lakehouse.parent / ".dlt").is_dir()
