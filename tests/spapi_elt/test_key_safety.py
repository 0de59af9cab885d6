"""Key safety and key rotation: other key bytes under a recorded key id or HMAC version are refused before a
run reads or writes anything; `rotate-keys` moves every encrypted value to the active key id."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from dlt_sources.spapi.keys import KEYS_VAR, new_key
from dlt_sources.spapi.pii import PiiDecryptError, Protector, decrypt, hash_value
from spapi_elt import demo
from spapi_elt.key_checks import TABLE, KeyCheckMismatch, check_value, verify_pii_keys
from spapi_elt.lakehouse import DATASET, table_counts
from spapi_sandbox.truth import truth

ROOT = Path(__file__).resolve().parents[2]
PII_VARS = ("SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS", "SPAPI_PII_ACTIVE_KEY_ID")
OLD, NEW, OTHER = new_key(), new_key(), new_key()
HMAC1, HMAC_OTHER = new_key(), new_key()
SELLER = "A1SELLERKEYS"


def keys(kek: str = f"k1:{OLD}", hmac_key: str = f"1:{HMAC1}", active: str = "") -> dict[str, str]:
    return {"SPAPI_PII_KEYS": kek, "SPAPI_PII_HMAC_KEY": hmac_key, "SPAPI_PII_ACTIVE_KEY_ID": active}


def protector(**kwargs: str) -> Protector:
    return Protector.from_env(keys(**kwargs))


def spapi_elt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The CLI in a subprocess, this worktree's code first, the PII keys exactly as given."""
    base = {k: v for k, v in os.environ.items() if k not in PII_VARS}
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT), base.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "spapi_elt.cli", *args], text=True, capture_output=True,
                          cwd=ROOT, env={**base, **env}, timeout=300)


def key_texts(*keys_b64: str) -> list[str]:
    """Every spelling of the keys that could leak: base64, hex, and the raw bytes as latin-1 text."""
    out = []
    for key in keys_b64:
        raw = base64.b64decode(key)
        out += [key, raw.hex(), raw.decode("latin-1")]
    return out


def recorded(lakehouse: Path) -> dict[tuple[str, str], str]:
    """(kind, key id) -> check value; empty when the table is not there."""
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        if not con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                           [DATASET, TABLE]).fetchone()[0]:
            return {}
        rows = con.execute(f"select key_kind, key_id, check_value from {DATASET}.{TABLE}").fetchall()
    return {(k, i): v for k, i, v in rows}


# --- the check value ------------------------------------------------------------------------------------------


def test_the_check_value_reveals_no_key_and_differs_per_key_kind_and_id() -> None:
    raw = base64.b64decode(OLD)
    value = check_value(raw, "kek", "k1")
    assert value == check_value(raw, "kek", "k1") and value.startswith("kc1:") and len(value) == 4 + 32
    assert not any(text in value for text in key_texts(OLD))
    assert not any(raw[i:i + 4].hex() in value for i in range(len(raw) - 3))  # not even 4 bytes of it
    assert len({value, check_value(raw, "kek", "k2"), check_value(raw, "hmac", "k1"),
                check_value(base64.b64decode(NEW), "kek", "k1")}) == 4


def test_the_recorded_table_holds_no_key_material(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    verify_pii_keys(lakehouse, protector(kek=f"k1:{OLD},k2:{NEW}", active="k2"))
    stored = repr(recorded(lakehouse))
    assert recorded(lakehouse).keys() == {("kek", "k1"), ("kek", "k2"), ("hmac", "1")}
    assert not any(text in stored for text in key_texts(OLD, NEW, HMAC1))
    assert lakehouse.read_bytes().find(base64.b64decode(OLD)) == -1


# --- refusing changed keys ------------------------------------------------------------------------------------


def test_a_changed_kek_under_the_same_id_is_refused_and_nothing_is_recorded(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    assert {(u.kind, u.key_id) for u in verify_pii_keys(lakehouse, protector())} == {("kek", "k1"), ("hmac", "1")}
    assert verify_pii_keys(lakehouse, protector()) == []  # the same keys again: accepted, nothing new
    before = recorded(lakehouse)
    with pytest.raises(KeyCheckMismatch) as refused:
        # k2 is new and would be recorded, but the changed k1 refuses the whole check first
        verify_pii_keys(lakehouse, protector(kek=f"k1:{OTHER},k2:{NEW}", active="k2"))
    message = str(refused.value)
    assert KEYS_VAR in message and "'k1'" in message and "rotate-keys" in message
    assert not any(text in message for text in key_texts(OLD, OTHER, NEW, HMAC1))
    assert not any(v in message for v in before.values())
    assert recorded(lakehouse) == before


def test_a_changed_hmac_key_under_the_same_version_is_refused(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    verify_pii_keys(lakehouse, protector())
    with pytest.raises(KeyCheckMismatch) as refused:
        verify_pii_keys(lakehouse, protector(hmac_key=f"1:{HMAC_OTHER}"))
    message = str(refused.value)
    assert "SPAPI_PII_HMAC_KEY" in message and "version 1 " in message
    assert not any(text in message for text in key_texts(HMAC1, HMAC_OTHER, OLD))
    # Without a version the key is version 1: the same refusal.
    with pytest.raises(KeyCheckMismatch):
        verify_pii_keys(lakehouse, protector(hmac_key=HMAC_OTHER))


def test_a_new_key_id_and_version_are_recorded_then_accepted_then_held(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    verify_pii_keys(lakehouse, protector())
    rotated = protector(kek=f"k1:{OLD},k2:{NEW}", hmac_key=f"2:{HMAC_OTHER}", active="k2")
    assert {(u.kind, u.key_id) for u in verify_pii_keys(lakehouse, rotated)} == {("kek", "k2"), ("hmac", "2")}
    assert verify_pii_keys(lakehouse, rotated) == []
    assert verify_pii_keys(lakehouse, protector(kek=f"k2:{NEW}", hmac_key=f"2:{HMAC_OTHER}")) == []  # k1 retired
    with pytest.raises(KeyCheckMismatch, match="'k2'"):  # k2 is now recorded: other bytes under it refuse
        verify_pii_keys(lakehouse, protector(kek=f"k2:{OTHER}", hmac_key=f"2:{HMAC_OTHER}"))
    with pytest.raises(KeyCheckMismatch, match="'k1'"):  # a retired id is never reused for other bytes
        verify_pii_keys(lakehouse, protector(kek=f"k1:{OTHER}", hmac_key=f"2:{HMAC_OTHER}"))


def test_a_lakehouse_from_before_key_checks_must_decrypt_under_the_key_first_recorded(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    value = protector().encrypt("Zebulon Quackenbush", "buyer.buyerName", SELLER)
    with duckdb.connect(str(lakehouse)) as con:  # data, but no pii_key_checks table
        con.execute(f"create schema {DATASET}_staging")
        con.execute(f"create table {DATASET}_staging.order_buyers (seller_id varchar, buyer__buyer_name varchar)")
        con.execute(f"insert into {DATASET}_staging.order_buyers values (?, ?)", [SELLER, value])
    with pytest.raises(KeyCheckMismatch, match=r"'k1' does not decrypt .* \(raw_spapi_staging\.order_buyers\)"):
        verify_pii_keys(lakehouse, protector(kek=f"k1:{OTHER}"))
    assert recorded(lakehouse) == {}
    verify_pii_keys(lakehouse, protector())
    assert ("kek", "k1") in recorded(lakehouse)


# --- the CLI on a real ingest ---------------------------------------------------------------------------------


def test_ingest_with_changed_keys_exits_2_before_extracting_anything(sandbox, tmp_path: Path) -> None:
    facts = truth(sandbox.world)
    config = demo.write_config(tmp_path / "accounts.toml", sandbox.base_url, facts)
    secrets = {k: v for k, v in demo.demo_environment(facts).items() if not k.startswith("SPAPI_PII")}
    lakehouse = tmp_path / "lakehouse.duckdb"
    # order_buyers reads buyer data: only such a run reads the PII keys, and so checks them.
    end = datetime.fromtimestamp(sandbox.world.now, UTC).date().isoformat()  # the sandbox's "now", not the machine's
    args = ("ingest", "--config", str(config), "--lakehouse", str(lakehouse), "--resources",
            "marketplace_participations,order_buyers", "--start", sandbox.arguments.start, "--end", end)
    first = spapi_elt(*args, env={**secrets, **keys()})
    assert first.returncode == 0, first.stderr[-3000:]
    counts = table_counts(lakehouse)
    assert counts["marketplace_participations"] > 0 and counts["api_audit_log"] > 0
    assert recorded(lakehouse).keys() == {("kek", "k1"), ("hmac", "1")}

    for changed, named in ((keys(kek=f"k1:{OTHER}"), "key id 'k1'"), (keys(hmac_key=f"1:{HMAC_OTHER}"), "version 1")):
        refused = spapi_elt(*args, env={**secrets, **changed})
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert named in refused.stderr and "Refused before reading or writing any data" in refused.stderr
        assert not any(t in refused.stdout + refused.stderr for t in key_texts(OLD, OTHER, HMAC1, HMAC_OTHER))
        # Nothing extracted or loaded: not one API call audited, not one row more anywhere.
        assert table_counts(lakehouse) == counts

    rotated = keys(kek=f"k1:{OLD},k2:{NEW}", active="k2")
    accepted = spapi_elt(*args, env={**secrets, **rotated})
    assert accepted.returncode == 0, accepted.stderr[-3000:]
    assert ("kek", "k2") in recorded(lakehouse)
    assert table_counts(lakehouse)["api_audit_log"] > counts["api_audit_log"]  # this run did call the API


# --- rotate-keys ------------------------------------------------------------------------------------------------

# (schema, table, column, field path it is encrypted for) and the plaintexts of a small hand-built lakehouse.
ENCRYPTED = (
    (DATASET, "order_buyers", "buyer__buyer_name", "buyer.buyerName"),
    (DATASET, "order_buyers", "recipient__delivery_address__city", "recipient.deliveryAddress.city"),
    (f"{DATASET}_staging", "order_buyers", "buyer__buyer_name", "buyer.buyerName"),
    (DATASET, "orders", "ship_city", "ship-city"),
)
ROWS = 300  # several data keys: the protector below draws a new one every 64 values


def build_lakehouse(path: Path, protect: Protector) -> dict[tuple[str, str, str], list[str | None]]:
    """Encrypted columns (with a null and a purge tombstone among them), a hashed column, plain columns."""
    protect.values_per_data_key = 64
    plain: dict[tuple[str, str, str], list[str | None]] = {}
    with duckdb.connect(str(path)) as con:
        for schema, table, column, field_path in ENCRYPTED:
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table if not exists {schema}.{table} (row_id integer, seller_id varchar, "
                        "buyer__buyer_email varchar)")
            con.execute(f"alter table {schema}.{table} add column {column} varchar")
            texts: list[str | None] = [f"{column} of buyer {i}" for i in range(ROWS)]
            texts[7], texts[8] = None, "purged:2026-01-01"
            plain[(schema, table, column)] = texts
            values = [t if t is None or t.startswith("purged:") else protect.encrypt(t, field_path, SELLER)
                      for t in texts]
            if con.execute(f"select count(*) from {schema}.{table}").fetchone()[0] == 0:
                hashes = [[i, SELLER, protect.hash(f"b{i}@example.com", "email")] for i in range(ROWS)]
                con.executemany(f"insert into {schema}.{table} (row_id, seller_id, buyer__buyer_email) "
                                "values (?, ?, ?)", hashes)
            con.execute(f"create temp table v as select * from (values {', '.join('(?, ?)' for _ in values)}) "
                        "t(row_id, value)", [x for i, v in enumerate(values) for x in (i, v)])
            con.execute(f"update {schema}.{table} set {column} = v.value from v where {table}.row_id = v.row_id")
            con.execute("drop table v")
    return plain


def stored(path: Path) -> dict[tuple[str, str, str], list[str | None]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {(s, t, c): [r[0] for r in con.execute(f"select {c} from {s}.{t} order by row_id").fetchall()]
                for s, t, c, _ in ENCRYPTED}


def test_rotate_keys_rewraps_every_value_so_only_the_new_key_decrypts(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    plain = build_lakehouse(lakehouse, protector())
    before, counts_before = stored(lakehouse), table_counts(lakehouse)
    assert all(v.startswith("e1:k1:") for values in before.values() for v in values if v and v.startswith("e1:"))

    done = spapi_elt("rotate-keys", "--lakehouse", str(lakehouse), env=keys(kek=f"k1:{OLD},k2:{NEW}", active="k2"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Re-wrapped 1,192 encrypted values under key id 'k2'" in done.stdout  # 4 columns x (300 - 2)
    assert "key id 'k1' any more: remove it from SPAPI_PII_KEYS" in done.stdout
    assert "h1: 900" in done.stdout  # hashes untouched, reported per version
    assert not any(t in done.stdout + done.stderr for t in key_texts(OLD, NEW, HMAC1))

    only_new = protector(kek=f"k2:{NEW}").keyring  # the old key removed from the environment
    after = stored(lakehouse)
    for schema, table, column, field_path in ENCRYPTED:
        for text, old_value, value in zip(plain[(schema, table, column)], before[(schema, table, column)],
                                          after[(schema, table, column)], strict=True):
            if text is None or text.startswith("purged:"):
                assert value == text
                continue
            assert value.startswith("e1:k2:") and value != old_value
            assert decrypt(value, only_new, field_path, SELLER) == text
            # the ciphertext itself did not change, only its wrapped data key
            assert base64.b64decode(value.split(":")[2])[60:] == base64.b64decode(old_value.split(":")[2])[60:]
    counts_after = table_counts(lakehouse)
    assert counts_after.pop("api_audit_log") == 1  # the rotation, audited
    assert counts_after.pop("pii_key_checks") == 3  # k1, k2 and HMAC version 1, recorded by the rotation
    assert counts_after == counts_before
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        emails = [r[0] for r in con.execute(
            f"select buyer__buyer_email from {DATASET}.orders order by row_id").fetchall()]
        assert con.execute(f"select kind, detail from {DATASET}.api_audit_log").fetchall() == [
            ("key_rotation", "1192 values re-wrapped under key id k2 (from k1)")]
    assert emails == [hash_value(f"b{i}@example.com", protector().hmac_key, "email") for i in range(ROWS)]

    # With only the new key: accepted, nothing left to do.
    again = spapi_elt("rotate-keys", "--lakehouse", str(lakehouse), env=keys(kek=f"k2:{NEW}"))
    assert again.returncode == 0 and "Re-wrapped 0 encrypted values" in again.stdout
    assert "Encrypted values by key id: k2 1,192" in again.stdout
    assert stored(lakehouse) == after


def test_rotate_keys_refuses_values_under_an_unlisted_key_id_and_changes_nothing(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    build_lakehouse(lakehouse, protector())
    before = stored(lakehouse)
    done = spapi_elt("rotate-keys", "--lakehouse", str(lakehouse), env=keys(kek=f"k2:{NEW}"))
    assert done.returncode == 2
    assert "no key with id 'k1'" in done.stderr and "raw_spapi.order_buyers.buyer__buyer_name" in done.stderr
    assert stored(lakehouse) == before


def test_rotate_keys_is_all_or_nothing(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    build_lakehouse(lakehouse, protector())
    # Tamper with the wrapped data key of the last value of the last column: it cannot be re-wrapped.
    schema, table, column, _ = ENCRYPTED[-1]
    with duckdb.connect(str(lakehouse)) as con:
        value = con.execute(f"select {column} from {schema}.{table} where row_id = {ROWS - 1}").fetchone()[0]
        raw = bytearray(base64.b64decode(value.split(":")[2]))
        raw[20] ^= 1
        con.execute(f"update {schema}.{table} set {column} = ? where row_id = {ROWS - 1}",
                    ["e1:k1:" + base64.b64encode(bytes(raw)).decode()])
    before = stored(lakehouse)
    done = spapi_elt("rotate-keys", "--lakehouse", str(lakehouse), env=keys(kek=f"k1:{OLD},k2:{NEW}", active="k2"))
    assert done.returncode == 2
    assert f"{schema}.{table}.{column}" in done.stderr and "nothing was changed" in done.stderr
    assert stored(lakehouse) == before  # the columns re-wrapped before the failure were rolled back too
    with pytest.raises(PiiDecryptError):
        decrypt(before[(schema, table, column)][-1], protector().keyring, "ship-city", SELLER)


def test_rotate_keys_refuses_a_changed_key_like_ingest(tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    build_lakehouse(lakehouse, protector())
    verify_pii_keys(lakehouse, protector())
    before = stored(lakehouse)
    done = spapi_elt("rotate-keys", "--lakehouse", str(lakehouse), env=keys(kek=f"k1:{OTHER},k2:{NEW}", active="k2"))
    assert done.returncode == 2 and "key id 'k1' holds other key bytes" in done.stderr
    assert stored(lakehouse) == before
