"""finance.settlement_journals on the oracle world: every journal balances, every settlement's deposit line equals
the truth's total, a settlement crossing a month end is split by posted month through the carried-forward account,
and money Amazon defers sits on the deferred balance account."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dlt_sources.spapi.config import ConfigError
from spapi_elt.dbt_runner import build
from spapi_elt.journal_exports import export_journals
from tests.built_lakehouse import BuiltLakehouse

pytestmark = pytest.mark.integration


def journal_lines(built: BuiltLakehouse) -> list[tuple]:
    return built.query("""
        select journal_id, journal_kind, seller_id, settlement_id, journal_date, is_deposit_journal, line_role,
               ledger_account_code, debit, credit
        from finance.settlement_journals""")


def test_every_journal_balances(built_lakehouse: BuiltLakehouse) -> None:
    debits: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for journal_id, *_, debit, credit in journal_lines(built_lakehouse):
        debits[journal_id] += debit
        credits[journal_id] += credit
    assert len(debits) > 30
    unbalanced = {j: (debits[j], credits[j]) for j in debits if debits[j] != credits[j]}
    assert not unbalanced
    assert all(debits[j] > 0 for j in debits), "a journal with no money in it"


def test_each_deposit_line_equals_the_settlement_total(built_lakehouse: BuiltLakehouse) -> None:
    clearing: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for _, _, seller, settlement, _, is_deposit, role, code, debit, credit in journal_lines(built_lakehouse):
        if role == "deposit_clearing":
            assert is_deposit and code == "1200"
            clearing[(seller, settlement)].append(debit - credit)
    truth = {(s["seller_id"], s["settlement_id"]): Decimal(s["total"]) for s in built_lakehouse.truth["settlements"]}
    assert truth and set(clearing) == set(truth)
    assert {key: amounts for key, amounts in clearing.items() if amounts != [truth[key]]} == {}


def test_a_settlement_crossing_a_month_end_is_split_by_posted_month(built_lakehouse: BuiltLakehouse) -> None:
    # What each settlement's lines earned per UTC month (journal_settings default: UTC), against the journals'
    # category lines per month: the split follows the posted dates to the cent.
    earned = dict(((s, m), a) for s, m, a in built_lakehouse.query("""
        select settlement_id, cast(date_trunc('month', posted_at) as date), sum(amount)
        from finance.settlement_lines group by all"""))
    booked = dict(((s, m), a) for s, m, a in built_lakehouse.query("""
        select settlement_id, cast(date_trunc('month', journal_date) as date), sum(credit - debit)
        from finance.settlement_journals where line_role = 'category' group by all"""))
    assert {k: v for k, v in earned.items() if v != 0} == {k: v for k, v in booked.items() if v != 0}
    split = built_lakehouse.query("""
        select settlement_id, count(distinct journal_id), sum(case when line_role = 'carried_forward'
               then debit - credit end), min(journal_date), bool_and(journal_date = last_day(journal_date)
               or is_deposit_journal)
        from finance.settlement_journals where journal_kind = 'settlement' group by settlement_id
        having count(distinct journal_id) > 1""")
    assert len(split) >= 5, "the oracle world has settlements crossing a month end"
    for settlement, journals, carried, _, month_ends in split:
        assert journals == 2, settlement  # 14-day settlements span two months at most
        assert carried == 0, settlement  # carried forward at month end, released by the deposit journal
        assert month_ends, settlement


def test_deferred_money_sits_on_the_deferred_balance(built_lakehouse: BuiltLakehouse) -> None:
    deferred = dict(((seller, currency), amount) for seller, currency, amount in built_lakehouse.query("""
        select seller_id, currency, sum(total_amount) from staging.stg_spapi__financial_transactions
        where transaction_status = 'DEFERRED' and settlement_id is null group by all"""))
    assert deferred, "the oracle world has deferred transactions in its open periods"
    balance = built_lakehouse.query("""
        select journal_kind, seller_id, currency, journal_date, sum(debit - credit)
        from finance.settlement_journals where line_role = 'deferred_balance' group by all""")
    on_as_of = {(s, c): a for kind, s, c, d, a in balance if kind == "deferred" and str(d) == built_lakehouse.as_of}
    reversed_ = {(s, c): -a for kind, s, c, _, a in balance if kind == "deferred_reversal"}
    assert on_as_of == deferred == reversed_


def test_every_category_is_mapped(built_lakehouse: BuiltLakehouse) -> None:
    assert built_lakehouse.query("select count(*) from finance.journal_unmapped_lines") == [(0,)]
    assert built_lakehouse.query(
        "select count(*) from finance.settlement_journals where ledger_account_code is null") == [(0,)]


def test_an_unmapped_category_fails_the_test_and_is_shown_not_lumped(built_lakehouse: BuiltLakehouse,
                                                                      tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    shutil.copyfile(built_lakehouse.path, lakehouse)
    with duckdb.connect(str(lakehouse)) as connection:  # as if the chart had no row for storage fees
        connection.execute("delete from seeds.journal_accounts where category = 'storage_fee'")
        storage = connection.execute("select count(*), sum(amount) from finance.settlement_lines "
                                     "where category = 'storage_fee'").fetchone()
    as_of = date.fromisoformat(built_lakehouse.as_of)
    assert build(lakehouse, as_of, "run", "--select", "int_journal_accounts_resolved+").ok
    tested = build(lakehouse, as_of, "test", "--select", "assert_journal_accounts_mapped")
    assert not tested.ok and "FAIL" in tested.output
    with duckdb.connect(str(lakehouse), read_only=True) as connection:
        shown = connection.execute("select sum(line_count), sum(amount) from finance.journal_unmapped_lines "
                                   "where category = 'storage_fee'").fetchone()
        unposted = connection.execute(
            "select count(*) from finance.settlement_journals "
            "where ledger_account_code is null and ledger_account_name = 'UNMAPPED: storage_fee'").fetchone()[0]
    assert storage[0] > 0 and shown == storage
    assert unposted > 0
    with pytest.raises(ConfigError, match="storage_fee"):
        export_journals(lakehouse, tmp_path / "out", {})
