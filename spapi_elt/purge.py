"""PII retention: crypto-shred protected buyer values once they are older than the retention window.

Amazon's Data Protection Policy: delete PII within 30 days after delivery unless kept for tax or legal
reasons. Runs after every ingest (so a backfill never leaves old PII behind), on its own schedule in
Dagster, and as `spapi-elt purge-pii`. What the purge does to one value is the PII package's business
(dlt_sources.spapi.pii); which tables and columns to shred, and recording it, is the application's.

Shredding a value replaces it with the tombstone `purged:<date>` (`purge_sql` builds the idempotent
DuckDB UPDATE for a retention window). The purge shreds every copy the product keeps under the data
folder, not only the raw tables:

- the raw dataset and dlt's merge staging dataset (`raw_spapi_staging`, emptied after each load anyway:
  lakehouse.pipeline());
- flat-file quarantine lines of PII reports (encrypted; their retention counts from their load);
- dlt's loaded packages (`.dlt/spapi/load/loaded/`), whose job files are the loaded rows: deleted whole;
- the DuckDB file's freed blocks, which keep the old bytes of every UPDATE: after a purge that shredded
  something the file is rewritten from its live contents (spapi_elt/rewrite.py).

On a Parquet lake the same shredding rewrites the lake's files instead (spapi_elt/lake_purge.py).

Copies outside the data folder (backups, snapshots, a copied file) are shredded by retiring the KEK:
rotate keys (say monthly), `spapi-elt rotate-keys` re-wraps what the lakehouse keeps, then delete the old
key id from SPAPI_PII_KEYS.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.pii.crypto import ENCRYPTED_PREFIX, PURGED_PREFIX
from dlt_sources.spapi.pii.policies import ORDER_REPORT_POLICY, ORDERS_POLICY
from dlt_sources.spapi.pii.policy import Action
from dlt_sources.spapi.tables import to_table
from spapi_elt.lake import as_lake, is_lake
from spapi_elt.lakehouse import DATASET, PIPELINE_NAME, lakehouse_path, lakehouse_setting, load_facts, pipeline
from spapi_elt.lakehouse_lock import lakehouse_lock
from spapi_elt.rewrite import rewrite_database

RETENTION_DAYS = 30  # Amazon: delete PII within 30 days after delivery unless kept for tax or legal reasons

STAGING_DATASET = f"{DATASET}_staging"  # dlt's staging dataset for merge loads: the same tables, a copy


@dataclass(frozen=True)
class PiiTable:
    """A table that holds protected PII: the column its retention counts from, and the columns to shred."""

    table: str
    date_column: str
    columns: tuple[str, ...]
    encrypted_only: bool = False  # shred only `e1:` values (the column also holds lines without PII)

    @property
    def date_sql(self) -> str:
        if self.date_column == "_dlt_load_id":  # dlt's load id is the load's Unix time
            return 'CAST(to_timestamp(CAST("_dlt_load_id" AS DOUBLE)) AS DATE)'
        return f'CAST("{self.date_column}" AS DATE)'


PII_TABLES: tuple[PiiTable, ...] = (
    PiiTable("orders", "last_updated_at", tuple(ORDER_REPORT_POLICY.columns(Action.ENCRYPT).keys())
             + tuple(ORDER_REPORT_POLICY.columns(Action.HASH).keys())),
    PiiTable("order_buyers", "last_updated_at", tuple(ORDERS_POLICY.columns(Action.ENCRYPT).keys())
             + tuple(ORDERS_POLICY.columns(Action.HASH).keys())),
    # Malformed lines of reports with buyer data are kept encrypted (dlt_sources/spapi/orders.py).
    PiiTable("flat_file_quarantine", "_dlt_load_id", ("raw_line",), encrypted_only=True),
)


def purge_pii(lakehouse: str | Path | None = None, today: date | None = None,
              retention_days: int = RETENTION_DAYS, wait: bool = False) -> int:
    """Crypto-shred protected PII older than the retention window in every copy under the data folder (see the
    module docstring); record what was done. Idempotent. Returns the rows shredded, staging copies included.
    Holds the lakehouse's lock (an ingest's own purge runs under the ingest's)."""
    setting = lakehouse_setting(lakehouse)
    if is_lake(setting):  # the lake's files are rewritten instead (lake_purge.py)
        from spapi_elt.lake_purge import purge_lake

        return purge_lake(as_lake(setting), today, retention_days, wait=wait)
    path = lakehouse_path(lakehouse)
    with lakehouse_lock(path, "purge-pii", wait=wait):  # even before the file exists: an ingest may be making it
        return _purge(path, today, retention_days) if path.exists() else 0


def _purge(path: Path, today: date | None, retention_days: int) -> int:
    today = today or datetime.now(UTC).date()
    cutoff = retention_cutoff(today, retention_days)
    records = []
    # Owed rewrite: a purge killed after its UPDATE committed and before the rewrite leaves old values in freed
    # blocks, and the next purge shreds nothing (it is all tombstoned): the marker makes it rewrite anyway.
    owed = rewrite_marker(path)
    rewrite_owed = owed.exists()
    owed.touch()
    with duckdb.connect(str(path)) as con:
        existing = {(r[0], r[1], r[2]) for r in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in (?, ?)", [DATASET, STAGING_DATASET]).fetchall()}
        for schema in (DATASET, STAGING_DATASET):
            for pii in PII_TABLES:
                present = [c for c in pii.columns if (schema, pii.table, c) in existing]
                if not present or (schema, pii.table, pii.date_column) not in existing:
                    continue
                sql, params = purge_sql(pii.table, present, pii.date_sql, cutoff, today, schema,
                                        encrypted_only=pii.encrypted_only)
                shredded = con.execute(sql, params).fetchone()[0]
                if schema == DATASET or shredded:  # the staging copy is recorded only when it held something
                    name = pii.table if schema == DATASET else f"{schema}.{pii.table}"
                    records.append({"purged_at": datetime.now(UTC), "table_name": name,
                                    "columns": ",".join(present), "cutoff": cutoff, "rows_purged": shredded,
                                    "retention_days": retention_days})
    if records:
        audit = [AuditEvent(kind=AuditKind.PII_PURGE, account="*", seller_id="*", operation="purge-pii",
                            outcome="ok", detail=f"{r['table_name']}: {r['rows_purged']} rows before {cutoff}"
                            ).as_row() for r in records]
        load_facts(pipeline(path), [to_table("pii_purges", records), to_table("api_audit_log", audit)])
    remove_loaded_packages(path)
    shredded_total = sum(r["rows_purged"] for r in records)
    if shredded_total or rewrite_owed:
        rewrite_database(path)  # the UPDATEs' old values live on in freed blocks until the file is rewritten
    owed.unlink()
    return shredded_total


def rewrite_marker(lakehouse: Path) -> Path:
    return lakehouse.with_name(lakehouse.name + ".rewrite-owed")


def remove_loaded_packages(lakehouse: str | Path | None = None) -> int:
    """Delete dlt's loaded packages beside the lakehouse: their job files are the loaded rows, ciphertext
    included (dlt deletes completed jobs itself, lakehouse.pipeline(), but keeps a package with a failed job
    whole). Pending packages (not loaded yet) stay: the next run loads them. Returns how many were removed."""
    return remove_loaded_packages_of(lakehouse_path(lakehouse).parent / ".dlt" / PIPELINE_NAME)


def remove_loaded_packages_of(pipeline_dir: Path) -> int:
    """Delete the loaded packages in one dlt pipeline's working directory; returns how many were removed."""
    loaded = pipeline_dir / "load" / "loaded"
    packages = [p for p in loaded.iterdir() if p.is_dir()] if loaded.is_dir() else []
    for package in packages:
        shutil.rmtree(package)
    return len(packages)


def purge_value(value: Any, on: date) -> Any:
    """The tombstone `purged:<date>` for a stored PII value; None stays None; a tombstone stays as it is."""
    if value is None or (isinstance(value, str) and value.startswith(PURGED_PREFIX)):
        return value
    return f"{PURGED_PREFIX}{on.isoformat()}"


def retention_cutoff(today: date, retention_days: int = 30) -> date:
    """Rows whose retention date is before this day are due: Amazon allows 30 days after delivery."""
    return today - timedelta(days=retention_days)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def pending_sql(quoted_column: str, encrypted_only: bool = False) -> str:
    """True where a value still has to be shredded: set and not a tombstone yet (`encrypted_only`: an `e1:` value)."""
    if encrypted_only:
        return f"starts_with({quoted_column}, '{ENCRYPTED_PREFIX}')"
    return f"({quoted_column} IS NOT NULL AND NOT starts_with({quoted_column}, '{PURGED_PREFIX}'))"


def purge_sql(table: str, columns: Sequence[str], date_sql: str, cutoff: date, today: date,
              schema: str | None = None, encrypted_only: bool = False) -> tuple[str, list[Any]]:
    """An idempotent DuckDB UPDATE that tombstones `columns` of rows whose `date_sql` is before `cutoff`.

    `date_sql` is an expression the product writes (never user input), e.g.
    `COALESCE(delivered_at, last_updated_at)`. Rows already purged are not touched again, so the
    statement's row count is what this run shredded. `encrypted_only` shreds only `e1:` values (a column
    that holds protected and unprotected values alike). Returns (sql, parameters).
    """
    if not columns:
        raise ValueError("purge_sql needs at least one column")
    target = f"{_quote(schema)}.{_quote(table)}" if schema else _quote(table)
    tombstone = f"{PURGED_PREFIX}{today.isoformat()}"
    quoted = [_quote(c) for c in columns]
    pending = [pending_sql(c, encrypted_only) for c in quoted]
    sets = [f"{c} = CASE WHEN {p} THEN ? ELSE {c} END" for c, p in zip(quoted, pending, strict=True)]
    sql = (f"UPDATE {target} SET {', '.join(sets)} "
           f"WHERE ({date_sql}) < ? AND ({' OR '.join(pending)})")
    return sql, [tombstone] * len(columns) + [cutoff]
