"""`make demo`'s step lines: a small job run in process as the demo runs its job, with the lines printed while it
runs, in order, before what the caller prints after the run."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import dagster as dg

from orchestration.run_progress import printing_steps


class TimedOut(io.StringIO):
    """A terminal that remembers when each line came."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def write(self, text: str) -> int:
        if text.strip():
            self.times.append(time.monotonic())
        return super().write(text)


@dg.op
def extract(context) -> int:  # (no annotation: Dagster reads it, and `annotations` would make it a string)
    context.log.info("accounts demo-eu; window [2026-01-01, 2026-01-03)")  # not a progress line: not printed
    context.log.info("... demo-eu: orders 40 | calls 12, throttled 1, retries 1")
    time.sleep(2.5)  # long enough for the lines so far to reach the terminal while the run goes on
    return 40


@dg.op
def transform(rows: int) -> int:
    return rows * 2


@dg.op
def report(rows: int) -> None:
    raise RuntimeError("the report could not be written")


@dg.job
def small_job() -> None:
    report(transform(extract()))


def test_step_lines_print_in_order_while_the_run_goes(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    out, run_id = TimedOut(), str(uuid.uuid4())
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        with printing_steps(instance, run_id, out, scope="1 account x 2 days", every_seconds=0.2):
            result = small_job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False)
            finished = time.monotonic()
        print("Run finished: FAILED", file=out)
    assert not result.success
    lines = out.getvalue().splitlines()
    steps = [line.split(maxsplit=1)[1] for line in lines]  # without the clock
    assert steps[:2] == ["started  extract (1 account x 2 days)",
                         "extract: ... demo-eu: orders 40 | calls 12, throttled 1, retries 1"]
    assert steps[2].startswith("done     extract in ") and float(steps[2].split()[-2]) >= 2.5
    assert steps[3] == "started  transform (1 account x 2 days)" and steps[4].startswith("done     transform in ")
    assert steps[5] == "started  report (1 account x 2 days)" and steps[6].startswith("FAILED   report in ")
    assert steps[7:] == ["finished: FAILED"]
    assert out.times[0] < finished - 2  # the first lines came while the run was still going
