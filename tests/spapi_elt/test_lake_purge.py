"""The PII purge on a Parquet lake (spapi_elt/lake_purge.py): the DuckDB file's tombstones, written by rewriting the
lake's files one atomic rename at a time; a kill in the middle leaves whole files and the rerun finishes; files of a
load still in progress are not touched; nothing decryptable is left in the lake or its `.dlt`."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import dlt
import duckdb
import pyarrow.parquet as pq
import pytest

from dlt_sources.spapi.pii import Protector
from dlt_sources.spapi.tables import to_table
from spapi_elt import lake_rewrite
from spapi_elt.lake import DATASET, as_lake
from spapi_elt.lakehouse import pipeline
from spapi_elt.purge import purge_pii
from tests.dlt_sources.test_pii import env
from tests.spapi_elt.ingest_helpers import query
from tests.spapi_elt.pii_scan import scan

OLD, RECENT = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC)
TODAY = date(2026, 3, 25)  # OLD is past the 30 days' retention, RECENT is not


@pytest.fixture
def protector() -> Protector:
    return Protector.from_env(env())


def buyers(protector: Protector, load: int, count: int = 50) -> list[dict]:
    """Half the orders last updated long ago, half recently; each load's names differ (a canary per value)."""
    return [{"seller_id": "A1", "order_id": str(i), "last_updated_at": OLD if i % 2 else RECENT,
             "buyer": {"buyerName": protector.encrypt(f"Canary Buyer {i} {load}", "buyer.buyerName", "A1")}}
            for i in range(count)]


def load_both(tmp_path, protector: Protector, loads: int = 2) -> tuple[str, object]:
    """The same loads into a lake and into a DuckDB file (the file merges them, the lake appends a file per load)."""
    lake, lakehouse = f"file://{tmp_path}/lake", tmp_path / "file" / "lakehouse.duckdb"
    for n in range(loads):
        rows = [to_table("order_buyers", buyers(protector, n))]
        for target in (lake, lakehouse):
            pipe = pipeline(target, ["A1"])
            pipe.run(dlt.resource(rows, name="order_buyers", write_disposition="merge", primary_key="order_id"),
                     loader_file_format="parquet")
    return lake, lakehouse


def lake_rows(lake: str, table: str = "order_buyers") -> list[tuple]:
    """The latest load's row per order, as staging reads it."""
    with duckdb.connect() as con:
        return con.execute("select order_id, buyer__buyer_name from read_parquet(?) qualify row_number() over ("
                           "partition by order_id order by _dlt_load_id desc) = 1 order by 1",
                           [as_lake(lake).table_files(table)]).fetchall()


def test_the_lake_purge_writes_the_files_tombstones_and_leaves_nothing_readable(tmp_path, protector):
    lake, lakehouse = load_both(tmp_path, protector)
    files = sorted((tmp_path / "lake" / DATASET / "order_buyers").glob("*.parquet"))
    assert len(files) == 2
    before = scan(tmp_path / "lake", protector, ["A1"], canaries=[f"Canary Buyer {i} " for i in range(50)])
    assert len(before.decryptable) == 100  # both loads' 50 names: the scan can fail

    assert purge_pii(lake, today=TODAY) == 50  # 25 old rows in each load's file
    assert purge_pii(lakehouse, today=TODAY) == 25  # the file merged them into one row per order
    assert purge_pii(lake, today=TODAY) == 0  # idempotent

    file_rows = query(lakehouse, f"select order_id, buyer__buyer_name from {DATASET}.order_buyers order by 1")
    assert lake_rows(lake) == file_rows  # what staging reads equals the file, tombstone for tombstone
    assert sum(1 for _, name in file_rows if name == "purged:2026-03-25") == 25
    assert pq.read_schema(files[0]).equals(pq.read_schema(files[1]))  # rewritten with the writer's schema
    old_names = {f"Canary Buyer {i} {n}" for i in range(1, 50, 2) for n in range(2)}
    after = scan(tmp_path / "lake", protector, ["A1"], canaries=sorted(old_names))
    assert set(after.decryptable.values()) == {f"Canary Buyer {i} {n}" for i in range(0, 50, 2) for n in range(2)}
    assert after.canary_hits == []
    assert list((tmp_path / "lake" / ".dlt").glob("spapi__A1/load/loaded"))  # where dlt keeps them ...
    assert not list((tmp_path / "lake" / ".dlt").glob("*/load/loaded/*"))  # ... its loaded packages removed
    with duckdb.connect() as con:
        recorded = con.execute("select table_name, rows_purged from read_parquet(?) order by purged_at",
                               [as_lake(lake).table_files("pii_purges")]).fetchall()
    assert recorded == [("order_buyers", 50), ("order_buyers", 0)]


def test_a_purge_killed_between_two_files_leaves_whole_files_and_the_rerun_finishes(tmp_path, protector,
                                                                                     monkeypatch):
    lake, _ = load_both(tmp_path, protector)
    folder = tmp_path / "lake" / DATASET / "order_buyers"
    replaced = []
    real_replace = os.replace

    def killed_on_the_second(source, target):
        if replaced:
            raise KeyboardInterrupt("killed")  # the second file's new copy is written, not yet renamed
        replaced.append(target)
        real_replace(source, target)

    monkeypatch.setattr(lake_rewrite.os, "replace", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        purge_pii(lake, today=TODAY)
    monkeypatch.setattr(lake_rewrite.os, "replace", real_replace)
    assert [p.name for p in folder.iterdir() if p.name.endswith(lake_rewrite.TEMPORARY_SUFFIX)]  # the copy left over
    with duckdb.connect() as con:  # staging's glob reads whole files only: 100 rows, one file shredded so far
        counts = con.execute("select count(*), count(*) filter (buyer__buyer_name like 'purged:%') from "
                             "read_parquet(?)", [as_lake(lake).table_files("order_buyers")]).fetchone()
    assert counts == (100, 25)
    assert purge_pii(lake, today=TODAY) == 25  # the rerun shreds the other file
    assert sorted(p.suffix for p in folder.iterdir()) == [".parquet", ".parquet"]
    assert sum(1 for _, name in lake_rows(lake) if name == "purged:2026-03-25") == 25


def test_a_load_in_progress_is_left_to_its_own_purge(tmp_path, protector):
    lake, _ = load_both(tmp_path, protector, loads=1)
    folder = tmp_path / "lake" / DATASET / "order_buyers"
    (written,) = folder.glob("*.parquet")
    in_progress = folder / "9999999999.0.0000000000.parquet"  # no _dlt_loads record: its load has not completed
    in_progress.write_bytes(written.read_bytes())
    assert purge_pii(lake, today=TODAY) == 25
    with duckdb.connect() as con:
        untouched = con.execute("select count(*) filter (buyer__buyer_name like 'e1:%') from read_parquet(?)",
                                [str(in_progress)]).fetchone()[0]
    assert untouched == 50
