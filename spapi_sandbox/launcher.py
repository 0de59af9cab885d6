"""Start a sandbox as its own process and stop it again: the one launcher the demo, `make ui`, the
benchmarks and the tests share.

A sandbox is `python -m spapi_sandbox serve` on a free loopback port; it prints its base URL as its
first line on stdout, and its log (one line per request with --verbose, errors always) goes to a file
of its own, removed by `close()`. Its ground truth (accounts, credentials, expected figures) comes from
`spapi_sandbox truth` in another process, so the caller never has to build the world itself.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from spapi_sandbox.world import DataArguments

STARTUP_TIMEOUT = 120.0  # generating a large world before serving takes a while on a busy machine
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningSandbox:
    """A running `spapi-sandbox serve` process: where it listens, what data it serves, where it logs."""

    base_url: str
    arguments: DataArguments
    time_scale: float
    faults: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait (SIGKILL after `timeout`); returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def close(self) -> None:
        """Stop the server and remove its log (read the log after `stop()` and before this, if needed)."""
        self.stop()
        self.log_path.unlink(missing_ok=True)


Running = TypeVar("Running", bound=RunningSandbox)


def data_options(arguments: DataArguments) -> list[str]:
    """The command-line options that decide the data: same options, same bytes."""
    return ["--seed", str(arguments.seed), "--sellers", str(arguments.sellers), "--start", arguments.start,
            "--days", str(arguments.days), "--orders-per-day", str(arguments.orders_per_day),
            "--regions", ",".join(arguments.regions)] + ([] if arguments.fee_overcharges else ["--no-fee-overcharges"])


def serve_command(arguments: DataArguments, time_scale: float = 1.0, faults: str = "none",
                  extra: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "spapi_sandbox", "serve", "--host", "127.0.0.1", "--port", "0",
            *data_options(arguments), "--time-scale", str(time_scale), "--faults", faults, *extra]


def launch(arguments: DataArguments, time_scale: float = 1.0, faults: str = "none", extra: tuple[str, ...] = (),
           kind: type[Running] = RunningSandbox) -> Running:
    """Start a sandbox and wait for the line with its base URL; an error with its log if it does not come."""
    handle, name = tempfile.mkstemp(prefix="spapi-sandbox-", suffix=".log")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with os.fdopen(handle, "wb") as log_file:
        process = subprocess.Popen(serve_command(arguments, time_scale, faults, extra), cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline, line = time.monotonic() + STARTUP_TIMEOUT, b""
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            break
    selector.close()
    log_path = Path(name)
    if not line.startswith(b"http://"):
        process.kill()
        process.wait()
        log = log_path.read_text(errors="replace")
        log_path.unlink(missing_ok=True)
        raise RuntimeError(f"the sandbox did not start (exit code {process.returncode}, stdout {line!r}):\n{log}")
    return kind(line.decode().strip(), arguments, time_scale, faults, process, log_path)


@contextmanager
def running(arguments: DataArguments, time_scale: float = 1.0, faults: str = "none",
            extra: tuple[str, ...] = ()) -> Iterator[RunningSandbox]:
    """A sandbox for the body of a `with`, stopped and its log removed afterwards."""
    sandbox = launch(arguments, time_scale, faults, extra)
    try:
        yield sandbox
    finally:
        sandbox.close()


def truth(arguments: DataArguments) -> dict[str, Any]:
    """The ground truth of the world `arguments` generate (`spapi-sandbox truth`), computed in another
    process so the caller's memory never holds the world."""
    done = subprocess.run([sys.executable, "-m", "spapi_sandbox", "truth", *data_options(arguments), "--out", "-"],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout)
