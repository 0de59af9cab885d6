"""Key safety: the lakehouse remembers which PII key bytes each key id and HMAC version stand for, and a run
whose keys differ refuses before it extracts anything.

Why: a ciphertext names its key id (`e1:<kid>:...`) and a hash its HMAC version (`h<version>:...`), but
not the key bytes. A run with new bytes under an old id or version would otherwise succeed, and leave one
lakehouse with values that decrypt only under the old key and others only under the new, and `h1:` hashes
under two keys that never join. So every key id in SPAPI_PII_KEYS and the HMAC version in use have a
check value in `raw_spapi.pii_key_checks`: recorded the first time a run uses them, compared on every
run after.

The check value is `kc1:` + the first 16 bytes (hex) of HMAC-SHA256(key, a fixed label naming the kind
and id). HMAC is a pseudo-random function: the value says nothing about the key, and proving a guessed
key against it means guessing 256 random bits. It is per kind and id, so one key used twice gives two
unrelated values.

Written with a plain DuckDB connection, not through the dlt pipeline: the check is a gate before the run,
decided and recorded in one transaction (read, compare, insert), while a dlt load commits only after the
extraction it is meant to prevent. dlt leaves tables outside its schema alone.

A lakehouse that predates the table has no record: for a key id met for the first time, one value already
wrapped with that id (if any) must unwrap under the given key before the key is recorded. Hashes cannot be
checked that way (their plaintext is gone by design), so an HMAC version is trusted the first time.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dlt_sources.spapi.keys import ACTIVE_KEY_VAR, HMAC_KEY_VAR, KEYS_VAR, KeyMaterialError
from dlt_sources.spapi.pii import PiiDecryptError, Protector, check_unwraps
from dlt_sources.spapi.pii.crypto import ENCRYPTED_PREFIX
from spapi_elt.lakehouse import DATASET, lakehouse_path

TABLE = "pii_key_checks"
CHECK_PREFIX = "kc1:"
CHECK_BYTES = 16
KEK = "kek"  # a key-encryption key of SPAPI_PII_KEYS, by key id
HMAC = "hmac"  # the key of SPAPI_PII_HMAC_KEY, by version


class KeyCheckMismatch(KeyMaterialError):
    """The key bytes of a key id or HMAC version are not the ones this lakehouse recorded.

    Messages name the variable and the key id or version, never key material or check values."""


@dataclass(frozen=True)
class KeyUse:
    kind: str  # KEK or HMAC
    key_id: str  # the key id, or the HMAC version as text
    check_value: str


def check_value(key: bytes, kind: str, key_id: str) -> str:
    """`kc1:<32 hex>`: HMAC-SHA256 of a fixed label under the key, truncated; reveals nothing of the key."""
    label = f"spapi-pii key check|{kind}|{key_id}".encode()
    return CHECK_PREFIX + hmac.digest(key, label, "sha256")[:CHECK_BYTES].hex()


def key_uses(protector: Protector) -> list[KeyUse]:
    """Every key id of the keyring (old ids decrypt, so their bytes matter too) and the HMAC version."""
    keyring = protector.keyring
    uses = [KeyUse(KEK, kid, check_value(keyring.key(kid), KEK, kid)) for kid in sorted(keyring.keys)]
    version = str(protector.hmac_key.version)
    return [*uses, KeyUse(HMAC, version, check_value(protector.hmac_key.key, HMAC, version))]


def verify_pii_keys(lakehouse: str | Path | None, protector: Protector) -> list[KeyUse]:
    """Refuse (KeyCheckMismatch) if any given key differs from what the lakehouse recorded for its id or
    version; else record the ones met for the first time and return them. Nothing is recorded on refusal."""
    path = lakehouse_path(lakehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    uses = key_uses(protector)
    with duckdb.connect(str(path)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            new = _compare(con, protector, uses, path)
            if new:
                now = datetime.now(UTC)
                con.executemany(f"INSERT INTO {DATASET}.{TABLE} VALUES (?, ?, ?, ?)",
                                [[u.kind, u.key_id, u.check_value, now] for u in new])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return new


def _compare(con: duckdb.DuckDBPyConnection, protector: Protector, uses: list[KeyUse], path: Path) -> list[KeyUse]:
    """The key uses not recorded yet; KeyCheckMismatch at the first one whose bytes differ from the record."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {DATASET}.{TABLE} (key_kind VARCHAR NOT NULL, key_id VARCHAR NOT NULL, "
                "check_value VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (key_kind, key_id))")
    recorded = {(kind, key_id): (value, at) for kind, key_id, value, at in con.execute(
        f"SELECT key_kind, key_id, check_value, recorded_at FROM {DATASET}.{TABLE}").fetchall()}
    new = []
    for use in uses:
        known = recorded.get((use.kind, use.key_id))
        if known is None:
            new.append(use)
        elif not hmac.compare_digest(known[0], use.check_value):
            raise _mismatch(use, known[1], path)
    for use in new:
        if use.kind == KEK:
            _check_existing_values(con, protector, use, path)
    return new


REFUSED = "Refused before reading or writing any data."


def _mismatch(use: KeyUse, recorded_at: datetime, path: Path) -> KeyCheckMismatch:
    when = recorded_at.astimezone(UTC).date().isoformat() if recorded_at else "earlier"
    if use.kind == KEK:
        return KeyCheckMismatch(
            f"{KEYS_VAR}: key id {use.key_id!r} holds other key bytes than the key {path} recorded for it on "
            f"{when}, so values under it would not decrypt. {REFUSED} Restore the original key for "
            f"{use.key_id!r}; to change keys, add the new key under a new id, make it {ACTIVE_KEY_VAR} and run "
            "`spapi-elt rotate-keys` (README: Buyer PII, rotating keys).")
    return KeyCheckMismatch(
        f"{HMAC_KEY_VAR}: version {use.key_id} holds other key bytes than the key {path} recorded for it on "
        f"{when}, so h{use.key_id}: hashes would no longer match earlier ones. {REFUSED} Restore the original "
        f"key; to change it, give the new key a new version ({HMAC_KEY_VAR}=<version>:<base64>; README: Buyer "
        "PII, rotating keys).")


def _check_existing_values(con: duckdb.DuckDBPyConnection, protector: Protector, use: KeyUse, path: Path) -> None:
    """A key id met for the first time on a lakehouse that already holds values wrapped with it (a lakehouse
    from before key checks): one of them must unwrap under the given key."""
    prefix = f"{ENCRYPTED_PREFIX}{use.key_id}:"
    for schema, table, column in text_columns(con):
        row = con.execute(f"SELECT {quote(column)} FROM {quote(schema)}.{quote(table)} "
                          f"WHERE starts_with({quote(column)}, ?) LIMIT 1", [prefix]).fetchone()
        if row is None:
            continue
        try:
            check_unwraps(row[0], protector.keyring)
        except PiiDecryptError:
            raise KeyCheckMismatch(
                f"{KEYS_VAR}: key id {use.key_id!r} does not decrypt the values {path} already holds under that "
                f"id ({schema}.{table}), so it is not the key they were encrypted with. {REFUSED} Restore the "
                f"original key for {use.key_id!r}; a new key needs a new key id.") from None
        return


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def text_columns(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str, str]]:
    """(schema, table, column) of every text column of every base table in the file: where PII values can be
    (the raw dataset, dlt's staging dataset, anything built from them)."""
    yield from con.execute(
        "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_catalog = c.table_catalog "
        "AND t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE t.table_type = 'BASE TABLE' AND c.data_type = 'VARCHAR' AND c.table_catalog = current_database() "
        "ORDER BY 1, 2, 3").fetchall()
