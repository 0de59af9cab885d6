"""A line per step of a Dagster run as it goes, for a terminal that would otherwise wait minutes in silence.

`make demo` runs the whole graph in one process (execute_in_process) with stdout sent to a file (dbt's console).
This reads the run's events from the instance's event log while the run goes, as the UI does, and prints each
step's start and finish (with its duration, success or failure) and the ingest's progress summaries (rows,
calls, 429s per account: dlt_sources.spapi.extraction.Progress) to the terminal it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TextIO

import dagster as dg

from dlt_sources.spapi.extraction import PROGRESS_PREFIX

STEP_EVENTS = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS,
               dg.DagsterEventType.STEP_FAILURE}


class RunPrinter:
    """Prints the new events of one run each time `poll` is called."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, out: TextIO, scope: str = "") -> None:
        self.instance, self.run_id, self.out, self.scope = instance, run_id, out, scope
        self.cursor: str | None = None
        self.started: dict[str, float] = {}

    def poll(self) -> None:
        while True:
            connection = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=500)
            for record in connection.records:
                line = self.describe(record.event_log_entry)
                if line:
                    print(line, file=self.out, flush=True)
            self.cursor = connection.cursor
            if not connection.has_more:
                return

    def describe(self, entry: dg.EventLogEntry) -> str | None:
        clock = datetime.fromtimestamp(entry.timestamp).strftime("%H:%M:%S")
        event = entry.dagster_event
        if event is None:  # a message a step logged: only the ingest's progress summaries
            message = entry.user_message
            return f"{clock}   {entry.step_key}: {message}" if message.startswith(PROGRESS_PREFIX) else None
        if event.event_type not in STEP_EVENTS or not event.step_key:
            return None
        step = event.step_key
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.started[step] = entry.timestamp
            return f"{clock} started  {step}" + (f" ({self.scope})" if self.scope else "")
        seconds = entry.timestamp - self.started.get(step, entry.timestamp)
        outcome = "done    " if event.event_type == dg.DagsterEventType.STEP_SUCCESS else "FAILED  "
        return f"{clock} {outcome} {step} in {seconds:.1f} s"


@contextmanager
def printing_steps(instance: dg.DagsterInstance, run_id: str, out: TextIO, scope: str = "",
                   every_seconds: float = 1.0) -> Iterator[RunPrinter]:
    """Print the run's step lines from a background thread while the body runs, and the last ones after it."""
    printer = RunPrinter(instance, run_id, out, scope)
    stop = threading.Event()

    def follow() -> None:
        while not stop.wait(every_seconds):
            try:
                printer.poll()
            except Exception as error:  # the lines are a courtesy: they never stop the run
                print(f"(step lines stopped: {type(error).__name__})", file=out, flush=True)
                return

    thread = threading.Thread(target=follow, name="run-progress", daemon=True)
    thread.start()
    try:
        yield printer
    finally:
        stop.set()
        thread.join()
        printer.poll()  # whatever the run wrote after the last poll
