"""Shared fixtures: real sandbox servers (as subprocesses) and Amazon's models for contract tests.

- `sandbox`: one `spapi-sandbox serve` for the whole session (small data, clock x1, no faults).
- `start_sandbox(**options)`: start more, with other arguments (time scale, faults, data); each is
  stopped at the end of the test that started it.
- `inprocess_sandbox(routes=...)`: a real HTTP server in this process, for tests that register
  test-only routes (e.g. a restricted route) or look at the server's state.
- `spapi_models_dir` / `spapi_model(name)`: Amazon's OpenAPI models, from SPAPI_MODELS_DIR (default
  ../shared/spapi-models next to the project).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from spapi_sandbox import launcher
from spapi_sandbox.launcher import RunningSandbox
from spapi_sandbox.world import Account, DataArguments, World

# The built lakehouse (sandbox -> ingest -> dbt build) and the reports published from it are shared by
# tests/dbt_project, tests/spapi_elt/reports and tests/orchestration: built once per session.
pytest_plugins = ("tests.built_lakehouse", "tests.published_reports")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODELS_DIR = (ROOT / ".." / "shared" / "spapi-models").resolve()

# Small data keeps the suite fast; tests that need more start their own sandbox.
TEST_ARGUMENTS = DataArguments(seed=7, sellers=2, start="2026-01-01", days=60, orders_per_day=10)


class Sandbox(RunningSandbox):
    """A running sandbox (spapi_sandbox.launcher) and what a test needs to talk to it."""

    _world: World | None = None

    @property
    def world(self) -> World:
        """The same world the server generated (same arguments, same data), for expectations."""
        if self._world is None:
            from spapi_sandbox.generate import build_world

            self._world = build_world(self.arguments)
        return self._world

    def account(self, index: int = 0) -> Account:
        return self.world.sellers[index].account

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)

    def token_response(self, index: int = 0) -> httpx.Response:
        account = self.account(index)
        return httpx.post(f"{self.base_url}/auth/o2/token", timeout=30, data={
            "grant_type": "refresh_token", "refresh_token": account.refresh_token,
            "client_id": account.lwa_client_id, "client_secret": account.lwa_client_secret})

    def access_token(self, index: int = 0) -> str:
        """A fresh LWA access token for account `index`."""
        response = self.token_response(index)
        response.raise_for_status()
        return response.json()["access_token"]


@contextmanager
def running_sandbox(arguments: DataArguments = TEST_ARGUMENTS, time_scale: float = 1.0,
                    faults: str = "none") -> Iterator[Sandbox]:
    """A sandbox for the body of a `with` (a module-scoped fixture's life), closed afterwards."""
    running = launch_sandbox(arguments, time_scale, faults)
    try:
        yield running
    finally:
        running.close()


def launch_sandbox(arguments: DataArguments = TEST_ARGUMENTS, time_scale: float = 1.0, faults: str = "none",
                   extra: tuple[str, ...] = ()) -> Sandbox:
    """Start `spapi-sandbox serve` through the product's one launcher; the caller closes it."""
    return launcher.launch(arguments, time_scale, faults, extra, kind=Sandbox)


# `make test` hands whole modules to two pytest-xdist workers, in collection order: the slowest modules (from
# `--durations` of a full run) go first, so that no worker starts a long module while the other is nearly done.
SLOWEST_FIRST = (
    "tests/dbt_project/test_spark_marts.py",
    "tests/reliability/test_crash_recovery.py",
    "tests/dbt_project/test_incremental.py",
    "tests/orchestration/test_ui_after_demo.py",
    "tests/orchestration/test_end_to_end.py",
    "tests/orchestration/test_lake_partitions.py",
    "tests/dbt_project/test_fee_audit_worlds.py",
    "tests/spapi_elt/test_ingest.py",
    "tests/dbt_project/test_lake_marts.py",
    "tests/spapi_elt/test_unreadable_settlement.py",
    "tests/orchestration/test_settlement_inbox.py",
    "tests/bench/test_scale.py",
    "tests/spapi_elt/test_lake_purge_every_copy.py",
    "tests/spapi_elt/test_lake_object_storage.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: position for position, module in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest as collected


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for the whole session: TEST_ARGUMENTS, clock x1, no faults."""
    with running_sandbox() as running:
        yield running


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Factory: `start_sandbox(arguments=..., time_scale=..., faults=...)`; stopped after the test."""
    started: list[Sandbox] = []

    def start(**options: Any) -> Sandbox:
        running = launch_sandbox(**options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


@dataclass
class InProcessSandbox:
    base_url: str
    state: Any  # SandboxState
    server: Any  # SandboxServer

    def access_token(self, index: int = 0) -> str:
        return self.state.tokens.issue_access_token(self.state.world.sellers[index].account.seller_id).token


@pytest.fixture
def inprocess_sandbox() -> Iterator[Callable[..., InProcessSandbox]]:
    """Factory: serve TEST_ARGUMENTS in this process, with test-only `routes` registered meanwhile.

    `routes` are (method, template, operation, auth, handler) tuples; they are removed afterwards.
    """
    from spapi_sandbox import http, server

    started: list[Any] = []
    added: list[http.Route] = []

    def start(routes: tuple = (), arguments: DataArguments = TEST_ARGUMENTS, time_scale: float = 1.0,
              faults: str = "none", verbose: bool = False) -> InProcessSandbox:
        for method, template, operation, auth, handler in routes:
            http.route(method, template, operation, auth)(handler)
            added.append(http.ROUTES[-1])
        state = server.build_state(arguments, time_scale, faults)
        running, base_url = server.serve_state(state, "127.0.0.1", 0, verbose)
        started.append(running)
        return InProcessSandbox(base_url, state, running)

    yield start
    for running in started:
        server.stop(running)
    for added_route in added:
        http.ROUTES.remove(added_route)


@pytest.fixture(scope="session")
def spapi_models_dir() -> Path:
    """Amazon's SP-API models (never copied into the project): SPAPI_MODELS_DIR or ../shared/spapi-models."""
    path = Path(os.environ.get("SPAPI_MODELS_DIR") or DEFAULT_MODELS_DIR).resolve()
    if not (path / "sellers.json").is_file():
        pytest.fail(f"Amazon's SP-API models were not found in {path}. Set SPAPI_MODELS_DIR to a folder "
                    "holding the model files of amzn/selling-partner-api-models (sellers.json, "
                    "ordersV0.json, ...).", pytrace=False)
    return path


@pytest.fixture(scope="session")
def spapi_model(spapi_models_dir: Path) -> Callable[[str], dict]:
    """Load a model by file name, e.g. `spapi_model("tokens_2021-03-01.json")` (cached)."""
    cache: dict[str, dict] = {}

    def load(name: str) -> dict:
        if name not in cache:
            cache[name] = json.loads((spapi_models_dir / name).read_text(encoding="utf-8"))
        return cache[name]

    return load
