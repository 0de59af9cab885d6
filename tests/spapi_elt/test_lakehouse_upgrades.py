"""A lakehouse loaded before fee_estimates kept one snapshot per day (key seller, marketplace, sku) loads again
after the key took snapshot_date: its rows become the snapshot of their load day, and later days add theirs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dlt
import pyarrow as pa

from dlt_sources.spapi.tables import to_table
from spapi_elt.lakehouse import pipeline
from spapi_elt.lakehouse_upgrades import upgrade_tables
from tests.spapi_elt.ingest_helpers import query


def _rows(fee: str, day: date | None = None) -> pa.Table:
    columns = {"seller_id": ["S1", "S1"], "marketplace_id": ["M1", "M1"], "sku": ["A", "B"],
               "expected_fulfillment_fee_per_unit": [fee, fee]}
    if day is not None:
        columns["snapshot_date"] = pa.array([day, day], pa.date32())
    return pa.table(columns)


def _load(path: Path, table: pa.Table, key: list[str] | None = None) -> None:
    item = (dlt.mark.with_hints(table, dlt.mark.make_hints(table_name="fee_estimates", primary_key=key,
                                                            write_disposition="merge"))
            if key else to_table("fee_estimates", table))

    @dlt.resource(name="fee_estimates", write_disposition="merge")
    def fee_estimates():
        yield item

    pipeline(path).run(fee_estimates(), loader_file_format="parquet")


def test_a_legacy_fee_estimates_table_takes_the_snapshot_key(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    _load(lakehouse, _rows("3.22"), key=["seller_id", "marketplace_id", "sku"])  # before the change
    load_day = query(lakehouse, "select date '1970-01-01' + cast(floor(cast(max(_dlt_load_id) as double)"
                                " / 86400) as integer) from raw_spapi.fee_estimates")[0][0]

    assert upgrade_tables(lakehouse) == ["fee_estimates"]
    assert upgrade_tables(lakehouse) == []  # applied once
    _load(lakehouse, _rows("3.30", date(2099, 1, 15)))
    _load(lakehouse, _rows("3.31", date(2099, 1, 15)))  # the same day again: replaces that day's snapshot
    _load(lakehouse, _rows("3.40", date(2099, 2, 1)))

    rows = query(lakehouse, """select snapshot_date, count(*), sum(expected_fulfillment_fee_per_unit::decimal(9,2))
                               from raw_spapi.fee_estimates group by all order by 1""")
    assert [(str(d), n, str(s)) for d, n, s in rows] == [
        (str(load_day), 2, "6.44"), ("2099-01-15", 2, "6.62"), ("2099-02-01", 2, "6.80")]
