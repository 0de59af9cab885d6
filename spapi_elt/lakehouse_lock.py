"""One writer per lakehouse: an OS file lock beside the DuckDB file, held by every entry point that opens it.

DuckDB lets one process write a file, and no other process even read it meanwhile; dlt's working directory
(state, load packages) has no lock of its own. Two runs on one lakehouse would fail with DuckDB's "Could not
set lock" deep in a traceback, or, worse, both extract the same settlement document. So the application takes
`<lakehouse>.lock` (flock, exclusive) around an ingest, a dbt build, a purge and a report; Dagster's steps take
it too, so a CLI run and a Dagster run never meet. The kernel releases it when its process dies, however it
dies: a kill -9 never leaves a stale lock.

The second comer either fails at once with one line naming who holds the lock (the CLI's default) or waits
(`--wait`, and every Dagster step). Re-entrant within a process: an ingest's purge runs under the ingest's lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class LakehouseBusy(RuntimeError):
    """Another process holds the lakehouse; the message says which and what to do."""


_held: dict[Path, int] = {}  # lock file -> depth, for this process
_guard = threading.Lock()


def lock_path(lakehouse: Path) -> Path:
    return lakehouse.with_name(lakehouse.name + ".lock")


@contextmanager
def lakehouse_lock(lakehouse: str | Path, purpose: str, wait: bool = False,
                   on_wait: Callable[[str], None] | None = None) -> Iterator[int | None]:
    """Hold the lakehouse for `purpose` (e.g. "ingest"): at once, else wait or raise LakehouseBusy.

    Yields the lock's file descriptor (None when re-entered): a child process that must keep the lakehouse
    after this one dies (dbt) inherits it (`pass_fds`), so the lock lasts as long as either lives."""
    path = lock_path(Path(lakehouse).resolve())
    with _guard:
        if path in _held:
            _held[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield None
        finally:
            with _guard:
                _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            if not wait:
                raise LakehouseBusy(f"the lakehouse {Path(lakehouse)} is in use by {holder}; run again when it "
                                    "has finished, or pass --wait to wait for it") from None
            if on_wait:
                on_wait(f"waiting for the lakehouse {Path(lakehouse)}: in use by {holder} ...")
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{purpose} (pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)"
                  .encode(), 0)
        with _guard:
            _held[path] = 1
        try:
            yield descriptor
        finally:
            with _guard:
                del _held[path]
    finally:
        os.close(descriptor)  # closing the descriptor releases the flock


def _holder(descriptor: int) -> str:
    """Who holds the lock, as it wrote itself into the file (the file is small and ours)."""
    text = os.pread(descriptor, 512, 0).decode(errors="replace").strip()
    return text or "another process"
