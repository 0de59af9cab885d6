"""The PII purge on a Parquet lake (spapi_elt/lake.py): the same shredding as the DuckDB file's (purge.py), done by
rewriting the lake's files.

A Parquet file cannot be updated in place, so each file that holds a due value is written again with the same rows
and schema, the due values replaced by the same tombstone `purged:<date>` under the same rule (purge.purge_sql's
conditions), to a temporary name beside it, then renamed over the old file (one rename on one file system: a kill
leaves the old file or the new one, never half a file; the rerun finds what is still due and finishes). The temporary
name does not end in `.parquet`, so neither staging nor the counts ever read one; a leftover is removed first.

Only files of completed loads are touched (a `_dlt_loads` record names their load id): an ingest of other accounts may
be writing its files meanwhile, and its own purge, at its end, reaches them. dlt's loaded packages under the lake's
working directory are removed like the file's (purge.remove_loaded_packages), except those of a pipeline an ingest
holds right now (it removes them itself when it purges). Purges of one lake run one at a time.

Staging reads the latest load's row per key, and every older copy of a row is at least as old, so it is shredded no
later than the copy the marts see: marts built after the purge equal the DuckDB file's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.pii.crypto import PURGED_PREFIX
from dlt_sources.spapi.tables import to_table
from spapi_elt.lake import DATASET, Lake, LakeNotSupported
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
from spapi_elt.rewrite import fsync_path

PURGE_PIPELINE = "spapi_pii_purge"  # the purge's own records (pii_purges, audit log) load through this pipeline
TEMPORARY_SUFFIX = ".purging"  # a rewritten file until it replaces the old one


@dataclass(frozen=True)
class FileShred:
    rows: int  # rows with at least one value shredded
    columns: tuple[str, ...]  # the table's PII columns this file has


def purge_lake(lake: Lake, today: date | None = None, retention_days: int = RETENTION_DAYS, wait: bool = False) -> int:
    """Shred the lake's PII older than the retention window in every completed load's files; record it; remove
    dlt's loaded packages. Idempotent. Returns the rows shredded."""
    root = lake.local_root
    if root is None:
        raise LakeNotSupported(f"the PII purge on object storage is not supported yet ({lake.url}): use a file:// "
                               "lake or a DuckDB file (README: 'Scale-out: a lake instead of one file')")
    lake.workdir.mkdir(parents=True, exist_ok=True)
    with lakehouse_lock(lake.workdir / "pii_purge", "purge-pii", wait=wait):
        today = today or datetime.now(UTC).date()
        cutoff = retention_cutoff(today, retention_days)
        raw = root / DATASET
        for leftover in raw.glob(f"*/*{TEMPORARY_SUFFIX}") if raw.is_dir() else []:
            leftover.unlink()  # a rewrite a kill interrupted: the old file is still in place
        loads = completed_loads(raw)
        records = []
        for pii in PII_TABLES:
            files = [f for f in sorted((raw / pii.table).glob("*.parquet")) if load_id_of(f) in loads]
            shreds = [shred_file(f, pii, cutoff, today) for f in files]
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


def completed_loads(raw: Path) -> set[str]:
    """The load ids dlt recorded as complete (`_dlt_loads/<schema>__<load_id>.jsonl`, written after the last job)."""
    folder = raw / "_dlt_loads"
    return {f.name.removesuffix(".jsonl").rsplit("__", 1)[-1] for f in folder.glob("*.jsonl")} if folder.is_dir() \
        else set()


def load_id_of(file: Path) -> str:
    """The load that wrote a raw file: lake.LAYOUT names it `<load_id>.<file_id>.parquet`."""
    return file.name.removesuffix(".parquet").rsplit(".", 1)[0]


def shred_file(file: Path, pii: PiiTable, cutoff: date, today: date) -> FileShred:
    """Rewrite one Parquet file with its due PII values tombstoned (nothing written when none is due)."""
    schema = pq.read_schema(file)
    present = tuple(c for c in pii.columns if c in schema.names)
    if not present or pii.date_column not in schema.names:
        return FileShred(0, ())
    quoted = ['"' + c.replace('"', '""') + '"' for c in present]
    due = f"({pii.date_sql}) < $cutoff"
    with duckdb.connect() as con:
        source = "read_parquet($file)"
        rows = con.sql(f"select count(*) from {source} where {due} and "
                       f"({' or '.join(pending_sql(q, pii.encrypted_only) for q in quoted)})",
                       params={"file": str(file), "cutoff": cutoff}).fetchall()[0][0]
        if not rows:
            return FileShred(0, present)
        replaced = ", ".join(f"case when {due} and {pending_sql(q, pii.encrypted_only)} then $tombstone else {q} end "
                             f"as {q}" for q in quoted)
        table = con.sql(f"select * replace ({replaced}) from {source}",
                        params={"file": str(file), "cutoff": cutoff, "tombstone": f"{PURGED_PREFIX}{today.isoformat()}"}
                        ).to_arrow_table()
    temporary = file.with_name(file.name + TEMPORARY_SUFFIX)
    pq.write_table(table.cast(schema), temporary)  # the writer's own types and metadata, column for column
    fsync_path(temporary)
    os.replace(temporary, file)
    fsync_path(file.parent)
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
