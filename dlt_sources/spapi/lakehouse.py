"""The lakehouse: where the source loads (DuckDB by default), its audit trail and its PII purge.

Layout: one DuckDB file (default data/lakehouse.duckdb), dataset `raw_spapi`; dlt's working
directory beside it (data/.dlt), so everything the product writes lives under one folder.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from dlt_sources.spapi import resource_names, spapi_source
from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.client import OperationStats
from dlt_sources.spapi.extraction import AccountFailure, Extraction
from dlt_sources.spapi.pii import ORDER_REPORT_POLICY, ORDERS_POLICY, Action, purge_sql, retention_cutoff
from dlt_sources.spapi.tables import to_table
from dlt_sources.spapi.window_replace import replace_window

logger = logging.getLogger(__name__)

DEFAULT_LAKEHOUSE = Path("data/lakehouse.duckdb")
DATASET = "raw_spapi"
PIPELINE_NAME = "spapi"
RETENTION_DAYS = 30  # Amazon: delete PII within 30 days after delivery unless kept for tax or legal reasons

# Tables that hold protected PII: (table, the date its retention counts from, columns to shred).
PII_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("orders", "last_updated_at", tuple(ORDER_REPORT_POLICY.columns(Action.ENCRYPT).keys())
     + tuple(ORDER_REPORT_POLICY.columns(Action.HASH).keys())),
    ("order_buyers", "last_updated_at", tuple(ORDERS_POLICY.columns(Action.ENCRYPT).keys())
     + tuple(ORDERS_POLICY.columns(Action.HASH).keys())),
)


def lakehouse_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("SPAPI_LAKEHOUSE") or DEFAULT_LAKEHOUSE)


# The loader's DuckDB settings: loads need no insertion order (keys order the rows), and a memory cap keeps
# DuckDB's buffers small; both make big inserts faster and lighter (bench/settlement_ingest.py).
LOADER_DUCKDB_CONFIG = {"preserve_insertion_order": False, "memory_limit": "300MB"}


def pipeline(lakehouse: str | Path | None = None) -> dlt.Pipeline:
    # dlt's load files live only until they are loaded: compressing them costs time and buys nothing.
    os.environ.setdefault("DATA_WRITER__COMPRESSION", "none")
    # Arrow tables carry _dlt_load_id like dict rows, so a re-read window can tell this load's rows from
    # older ones (window_replace.py).
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    path = lakehouse_path(lakehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    credentials = DuckDbCredentials(str(path), global_config=dict(LOADER_DUCKDB_CONFIG))
    return dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=dlt.destinations.duckdb(credentials),
                        dataset_name=DATASET, pipelines_dir=str(path.parent / ".dlt"), progress=None)


@dataclass
class IngestResult:
    lakehouse: Path
    rows: dict[str, int]  # table -> rows in the lakehouse after the run
    calls: int
    throttled: int
    retries: int
    failures: list[AccountFailure] = field(default_factory=list)
    quarantined: int = 0
    purged: int = 0
    per_resource: dict[str, OperationStats] = field(default_factory=dict)  # calls, throttles, retries
    seconds: dict[str, float] = field(default_factory=dict)  # per resource, extraction's first to last item


def ingest(ctx: Extraction, lakehouse: str | Path | None = None, resources: Sequence[str] | None = None,
           purge: bool = True) -> IngestResult:
    """Extract, protect and load; then the audit trail and quarantine; then purge expired PII.

    The purge runs after every ingest so that a backfill never leaves PII older than the retention.
    """
    pipe = pipeline(lakehouse)
    try:
        info = pipe.run(spapi_source(ctx, resources), loader_file_format="parquet")
        if ctx.start is not None:  # an explicit window (a backfill, a partition): replace it, don't just merge
            _replace_windows(lakehouse_path(lakehouse), ctx, info.loads_ids, resource_names(resources))
    finally:
        ctx.close()
        # The audit trail is written even when the run failed: that is when it matters most.
        _load_facts(pipe, ctx)
    purged = purge_pii(lakehouse) if purge else 0
    totals = ctx.stats.totals()
    return IngestResult(lakehouse_path(lakehouse), table_counts(lakehouse), totals.calls, totals.throttled,
                        totals.retries, list(ctx.failures), len(ctx.quarantine), purged,
                        ctx.stats.by_resource(), dict(ctx.seconds))


def _replace_windows(path: Path, ctx: Extraction, load_ids: Sequence[str], resources: Sequence[str]) -> None:
    """Delete what the window held and this load did not re-read (window_replace.py), per resource, for the
    accounts whose extraction of it succeeded; each deletion is audited."""
    accounts = {a.name: a.seller_id for a in ctx.accounts.accounts}
    failed = {(f.resource, f.account) for f in ctx.failures}
    by_seller = {seller_id: name for name, seller_id in accounts.items()}
    start, end = ctx.start, ctx.window_end()
    with duckdb.connect(str(path)) as con:
        for resource in resources:
            sellers = [seller_id for name, seller_id in accounts.items() if (resource, name) not in failed]
            for done in replace_window(con, DATASET, load_ids, [resource], sellers, start, end):
                ctx.audit(AuditEvent(kind=AuditKind.WINDOW_REPLACE, account=by_seller[done.seller_id],
                                     seller_id=done.seller_id, operation=done.table, outcome="deleted",
                                     detail=f"{done.rows} rows of [{start.isoformat()}, {end.isoformat()}) "
                                            "not returned any more"))


def _load_facts(pipe: dlt.Pipeline, ctx: Extraction) -> None:
    events = [e.as_row() for e in ctx.audit.drain()]
    rows: list[Any] = []
    if events:
        rows.append(to_table("api_audit_log", events))
    if ctx.quarantine:
        rows.append(to_table("flat_file_quarantine", list(ctx.quarantine)))
    if rows:
        pipe.run(_facts(rows), loader_file_format="parquet")


@dlt.resource(name="run_facts", write_disposition="append")
def _facts(items: list[Any]) -> Iterator[Any]:
    yield from items


def loaded_until(lakehouse: str | Path | None = None) -> datetime | None:
    """The newest moment any account's data reaches: the furthest cursor of the windowed resources (from
    dlt's state beside the lakehouse). "Today" for the marts of a lakehouse whose data ends in the past
    (the sandbox's world, a restored copy); None before the first ingest."""
    path = lakehouse_path(lakehouse)
    if not (path.parent / ".dlt" / PIPELINE_NAME).exists():
        return None
    resources = pipeline(path).state.get("sources", {}).get(PIPELINE_NAME, {}).get("resources", {})
    cursors = [datetime.fromisoformat(c) for r in resources.values() for c in r.get("cursors", {}).values()]
    return max(cursors, default=None)


def table_counts(lakehouse: str | Path | None = None) -> dict[str, int]:
    """Rows per table of the raw dataset (dlt's own bookkeeping tables left out)."""
    path = lakehouse_path(lakehouse)
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_name not like '_dlt%'"
            " order by table_name", [DATASET]).fetchall()]
        return {t: con.execute(f'select count(*) from {DATASET}."{t}"').fetchone()[0] for t in tables}


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
        pipe = pipeline(path)
        audit = [AuditEvent(kind=AuditKind.PII_PURGE, account="*", seller_id="*", operation="purge-pii",
                            outcome="ok", detail=f"{r['table_name']}: {r['rows_purged']} rows before {cutoff}"
                            ).as_row() for r in records]
        pipe.run(_facts([to_table("pii_purges", records), to_table("api_audit_log", audit)]),
                 loader_file_format="parquet")
    return sum(r["rows_purged"] for r in records)
