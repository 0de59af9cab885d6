"""PII retention: crypto-shred protected buyer values once they are older than the retention window.

Amazon's Data Protection Policy: delete PII within 30 days after delivery unless kept for tax or legal
reasons. Runs after every ingest (so a backfill never leaves old PII behind), on its own schedule in
Dagster, and as `spapi-elt purge-pii`. What the purge does to one value is the PII package's business
(dlt_sources.spapi.pii); which tables and columns to shred, and recording it, is the application's.

Shredding a value replaces it with the tombstone `purged:<date>` (`purge_sql` builds the idempotent
DuckDB UPDATE for a retention window). Copies that an UPDATE cannot reach (backups, old load packages)
are shredded by retiring the KEK: rotate keys (say monthly), `rewrap` what must be kept, then delete
the old key id from SPAPI_PII_KEYS.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.pii.crypto import PURGED_PREFIX
from dlt_sources.spapi.pii.policies import ORDER_REPORT_POLICY, ORDERS_POLICY
from dlt_sources.spapi.pii.policy import Action
from dlt_sources.spapi.tables import to_table
from spapi_elt.lakehouse import DATASET, lakehouse_path, load_facts, pipeline
from spapi_elt.lakehouse_lock import lakehouse_lock

RETENTION_DAYS = 30  # Amazon: delete PII within 30 days after delivery unless kept for tax or legal reasons

# Tables that hold protected PII: (table, the date its retention counts from, columns to shred).
PII_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("orders", "last_updated_at", tuple(ORDER_REPORT_POLICY.columns(Action.ENCRYPT).keys())
     + tuple(ORDER_REPORT_POLICY.columns(Action.HASH).keys())),
    ("order_buyers", "last_updated_at", tuple(ORDERS_POLICY.columns(Action.ENCRYPT).keys())
     + tuple(ORDERS_POLICY.columns(Action.HASH).keys())),
)


def purge_pii(lakehouse: str | Path | None = None, today: date | None = None,
              retention_days: int = RETENTION_DAYS, wait: bool = False) -> int:
    """Crypto-shred protected PII older than the retention window; record what was done. Idempotent. Holds the
    lakehouse's lock (an ingest's own purge runs under the ingest's)."""
    path = lakehouse_path(lakehouse)
    if not path.exists():
        return 0
    with lakehouse_lock(path, "purge-pii", wait=wait):
        return _purge(path, today, retention_days)


def _purge(path: Path, today: date | None, retention_days: int) -> int:
    today = today or datetime.now(UTC).date()
    cutoff = retention_cutoff(today, retention_days)
    records = []
    with duckdb.connect(str(path)) as con:
        existing = {(r[0], r[1]) for r in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ?",
            [DATASET]).fetchall()}
        for table, date_column, columns in PII_TABLES:
            present = [c for c in columns if (table, c) in existing]
            if not present or (table, date_column) not in existing:
                continue
            sql, params = purge_sql(table, present, f'CAST("{date_column}" AS DATE)', cutoff, today, DATASET)
            shredded = con.execute(sql, params).fetchone()[0]
            records.append({"purged_at": datetime.now(UTC), "table_name": table, "columns": ",".join(present),
                            "cutoff": cutoff, "rows_purged": shredded, "retention_days": retention_days})
    if records:
        audit = [AuditEvent(kind=AuditKind.PII_PURGE, account="*", seller_id="*", operation="purge-pii",
                            outcome="ok", detail=f"{r['table_name']}: {r['rows_purged']} rows before {cutoff}"
                            ).as_row() for r in records]
        load_facts(pipeline(path), [to_table("pii_purges", records), to_table("api_audit_log", audit)])
    return sum(r["rows_purged"] for r in records)


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


def purge_sql(table: str, columns: Sequence[str], date_sql: str, cutoff: date, today: date,
              schema: str | None = None) -> tuple[str, list[Any]]:
    """An idempotent DuckDB UPDATE that tombstones `columns` of rows whose `date_sql` is before `cutoff`.

    `date_sql` is an expression the product writes (never user input), e.g.
    `COALESCE(delivered_at, last_updated_at)`. Rows already purged are not touched again, so the
    statement's row count is what this run shredded. Returns (sql, parameters).
    """
    if not columns:
        raise ValueError("purge_sql needs at least one column")
    target = f"{_quote(schema)}.{_quote(table)}" if schema else _quote(table)
    tombstone = f"{PURGED_PREFIX}{today.isoformat()}"
    quoted = [_quote(c) for c in columns]
    pending = [f"({c} IS NOT NULL AND NOT starts_with({c}, '{PURGED_PREFIX}'))" for c in quoted]
    sets = [f"{c} = CASE WHEN {p} THEN ? ELSE {c} END" for c, p in zip(quoted, pending, strict=True)]
    sql = (f"UPDATE {target} SET {', '.join(sets)} "
           f"WHERE ({date_sql}) < ? AND ({' OR '.join(pending)})")
    return sql, [tombstone] * len(columns) + [cutoff]
