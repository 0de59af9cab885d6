"""The PII purge: shreds values past the retention once, idempotently, and records itself."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dlt

from dlt_sources.spapi.tables import to_table
from spapi_elt.lakehouse import DATASET, pipeline
from spapi_elt.purge import purge_pii
from tests.spapi_elt.ingest_helpers import query


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
