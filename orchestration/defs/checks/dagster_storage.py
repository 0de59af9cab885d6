"""The text Dagster keeps of recent runs on local disk: event logs and compute logs, for the PII scan.

Under DAGSTER_HOME with the default instance settings (orchestration/dagster.yaml: SQLite storage, local
compute logs): every SQLite file with an `event_logs` table (history/runs/<run id>.db per run and its
index.db), and every other file (storage/<run id>/compute_logs/*.out|.err). The run storage (runs.db)
holds no log lines, only runs and their config. Storage elsewhere (Postgres, a cloud bucket) is not read:
the scan's metadata counts the files it read, so that shows.

Only what changed in the last `days` is read: the scan runs with every daily run, and a year of history
would otherwise be read again each day.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
CHUNK_EVENTS = 5000  # events joined into one text per search: a search per event costs more than the search


def recent_texts(root: Path, days: float) -> Iterator[tuple[Path, str]]:
    """(file, text) for each file under `root` changed in the last `days`, SQLite event logs as their events'
    JSON (several texts per file), other SQLite files skipped, any other file as text."""
    since = datetime.now(UTC) - timedelta(days=days)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) < since or path.name.endswith(("-wal", "-shm")):
            continue
        with path.open("rb") as file:
            sqlite = file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
        if sqlite:
            for text in _events(path, since):
                yield path, text
        else:
            yield path, path.read_text(encoding="utf-8", errors="replace")


def _events(path: Path, since: datetime) -> Iterator[str]:
    # Read-only: the run that runs this scan is writing its own event log meanwhile.
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as con:
        tables = {name for (name,) in con.execute("select name from sqlite_master where type = 'table'")}
        if "event_logs" not in tables:
            return
        # Dagster writes event times as naive UTC text: '2026-12-01 21:34:38.739290'.
        after = since.replace(tzinfo=None).isoformat(" ")
        cursor = con.execute("select event from event_logs where timestamp >= ?", [after])
        while rows := cursor.fetchmany(CHUNK_EVENTS):
            yield "\n".join(event for (event,) in rows)
