"""Key safety: other key bytes under a recorded key id or HMAC version are refused before a run reads or
writes anything."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dlt_sources.spapi.keys import KEYS_VAR, new_key
from dlt_sources.spapi.pii import Protector
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
    args = ("ingest", "--config", str(config), "--lakehouse", str(lakehouse), "--resources",
            "marketplace_participations")
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
