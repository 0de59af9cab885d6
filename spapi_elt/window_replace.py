"""A re-run of an explicit window replaces that window's data, not just merges into it.

Merging on the primary key makes a re-run idempotent, but a row the API no longer returns for the window
(a transaction Amazon withdrew, a row loaded by a faulty earlier run) would stay. So after a load with an
explicit window (a backfill, a Dagster partition), rows of that window which this load did not write are
deleted, per account, for the tables whose window is an event time that never changes. Not for:
- orders and order items: their report selects by *last update*, which moves; an order is never deleted
  by Amazon (it is cancelled, which is an update), so merge is exact;
- settlements: versioned by document (settlements.py), never replaced by a window;
- current-state snapshots (listings, inventory, fee estimates, participations): they have no window.
An account whose extraction failed keeps everything: its rows were not re-read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb

# table -> the event time the API's window selects on (the resource reads [start, end) of it).
WINDOW_COLUMNS: dict[str, str] = {
    "financial_transactions": "posted_date",
    "financial_event_groups": "financial_event_group_start",
    "fba_reimbursements": "approved_at",
    "inventory_ledger": "event_at",
}


@dataclass(frozen=True)
class Replaced:
    table: str
    seller_id: str
    rows: int  # stale rows deleted (children of nested tables not counted)


def replace_window(con: duckdb.DuckDBPyConnection, dataset: str, load_ids: Iterable[str], tables: Iterable[str],
                   seller_ids: Iterable[str], start: datetime, end: datetime) -> list[Replaced]:
    """Delete the rows of [start, end) for `seller_ids` in `tables` that none of `load_ids` wrote, and their
    nested child rows (dlt's `<table>__*` tables, linked by _dlt_root_id). One transaction."""
    loads = list(load_ids)
    present = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [dataset]).fetchall()}
    done: list[Replaced] = []
    con.execute("begin")
    try:
        for table in (t for t in tables if t in WINDOW_COLUMNS and t in present):
            children = sorted(t for t in present if t.startswith(f"{table}__"))
            # Arrow-loaded tables have no _dlt_id (and no nested children).
            returned = "_dlt_id" if children else "1"
            for seller_id in seller_ids:
                deleted = con.execute(
                    f'delete from {dataset}."{table}" where seller_id = ? and "{WINDOW_COLUMNS[table]}" >= ? '
                    f'and "{WINDOW_COLUMNS[table]}" < ? and not list_contains(?, _dlt_load_id) returning {returned}',
                    [seller_id, start, end, loads]).fetchall()
                for child in children:
                    con.execute(f'delete from {dataset}."{child}" where list_contains(?, _dlt_root_id)',
                                [[r[0] for r in deleted]])
                if deleted:
                    done.append(Replaced(table, seller_id, len(deleted)))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return done
