"""Key rotation: move every encrypted PII value in the lakehouse to the active key id, so an old key id can be
retired (`spapi-elt rotate-keys`).

Envelope encryption makes this cheap and safe: only a value's wrapped data key changes (`rewrap`), never
its ciphertext, and no plaintext exists at any point outside the AES-GCM unwrap in memory. Every text
column of every table in the file is scanned (the raw dataset, dlt's staging dataset, anything dbt built),
and all of them change in one transaction: a failure leaves the lakehouse as it was.

Copies outside the file (backups, dlt's old load packages beside it) keep the old key id: removing that key
from SPAPI_PII_KEYS afterwards is what shreds them.

Hashes are not touched: an HMAC cannot be recomputed without the plaintext, which the product never keeps
for hashed fields (no hashed field has an encrypted copy). A new HMAC version applies to the rows loaded
under it; `rotate-keys` reports how many hashes each version still has (README: Buyer PII, rotating keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.config import ConfigError
from dlt_sources.spapi.keys import Keyring, UnknownKeyId
from dlt_sources.spapi.pii import PiiError, Protector, rewrap
from dlt_sources.spapi.pii.crypto import ENCRYPTED_PREFIX
from dlt_sources.spapi.tables import to_table
from spapi_elt.key_checks import KeyUse, quote, text_columns, verify_pii_keys
from spapi_elt.lakehouse import lakehouse_path, load_facts, pipeline

_HASH_REGEX = "h[1-9][0-9]*:[0-9a-f]{64}"


@dataclass
class Protected:
    """What protected values a lakehouse holds, per column ("schema.table.column")."""

    encrypted: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> key id -> values
    hashed: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> HMAC version -> values

    def by_key_id(self) -> dict[str, int]:
        return _total(self.encrypted)

    def by_hmac_version(self) -> dict[str, int]:
        return _total(self.hashed)


def _total(per_column: dict[str, dict[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in per_column.values():
        for name, count in counts.items():
            totals[name] = totals.get(name, 0) + count
    return dict(sorted(totals.items()))


@dataclass
class RotationResult:
    lakehouse: Path | str  # a DuckDB file, or a lake's URL
    active: str
    rewrapped: dict[str, int]  # "schema.table.column" -> values moved to the active key id
    after: Protected
    removable: list[str]  # listed key ids no value in the file is wrapped with any more
    recorded: list[KeyUse]  # key ids / HMAC versions this lakehouse met for the first time


def protected_values(con: duckdb.DuckDBPyConnection) -> Protected:
    """Encrypted values per key id and hashes per HMAC version, per text column of every table."""
    found = Protected()
    for schema, table, column in text_columns(con):
        count_protected(con, f"{quote(schema)}.{quote(table)}", column, f"{schema}.{table}.{column}", found)
    return found


def count_protected(con: duckdb.DuckDBPyConnection, relation: str, column: str, name: str, found: Protected) -> None:
    """Add one text column's encrypted values per key id and hashes per HMAC version to `found`, under `name`."""
    c = quote(column)
    rows = con.execute(
        f"SELECT starts_with({c}, '{ENCRYPTED_PREFIX}') AS enc, "
        f"CASE WHEN starts_with({c}, '{ENCRYPTED_PREFIX}') THEN split_part({c}, ':', 2) "
        f"ELSE regexp_extract({c}, '^h([0-9]+):', 1) END AS name, count(*) "
        f"FROM {relation} "
        f"WHERE starts_with({c}, '{ENCRYPTED_PREFIX}') OR regexp_full_match({c}, '{_HASH_REGEX}') "
        "GROUP BY 1, 2").fetchall()
    for encrypted, key_name, count in rows:
        target = found.encrypted if encrypted else found.hashed
        target.setdefault(name, {})[key_name] = count


def rotate_keys(lakehouse: str | Path | None, protector: Protector) -> RotationResult:
    """Re-wrap every encrypted value under the active key id, after the key check. All or nothing."""
    path = lakehouse_path(lakehouse, "PII key rotation (spapi-elt rotate-keys)")
    if not path.exists():
        raise ConfigError(f"no lakehouse at {path}")
    recorded = verify_pii_keys(path, protector)  # never re-wrap under a key other than the recorded one
    keyring = protector.keyring
    with duckdb.connect(str(path)) as con:
        before, rewrapped = rewrap_in(con, keyring)
        after = protected_values(con)
    if rewrapped:
        load_facts(pipeline(path), [to_table("api_audit_log", [rotation_event(before, rewrapped, keyring.active)])])
    return RotationResult(path, keyring.active, rewrapped, after, removable_key_ids(keyring, after), recorded)


def rewrap_in(con: duckdb.DuckDBPyConnection, keyring: Keyring) -> tuple[Protected, dict[str, int]]:
    """Re-wrap every encrypted value of the DuckDB database `con` under the active key id, in one transaction.
    Returns what was there before and the values re-wrapped per column. Nothing changes on any failure."""
    active = keyring.active
    rewrapped: dict[str, int] = {}
    before = protected_values(con)
    refuse_unknown_key_ids(before, keyring)
    cache: dict[bytes, bytes] = {}
    failure: list[BaseException] = []

    def rewrap_all(values: pa.Array) -> pa.Array:
        try:
            return rewrap_array(values, keyring, cache)
        except Exception as error:
            failure.append(error)
            raise

    con.create_function("spapi_rewrap", rewrap_all, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=True)
    con.execute("BEGIN TRANSACTION")
    try:
        for column, counts in before.encrypted.items():
            if not set(counts) - {active}:
                continue
            schema, table, name = column.split(".", 2)
            c = quote(name)
            done = con.execute(
                f"UPDATE {quote(schema)}.{quote(table)} SET {c} = spapi_rewrap({c}) "
                f"WHERE starts_with({c}, '{ENCRYPTED_PREFIX}') AND NOT starts_with({c}, ?)",
                [f"{ENCRYPTED_PREFIX}{active}:"]).fetchone()[0]
            rewrapped[column] = done
    except duckdb.Error as error:
        con.execute("ROLLBACK")
        cause = failure[0] if failure else error
        if isinstance(cause, PiiError):
            raise PiiError(f"re-wrapping {column} failed, nothing was changed: {cause}") from None
        raise
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return before, rewrapped


def rewrap_array(values: pa.Array, keyring: Keyring, cache: dict[bytes, bytes]) -> pa.Array:
    """Every encrypted value of `values` under the active key id (others, nulls and the active key's unchanged)."""
    return pa.array([v if v is None or not v.startswith(ENCRYPTED_PREFIX) else rewrap(v, keyring, cache=cache)
                     for v in values.to_pylist()], pa.string())


def refuse_unknown_key_ids(found: Protected, keyring: Keyring) -> None:
    """UnknownKeyId, naming where its values are, when a value is wrapped with a key id the keyring lacks."""
    unknown = sorted(set(found.by_key_id()) - set(keyring.keys))
    if unknown:  # refuse before changing anything, naming where the values are
        raise _unknown(unknown[0], [col for col, counts in found.encrypted.items() if unknown[0] in counts])


def removable_key_ids(keyring: Keyring, after: Protected) -> list[str]:
    """Listed key ids no value is wrapped with any more."""
    return sorted(kid for kid in keyring.keys if kid != keyring.active and kid not in after.by_key_id())


def rotation_event(before: Protected, rewrapped: dict[str, int], active: str) -> dict:
    """The audit log's row for a rotation that re-wrapped something."""
    detail = (f"{sum(rewrapped.values())} values re-wrapped under key id {active} "
              f"(from {', '.join(sorted(set(before.by_key_id()) - {active}))})")
    return AuditEvent(kind=AuditKind.KEY_ROTATION, account="*", seller_id="*", operation="rotate-keys",
                      outcome="ok", detail=detail).as_row()


def _unknown(kid: str, where: list[str]) -> UnknownKeyId:
    error = UnknownKeyId(kid)
    error.args = (f"{error} It wraps values in {', '.join(where[:5])}{', ...' if len(where) > 5 else ''}: "
                  f"add key id {kid!r} back to SPAPI_PII_KEYS to re-wrap them. Nothing was changed.",)
    return error
