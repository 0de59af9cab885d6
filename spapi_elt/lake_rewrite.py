"""Rewriting a Parquet lake's raw files in place: what the lake's PII purge (lake_purge.py) and key rotation
(lake_key_rotation.py) share, on a local folder or object storage alike (lake.lake_filesystem: fsspec).

A Parquet file cannot be updated, so a changed file is written whole beside the old one under a temporary name, then
put in its place: on a local folder by one rename (a kill leaves the old file or the new one, never half a file); on
object storage by a server-side copy, which replaces the object whole (S3's CopyObject: a reader sees the old object
or the new one), and the removal of the temporary one. The temporary name does not end in `.parquet`, so neither
staging nor any count ever reads one; a leftover is removed before the next rewrite. Only files of completed loads
are rewritten (a `_dlt_loads` record names their load id): an ingest of other accounts may be writing its files
meanwhile. Rewrites of one lake run one at a time (`rewrite_lock`, held in the lake's local working directory): a
purge and a rotation must not rewrite one file from two old copies.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.parquet as pq

from spapi_elt.lake import Lake, LakeFiles, lake_filesystem
from spapi_elt.lakehouse_lock import lakehouse_lock
from spapi_elt.rewrite import fsync_path

TEMPORARY_SUFFIX = ".rewriting"  # a rewritten file until it replaces the old one


@contextmanager
def rewrite_lock(lake: Lake, command: str, wait: bool = False) -> Iterator[LakeFiles]:
    """Hold the lake's file rewrites for `command`; a leftover of a killed rewrite is removed first. Yields the
    lake's files."""
    lake.workdir.mkdir(parents=True, exist_ok=True)
    with lakehouse_lock(lake.workdir / "file_rewrites", command, wait=wait):
        files = lake_filesystem(lake)
        for leftover in files.fs.glob(f"{files.raw}/*/*{TEMPORARY_SUFFIX}"):
            files.fs.rm(leftover)  # a kill interrupted a rewrite: a whole file (old or new) is in place
        yield files


def completed_loads(files: LakeFiles) -> set[str]:
    """The load ids dlt recorded as complete (`_dlt_loads/<schema>__<load_id>.jsonl`, written after the last job)."""
    return {name_of(path).removesuffix(".jsonl").rsplit("__", 1)[-1]
            for path in files.fs.glob(f"{files.raw}/_dlt_loads/*.jsonl")}


def name_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def load_id_of(path: str) -> str:
    """The load that wrote a raw file: lake.LAYOUT names it `<load_id>.<file_id>.parquet`."""
    return name_of(path).removesuffix(".parquet").rsplit(".", 1)[0]


def completed_files(files: LakeFiles, tables: Iterable[str]) -> dict[str, list[str]]:
    """Each table's files that completed loads wrote (the loads listed once for all the tables)."""
    loads = completed_loads(files)
    return {table: [f for f in sorted(files.fs.glob(f"{files.raw}/{table}/*.parquet")) if load_id_of(f) in loads]
            for table in tables}


def read_schema(files: LakeFiles, path: str) -> pa.Schema:
    return pq.read_schema(path, filesystem=files.fs)


def read_table(files: LakeFiles, path: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(path, columns=columns, filesystem=files.fs)


def write_beside(files: LakeFiles, path: str, table: pa.Table, schema: pa.Schema) -> str:
    """`table` written with the old file's own `schema` (types and metadata, column for column: the caller read it
    already) to the temporary name beside `path`, on disk (or stored); returns that name (`replace` puts it in
    place)."""
    temporary = path + TEMPORARY_SUFFIX
    pq.write_table(table.cast(schema), temporary, filesystem=files.fs)
    if files.local:
        fsync_path(temporary)
    return temporary


def remove(files: LakeFiles, temporary: str) -> None:
    """Remove a temporary copy `write_beside` wrote (a rewrite given up)."""
    if files.fs.exists(temporary):
        files.fs.rm(temporary)


def replace(files: LakeFiles, temporary: str, path: str) -> None:
    if files.local:
        os.replace(temporary, path)
        fsync_path(os.path.dirname(path))
    else:
        files.fs.copy(temporary, path)  # one object replaced whole, then the copy removed
        files.fs.rm(temporary)
