"""PII retention: crypto-shred protected buyer values once they are older than the retention window.

Amazon's Data Protection Policy: delete PII within 30 days after delivery unless kept for tax or legal
reasons. Runs after every ingest (so a backfill never leaves old PII behind), on its own schedule in
Dagster, and as `spapi-elt purge-pii`. What the purge does to one value is the PII package's business
(dlt_sources.spapi.pii); which tables and columns to shred, and recording it, is the application's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.pii import ORDER_REPORT_POLICY, ORDERS_POLICY, Action, purge_sql, retention_cutoff
from dlt_sources.spapi.tables import to_table
from spapi_elt.lakehouse import DATASET, lakehouse_path, load_facts, pipeline

RETENTION_DAYS = 30  # Amazon: delete PII within 30 days after delivery unless kept for tax or legal reasons

# Tables that hold protected PII: (table, the date its retention counts from, columns to shred).
PII_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("orders", "last_updated_at", tuple(ORDER_REPORT_POLICY.columns(Action.ENCRYPT).keys())
     + tuple(ORDER_REPORT_POLICY.columns(Action.HASH).keys())),
    ("order_buyers", "last_updated_at", tuple(ORDERS_POLICY.columns(Action.ENCRYPT).keys())
     + tuple(ORDERS_POLICY.columns(Action.HASH).keys())),
)


def purge_pii(lakehouse: str | Path | None = None, today: date | None = None,
              retention_days: int = RETENTION_DAYS) -> int:
    """Crypto-shred protected PII older than the retention window; record what was done. Idempotent."""
    path = lakehouse_path(lakehouse)
    if not path.exists():
        return 0
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
