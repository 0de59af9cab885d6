"""`rotate-keys` on a Parquet lake (spapi_elt/lake_key_rotation.py): every encrypted value of the lake's completed
loads moves to the active key id by rewriting files; a value that cannot be re-wrapped changes no file; a kill between
two renames leaves whole files and the rerun finishes; a load in progress keeps its old key id, which is then not
removable."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dlt_sources.spapi.pii import Protector, decrypt
from dlt_sources.spapi.tables import to_table
from spapi_elt import lake_rewrite
from spapi_elt.lake import DATASET, as_lake, readable_by
from spapi_elt.lake_key_rotation import rotate_lake
from spapi_elt.lakehouse import pipeline
from tests.spapi_elt.test_key_safety import NEW, OLD, OTHER, keys, protector, spapi_elt

SELLER, FIELD, ROWS = "A1", "buyer.buyerName", 40
ROTATE = keys(kek=f"k1:{OLD},k2:{NEW}", active="k2")


def build_lake(root: Path | str, protect: Protector, loads: int = 2) -> dict[tuple[int, int], str]:
    """`loads` loads of order_buyers into a lake (a folder, or a lake URL), names encrypted under k1 (a null and a
    tombstone among them); returns (load, order) -> plaintext name."""
    protect.values_per_data_key = 16  # several data keys per file
    plain = {}
    for load in range(loads):
        rows = []
        for i in range(ROWS):
            name = None if i == 3 else "purged:2026-01-01" if i == 4 else f"Canary Buyer {i} {load}"
            value = name
            if i not in (3, 4):
                plain[(load, i)], value = name, protect.encrypt(name, FIELD, SELLER)
            rows.append({"seller_id": SELLER, "order_id": str(i), "load": load, "buyer": {"buyerName": value}})
        pipeline(root if isinstance(root, str) else f"file://{root}", [SELLER]).run(
            dlt.resource([to_table("order_buyers", rows)], name="order_buyers", write_disposition="merge",
                         primary_key="order_id"), loader_file_format="parquet")
    return plain


def files(root: Path) -> list[Path]:
    return sorted((root / DATASET / "order_buyers").glob("*.parquet"))


def names(root: Path | str) -> dict[tuple[int, int], str | None]:
    lake = as_lake(root if isinstance(root, str) else f"file://{root}")
    with readable_by(lake, duckdb.connect()) as con:
        rows = con.execute("select load, order_id, buyer__buyer_name from read_parquet(?)",
                           [lake.table_files("order_buyers")]).fetchall()
    return {(load, int(order)): name for load, order, name in rows}


def digests(root: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in (root / DATASET).rglob("*") if f.is_file()}


def test_rotate_keys_on_a_lake_rewraps_every_value_so_only_the_new_key_decrypts(tmp_path):
    root = tmp_path / "lake"
    plain = build_lake(root, protector())
    before, schemas = names(root), [pq.read_schema(f) for f in files(root)]
    assert len(plain) == 2 * (ROWS - 2) and all(before[k].startswith("e1:k1:") for k in plain)

    done = spapi_elt("rotate-keys", "--lakehouse", f"file://{root}", env=ROTATE)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Re-wrapped 76 encrypted values under key id 'k2'" in done.stdout
    assert f"{DATASET}.order_buyers.buyer__buyer_name  76" in done.stdout
    assert "key id 'k1' any more: remove it from SPAPI_PII_KEYS" in done.stdout

    only_new = protector(kek=f"k2:{NEW}").keyring
    after = names(root)
    assert after.keys() == before.keys()  # no row lost or added
    for key, value in after.items():
        if key not in plain:
            assert value == before[key]  # the null and the tombstone as they were
            continue
        assert value.startswith("e1:k2:") and decrypt(value, only_new, FIELD, SELLER) == plain[key]
        # the ciphertext itself did not change, only its wrapped data key
        assert base64.b64decode(value.split(":")[2])[60:] == base64.b64decode(before[key].split(":")[2])[60:]
    assert [pq.read_schema(f) for f in files(root)] == schemas  # the writer's schema kept
    with duckdb.connect() as con:
        audit = con.execute("select kind, detail from read_parquet(?)",
                            [as_lake(f"file://{root}").table_files("api_audit_log")]).fetchall()
    assert audit == [("key_rotation", "76 values re-wrapped under key id k2 (from k1)")]

    again = spapi_elt("rotate-keys", "--lakehouse", f"file://{root}", env=keys(kek=f"k2:{NEW}"))
    assert again.returncode == 0 and "Re-wrapped 0 encrypted values" in again.stdout
    assert "Encrypted values by key id: k2 76" in again.stdout
    assert names(root) == after


def tampered(table: pa.Table) -> pa.Table:
    """`table` with the wrapped data key of its last name changed by one bit."""
    values = table["buyer__buyer_name"].to_pylist()
    raw = bytearray(base64.b64decode(values[-1].split(":")[2]))
    raw[20] ^= 1
    values[-1] = "e1:k1:" + base64.b64encode(bytes(raw)).decode()
    column = table.schema.get_field_index("buyer__buyer_name")
    return table.set_column(column, "buyer__buyer_name", pa.array(values, pa.string()))


def test_rotate_keys_on_a_lake_refuses_before_changing_any_file(tmp_path):
    root = tmp_path / "lake"
    build_lake(root, protector())
    # A wrapped data key tampered with in the last file: the first file's new copy would be written before it fails.
    last = files(root)[-1]
    pq.write_table(tampered(pq.read_table(last)), last)
    untouched = digests(root)

    failed = spapi_elt("rotate-keys", "--lakehouse", f"file://{root}", env=ROTATE)
    assert failed.returncode == 2
    assert f"{DATASET}.order_buyers.buyer__buyer_name" in failed.stderr and "nothing was changed" in failed.stderr
    unlisted = spapi_elt("rotate-keys", "--lakehouse", f"file://{root}", env=keys(kek=f"k2:{NEW}"))
    assert unlisted.returncode == 2 and "no key with id 'k1'" in unlisted.stderr
    changed = spapi_elt("rotate-keys", "--lakehouse", f"file://{root}", env=keys(kek=f"k1:{OTHER},k2:{NEW}",
                                                                                 active="k2"))
    assert changed.returncode == 2 and "key id 'k1' holds other key bytes" in changed.stderr
    assert digests(root) == untouched  # not one file changed, no temporary copy left


def test_a_rotation_killed_between_two_renames_leaves_whole_files_and_the_rerun_finishes(tmp_path, monkeypatch):
    root = tmp_path / "lake"
    plain = build_lake(root, protector())
    renamed = []
    real_replace = os.replace

    def killed_on_the_second(source, target):
        if renamed:
            raise KeyboardInterrupt("killed")
        renamed.append(target)
        real_replace(source, target)

    monkeypatch.setattr(lake_rewrite.os, "replace", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        rotate_lake(as_lake(f"file://{root}"), protector(kek=f"k1:{OLD},k2:{NEW}", active="k2"))
    monkeypatch.setattr(lake_rewrite.os, "replace", real_replace)
    halfway = names(root)  # every file whole and readable: one under k2, the other still under k1
    assert sorted(sum(1 for k in plain if halfway[k].startswith(f"e1:{kid}:")) for kid in ("k1", "k2")) == [38, 38]

    result = rotate_lake(as_lake(f"file://{root}"), protector(kek=f"k1:{OLD},k2:{NEW}", active="k2"))
    assert result.rewrapped == {f"{DATASET}.order_buyers.buyer__buyer_name": 38}
    assert result.removable == ["k1"]
    keyring = protector(kek=f"k2:{NEW}").keyring
    assert {k: decrypt(v, keyring, FIELD, SELLER) for k, v in names(root).items() if k in plain} == plain
    assert sorted(p.suffix for p in (root / DATASET / "order_buyers").iterdir()) == [".parquet", ".parquet"]


def test_a_load_in_progress_keeps_its_key_id_which_is_then_not_removable(tmp_path):
    root = tmp_path / "lake"
    build_lake(root, protector(), loads=1)
    (written,) = files(root)
    in_progress = written.with_name("9999999999.0.0000000000.parquet")  # no _dlt_loads record yet
    in_progress.write_bytes(written.read_bytes())

    result = rotate_lake(as_lake(f"file://{root}"), protector(kek=f"k1:{OLD},k2:{NEW}", active="k2"))
    assert result.rewrapped == {f"{DATASET}.order_buyers.buyer__buyer_name": 38}
    assert result.after.by_key_id() == {"k1": 38, "k2": 38}
    assert result.removable == []  # k1 still wraps the load in progress: not to be retired yet
    with duckdb.connect() as con:
        kept = con.execute("select count(*) filter (buyer__buyer_name like 'e1:k1:%') from read_parquet(?)",
                           [str(in_progress)]).fetchone()[0]
    assert kept == 38
