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


def test_the_accounts_sensor_fails_its_tick_when_the_accounts_file_is_unreadable(tmp_path: Path) -> None:
    """A broken accounts file fails the tick with the parser's reason (it was a skipped tick before, easy to miss),
    and no partition is added or removed on the way."""
    from orchestration.definitions import defs

    broken = tmp_path / "accounts.toml"
    broken.write_text("[[accounts]]\nname = \"a\"\nregion = \n", encoding="utf-8")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("seller_accounts", ["kept"])
        with pytest.raises(dg.Failure, match="accounts configuration unreadable"):
            defs.resolve_sensor_def("seller_accounts_sensor")(dg.build_sensor_context(
                instance=instance, resources={"spapi": SpApiResource(accounts_file=str(broken))}))
        assert list(instance.get_dynamic_partitions("seller_accounts")) == ["kept"]
