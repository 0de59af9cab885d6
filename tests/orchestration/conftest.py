"""Dagster without telemetry, with a throwaway instance configured like the product's (one lakehouse writer)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("dagster-home")
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return home


@pytest.fixture(autouse=True)
def _dagster_environment(dagster_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("DAGSTER_DISABLE_TELEMETRY", "1")
