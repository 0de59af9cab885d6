"""The PII purge: shreds values past the retention once, idempotently, and records itself."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dlt
import duckdb
import pytest

from dlt_sources.spapi.pii import Protector, is_protected
from dlt_sources.spapi.tables import to_table
from spapi_elt.lakehouse import DATASET, pipeline
from spapi_elt.purge import purge_pii, purge_sql, purge_value, retention_cutoff
from tests.dlt_sources.test_pii import env
from tests.spapi_elt.ingest_helpers import query


@pytest.fixture
def protector() -> Protector:
    return Protector.from_env(env())


def test_purge_shreds_old_pii_once_and_records_it(tmp_path):
    lakehouse = tmp_path / "l.duckdb"
    old, recent = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC)
    rows = [{"seller_id": "A1", "order_id": "1", "last_updated_at": old, "buyer": {"buyerName": "e1:k:old"}},
            {"seller_id": "A1", "order_id": "2", "last_updated_at": recent, "buyer": {"buyerName": "e1:k:new"}}]
    pipeline(lakehouse).run(dlt.resource([to_table("order_buyers", rows)], name="order_buyers"))
    assert purge_pii(lakehouse, today=date(2026, 3, 25)) == 1
    assert purge_pii(lakehouse, today=date(2026, 3, 25)) == 0  # idempotent
    names = dict(query(lakehouse, f"select order_id, buyer__buyer_name from {DATASET}.order_buyers"))
    assert names == {"1": "purged:2026-03-25", "2": "e1:k:new"}
    purges = query(lakehouse, f"select table_name, rows_purged from {DATASET}.pii_purges order by purged_at")
    assert purges == [("order_buyers", 1), ("order_buyers", 0)]
    assert query(lakehouse, f"select count(*) from {DATASET}.api_audit_log where kind = 'pii_purge'")[0][0] == 2


def test_purge_value_and_is_protected(protector: Protector) -> None:
    value = protector.encrypt("x", "f")
    assert is_protected(value) and is_protected(protector.hash("x")) and not is_protected("plain")
    tombstone = purge_value(value, date(2026, 3, 1))
    assert tombstone == "purged:2026-03-01" and is_protected(tombstone)
    assert purge_value(tombstone, date(2026, 4, 1)) == tombstone
    assert purge_value(None, date(2026, 4, 1)) is None
    assert retention_cutoff(date(2026, 3, 31)) == date(2026, 3, 1)


def test_purge_sql_is_idempotent_in_duckdb(protector: Protector) -> None:
    connection = duckdb.connect()
    connection.execute('CREATE SCHEMA raw; CREATE TABLE raw."orders" (order_id VARCHAR, delivered_at DATE, '
                       "buyer__buyer_name VARCHAR, ship_city VARCHAR)")
    rows = [("old", date(2026, 1, 1), protector.encrypt("a", "f"), protector.encrypt("b", "g")),
            ("old-null", date(2026, 1, 2), None, protector.encrypt("c", "g")),
            ("new", date(2026, 3, 20), protector.encrypt("d", "f"), None)]
    connection.executemany('INSERT INTO raw."orders" VALUES (?, ?, ?, ?)', rows)
    cutoff = retention_cutoff(date(2026, 3, 1))
    sql, params = purge_sql("orders", ["buyer__buyer_name", "ship_city"], "delivered_at", cutoff,
                            date(2026, 3, 1), schema="raw")
    assert connection.execute(sql, params).fetchall() == [(2,)]
    table = {r[0]: r[1:] for r in connection.execute('SELECT order_id, buyer__buyer_name, ship_city '
                                                     'FROM raw."orders"').fetchall()}
    assert table["old"] == ("purged:2026-03-01", "purged:2026-03-01")
    assert table["old-null"] == (None, "purged:2026-03-01")
    assert table["new"][0].startswith("e1:") and table["new"][1] is None
    sql2, params2 = purge_sql("orders", ["buyer__buyer_name", "ship_city"], "delivered_at", cutoff,
                              date(2026, 3, 2), schema="raw")
    assert connection.execute(sql2, params2).fetchall() == [(0,)]  # second run changes nothing
    assert connection.execute('SELECT ship_city FROM raw."orders" WHERE order_id = \'old\'').fetchone() == (
        "purged:2026-03-01",)
