"""One settlement document that cannot be read never blocks the others: it is recorded with its reason, shows
as a finding and a failing (warning) check, the account's other settlements load, and a later run that can
read it (here: the sandbox served without the fault, as after a parser fix) loads it, and the next normal
(incremental) dbt build puts it in the marts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from spapi_elt.dbt_runner import build
from spapi_elt.lakehouse import DATASET
from spapi_sandbox.world import DataArguments
from tests.conftest import running_sandbox
from tests.spapi_elt.ingest_helpers import query, run_ingest

ARGUMENTS = DataArguments(seed=17, sellers=2, start="2026-01-01", days=50, orders_per_day=5)


def settlements_in_world(sandbox) -> dict[str, tuple[str, Decimal]]:
    """settlement id -> (seller id, total) of every settlement Amazon has issued by the world's end."""
    return {s.settlement_id: (seller.account.seller_id, Decimal(s.total) / 100) for seller in sandbox.world.sellers
            for s in seller.settlements if s.closed}


def loaded_totals(lakehouse: Path) -> dict[str, Decimal]:
    return dict(query(lakehouse, f"select settlement_id, sum(amount) from {DATASET}.settlement_lines group by 1"))


def test_an_unreadable_document_is_recorded_and_the_others_load(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    with running_sandbox(ARGUMENTS, time_scale=300.0, faults="baddoc") as sandbox:
        result = run_ingest(sandbox, lakehouse)
        expected = settlements_in_world(sandbox)
    assert not result.failures, result.failures  # no account failed: the document is contained
    unreadable = query(lakehouse, f"select seller_id, report_id, error from {DATASET}.settlement_report_documents "
                                  "where content = 'unreadable' order by 1")
    assert len(unreadable) == ARGUMENTS.sellers  # the sandbox's first settlement report of each seller
    assert all("settlement-id" in error for _, _, error in unreadable)
    loaded = loaded_totals(lakehouse)
    assert len(loaded) == len(expected) - ARGUMENTS.sellers > 0  # every other settlement of both sellers
    assert all(loaded[sid] == expected[sid][1] for sid in loaded)

    built = build(lakehouse, None)
    assert built.ok, built.failures()
    assert "WARN 2 assert_settlement_documents_readable" in built.output
    findings = query(lakehouse, "select reference_id, explanation from finance.reconciliation_exceptions "
                                "where kind = 'settlement_unreadable' order by 1")
    assert [r[0] for r in findings] == sorted(r[1] for r in unreadable)
    assert all("could not be read" in text for _, text in findings)

    with running_sandbox(ARGUMENTS, time_scale=300.0) as fixed:  # served whole: a later run reads it
        again = run_ingest(fixed, lakehouse)
    assert not again.failures
    assert query(lakehouse, f"select count(*) from {DATASET}.settlement_report_documents "
                            "where content = 'unreadable'") == [(0,)]
    assert loaded_totals(lakehouse) == {sid: total for sid, (_, total) in expected.items()}
    # The settlement is months old, its document created long before the marts' newest: the incremental marts'
    # watermark is the load time (macros/incremental.sql), so the next normal build, with no --full-refresh and
    # no window, builds it.
    rebuilt = build(lakehouse, None)
    assert rebuilt.ok, rebuilt.failures()
    assert "assert_settlement_documents_readable" in rebuilt.output
    assert "WARN 2 assert_settlement_documents_readable" not in rebuilt.output
    assert query(lakehouse, "select count(*) from finance.reconciliation_exceptions "
                            "where kind = 'settlement_unreadable'") == [(0,)]
    late = [report_id for _, report_id, _ in unreadable]
    marts = dict(query(lakehouse, "select settlement_id, sum(amount) from finance.settlement_lines where "
                                  f"report_id in ({', '.join('?' * len(late))}) group by 1", late))
    assert len(marts) == ARGUMENTS.sellers and all(total == expected[sid][1] for sid, total in marts.items())
    assert query(lakehouse, "select count(*) from finance.settlements where reported_total_amount <> lines_amount "
                            "or line_count = 0") == [(0,)]
