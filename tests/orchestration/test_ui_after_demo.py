"""The UI after the demo is live, as a user finds it: a (small) `make demo`, then `make ui`'s launcher
(`python -m orchestration.ui`) on a free loopback port, a two-partition backfill of the daily_lakehouse job
launched through the webserver's GraphQL API, as the job page's "Launch backfill" does, which succeeds and
rebuilds the marts. (An asset backfill of every asset from the asset graph succeeds too, but Dagster splits the
unpartitioned dbt models into a run per wave: minutes longer. The job backfill is one run: single-run policy.)

Before `make ui` had a launcher, the same backfill failed: the demo's sandbox, its refresh tokens and its PII
keys were gone with the demo's process, and the partitions ran up to today instead of the demo's last day.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import httpx
import pytest

from orchestration.defs.ingest.assets import RAW_ASSET_KEYS

ROOT = Path(__file__).resolve().parents[2]
# Small, but with settlements paid out (a 15-day world has no fund transfer yet, which the marts need).
DEMO_ARGS = ["--seed", "7", "--sellers", "1", "--start", "2026-01-01", "--days", "30", "--orders-per-day", "5"]
FIRST_DAY, LAST_DAY = "2026-01-01", "2026-01-30"
STARTUP_TIMEOUT, BACKFILL_TIMEOUT = 240.0, 600.0
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

PARTITIONS = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { partitionKeysByDimension { name partitionKeys } } } }"""
ASSETS = "{ assetNodes { assetKey { path } } }"
PARTITION_SETS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name location { name } partitionSets { name pipelineName } } } } }"""
LAUNCH = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message stack }
  ... on PartitionSetNotFoundError { message } ... on UnauthorizedError { message } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status error { message } runs(limit: 20) { runId status } } } }"""
LAST_MATERIALIZATION = """query($key: AssetKeyInput!) { assetOrError(assetKey: $key) {
  ... on Asset { assetMaterializations(limit: 1) { runId } } } }"""


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPAPI_", "DAGSTER_HOME"))}
    return {**env, "DO_NOT_TRACK": "1", "DAGSTER_DISABLE_TELEMETRY": "1", "RUNTIME__DLTHUB_TELEMETRY": "false"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    workdir = tmp_path_factory.mktemp("demo")
    done = subprocess.run([sys.executable, "-m", "orchestration.demo", *DEMO_ARGS, "--dir", str(workdir)], cwd=ROOT,
                          env=environment(), capture_output=True, text=True, timeout=900)
    assert (workdir / "lakehouse.duckdb").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return workdir, done


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
    answer.raise_for_status()
    body = answer.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_make_ui_without_a_demo_says_so_and_fails(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "orchestration.ui", "--dir", str(tmp_path / "nothing")], cwd=ROOT,
                          env=environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "make demo" in done.stderr


def test_the_demo_leaves_its_sandbox_secrets_for_the_ui_readable_only_by_the_user(demo) -> None:
    workdir, done = demo
    env_file = workdir / "demo.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    text = env_file.read_text()
    assert "DEMO-ONLY SANDBOX CREDENTIALS" in text
    secrets = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert {"SPAPI_DEMO_REFRESH_TOKEN_0", "SPAPI_DEMO_LWA_CLIENT_SECRET_0", "SPAPI_PII_HMAC_KEY",
            "SPAPI_PII_KEYS"} <= secrets.keys()
    for value in secrets.values():  # never printed, never in the accounts file
        assert value not in done.stdout + done.stderr
        assert value not in (workdir / "accounts.toml").read_text()
    world = json.loads((workdir / "sandbox.json").read_text())
    assert world["data"]["days"] == 30 and (world["first_day"], world["last_day"]) == (FIRST_DAY, LAST_DAY)


def test_the_demo_prints_a_line_per_step_as_it_goes_before_its_summary(demo) -> None:
    """`make demo` was silent for minutes while the run went; now each step's start and finish (and the ingest's
    progress) reach the terminal, in order, before the run's summary (orchestration/run_progress.py)."""
    _, done = demo
    lines = done.stdout.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("Run ") and "materialisations" in line)
    steps = [line.split(maxsplit=1)[1] for line in lines[:summary] if re.match(r"\d\d:\d\d:\d\d ", line)]
    started = [s.split()[1] for s in steps if s.startswith("started ")]
    finished = [s.split()[1] for s in steps if s.startswith("done ")]
    assert {"spapi_raw", "spapi_dbt", "reports__settlement_reconciliation"} <= set(started)
    assert started == finished  # the in-process executor runs one step at a time: each finishes before the next
    assert "started  spapi_raw (1 account x 30 days: 30 partitions)" in steps
    ingest = steps[steps.index("started  spapi_raw (1 account x 30 days: 30 partitions)"):]
    progress = ingest[1:next(i for i, s in enumerate(ingest) if s.startswith("done     spapi_raw in "))]
    assert progress and all(s.startswith("spapi_raw: ... kestrel-trading-1: ") for s in progress)
    assert "calls " in progress[-1] and "orders " in progress[-1]


@pytest.fixture
def ui(demo) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    """`make ui`'s launcher on a free port, stopped as Ctrl-C would stop it (SIGTERM, which it treats alike)."""
    workdir, _ = demo
    port, log = free_port(), (workdir / "ui.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "orchestration.ui", "--dir", str(workdir), "--host",
                                "127.0.0.1", "--port", str(port)], cwd=ROOT, env=environment(), stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", workdir, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:  # only what this test started: the launcher's own session
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def job_partition_set(url: str, job: str) -> dict:
    """The selector of a job's partition set, as the job page's "Launch backfill" sends it."""
    for repository in graphql(url, PARTITION_SETS)["repositoriesOrError"]["nodes"]:
        for partition_set in repository["partitionSets"]:
            if partition_set["pipelineName"] == job:
                return {"partitionSetName": partition_set["name"], "repositorySelector": {
                    "repositoryName": repository["name"], "repositoryLocationName": repository["location"]["name"]}}
    raise AssertionError(f"no partition set for {job}")


def wait_for_assets(url: str, process: subprocess.Popen, log: Path) -> list[dict]:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            nodes = graphql(url, ASSETS)["assetNodes"]
            if nodes:
                return nodes
        except (httpx.HTTPError, AssertionError, ValueError):
            pass
        time.sleep(2)
    raise AssertionError(f"the UI did not come up:\n{log.read_text(errors='replace')[-4000:]}")


def loads(lakehouse: Path) -> int:
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        return con.execute("select count(*) from raw_spapi._dlt_loads").fetchone()[0]


def test_a_backfill_launched_in_the_ui_after_the_demo_succeeds(ui) -> None:
    url, workdir, process = ui
    log, lakehouse = workdir / "ui.log", workdir / "lakehouse.duckdb"
    loads_before = loads(lakehouse)
    wait_for_assets(url, process, log)

    # The days are the demo's, not up to today.
    settlements = {"path": RAW_ASSET_KEYS["settlements"].path}
    dimensions = graphql(url, PARTITIONS, {"key": settlements})["assetNodeOrError"]["partitionKeysByDimension"]
    by_name = {d["name"]: d["partitionKeys"] for d in dimensions}
    assert (by_name["day"][0], by_name["day"][-1], len(by_name["day"])) == (FIRST_DAY, LAST_DAY, 30)
    account = by_name["account"][0]

    # Every asset (the raw tables, the dbt models, the reports) for two days of the account.
    partitions = [f"{account}|2026-01-15", f"{account}|2026-01-16"]
    launched = graphql(url, LAUNCH, {"params": {
        "selector": job_partition_set(url, "daily_lakehouse"), "partitionNames": partitions, "fromFailure": False}})
    assert launched["launchPartitionBackfill"]["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["launchPartitionBackfill"]["backfillId"]
    deadline, backfill = time.monotonic() + BACKFILL_TIMEOUT, {}
    while time.monotonic() < deadline:
        backfill = graphql(url, BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        if backfill["status"] in DONE:
            break
        time.sleep(5)
    runs = backfill.get("runs") or []
    assert backfill.get("status") in {"COMPLETED", "COMPLETED_SUCCESS"}, (backfill, log.read_text()[-4000:])
    assert runs and all(r["status"] == "SUCCESS" for r in runs), runs

    # The marts were rebuilt by the backfill, on fresh extracts from the demo's sandbox.
    marts = graphql(url, LAST_MATERIALIZATION, {"key": {"path": ["finance", "settlements"]}})
    assert marts["assetOrError"]["assetMaterializations"][0]["runId"] in {r["runId"] for r in runs}
    sandbox_url = urlparse(next(line.split('"')[1] for line in (workdir / "accounts.toml").read_text().splitlines()
                                if line.startswith("endpoint = ")))

    # Stopping the UI stops the sandbox too; then the lakehouse is free to read.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 0, log.read_text()[-3000:]
    with pytest.raises(OSError), socket.create_connection((sandbox_url.hostname, sandbox_url.port), timeout=5):
        pass
    assert loads(lakehouse) > loads_before
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        assert con.execute("select count(*) from finance.settlements").fetchone()[0] > 0
