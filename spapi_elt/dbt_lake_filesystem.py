"""A dbt-duckdb plugin (profiles.yml: `plugins`) that lets dbt's DuckDB read a lake on object storage: the lake's
fsspec filesystem, configured as dlt writes the lake (spapi_elt/lake.py: lake_filesystem), is registered with every
connection dbt opens. It does nothing unless SPAPI_RAW_LAKE (set by spapi_elt/dbt_runner.py) is an object-storage URL:
DuckDB reads a local lake, and a DuckDB file, itself."""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from spapi_elt.lake import as_lake, is_lake, readable_by


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        raw = os.environ.get("SPAPI_RAW_LAKE", "")
        if is_lake(raw):  # a local lake's raw root is a path; a URL means object storage
            readable_by(as_lake(raw), conn)
