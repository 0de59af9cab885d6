"""kill -9 at every phase of an ingest (and of a dbt build), run again, and the lakehouse equals a clean run's:
the same tables, the same rows (counts and checksums of every data column), the same settlement totals.
Two runs on one lakehouse: the second fails at once with one line, or waits (--wait), and nothing doubles.

Every run is a real `spapi-elt` process against a real sandbox; the kill comes from a hook at the phase
(tests/reliability/crash_run.py), so each test is deterministic. A test first checks that its kill happened
(exit by SIGKILL): a hook that stopped firing would otherwise make it pass with nothing checked.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from spapi_elt import demo
from spapi_elt.lakehouse import DATASET
from spapi_sandbox.generate import epoch_of
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.conftest import Sandbox, running_sandbox
from tests.spapi_elt.ingest_helpers import checksum, data_tables, query

ROOT = Path(__file__).resolve().parents[2]
# Small, but with settlements (every 14 days), refunds, reimbursements and buyers for each of two sellers.
ARGUMENTS = DataArguments(seed=31, sellers=2, start="2026-01-01", days=35, orders_per_day=6)
PHASES = ("extract", "normalize", "load", "load-merge", "facts", "window", "purge", "rewrite")


@dataclass
class World:
    sandbox: Sandbox
    config: Path
    env: dict[str, str]
    start: str
    end: str
    reference: Path  # a lakehouse loaded by one clean run


def spapi_elt(world: World, lakehouse: Path, *args: str, phase: str = "none",
              extra_env: dict[str, str] | None = None, background: bool = False):
    command = [sys.executable, "-m", "tests.reliability.crash_run", phase, *args]
    if args and args[0] == "ingest":
        command += ["--config", str(world.config), "--start", world.start, "--end", world.end,
                    "--lakehouse", str(lakehouse), "--buyer-days", str(ARGUMENTS.days)]
    env = {**os.environ, **world.env, **(extra_env or {}), "PYTHONPATH": str(ROOT)}
    if background:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_sandbox(ARGUMENTS, time_scale=300.0) as sandbox:
        facts = truth(sandbox.world)
        folder = tmp_path_factory.mktemp("reliability")
        config = demo.write_config(folder / "accounts.toml", sandbox.base_url, facts)
        env = {**demo.demo_environment(facts), "DO_NOT_TRACK": "1"}
        start = ARGUMENTS.start
        end = time.strftime("%Y-%m-%d", time.gmtime(sandbox.world.now))
        assert epoch_of(start) < sandbox.world.now
        built = World(sandbox, config, env, start, end, folder / "reference" / "lakehouse.duckdb")
        done = spapi_elt(built, built.reference, "ingest")
        assert done.returncode == 0, done.stderr[-3000:]
        yield built


def assert_same_as_reference(world: World, lakehouse: Path) -> None:
    tables = data_tables(world.reference)
    assert data_tables(lakehouse) == tables
    assert "settlement_lines" in tables and "financial_transactions" in tables
    for table in tables:
        assert checksum(lakehouse, table) == checksum(world.reference, table), table
    totals = f"select settlement_id, sum(amount), count(*) from {DATASET}.settlement_lines group by 1 order by 1"
    assert query(lakehouse, totals) == query(world.reference, totals)
    assert query(lakehouse, totals), "the world has settlements"
    keys = (f"select count(*) from (select seller_id, settlement_id, report_id, line_number, count(*) "
            f"from {DATASET}.settlement_lines group by all having count(*) > 1)")
    assert query(lakehouse, keys) == [(0,)]


@pytest.mark.parametrize("phase", PHASES)
def test_a_rerun_after_a_kill_equals_a_clean_run(world: World, tmp_path: Path, phase: str) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    killed = spapi_elt(world, lakehouse, "ingest", phase=phase)
    assert killed.returncode == -signal.SIGKILL, f"the {phase} hook did not fire:\n{killed.stderr[-3000:]}"
    rerun = spapi_elt(world, lakehouse, "ingest")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "API calls 0," not in rerun.stdout  # it extracted, not only finished the leftovers
    assert_same_as_reference(world, lakehouse)
    leftovers = [p.name for p in lakehouse.parent.iterdir() if p.name.startswith(lakehouse.name + ".")]
    assert leftovers == [lakehouse.name + ".lock"], leftovers  # no recovery marker, owed rewrite or copy


def test_a_killed_dbt_build_is_rebuilt_whole(world: World, tmp_path: Path) -> None:
    clean, killed = tmp_path / "clean" / "lakehouse.duckdb", tmp_path / "killed" / "lakehouse.duckdb"
    for copy in (clean, killed):
        copy.parent.mkdir()
        shutil.copy(world.reference, copy)
    as_of = ["--as-of", world.end]
    assert spapi_elt(world, clean, "transform", "--lakehouse", str(clean), *as_of).returncode == 0
    process = spapi_elt(world, killed, "transform", "--lakehouse", str(killed), *as_of, background=True)
    log = killed.parent / "dbt" / "logs" / "dbt.log"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:  # the marker: dbt created its first table
        if log.exists() and " OK created sql table model " in log.read_text(errors="replace"):
            break
        time.sleep(0.05)
    assert process.poll() is None, "the build ended before its first table: nothing to interrupt"
    os.killpg(process.pid, signal.SIGKILL)  # spapi-elt and the dbt it runs
    process.wait()
    assert spapi_elt(world, killed, "transform", "--lakehouse", str(killed), *as_of).returncode == 0
    with duckdb.connect(str(clean), read_only=True) as con:
        marts = con.execute("select table_schema, table_name from information_schema.tables "
                            "where table_schema in ('finance', 'roi', 'operations', 'catalog')").fetchall()
    assert len(marts) >= 10
    for schema, table in marts:
        rows = f"select * from {schema}.{table} order by all"
        assert query(killed, rows) == query(clean, rows), f"{schema}.{table}"


def test_a_second_run_fails_at_once_or_waits_and_nothing_doubles(world: World, tmp_path: Path) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    held, release = tmp_path / "held", tmp_path / "release"
    signals = {"SPAPI_TEST_HELD": str(held), "SPAPI_TEST_RELEASE": str(release)}
    first = spapi_elt(world, lakehouse, "ingest", phase="hold", extra_env=signals, background=True)
    try:
        deadline = time.monotonic() + 120
        while not held.exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert held.exists(), "the first run never took the lakehouse"
        second = spapi_elt(world, lakehouse, "ingest")
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "is in use by ingest (pid" in lines[0] and "--wait" in lines[0], second.stderr
        purge = spapi_elt(world, lakehouse, "purge-pii", "--lakehouse", str(lakehouse))
        assert purge.returncode == 2 and len(purge.stderr.strip().splitlines()) == 1, purge.stderr
        waiting = spapi_elt(world, lakehouse, "ingest", "--wait", background=True)
        deadline = time.monotonic() + 120
        output = ""
        while "waiting for the lakehouse" not in output and time.monotonic() < deadline:
            line = waiting.stdout.readline()
            if not line:
                break
            output += line
        assert "waiting for the lakehouse" in output
        release.write_text("go")
        out, err = first.communicate(timeout=900)
        assert first.returncode == 0, err[-3000:]
        out, err = waiting.communicate(timeout=900)
        assert waiting.returncode == 0, err[-3000:]
    finally:
        release.write_text("go")
        for process in (first,):
            if process.poll() is None:
                process.kill()
    assert_same_as_reference(world, lakehouse)


@pytest.fixture(scope="module")
def settlement_files(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world's closed settlements as files in a folder, as a finance person downloads them."""
    from spapi_sandbox.settlement_file import render_settlement

    folder = tmp_path_factory.mktemp("settlement-files")
    for seller in world.sandbox.world.sellers[:1]:
        for settlement in (s for s in seller.settlements if s.closed):
            (folder / f"{settlement.settlement_id}.txt").write_bytes(render_settlement(settlement))
    assert len(list(folder.iterdir())) >= 2
    return folder


@pytest.mark.parametrize("phase", ("normalize", "load", "facts"))
def test_an_import_killed_and_run_again_loads_every_line_once(world: World, settlement_files: Path, tmp_path: Path,
                                                              phase: str) -> None:
    seller_id = world.sandbox.world.sellers[0].account.seller_id
    args = ("import-settlements", str(settlement_files), "--seller-id", seller_id)
    clean, lakehouse = tmp_path / "clean" / "lakehouse.duckdb", tmp_path / "killed" / "lakehouse.duckdb"
    assert spapi_elt(world, clean, *args, "--lakehouse", str(clean)).returncode == 0
    killed = spapi_elt(world, lakehouse, *args, "--lakehouse", str(lakehouse), phase=phase)
    assert killed.returncode == -signal.SIGKILL, f"the {phase} hook did not fire:\n{killed.stderr[-3000:]}"
    rerun = spapi_elt(world, lakehouse, *args, "--lakehouse", str(lakehouse))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert checksum(lakehouse, "settlement_lines") == checksum(clean, "settlement_lines")
    # Everything but the moment of the import (a file's document is created when it is imported).
    for sql in (f"select settlement_id, report_id, total_amount, line_count, lines_amount_sum "
                f"from {DATASET}.settlement_reports order by 1",
                f"select report_id, settlement_id, document_id, content from {DATASET}.settlement_report_documents "
                "order by 1"):
        assert query(lakehouse, sql) == query(clean, sql)
    totals = f"select settlement_id, sum(amount), count(*) from {DATASET}.settlement_lines group by 1 order by 1"
    assert query(lakehouse, totals) == query(clean, totals) and len(query(clean, totals)) >= 2
