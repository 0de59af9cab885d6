"""`python -m tests.reliability.crash_run PHASE ARGS...`: `spapi-elt ARGS...` that kills itself (SIGKILL, as the
kernel's OOM killer or a lost machine would) at PHASE, reached through a hook, never after a sleep.

Phases of an ingest: extract (after a few batches were extracted), normalize (the extracted package is
complete, not yet normalized), load (the settlement lines' load job has committed its rows, before dlt marks
it done: the moment a resumed package runs a job twice), load-merge (the same for a merged table), facts (the
main load and window replacement done, the audit/quarantine package pending), window (inside the window
replacement's transaction, after its first delete), purge (after the purge's UPDATE, before it records
itself), rewrite (the purge's new copy of the DuckDB file written, the old file not yet replaced). `hold`:
take the lakehouse's lock, write the file named by SPAPI_TEST_HELD, and wait until the file named by
SPAPI_TEST_RELEASE exists (for concurrency tests).
`none`: no hook.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any


def die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def after_calls(owner: Any, name: str, calls: int, before: bool = False) -> None:
    """Kill the process at the `calls`-th call of owner.name: on entry (`before`), else once it returned."""
    original = getattr(owner, name)
    count = 0
    lock = threading.Lock()  # dlt runs load jobs in threads: each call must see its own number

    def hooked(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        with lock:
            count += 1
            mine = count
        if before and mine == calls:
            die()
        result = original(*args, **kwargs)
        if not before and mine == calls:
            die()
        return result

    setattr(owner, name, hooked)


def after_job(job_class: Any, file_prefix: str) -> None:
    """Kill the process once a load job of the given table file has committed its rows."""
    original = job_class.run

    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if Path(self._file_path).name.startswith(file_prefix):
            die()
        return result

    job_class.run = hooked


class _KillAfterDelete:
    """A DuckDB connection that dies right after its first DELETE, inside the caller's open transaction."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, sql: str, *args: Any) -> Any:
        result = self._con.execute(sql, *args)
        if sql.lstrip().lower().startswith("delete"):
            result.fetchall()
            die()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def install(phase: str) -> None:
    import dlt
    from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

    from dlt_sources.spapi import extraction
    from spapi_elt import ingest, purge

    if phase == "extract":
        after_calls(extraction.Progress, "add", 6)
    elif phase == "normalize":
        after_calls(dlt.Pipeline, "normalize", 1, before=True)
    elif phase == "load":  # the append-only table: a job run twice would double its rows
        after_job(DuckDbCopyJob, "settlement_lines.")
    elif phase == "load-merge":  # a merged table, through dlt's staging dataset
        after_job(DuckDbCopyJob, "financial_transactions.")
    elif phase == "facts":
        after_calls(dlt.Pipeline, "load", 2, before=True)
    elif phase == "window":
        original = ingest.replace_window
        ingest.replace_window = lambda con, *args, **kwargs: original(_KillAfterDelete(con), *args, **kwargs)
    elif phase == "purge":
        after_calls(purge, "load_facts", 1, before=True)
    elif phase == "rewrite":  # the purge's fresh copy of the file is complete, the old file not yet replaced
        from spapi_elt import rewrite

        after_calls(rewrite, "fsync_path", 1)
    elif phase == "hold":
        from spapi_elt import lakehouse_lock

        original_lock = lakehouse_lock.lakehouse_lock

        def held(*args: Any, **kwargs: Any) -> Any:
            manager = original_lock(*args, **kwargs)
            descriptor = manager.__enter__()
            if descriptor is not None:  # the outermost hold: signal, then wait for the release
                Path(os.environ["SPAPI_TEST_HELD"]).write_text(str(os.getpid()))
                release = Path(os.environ["SPAPI_TEST_RELEASE"])
                deadline = time.monotonic() + 300
                while not release.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            return _Entered(manager, descriptor)

        for module in (ingest, purge):
            module.lakehouse_lock = held
    elif phase != "none":
        raise SystemExit(f"unknown phase {phase}")


class _Entered:
    def __init__(self, manager: Any, value: Any) -> None:
        self._manager, self._value = manager, value

    def __enter__(self) -> Any:
        return self._value

    def __exit__(self, *exc: Any) -> Any:
        return self._manager.__exit__(*exc)


if __name__ == "__main__":
    install(sys.argv[1])
    from spapi_elt.cli import main

    sys.exit(main(sys.argv[2:]))
