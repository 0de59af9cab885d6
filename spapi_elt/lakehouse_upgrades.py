"""Key changes dlt cannot make on a raw table that already holds rows, applied before a load.

dlt adds a new key column as NOT NULL, which DuckDB refuses on a table with rows. So a lakehouse loaded
before such a change gets the column here first, filled for its existing rows; dlt then finds the column
and merges on the new key.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from spapi_elt.lakehouse import DATASET


def upgrade_tables(path: Path) -> list[str]:
    """Apply every upgrade the lakehouse still needs; returns the tables changed."""
    if not path.exists():
        return []
    with duckdb.connect(str(path)) as con:
        return [table for table, upgrade in UPGRADES.items() if upgrade(con)]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str] | None:
    rows = con.execute("select column_name from information_schema.columns where table_schema = ? "
                       "and table_name = ?", [DATASET, table]).fetchall()
    return {r[0] for r in rows} or None


def fee_estimate_snapshot_dates(con: duckdb.DuckDBPyConnection) -> bool:
    """fee_estimates keeps one snapshot per day since its key took `snapshot_date` (dlt_sources/spapi/tables.py).
    Rows loaded before that are the snapshot of the day they were loaded (the report is requested in the same
    run): their UTC load day, from dlt's load id (epoch seconds)."""
    columns = _columns(con, "fee_estimates")
    if columns is None or "snapshot_date" in columns:
        return False
    table = f'{DATASET}."fee_estimates"'
    con.execute(f"alter table {table} add column snapshot_date date")
    con.execute(f"update {table} set snapshot_date = date '1970-01-01' "
                "+ cast(floor(cast(_dlt_load_id as double) / 86400) as integer)")
    con.execute(f"alter table {table} alter column snapshot_date set not null")
    return True


UPGRADES = {"fee_estimates": fee_estimate_snapshot_dates}
