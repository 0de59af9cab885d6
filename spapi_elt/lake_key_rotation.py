"""Key rotation on a Parquet lake (`spapi-elt rotate-keys --lakehouse file:///...` or `s3://...`): the DuckDB
file's rotation (key_rotation.py) done by rewriting the lake's files, so an old key id can be retired from a lake too.

Every raw file of a completed load that holds a value wrapped with another key id than the active one is written again
with those values re-wrapped: only the wrapped data key changes, never the ciphertext, and no plaintext exists outside
the unwrap in memory. All or nothing for a failure: every new file is first written beside its old one
(lake_rewrite.py), and only when all are written are they put in place; a value that does not unwrap removes
them and changes nothing. A kill during the renames leaves whole files, each under the old key id or the new (both
still listed in SPAPI_PII_KEYS): the rerun finishes.

Files of a load still in progress are not rewritten (their ingest may be writing them) but they are counted, so a key
id that still wraps one of their values is not reported as removable. dbt's marts (<lake>/warehouse.duckdb, Spark's
<lake>/spark-warehouse) hold no encrypted value: no model selects a PII column. dlt's old load packages keep the old key
id, as beside a DuckDB file: removing the key from SPAPI_PII_KEYS is what shreds them.
"""

from __future__ import annotations

from collections import Counter

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from dlt_sources.spapi.keys import Keyring
from dlt_sources.spapi.pii import PiiError, Protector
from dlt_sources.spapi.pii.crypto import ENCRYPTED_PREFIX
from dlt_sources.spapi.tables import to_table
from spapi_elt.key_checks import quote, verify_pii_keys
from spapi_elt.key_rotation import (
    Protected,
    RotationResult,
    count_protected,
    refuse_unknown_key_ids,
    removable_key_ids,
    rewrap_array,
    rotation_event,
)
from spapi_elt.lake import DATASET, Lake, LakeFiles, lake_views
from spapi_elt.lake_rewrite import completed_files, name_of, read_table, remove, replace, rewrite_lock, write_beside
from spapi_elt.lakehouse import load_facts, pipeline
from spapi_elt.lakehouse_lock import lakehouse_lock

ROTATION_PIPELINE = "spapi_key_rotation"  # the rotation's audit record loads through this pipeline


def rotate_lake(lake: Lake, protector: Protector, wait: bool = False) -> RotationResult:
    """Re-wrap every encrypted value of the lake's completed loads under the active key id, after the key check."""
    with rewrite_lock(lake, "rotate-keys", wait=wait) as files:
        with lakehouse_lock(lake.key_checks, "PII key check", wait=True):  # one registry for every account set
            recorded = verify_pii_keys(lake.key_checks, protector)
        keyring = protector.keyring
        before = lake_protected_values(lake)
        refuse_unknown_key_ids(before, keyring)
        rewrapped = _rewrap_files(files, before, keyring)
        after = lake_protected_values(lake)
        if rewrapped:
            event = rotation_event(before, rewrapped, keyring.active)
            load_facts(pipeline(lake.url, name=ROTATION_PIPELINE), [to_table("api_audit_log", [event])])
    return RotationResult(lake.url, keyring.active, rewrapped, after, removable_key_ids(keyring, after), recorded)


def lake_protected_values(lake: Lake) -> Protected:
    """Encrypted values per key id and hashes per HMAC version, per text column of every raw table (every file)."""
    found = Protected()
    with duckdb.connect() as con:
        for table in lake_views(lake, con):
            relation = f"{DATASET}.{quote(table)}"
            for column, kind, *_ in con.execute(f"describe {relation}").fetchall():
                if kind == "VARCHAR":
                    count_protected(con, relation, column, f"{DATASET}.{table}.{column}", found)
    return found


def _rewrap_files(files: LakeFiles, before: Protected, keyring: Keyring) -> dict[str, int]:
    """Write every completed file with a stale value anew beside the old, then put them all in place."""
    stale: dict[str, list[str]] = {}  # table -> its columns with values under another key id than the active one
    for name, counts in before.encrypted.items():
        if set(counts) - {keyring.active}:
            _, table, column = name.split(".", 2)
            stale.setdefault(table, []).append(column)
    rewrapped: Counter[str] = Counter()
    written: list[tuple[str, str]] = []
    cache: dict[bytes, bytes] = {}
    completed = completed_files(files, stale)
    try:
        for table, columns in stale.items():
            for path in completed[table]:
                old = read_table(files, path)
                counts, new = _rewrapped(old, table, name_of(path), columns, keyring, cache)
                if new is not None:
                    written.append((write_beside(files, path, new, old.schema), path))
                    rewrapped.update({f"{DATASET}.{table}.{column}": n for column, n in counts.items()})
    except BaseException:
        for temporary, _ in written:
            remove(files, temporary)
        raise
    for temporary, path in written:
        replace(files, temporary, path)
    return dict(sorted(rewrapped.items()))


def _rewrapped(table: pa.Table, table_name: str, file_name: str, columns: list[str], keyring: Keyring,
               cache: dict[bytes, bytes]) -> tuple[dict[str, int], pa.Table | None]:
    """A file's table with its stale values re-wrapped (None when it has none), and how many per column."""
    active = f"{ENCRYPTED_PREFIX}{keyring.active}:"
    counts: dict[str, int] = {}
    for column in (c for c in columns if c in table.column_names):
        values = table[column]
        stale = pc.sum(pc.and_(pc.starts_with(values, ENCRYPTED_PREFIX),
                               pc.invert(pc.starts_with(values, active)))).as_py() or 0
        if not stale:
            continue
        try:
            new = rewrap_array(values.combine_chunks(), keyring, cache)
        except PiiError as error:
            raise PiiError(f"re-wrapping {DATASET}.{table_name}.{column} ({file_name}) failed, nothing was "
                           f"changed: {error}") from None
        table = table.set_column(table.schema.get_field_index(column), column, new)
        counts[column] = stale
    return counts, (table if counts else None)
