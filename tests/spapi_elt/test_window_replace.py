"""Re-running an explicit window replaces it: rows of the window the API no longer returns are deleted (with
their nested child rows); rows outside the window, other sellers' rows and everything re-read stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dlt_sources.spapi import extraction
from dlt_sources.spapi.config import AccountsConfig
from dlt_sources.spapi.extraction import Extraction
from spapi_elt.lakehouse import DATASET
from spapi_sandbox.generate import epoch_of
from tests.spapi_elt.ingest_helpers import checksum, query, run_ingest

pytestmark = pytest.mark.integration

RESOURCES = ["financial_event_groups", "financial_transactions", "inventory_ledger"]


def plant_copy(lakehouse: Path, transaction_id: str, posted: str) -> str:
    """A copy of one loaded transaction (and its child rows) under a new id and `posted` (SQL over the
    original's posted_date), as an earlier load would have left it. Returns its seller id."""
    with duckdb.connect(str(lakehouse)) as con:
        seller_id, dlt_id = con.execute(
            f"select seller_id, _dlt_id from {DATASET}.financial_transactions order by posted_date limit 1 offset 5"
        ).fetchone()
        con.execute(f"""insert into {DATASET}.financial_transactions by name
            select * replace (? as transaction_id, ? as _dlt_id, 'an-earlier-load' as _dlt_load_id,
                              {posted} as posted_date)
            from {DATASET}.financial_transactions where _dlt_id = ?""", [transaction_id, transaction_id, dlt_id])
        children = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_name like "
            "'financial\\_transactions\\_\\_%' escape '\\'", [DATASET]).fetchall()]
        for child in children:
            con.execute(f"""insert into {DATASET}."{child}" by name
                select * replace (? as _dlt_root_id, _dlt_id || ? as _dlt_id)
                from {DATASET}."{child}" where _dlt_root_id = ?""", [transaction_id, transaction_id, dlt_id])
    assert children, "transactions keep Amazon's nesting as child tables"
    return seller_id


def plant_ledger_copy(lakehouse: Path, reference_id: str) -> None:
    """A copy of one ledger row (an Arrow-loaded table: no _dlt_id, no children) from an earlier load."""
    with duckdb.connect(str(lakehouse)) as con:
        con.execute(f"""insert into {DATASET}.inventory_ledger by name
            select * replace (? as reference_id, 'an-earlier-load' as _dlt_load_id)
            from (select * from {DATASET}.inventory_ledger order by event_at limit 1 offset 3)""", [reference_id])


def child_rows(lakehouse: Path, root_id: str) -> int:
    tables = [r[0] for r in query(lakehouse, "select table_name from information_schema.tables where table_schema = ? "
                                  "and table_name like 'financial\\_transactions\\_\\_%' escape '\\'", [DATASET])]
    return sum(query(lakehouse, f'select count(*) from {DATASET}."{t}" where _dlt_root_id = ?', [root_id])[0][0]
               for t in tables)


def test_a_rerun_of_a_window_deletes_what_the_api_no_longer_returns(start_sandbox, tmp_path: Path) -> None:
    sandbox = start_sandbox(time_scale=300.0)  # reports are ready in a fraction of Amazon's minutes
    lakehouse = tmp_path / "lakehouse.duckdb"
    run_ingest(sandbox, lakehouse, resources=RESOURCES)
    before = {t: checksum(lakehouse, t) for t in RESOURCES}
    start = datetime.fromtimestamp(epoch_of(sandbox.arguments.start), UTC)

    seller_id = plant_copy(lakehouse, "withdrawn-in-window", "posted_date")
    plant_copy(lakehouse, "older-than-window", f"timestamptz '{(start - timedelta(days=3)).isoformat()}'")
    assert child_rows(lakehouse, "withdrawn-in-window") > 0
    plant_ledger_copy(lakehouse, "withdrawn-ledger-event")

    run_ingest(sandbox, lakehouse, resources=RESOURCES)  # the same window again

    ids = {r[0] for r in query(lakehouse, f"select transaction_id from {DATASET}.financial_transactions")}
    assert "withdrawn-in-window" not in ids
    assert child_rows(lakehouse, "withdrawn-in-window") == 0
    assert "older-than-window" in ids and child_rows(lakehouse, "older-than-window") > 0
    after = {t: checksum(lakehouse, t) for t in RESOURCES}
    rows, _ = after["financial_transactions"]
    assert rows == before["financial_transactions"][0] + 1  # the out-of-window copy
    assert after["financial_event_groups"] == before["financial_event_groups"]
    assert after["inventory_ledger"] == before["inventory_ledger"]  # the planted event is gone, nothing else
    audit = query(lakehouse, f"select operation, detail from {DATASET}.api_audit_log "
                  "where kind = 'window_replace' order by operation")
    assert [o for o, _ in audit] == ["financial_transactions", "inventory_ledger"]
    assert all(detail.startswith("1 rows of [") for _, detail in audit)
    assert query(lakehouse, f"select distinct seller_id from {DATASET}.api_audit_log where kind = 'window_replace' "
                 "and operation = 'financial_transactions'") == [(seller_id,)]


def test_a_run_without_an_explicit_end_has_one_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every resource, cursor and the replacement after the load read the same end, however long the run."""
    ctx = Extraction(accounts=AccountsConfig(accounts=()), protector=None)  # type: ignore[arg-type]
    first = ctx.window_end()
    assert first <= datetime.now(UTC) - timedelta(minutes=2)
    later = datetime.now(UTC) + timedelta(hours=3)
    monkeypatch.setattr(extraction, "datetime", type("Clock", (), {"now": staticmethod(lambda tz=None: later)}))
    assert ctx.window_end() == first
    assert Extraction(accounts=AccountsConfig(accounts=()), protector=None,  # type: ignore[arg-type]
                      end=first - timedelta(days=1)).window_end() == first - timedelta(days=1)
