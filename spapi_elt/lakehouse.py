"""The lakehouse: where it is, the dlt pipeline that loads it, and what it holds (row counts, how far
the loaded data reaches).

Layout: one DuckDB file (default data/lakehouse.duckdb), dataset `raw_spapi`; dlt's working
directory beside it (data/.dlt), so everything the product writes lives under one folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.config import ConfigError
from spapi_elt.lake import as_lake, is_lake, lake_pipeline, lake_pipeline_names, lake_table_counts, refuse_lake
from spapi_elt.reports.publish import publish

DEFAULT_LAKEHOUSE = Path("data/lakehouse.duckdb")
DATASET = "raw_spapi"
PIPELINE_NAME = "spapi"


OWNER_FILE = "lakehouse_file"  # in the working directory: the name of the DuckDB file whose state it holds


def claim_working_directory(path: Path) -> None:
    """Record `path` as the owner of dlt's working directory beside it (<folder>/.dlt), or refuse a second file in the
    same folder: the pipeline's state there (the resume points, the settlements already loaded) is one file's, and a
    second file loading through it would skip what the first already holds."""
    owner = path.parent / ".dlt" / OWNER_FILE
    if owner.exists():
        recorded = owner.read_text(encoding="utf-8").strip()
        if recorded != path.name:
            raise ConfigError(f"{path.parent} already holds dlt's state of the lakehouse {recorded}, so {path.name} "
                              "cannot load beside it: keep each lakehouse file in a folder of its own")
        return
    owner.parent.mkdir(parents=True, exist_ok=True)
    owner.write_text(path.name + "\n", encoding="utf-8")


def lakehouse_setting(path: str | Path | None = None) -> str | Path:
    """The lakehouse as configured: a DuckDB file's path, or a lake URL (spapi_elt/lake.py)."""
    return path or os.environ.get("SPAPI_LAKEHOUSE") or DEFAULT_LAKEHOUSE


def lakehouse_path(path: str | Path | None = None, purpose: str = "this command") -> Path:
    """The DuckDB file. A lake URL is refused here, naming it, so that no code made for a file ever treats
    `file:///...` as a relative path: the places that handle a lake ask `is_lake` first."""
    setting = lakehouse_setting(path)
    refuse_lake(setting, purpose)
    return Path(setting)


# The loader's DuckDB settings: loads need no insertion order (keys order the rows), and a memory cap keeps
# DuckDB's buffers small; both make big inserts faster and lighter (bench/settlement_ingest.py).
LOADER_DUCKDB_CONFIG = {"preserve_insertion_order": False, "memory_limit": "300MB"}


def pipeline(lakehouse: str | Path | None = None, seller_ids: Sequence[str] = (), name: str | None = None
             ) -> dlt.Pipeline:
    """dlt's pipeline into the lakehouse: the DuckDB file, or a lake (one pipeline per set of `seller_ids`, or the
    pipeline `name`, e.g. the lake purge's own)."""
    # dlt's load files live only until they are loaded: compressing them costs time and buys nothing.
    os.environ.setdefault("DATA_WRITER__COMPRESSION", "none")
    # Arrow tables carry _dlt_load_id like dict rows, so a re-read window can tell this load's rows from
    # older ones (window_replace.py).
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    # Keep no copy of loaded rows (they hold PII ciphertext a purge must reach): merge staging tables are
    # emptied after each load, and a loaded package's job files are deleted (spapi_elt/purge.py removes
    # what is left, e.g. packages with a failed job, which dlt keeps whole).
    os.environ.setdefault("LOAD__TRUNCATE_STAGING_DATASET", "true")
    os.environ.setdefault("LOAD__DELETE_COMPLETED_JOBS", "true")
    setting = lakehouse_setting(lakehouse)
    if is_lake(setting):
        return lake_pipeline(as_lake(setting), seller_ids, name)
    path = Path(setting)
    path.parent.mkdir(parents=True, exist_ok=True)
    claim_working_directory(path)
    credentials = DuckDbCredentials(str(path), global_config=dict(LOADER_DUCKDB_CONFIG))
    return dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=dlt.destinations.duckdb(credentials),
                        dataset_name=DATASET, pipelines_dir=str(path.parent / ".dlt"), progress=None)


def recovery_marker(lakehouse: Path) -> Path:
    return lakehouse.with_name(lakehouse.name + ".recovering")


def finish_interrupted_loads(pipe: dlt.Pipeline, lakehouse: Path, dedupe: bool = True) -> list[str]:
    """Load what a run that died left behind, before anything new is extracted; returns their load ids.

    dlt commits a package only once its extraction is complete (with the state that goes with it), so a
    pending package is whole: loading it is right, and a load killed half-way resumes with the jobs it had
    not finished. Left alone, `pipeline.run` would load it and skip this run's extraction.

    One job can run twice: dlt inserts a file's rows, then moves the file to its completed jobs; killed in
    between, the finished package runs it again. Merged tables dedupe on their key; appended settlement
    lines are deduplicated here, for the recovered loads only. The marker file beside the lakehouse makes
    that repair survive a kill of its own: until it is done, every run starts by doing it.
    """
    marker = recovery_marker(lakehouse)
    pending = sorted({*pipe.list_extracted_load_packages(), *pipe.list_normalized_load_packages()})
    if pending:
        recorded = marker.read_text(encoding="utf-8").split() if marker.exists() else []
        text = "\n".join(sorted({*recorded, *pending}))
        publish(marker, lambda file: file.write(text.encode("utf-8")))
        pipe.normalize()
        pipe.load()
    if marker.exists():
        load_ids = marker.read_text(encoding="utf-8").split()
        if dedupe:  # a lake's copies are deduplicated in staging (macros/raw_table.sql)
            with duckdb.connect(str(lakehouse)) as con:
                _dedupe_appended_lines(con, load_ids)
        marker.unlink()
        return load_ids
    return []


def recovery_event(load_ids: Sequence[str]) -> AuditEvent:
    """The audit record of the packages `finish_interrupted_loads` finished."""
    return AuditEvent(kind=AuditKind.RECOVERY, account="*", seller_id="*", operation="load", outcome="finished",
                      detail=f"packages of an interrupted run: {', '.join(load_ids)}")


def _dedupe_appended_lines(con: duckdb.DuckDBPyConnection, load_ids: Sequence[str]) -> int:
    """Keep one copy of each settlement line that the given loads wrote twice; returns the copies removed."""
    present = con.execute("select count(*) from information_schema.columns where table_schema = ? "
                          "and table_name = 'settlement_lines' and column_name = '_dlt_load_id'", [DATASET]).fetchone()
    if not present[0] or not load_ids:
        return 0
    removed = con.execute(f"""
        delete from {DATASET}.settlement_lines where rowid in (
            select rowid from (
                select rowid, row_number() over (
                    partition by seller_id, settlement_id, report_id, line_number order by rowid) as copy
                from {DATASET}.settlement_lines where list_contains(?, _dlt_load_id))
            where copy > 1)
        returning 1""", [list(load_ids)]).fetchall()
    return len(removed)


def load_facts(pipe: dlt.Pipeline, tables: Sequence[Any]) -> None:
    """Append the product's own records of a run (audit log, quarantine, purges: Arrow tables) to the raw
    dataset, through the same pipeline as the data."""
    if tables:
        pipe.run(_facts(list(tables)), loader_file_format="parquet")


@dlt.resource(name="run_facts", write_disposition="append")
def _facts(items: list[Any]) -> Iterator[Any]:
    yield from items


def loaded_until(lakehouse: str | Path | None = None) -> datetime | None:
    """The newest moment any account's data reaches: the furthest cursor of the windowed resources (from
    dlt's state beside the lakehouse). "Today" for the marts of a lakehouse whose data ends in the past
    (the sandbox's world, a restored copy); None before the first ingest. A lake: the furthest over its pipelines."""
    setting = lakehouse_setting(lakehouse)
    if is_lake(setting):
        lake = as_lake(setting)
        states = [dlt.attach(name, pipelines_dir=str(lake.workdir)).state for name in lake_pipeline_names(lake)]
    else:
        path = Path(setting)
        states = [pipeline(path).state] if (path.parent / ".dlt" / PIPELINE_NAME).exists() else []
    resources = [r for state in states for r in state.get("sources", {}).get(PIPELINE_NAME, {})
                 .get("resources", {}).values()]
    cursors = [datetime.fromisoformat(c) for r in resources for c in r.get("cursors", {}).values()]
    return max(cursors, default=None)


def table_counts(lakehouse: str | Path | None = None) -> dict[str, int]:
    """Rows per table of the raw dataset (dlt's own bookkeeping tables left out). A lake: rows in its Parquet
    files, every load's version."""
    setting = lakehouse_setting(lakehouse)
    if is_lake(setting):
        return lake_table_counts(as_lake(setting))
    path = Path(setting)
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_name not like '_dlt%'"
            " order by table_name", [DATASET]).fetchall()]
        return {t: con.execute(f'select count(*) from {DATASET}."{t}"').fetchone()[0] for t in tables}
