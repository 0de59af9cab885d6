"""The UI as a person starts it: `dagster-webserver -w workspace.yaml` serves the code location, and its
GraphQL API (what the asset graph page renders from) lists every raw asset and mart."""

from __future__ import annotations

import os
import re
import shutil
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


def render(browser: str, url: str, profile: Path, height: int = 1000) -> str:
    """The page's DOM after headless Chromium ran its scripts, without <script>/<style> blocks. The
    browser resolves no host but the loopback webserver: no request leaves the machine."""
    page = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=30000", f"--window-size=1600,{height}", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    return re.sub(r"<(script|style)\b.*?</\1>", "", page.stdout, flags=re.S)


def test_the_asset_graph_page_renders_in_a_browser(webserver, tmp_path: Path) -> None:
    """A person's view: Debian's headless Chromium opens the asset graph page, which draws the groups of
    the lineage (raw tables through the marts), and the asset catalog, which lists the marts."""
    url, log = webserver
    browser = shutil.which("chromium")
    assert browser, "the UI test needs Debian's chromium (make test installs it when run as root)"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:  # the pages need the code location loaded
        try:
            if httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=30).json().get("data", {}).get(
                    "assetNodes"):
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    graph = render(browser, f"{url}/asset-groups", tmp_path / "profile-graph")
    assert "<svg" in graph, log.read_text(errors="replace")[-2000:]
    for group in ("raw_spapi", "staging", "finance", "roi", "operations", "catalog"):
        assert group in graph, group
    # The catalog draws only the rows in view: a tall window shows every asset (about 60, one line each).
    catalog = render(browser, f"{url}/assets", tmp_path / "profile-catalog", height=6000)
    for asset in ("settlements", "reconciliation_exceptions", "sku_profitability", "listing_quality"):
        assert asset in catalog, asset
