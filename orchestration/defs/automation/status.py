"""Whether schedules and sensors start running when the code location loads: stopped until switched on in the
UI, or running from the start with SPAPI_SCHEDULES_RUNNING=1 (the demo and `make ui` set it), so loading the
code location never starts work by itself."""

import os
from typing import TypeVar

import dagster as dg

Status = TypeVar("Status", dg.DefaultScheduleStatus, dg.DefaultSensorStatus)


def default_status(kind: type[Status]) -> Status:
    return kind.RUNNING if os.environ.get("SPAPI_SCHEDULES_RUNNING") == "1" else kind.STOPPED
