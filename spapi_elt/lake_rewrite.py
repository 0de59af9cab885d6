"""Rewriting a Parquet lake's raw files in place: what the lake's PII purge (lake_purge.py) and key rotation
(lake_key_rotation.py) share.

A Parquet file cannot be updated, so a changed file is written whole beside the old one under a temporary name, then
renamed over it (one rename on one file system: a kill leaves the old file or the new one, never half a file). The
temporary name does not end in `.parquet`, so neither staging nor any count ever reads one; a leftover is removed
before the next rewrite. Only files of completed loads are rewritten (a `_dlt_loads` record names their load id): an
ingest of other accounts may be writing its files meanwhile. Rewrites of one lake run one at a time (`rewrite_lock`):
a purge and a rotation must not rewrite one file from two old copies.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spapi_elt.lake import DATASET, Lake
from spapi_elt.lakehouse_lock import lakehouse_lock
from spapi_elt.rewrite import fsync_path

TEMPORARY_SUFFIX = ".rewriting"  # a rewritten file until it replaces the old one


@contextmanager
def rewrite_lock(lake: Lake, command: str, wait: bool = False) -> Iterator[None]:
    """Hold the lake's file rewrites for `command`; a leftover of a killed rewrite is removed first."""
    lake.workdir.mkdir(parents=True, exist_ok=True)
    with lakehouse_lock(lake.workdir / "file_rewrites", command, wait=wait):
        raw = raw_folder(lake)
        for leftover in raw.glob(f"*/*{TEMPORARY_SUFFIX}") if raw.is_dir() else []:
            leftover.unlink()  # a rewrite a kill interrupted: the old file is still in place
        yield


def raw_folder(lake: Lake) -> Path:
    """The raw dataset's folder of a local lake (callers refuse object storage first)."""
    assert lake.local_root is not None
    return lake.local_root / DATASET


def completed_loads(raw: Path) -> set[str]:
    """The load ids dlt recorded as complete (`_dlt_loads/<schema>__<load_id>.jsonl`, written after the last job)."""
    folder = raw / "_dlt_loads"
    return {f.name.removesuffix(".jsonl").rsplit("__", 1)[-1] for f in folder.glob("*.jsonl")} if folder.is_dir() \
        else set()


def load_id_of(file: Path) -> str:
    """The load that wrote a raw file: lake.LAYOUT names it `<load_id>.<file_id>.parquet`."""
    return file.name.removesuffix(".parquet").rsplit(".", 1)[0]


def completed_files(raw: Path, tables: Iterable[str]) -> dict[str, list[Path]]:
    """Each table's files that completed loads wrote (the loads listed once for all the tables)."""
    loads = completed_loads(raw)
    return {table: [f for f in sorted((raw / table).glob("*.parquet")) if load_id_of(f) in loads] for table in tables}


def write_beside(file: Path, table: pa.Table) -> Path:
    """`table` written, with the old file's own types and metadata column for column, to the temporary name beside
    `file`, on disk; returns that name (`replace` puts it in place)."""
    temporary = file.with_name(file.name + TEMPORARY_SUFFIX)
    pq.write_table(table.cast(pq.read_schema(file)), temporary)
    fsync_path(temporary)
    return temporary


def replace(temporary: Path, file: Path) -> None:
    os.replace(temporary, file)
    fsync_path(file.parent)
