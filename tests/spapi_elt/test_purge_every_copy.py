"""The purge shreds every copy: after `purge_pii`, nothing under the data folder decrypts with the keys.

A sandbox world with buyer PII is ingested and built with dbt into a data folder; the whole folder is then
scanned in every format the product writes (tests/spapi_elt/pii_scan.py) and every candidate tried with the
product's own Protector. Before the purge the scan finds thousands of readable values (so it can fail);
after it, none, and no canary plaintext in any file.
"""

from __future__ import annotations

import base64
import gzip
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dlt
import duckdb
import pytest

from dlt_sources.spapi.pii import Protector
from spapi_elt.dbt_runner import build
from spapi_elt.lakehouse import DATASET, LOADER_DUCKDB_CONFIG, PIPELINE_NAME, pipeline, table_counts
from spapi_elt.purge import RETENTION_DAYS, STAGING_DATASET, purge_pii
from spapi_elt.rewrite import rewrite_database
from spapi_sandbox.truth import truth
from tests.conftest import TEST_ARGUMENTS, launch_sandbox
from tests.dlt_sources.test_pii import env
from tests.spapi_elt.ingest_helpers import RUN_FACT_TABLES, protector_for, query, run_ingest
from tests.spapi_elt.pii_scan import CIPHERTEXT, scan

TIME_SCALE = 300.0  # Amazon's report processing, 300x faster


def _past_every_retention(*days: date) -> date:
    """A day on which every row (last updated or loaded on one of `days` at the latest) is past retention."""
    return max(days) + timedelta(days=RETENTION_DAYS + 1)


def _objects(lakehouse: Path) -> list[tuple]:
    return query(lakehouse, "select table_schema, table_name, table_type from information_schema.tables order by 1, 2")


@pytest.fixture(scope="module")
def purged(tmp_path_factory):
    """Ingest a sandbox world and `dbt build` it into one data folder; scan it; purge; scan it again."""
    data = tmp_path_factory.mktemp("purge-every-copy") / "data"
    lakehouse = data / "lakehouse.duckdb"
    sandbox = launch_sandbox(TEST_ARGUMENTS, time_scale=TIME_SCALE)
    try:
        with pytest.MonkeyPatch.context() as patch:
            # The loader stores strings as they are, so that the byte scan sees every value in the file, freed
            # blocks included: DuckDB's compression would hide most of them from a regex, not from a reader.
            patch.setitem(LOADER_DUCKDB_CONFIG, "force_compression", "uncompressed")
            run_ingest(sandbox, lakehouse)
    finally:
        sandbox.close()
    facts = truth(sandbox.world)
    world_now = datetime.fromtimestamp(facts["now"], UTC).date()
    assert build(lakehouse, world_now).ok  # dbt's target, logs and tables beside the raw data
    protector = protector_for(sandbox)
    sellers = [a["seller_id"] for a in facts["accounts"]] + [None]
    canaries = facts["pii_canaries"]
    staging_rows = query(lakehouse, "select count(*) from information_schema.tables where table_schema = ?",
                         [STAGING_DATASET])[0][0], _staging_rows(lakehouse)
    before = scan(data, protector, sellers, canaries)
    counts, objects = table_counts(lakehouse), _objects(lakehouse)
    today = _past_every_retention(world_now, datetime.now(UTC).date())  # quarantine counts from the load
    shredded = purge_pii(lakehouse, today=today)
    yield {"data": data, "lakehouse": lakehouse, "before": before, "after": scan(data, protector, sellers, canaries),
           "shredded": shredded, "counts": counts, "objects": objects, "staging": staging_rows, "truth": facts}


def _staging_rows(lakehouse: Path) -> int:
    tables = [r[0] for r in query(lakehouse, "select table_name from information_schema.tables "
                                  "where table_schema = ? and table_name not like '_dlt%'", [STAGING_DATASET])]
    return sum(query(lakehouse, f'select count(*) from {STAGING_DATASET}."{t}"')[0][0] for t in tables)


def test_the_scan_finds_readable_pii_before_the_purge(purged):
    """The check can fail: the ingested world's ciphertext is found and decrypts to the buyers' values."""
    before, data = purged["before"], purged["data"]
    assert len(before.decryptable) > 1000
    places = before.decryptable_by_place(data)
    assert places["lakehouse.duckdb [bytes]"] > 1000  # the raw byte scan reads DuckDB's blocks too
    assert any("duckdb:raw_spapi.order_buyers." in place for place in places)
    assert set(purged["truth"]["pii_canaries"]) & set(before.decryptable.values())
    assert before.canary_hits == []  # protected before it touches disk: never plaintext


def test_the_ingest_keeps_no_staging_or_package_copy(purged):
    """dlt's configuration (lakehouse.pipeline()): merge staging emptied after the load, job files deleted."""
    tables, rows = purged["staging"]
    assert tables > 0 and rows == 0
    before, data = purged["before"], purged["data"]
    assert not [p for p in before.decryptable_by_place(data) if p.startswith(".dlt")]


def test_after_the_purge_nothing_anywhere_decrypts(purged):
    after, data = purged["after"], purged["data"]
    assert purged["shredded"] > 0
    assert after.decryptable_by_place(data) == {}
    assert after.canary_hits == []
    assert (data / "dbt" / "target").is_dir()  # dbt's folder was part of the scan
    assert not list((data / ".dlt").rglob("*.parquet"))
    assert not (data / "lakehouse.duckdb.wal").exists()


def test_the_purge_keeps_everything_else(purged):
    """Rewriting the file keeps every table, view and row; only the run facts gain the purge's records."""
    lakehouse = purged["lakehouse"]
    new = ("raw_spapi", "pii_purges", "BASE TABLE")  # the purge's own record
    assert [o for o in _objects(lakehouse) if o != new] == [o for o in purged["objects"] if o != new]
    after = table_counts(lakehouse)
    assert {t: n for t, n in after.items() if t not in RUN_FACT_TABLES} == {
        t: n for t, n in purged["counts"].items() if t not in RUN_FACT_TABLES}
    assert after["pii_purges"] > purged["counts"].get("pii_purges", 0)
    views = [(s, t) for s, t, kind in _objects(lakehouse) if kind == "VIEW"]
    assert views and all(query(lakehouse, f'select count(*) from "{s}"."{t}"') for s, t in views)
    purged_names = query(lakehouse, f"select count(*) from {DATASET}.order_buyers "
                         "where buyer__buyer_name like 'purged:%'")[0][0]
    assert purged_names > 0


# --- the same without a sandbox: the purge on its own, with dlt's clean-up turned off --------------------------


@pytest.fixture
def protector() -> Protector:
    return Protector.from_env(env())


def test_the_purge_shreds_staging_and_kept_packages_even_when_dlt_keeps_them(tmp_path, monkeypatch, protector):
    """An operator who sets dlt to keep staging and job files still gets every copy shredded by the purge."""
    monkeypatch.setenv("LOAD__TRUNCATE_STAGING_DATASET", "false")
    monkeypatch.setenv("LOAD__DELETE_COMPLETED_JOBS", "false")
    lakehouse = tmp_path / "lakehouse.duckdb"
    old = datetime(2026, 1, 5, tzinfo=UTC)

    def rows(n: int) -> list[dict]:
        return [{"seller_id": "A1", "order_id": str(i), "last_updated_at": old,
                 "buyer": {"buyerName": protector.encrypt(f"Buyer {i} {n}", "buyer.buyerName", "A1")}}
                for i in range(200)]

    for n in range(2):  # the second load merges through the staging dataset
        pipeline(lakehouse).run(dlt.resource(rows(n), name="order_buyers", write_disposition="merge",
                                             primary_key="order_id"))
    before = scan(tmp_path, protector, ["A1"])
    places = before.decryptable_by_place(tmp_path)
    assert any(f"duckdb:{STAGING_DATASET}.order_buyers" in p for p in places)
    assert any(p.startswith(f".dlt/{PIPELINE_NAME}/load/loaded/") for p in places)
    assert purge_pii(lakehouse, today=date(2026, 3, 25)) == 400  # 200 rows, and their staging copy
    after = scan(tmp_path, protector, ["A1"])
    assert after.decryptable_by_place(tmp_path) == {}
    recorded = dict(query(lakehouse, f"select table_name, rows_purged from {DATASET}.pii_purges"))
    assert recorded == {"order_buyers": 200, f"{STAGING_DATASET}.order_buyers": 200}


def test_an_update_leaves_the_old_bytes_in_the_file_until_it_is_rewritten(tmp_path, protector):
    """Why the purge rewrites the file: DuckDB keeps an UPDATE's old values in freed blocks after a checkpoint."""
    path = tmp_path / "l.duckdb"
    values = [protector.encrypt(f"Street {i}", "recipient.deliveryAddress.addressLine1", "A1") for i in range(5000)]
    with duckdb.connect(str(path)) as con:
        # Stored as they are, every old value is visible to a byte scan; compressed (DuckDB's default) they are
        # there too, only not as text (the ingest test sets the same, LOADER_DUCKDB_CONFIG).
        con.execute("pragma force_compression = 'uncompressed'")
        con.execute("create table t as select unnest(range(?)) as id, unnest(?) as v", [len(values), values])
        con.execute("checkpoint")
        con.execute("update t set v = 'purged:2026-03-01'")
        con.execute("checkpoint")
        assert con.execute("select count(*) from t where v like 'e1:%'").fetchone()[0] == 0
    found = {m.decode() for m in CIPHERTEXT.findall(path.read_bytes())}
    assert len(found & set(values)) > 4900  # invisible to SQL, readable to anyone with the file and the key
    rewrite_database(path)
    assert not CIPHERTEXT.findall(path.read_bytes())
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*), count(distinct v) from t").fetchone() == (5000, 1)
    assert sorted(os.listdir(tmp_path)) == ["l.duckdb"]  # no WAL, no leftover copy


def test_the_scan_reads_gzip_members_and_parquet(tmp_path, protector):
    """The scanner's own check: a value inside a gzip member embedded in another file decrypts."""
    value = protector.encrypt("Canary Lane 1", "ship-address-1", "A1")
    (tmp_path / "blob.bin").write_bytes(b"header" + gzip.compress(f"x,{value}\n".encode()) + b"trailer")
    (tmp_path / "other.gz").write_bytes(gzip.compress(base64.b64encode(b"nothing here")))
    result = scan(tmp_path, protector, ["A1"], canaries=["Canary Lane 1", "header"])
    assert result.decryptable == {value: "Canary Lane 1"}
    assert result.canary_hits == [(tmp_path / "blob.bin", "header")]
