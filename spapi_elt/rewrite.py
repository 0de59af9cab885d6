"""Rewrite a DuckDB file from its live contents, so no byte of a deleted or overwritten value survives.

DuckDB never scrubs a block it frees: after `UPDATE ... SET x = 'purged:...'` and a CHECKPOINT, the rows'
old segments stay in the file as free blocks, byte for byte (compressed or not), until a later write happens
to reuse them (measured: 20,000 uncompressed ciphertexts updated and checkpointed, 19,999 still in the
file). The purge calls `rewrite_database` after it shredded something: the live contents are copied into a
new file (COPY FROM DATABASE: schemas, tables, views, macros, sequences), which then replaces the old one
under the same path, atomically. bench/purge_rewrite.py measures the cost.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

REWRITE_SUFFIX = ".rewrite"  # the folder beside the lakehouse that holds the new file until it replaces the old


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def rewrite_database(path: str | Path) -> None:
    """Replace the DuckDB file at `path` with a copy of its live contents (no free blocks, no WAL).

    The old file stays open read-write, so locked against every other process, until the copy is complete;
    the new file takes its path with one rename (same folder, same file system), so a crash leaves either
    the old file or the new one, never a mix. A copy a crash left behind is removed at the next call.
    """
    path = Path(path)
    work = path.with_name(path.name + REWRITE_SUFFIX)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(mode=0o700)
    try:
        fresh = work / path.name
        with duckdb.connect(str(path)) as con:
            con.execute("CHECKPOINT")  # the WAL's changes into the file: the copy reads a consistent state
            old = con.execute("select current_database()").fetchone()[0]
            con.execute(f"ATTACH {_literal(str(fresh))} AS __rewrite")
            con.execute(f"COPY FROM DATABASE {_identifier(old)} TO __rewrite")
            con.execute("DETACH __rewrite")  # checkpoints the new file and closes it
        os.chmod(fresh, path.stat().st_mode & 0o777)
        fsync_path(fresh)
        os.replace(fresh, path)
        fsync_path(path.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
