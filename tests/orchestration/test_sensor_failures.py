"""A sensor that cannot do its job fails its tick, naming the reason: never a warning in the log and
"0 runs requested" (issue 14). The settlement inbox sensor's own failure is tested with the inbox."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration.resources import SpApiResource
from spapi_elt import demo
from spapi_sandbox.generate import build_world
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments


def test_the_settlement_sensor_fails_its_tick_when_an_account_cannot_be_listed(tmp_path: Path, monkeypatch) -> None:
    """A missing secret fails before any network call: the tick fails naming the variable (it was a logged
    warning and 0 runs before)."""
    from orchestration.definitions import defs

    world = build_world(DataArguments(seed=29, sellers=2, start="2026-01-01", days=20, orders_per_day=2))
    accounts = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", truth(world))
    for variable in [v for v in os.environ if v.startswith("SPAPI_DEMO_")]:
        monkeypatch.delenv(variable)
    with dg.DagsterInstance.get() as instance, pytest.raises(dg.Failure, match="SPAPI_DEMO_REFRESH_TOKEN_0"):
        defs.resolve_sensor_def("new_settlement_reports_sensor")(dg.build_sensor_context(
            instance=instance, resources={"spapi": SpApiResource(accounts_file=str(accounts))}))
