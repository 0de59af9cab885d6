"""The PII purge on a Parquet lake (spapi_elt/lake.py): the same shredding as the DuckDB file's (purge.py), done by
rewriting the lake's files.

Each file that holds a due value is written again (lake_rewrite.py: beside the old one, then put in its place; on a
local folder or object storage) with the same
rows and schema, the due values replaced by the same tombstone `purged:<date>` under the same rule (purge.purge_sql's
conditions); the rerun after a kill finds what is still due and finishes.

Only files of completed loads are touched: an ingest of other accounts may be writing its files meanwhile, and its own
purge, at its end, reaches them. dlt's loaded packages under the lake's working directory are removed like the
file's (purge.remove_loaded_packages), except those of a pipeline an ingest holds right now (it removes them itself
when it purges). Rewrites of one lake (purges, key rotations) run one at a time.

Staging reads the latest load's row per key, and every older copy of a row is at least as old, so it is shredded no
later than the copy the marts see: marts built after the purge equal the DuckDB file's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.pii.crypto import PURGED_PREFIX
from dlt_sources.spapi.tables import to_table
from spapi_elt.lake import Lake, LakeFiles
from spapi_elt.lake_rewrite import completed_files, read_schema, read_table, replace, rewrite_lock, write_beside
from spapi_elt.lakehouse import load_facts, pipeline
from spapi_elt.lakehouse_lock import LakehouseBusy, lakehouse_lock
from spapi_elt.purge import (
    PII_TABLES,
    RETENTION_DAYS,
    PiiTable,
    pending_sql,
    remove_loaded_packages_of,
    retention_cutoff,
)

PURGE_PIPELINE = "spapi_pii_purge"  # the purge's own records (pii_purges, audit log) load through this pipeline


@dataclass(frozen=True)
class FileShred:
    rows: int  # rows with at least one value shredded
    columns: tuple[str, ...]  # the table's PII columns this file has


def purge_lake(lake: Lake, today: date | None = None, retention_days: int = RETENTION_DAYS, wait: bool = False) -> int:
    """Shred the lake's PII older than the retention window in every completed load's files; record it; remove
    dlt's loaded packages. Idempotent. Returns the rows shredded."""
    with rewrite_lock(lake, "purge-pii", wait=wait) as files:
        today = today or datetime.now(UTC).date()
        cutoff = retention_cutoff(today, retention_days)
        records = []
        completed = completed_files(files, [pii.table for pii in PII_TABLES])
        for pii in PII_TABLES:
            shreds = [shred_file(files, path, pii, cutoff, today) for path in completed[pii.table]]
            columns = sorted({c for s in shreds for c in s.columns})
            if columns:
                records.append({"purged_at": datetime.now(UTC), "table_name": pii.table, "columns": ",".join(columns),
                                "cutoff": cutoff, "rows_purged": sum(s.rows for s in shreds),
                                "retention_days": retention_days})
        if records:
            audit = [AuditEvent(kind=AuditKind.PII_PURGE, account="*", seller_id="*", operation="purge-pii",
                                outcome="ok", detail=f"{r['table_name']}: {r['rows_purged']} rows before {cutoff}"
                                ).as_row() for r in records]
            load_facts(pipeline(lake.url, name=PURGE_PIPELINE),
                       [to_table("pii_purges", records), to_table("api_audit_log", audit)])
        _remove_idle_packages(lake)
        return sum(r["rows_purged"] for r in records)


def shred_file(files: LakeFiles, path: str, pii: PiiTable, cutoff: date, today: date) -> FileShred:
    """Rewrite one Parquet file with its due PII values tombstoned (nothing written when none is due)."""
    schema = read_schema(files, path)
    present = tuple(c for c in pii.columns if c in schema.names)
    if not present or pii.date_column not in schema.names:
        return FileShred(0, ())
    quoted = ['"' + c.replace('"', '""') + '"' for c in present]
    due = f"({pii.date_sql}) < $cutoff"
    with duckdb.connect() as con:
        con.register("file", read_table(files, path, [*present, pii.date_column]))  # what decides, first
        rows = con.sql(f"select count(*) from file where {due} and "
                       f"({' or '.join(pending_sql(q, pii.encrypted_only) for q in quoted)})",
                       params={"cutoff": cutoff}).fetchall()[0][0]
        if not rows:
            return FileShred(0, present)
        replaced = ", ".join(f"case when {due} and {pending_sql(q, pii.encrypted_only)} then $tombstone else {q} end "
                             f"as {q}" for q in quoted)
        con.register("file", read_table(files, path))  # one load's rows of one table, whole
        table = con.sql(f"select * replace ({replaced}) from file",
                        params={"cutoff": cutoff, "tombstone": f"{PURGED_PREFIX}{today.isoformat()}"}).to_arrow_table()
    replace(files, write_beside(files, path, table, schema), path)
    return FileShred(rows, present)


def _remove_idle_packages(lake: Lake) -> None:
    """dlt's loaded packages of every pipeline of the lake that no ingest holds right now (one that does removes its
    own when its purge runs: the lock is re-entrant)."""
    for folder in sorted(p for p in lake.workdir.iterdir() if p.is_dir()):
        try:
            with lakehouse_lock(folder, "purge-pii: loaded packages"):
                remove_loaded_packages_of(folder)
        except LakehouseBusy:
            continue
