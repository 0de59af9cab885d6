"""Run the dbt project (dbt_project/) over a lakehouse: the command line, its vars, where it writes.

Used by `spapi-elt transform` and the demo; Dagster runs the same project through dagster-dbt. dbt's
target and logs go beside the lakehouse (data/dbt/), so a run writes nothing into the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dlt_sources.spapi.config import ConfigError
from spapi_elt.lake import Lake, as_lake, is_lake, lake_tables
from spapi_elt.lakehouse import loaded_until
from spapi_elt.lakehouse_lock import lakehouse_lock

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
# SPAPI_DBT_TARGET -> the output of dbt_project/profiles.yml that runs the models.
DBT_TARGETS = {"duckdb": "local", "spark": "spark"}


def dbt_target() -> str:
    """The profile output for SPAPI_DBT_TARGET (duckdb, the default, or spark); anything else is refused."""
    name = os.environ.get("SPAPI_DBT_TARGET", "duckdb") or "duckdb"
    if name not in DBT_TARGETS:
        raise ConfigError(f"SPAPI_DBT_TARGET={name!r}: expected one of {', '.join(DBT_TARGETS)}")
    return DBT_TARGETS[name]


@dataclass
class BuildResult:
    returncode: int
    output: str  # dbt's console output: model and test results, no data values

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def summary_line(self) -> str:
        """dbt's closing 'Done. PASS=.. WARN=.. ERROR=..' line, or the last line it printed."""
        lines = [line for line in self.output.splitlines() if line.strip()]
        done = [line for line in lines if "PASS=" in line]
        return (done or lines or ["(no output)"])[-1].strip()

    def failures(self) -> str:
        """What failed and where to look: dbt's closing "Completed with N errors" section (each failing test
        or model, its message, and the path of its compiled query), not the tail of the log (the SKIP list)."""
        lines = self.output.splitlines()
        starts = [i for i, line in enumerate(lines) if "Completed with" in line]
        if not starts:
            return "\n".join(lines[-40:])
        section = lines[starts[-1]:]
        done = next((i for i, line in enumerate(section) if "Done. PASS=" in line), len(section))
        return "\n".join(line.rstrip() for line in section[:done]).strip()


def dbt_executable() -> str:
    """dbt from the running interpreter's environment (the project's .venv)."""
    return str(Path(sys.executable).parent / "dbt")


@dataclass(frozen=True)
class RunWindow:
    """The days [start, end) and sellers a partitioned run loaded: dbt also rebuilds the settlements with a
    document created in it, however old (macros/incremental.sql), so a backfill replaces exactly its period."""

    start: date
    end: date
    seller_ids: tuple[str, ...] = ()


def default_as_of(lakehouse: Path | str, today: date | None = None) -> date:
    """`as_of` when none is given: today, or the day the lakehouse's data reaches if that is earlier (a
    lakehouse of the sandbox's world, or of a window backfilled and not yet brought up to date)."""
    today = today or datetime.now(UTC).date()
    reached = loaded_until(lakehouse)
    return min(today, reached.date()) if reached else today


def dbt_vars(as_of: date | None = None, window: RunWindow | None = None) -> dict[str, Any]:
    """The project's vars for a run: `as_of` ("today" for grace periods) and the run's window."""
    variables: dict[str, Any] = {"as_of": as_of.isoformat()} if as_of else {}
    if window:
        variables.update(window_start=window.start.isoformat(), window_end=window.end.isoformat(),
                         window_seller_ids=list(window.seller_ids))
    return variables


def build(lakehouse: Path | str, as_of: date | None = None, command: str = "build", *args: str,
          window: RunWindow | None = None, wait: bool = False) -> BuildResult:
    """`dbt build` (or another command) against `lakehouse`, holding its lock; `as_of` is "today" for grace
    periods. A lake (spapi_elt/lake.py): dbt reads its Parquet (SPAPI_RAW_LAKE) and builds the marts into the
    lake's warehouse file (DuckDB) or its spark-warehouse folder (SPAPI_DBT_TARGET=spark), holding that file's
    lock (ingests of the lake go on meanwhile). Spark reads a lake only."""
    target = dbt_target()
    lake = as_lake(lakehouse) if is_lake(lakehouse) else None
    if target == "spark" and lake is None:
        raise ConfigError(f"SPAPI_DBT_TARGET=spark needs a file:// lake as the lakehouse, not {lakehouse} "
                          "(README: 'Running at scale')")
    if target == "spark" and lake.local_root is None:  # Spark reads s3:// through Hadoop's s3a, not fsspec
        raise ConfigError(f"the local Spark reads a file:// lake only, not {lakehouse}: object storage needs "
                          "Hadoop's s3a connector (the hadoop-aws and AWS SDK jars), which the pyspark wheel lacks; "
                          "run dbt on a cluster that has it (README: 'Running at scale')")
    if lake:
        lakehouse = lake.warehouse
        lakehouse.parent.mkdir(parents=True, exist_ok=True)
    lakehouse = Path(lakehouse).resolve()
    with lakehouse_lock(lakehouse, f"dbt {command}", wait=wait) as lock:
        return _run_dbt(lakehouse, as_of, command, *args, window=window, lock=lock, lake=lake, target=target)


LAKE_VARIABLES = ("SPAPI_RAW_LAKE", "SPAPI_RAW_LAKE_TABLES", "SPAPI_SPARK_DIR")


def lake_environment(lake: Lake) -> dict[str, str]:
    """What dbt needs to read `lake`: its raw tables' root (macros/raw_table.sql), the tables that have files (Spark
    fails on a path without any), and the folder Spark keeps its warehouse and metastore in (profiles.yml)."""
    environment = {"SPAPI_RAW_LAKE": lake.raw_root, "SPAPI_RAW_LAKE_TABLES": ",".join(lake_tables(lake))}
    if lake.local_root:
        environment["SPAPI_SPARK_DIR"] = str(lake.local_root.resolve())
    return environment


def _run_dbt(lakehouse: Path, as_of: date | None, command: str, *args: str,
             window: RunWindow | None, lock: int | None, lake: Lake | None = None,
             target: str = "local") -> BuildResult:
    work = lakehouse.parent / "dbt"
    env = {**os.environ, "SPAPI_LAKEHOUSE": str(lakehouse), "DO_NOT_TRACK": "1",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    for name in LAKE_VARIABLES:
        env.pop(name, None)
    if lake:  # staging reads the raw tables from the lake's Parquet files (macros/raw_table.sql)
        env.update(lake_environment(lake))
    done = subprocess.run(
        [dbt_executable(), command, *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target", target, "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
         "--vars", json.dumps(dbt_vars(as_of, window))],
        cwd=DBT_PROJECT, env=env, capture_output=True, text=True,
        pass_fds=(lock,) if lock is not None else ())  # dbt keeps the lakehouse if this process is killed
    return BuildResult(done.returncode, done.stdout + done.stderr)
