"""The terminal summary says how much of the fee audit could judge what it read: a fee the audit could not judge
is counted with its reason, never hidden behind an empty findings list."""

from __future__ import annotations

from pathlib import Path

import duckdb

from spapi_elt.reports.summary import finance_summary


def test_the_summary_counts_audited_order_items_and_says_why_the_others_were_not(tmp_path: Path) -> None:
    path = tmp_path / "lakehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema finance; create schema intermediate")
        con.execute("create table finance.settlements as select 'reconciled' as reconciliation_status")
        con.execute("create table finance.reconciliation_exceptions (kind varchar, currency varchar, amount decimal)")
        con.execute("""create table intermediate.int_order_item_fees_expected as select * from (values
            ('audited', 'audited'), ('audited', 'no fee estimate in force'), ('audited', 'no fee estimate in force'),
            ('category unresolved', 'not FBA'), ('audited', 'not FBA')) as t(referral_fee_audit, fba_fee_audit)""")
    summary = finance_summary(path)
    assert "Settlements: 1 reconciled" in summary and "  none" in summary
    assert "  referral fee: 4 of 5 order items audited (not audited: 1 category unresolved)" in summary
    assert "  FBA fee: 1 of 3 order items audited (not audited: 2 no fee estimate in force)" in summary
