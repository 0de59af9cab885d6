"""A lake URL as the lakehouse setting (spapi_elt/lake.py): what is a lake, and every command made for a DuckDB file
refuses one by name instead of treating `file:///...` as a relative path. The lake's ingest and marts are tested
end to end in tests/dbt_project/test_lake_marts.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dlt_sources.spapi.tables import PRIMARY_KEYS
from spapi_elt.dbt_runner import DBT_PROJECT
from spapi_elt.lake import LakeNotSupported, as_lake, is_lake, pipeline_name
from spapi_elt.lakehouse import lakehouse_path
from spapi_elt.window_replace import WINDOW_COLUMNS


def test_a_url_is_a_lake_and_a_path_is_a_file(tmp_path, monkeypatch):
    assert is_lake(f"file://{tmp_path}/lake") and is_lake("s3://bucket/lake") and is_lake("az://c/lake")
    assert not is_lake("data/lakehouse.duckdb") and not is_lake(tmp_path / "x.duckdb") and not is_lake(None)
    lake = as_lake(f"file://{tmp_path}/lake/")
    assert lake.local_root == tmp_path / "lake" and lake.warehouse == tmp_path / "lake" / "warehouse.duckdb"
    assert lake.table_files("orders") == f"{tmp_path}/lake/raw_spapi/orders/**/*.parquet"
    assert as_lake("s3://bucket/lake").raw_root == "s3://bucket/lake/raw_spapi"
    monkeypatch.delenv("SPAPI_LAKE_WORKDIR", raising=False)  # a local folder per lake: dlt's state is per lake
    assert as_lake("s3://bucket/lake/").workdir == Path("data/.dlt-lake/s3/bucket/lake")
    assert as_lake("gs://other/lake").warehouse == Path("data/.dlt-lake/gs/other/lake/warehouse.duckdb")
    assert pipeline_name(["B2", "A1", "B2"]) == "spapi__A1_B2"


def test_file_only_code_refuses_a_lake_naming_what(tmp_path, monkeypatch):
    lake = f"file://{tmp_path}/lake"
    with pytest.raises(LakeNotSupported, match="journal exports .* not supported on a lake yet"):
        lakehouse_path(lake, "journal exports")
    monkeypatch.setenv("SPAPI_LAKEHOUSE", "s3://bucket/lake")  # the environment's lake is refused the same way
    with pytest.raises(LakeNotSupported, match="s3://bucket/lake"):
        lakehouse_path(None, "journal exports")
    assert not (tmp_path / "lake").exists()  # refused before anything was written


def test_staging_knows_each_raw_table_key_and_window_as_the_source_does():
    """macros/raw_table.sql dedupes a lake's rows on the keys the sources declare: they must be the source's."""
    sources = yaml.safe_load(Path(DBT_PROJECT, "models/staging/spapi/_spapi__sources.yml").read_text())
    meta = {t["name"]: t["config"]["meta"] for t in sources["sources"][0]["tables"]}
    assert {name: tuple(m["primary_key"]) for name, m in meta.items()} == {
        name: key for name, key in PRIMARY_KEYS.items() if name in meta}
    assert {name: m["window_column"] for name, m in meta.items() if "window_column" in m} == WINDOW_COLUMNS
