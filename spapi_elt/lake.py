"""The raw layer as a Parquet lake instead of one DuckDB file: what a lake setting is, and dlt's pipeline into it.

The lakehouse setting (`--lakehouse`, SPAPI_LAKEHOUSE) is a DuckDB file unless it is a URL: `file:///path`, or
object storage `s3://bucket/path` (tested against an S3 server), `gs://`, `az://` (dlt's filesystem destination
through fsspec; credentials as dlt reads them, e.g. DESTINATION__FILESYSTEM__CREDENTIALS__*). Everything else that
reads or rewrites the lake's files uses the same fsspec filesystem with the same configuration (`lake_filesystem`),
and DuckDB reads object storage through it (`readable_by`: no DuckDB extension is downloaded).

dlt writes every raw table as Parquet files
`<lake>/raw_spapi/<table>/<load_id>.<file_id>.parquet`: append-only, one set of files per load, so accounts load
at once without a shared writer. Merge and window replacement happen in dbt's staging instead (latest load per
primary key; macros/raw_table.sql), which makes the marts equal to the DuckDB file's.

Local state stays local: dlt's working directory (state, load packages) and the PII key-check registry live in
`<lake>/.dlt` for a file:// lake, else in a folder per lake under SPAPI_LAKE_WORKDIR (default data/.dlt-lake; e.g.
data/.dlt-lake/s3/bucket/lake for s3://bucket/lake). dlt's pipeline, and so its
resume points, is per set of accounts (`spapi__<seller ids>`): run each account (or group) in its own process.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import dlt
import duckdb
from dlt.common.configuration import resolve_configuration
from dlt.common.storages import FilesystemConfiguration, fsspec_from_config
from fsspec import AbstractFileSystem

LAKE_SCHEMES = ("file", "s3", "gs", "gcs", "az", "abfs", "abfss")
DATASET = "raw_spapi"
PIPELINE_PREFIX = "spapi__"
# The default layout, named so that it never changes under us: a folder per table, a file per load and job.
LAYOUT = "{table_name}/{load_id}.{file_id}.{ext}"


class LakeNotSupported(RuntimeError):
    """A command or step that works on a DuckDB file only was given a lake: the message names it."""


def is_lake(setting: str | os.PathLike[str] | None) -> bool:
    """True for a lake URL (`file:///...`, `s3://...`), false for a DuckDB file path or None."""
    if setting is None or isinstance(setting, Path):
        return False
    return urlparse(str(setting)).scheme in LAKE_SCHEMES


def refuse_lake(setting: str | os.PathLike[str] | None, what: str) -> None:
    """Raise LakeNotSupported naming `what` when `setting` (or SPAPI_LAKEHOUSE, when None) is a lake."""
    value = setting if setting is not None else os.environ.get("SPAPI_LAKEHOUSE")
    if is_lake(value):
        raise LakeNotSupported(f"{what} is not supported on a lake yet ({value}): use a DuckDB file "
                               "(README: 'Scale-out: a lake instead of one file')")


@dataclass(frozen=True)
class Lake:
    url: str  # as given, without a trailing slash

    @property
    def local_root(self) -> Path | None:
        """The folder of a file:// lake; None for object storage."""
        parsed = urlparse(self.url)
        return Path(parsed.path) if parsed.scheme == "file" else None

    @property
    def raw_root(self) -> str:
        """Where the raw tables' folders are, as DuckDB's read_parquet takes it (a path for a local lake)."""
        root = str(self.local_root) if self.local_root else self.url
        return f"{root}/{DATASET}"

    @property
    def workdir(self) -> Path:
        """dlt's local working directory and the key-check registry for this lake: one per lake, since both name
        things after the accounts (two lakes sharing one would share dlt's state of what each holds)."""
        if self.local_root:
            return self.local_root / ".dlt"
        parsed = urlparse(self.url)
        return Path(os.environ.get("SPAPI_LAKE_WORKDIR", "data/.dlt-lake"), parsed.scheme, parsed.netloc,
                    parsed.path.strip("/"))

    @property
    def warehouse(self) -> Path:
        """The DuckDB file dbt builds the marts into: inside a local lake, else in the working directory."""
        return (self.local_root or self.workdir) / "warehouse.duckdb"

    @property
    def key_checks(self) -> Path:
        """The PII key-check registry (key_checks.py's table in a small DuckDB file of its own)."""
        return self.workdir / "pii_key_checks.duckdb"

    def table_files(self, table: str) -> str:
        return f"{self.raw_root}/{table}/**/*.parquet"


@dataclass(frozen=True)
class LakeFiles:
    """A lake's raw dataset as fsspec sees it: the filesystem and the dataset's folder as a path on it."""
    fs: AbstractFileSystem
    raw: str  # e.g. /data/lake/raw_spapi, or bucket/lake/raw_spapi

    @property
    def local(self) -> bool:
        return "file" in as_protocols(self.fs)


def as_protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    return (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)


def lake_filesystem(lake: Lake) -> LakeFiles:
    """The filesystem dlt's filesystem destination writes `lake` with: the same configuration and credentials
    (DESTINATION__FILESYSTEM__*, .dlt/secrets.toml), so what can write the lake can read and rewrite it."""
    config = resolve_configuration(FilesystemConfiguration(bucket_url=lake.url), sections=("destination", "filesystem"))
    fs, root = fsspec_from_config(config)
    return LakeFiles(fs, f"{root.rstrip('/')}/{DATASET}")


def readable_by(lake: Lake, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con`, able to read the lake's files by their URLs: an object store's fsspec filesystem registered with it
    (DuckDB reads local files itself). Returns `con`."""
    if lake.local_root is None:
        fs = lake_filesystem(lake).fs
        if not any(con.filesystem_is_registered(p) for p in as_protocols(fs)):
            con.register_filesystem(fs)
    return con


def as_lake(setting: str | os.PathLike[str]) -> Lake:
    return Lake(str(setting).rstrip("/"))


def pipeline_name(seller_ids: Sequence[str]) -> str:
    """dlt's pipeline for a set of accounts: its own state and working directory, so sets load in parallel."""
    joined = "_".join(sorted(set(seller_ids)))
    if len(joined) > 80:
        joined = hashlib.sha256(joined.encode()).hexdigest()[:16]
    return PIPELINE_PREFIX + joined


class _AppendByDesign(logging.Filter):
    """dlt warns, per table and load, that it appends instead of merging (and ignores dedup_sort) on plain
    Parquet: on a lake that is the design (staging dedupes), so the warning would only drown real ones."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "Falling back to `append`" not in message and "hint is only applied when using the \"merge\"" \
            not in message


_APPEND_BY_DESIGN = _AppendByDesign()


def lake_pipeline(lake: Lake, seller_ids: Sequence[str], name: str | None = None) -> dlt.Pipeline:
    """dlt's pipeline into the lake for these accounts: the filesystem destination, Parquet files.
    Every table falls back to append there (dlt merges only Delta or Iceberg tables): staging dedupes."""
    if _APPEND_BY_DESIGN not in logging.getLogger("dlt").filters:
        logging.getLogger("dlt").addFilter(_APPEND_BY_DESIGN)
    lake.workdir.mkdir(parents=True, exist_ok=True)
    if lake.local_root:
        lake.local_root.mkdir(parents=True, exist_ok=True)
    destination = dlt.destinations.filesystem(bucket_url=lake.url, layout=LAYOUT)
    return dlt.pipeline(pipeline_name=name or pipeline_name(seller_ids), destination=destination, dataset_name=DATASET,
                        pipelines_dir=str(lake.workdir), progress=None)


def lake_pipeline_names(lake: Lake) -> list[str]:
    """The pipelines (account sets) that have loaded into this lake from this working directory."""
    if not lake.workdir.is_dir():
        return []
    return sorted(p.name for p in lake.workdir.iterdir() if p.is_dir() and p.name.startswith(PIPELINE_PREFIX))


def lake_tables(lake: Lake) -> list[str]:
    """The raw tables some load wrote files for (LAYOUT: `<table>/<file>.parquet`)."""
    files = lake_filesystem(lake)
    return sorted({path.rstrip("/").split("/")[-2] for path in files.fs.glob(f"{files.raw}/*/*.parquet")})


def lake_table_counts(lake: Lake) -> dict[str, int]:
    """Rows per raw table in the lake's Parquet files: every load's version of a row (staging keeps the latest)."""
    tables = [t for t in lake_tables(lake) if not t.startswith("_dlt")]
    with duckdb.connect() as con:
        readable_by(lake, con)
        return {t: con.execute("select count(*) from read_parquet(?)", [lake.table_files(t)]).fetchone()[0]
                for t in tables}


def lake_views(lake: Lake, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Schema raw_spapi in `con` with a view per raw table over its Parquet files (every load's rows), so code that
    reads a DuckDB file's raw dataset (the Dagster checks) reads the lake the same way. Returns the tables."""
    tables = lake_tables(lake)
    readable_by(lake, con)
    con.execute(f"create schema if not exists {DATASET}")
    for table in tables:
        files = lake.table_files(table).replace("'", "''")
        con.execute(f"create or replace view {DATASET}.\"{table}\" as "
                    f"select * from read_parquet('{files}', union_by_name = true)")
    return tables
