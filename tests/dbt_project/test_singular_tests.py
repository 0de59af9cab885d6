"""The blocking singular dbt test assert_settlements_reconciled_or_explained: it passes on the built lakehouse
and fails once a settlement that needs an explanation loses its exceptions.

The failure case runs `dbt test` for that one test on a copy of the session's built lakehouse (the shared one
stays untouched) after deleting the exceptions of one settlement whose status is neither reconciled nor open.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from spapi_elt.dbt_runner import build
from tests.built_lakehouse import BuiltLakehouse

pytestmark = pytest.mark.integration

TEST_NAME = "assert_settlements_reconciled_or_explained"


def test_passes_on_the_built_lakehouse(built_lakehouse: BuiltLakehouse) -> None:
    assert re.search(rf"PASS {TEST_NAME}\b", built_lakehouse.build_output), "the build should run and pass it"


def test_fails_when_a_settlement_is_left_unexplained(built_lakehouse: BuiltLakehouse, tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    shutil.copyfile(built_lakehouse.path, lakehouse)
    with duckdb.connect(str(lakehouse)) as connection:
        unexplained = connection.execute("""
            select settlements.seller_id, settlements.settlement_id, count(*)
            from finance.settlements as settlements
            inner join finance.reconciliation_exceptions as exceptions
                on exceptions.seller_id = settlements.seller_id
                and exceptions.settlement_id = settlements.settlement_id
            where settlements.reconciliation_status not in ('reconciled', 'open')
            group by all
            order by 1, 2
            limit 1""").fetchone()
        assert unexplained, "the oracle world should have a settlement that is neither reconciled nor open"
        seller_id, settlement_id, exceptions = unexplained
        connection.execute("delete from finance.reconciliation_exceptions where seller_id = ? and settlement_id = ?",
                           [seller_id, settlement_id])

    result = build(lakehouse, date.fromisoformat(built_lakehouse.as_of), "test", "--select", TEST_NAME)

    assert exceptions > 0
    assert not result.ok, result.output[-3000:]
    assert re.search(rf"FAIL 1 {TEST_NAME}\b", result.output), result.output[-3000:]
