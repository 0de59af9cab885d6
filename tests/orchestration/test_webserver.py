"""The UI as a person starts it: `dagster-webserver -w workspace.yaml` serves the code location, and its
GraphQL API (what the asset graph page renders from) lists every raw asset and mart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from orchestration.defs.ingest.assets import RAW_ASSET_KEYS

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 180.0
QUERY = "{ assetNodes { assetKey { path } groupName } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(dagster_home: Path, tmp_path: Path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "SPAPI_LAKEHOUSE": str(tmp_path / "lakehouse.duckdb")}
    log = (tmp_path / "webserver.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
         "-p", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}", tmp_path / "webserver.log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_the_ui_serves_the_asset_graph(webserver) -> None:
    url, log = webserver
    deadline, nodes = time.monotonic() + STARTUP_TIMEOUT, []
    while time.monotonic() < deadline:
        try:
            answer = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=30)
            nodes = answer.json().get("data", {}).get("assetNodes") or []
            if nodes:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    assert nodes, log.read_text(errors="replace")[-3000:]
    keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
    assert {k.to_user_string() for k in RAW_ASSET_KEYS.values()} <= keys
    assert {"finance/settlements", "finance/reconciliation_exceptions", "roi/sku_profitability"} <= keys
    assert httpx.get(f"{url}/asset-groups", timeout=30).status_code == 200  # the page a person opens
