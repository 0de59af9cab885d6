"""Read what `dbt build --target spark` left in a lake (dbt_project/profiles.yml: Parquet tables under
<lake>/spark-warehouse, their catalog in <lake>/spark-metastore) into a DuckDB file, so the tests that read a DuckDB
lakehouse (the oracle, the mart comparison) read Spark's results unchanged.

Spark's own session reads the tables (the catalog knows their partitions and types); values are copied as they
are: decimals as Decimal, timestamps as text in UTC (pyspark would convert them to the local time zone)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import jinja2
import pyarrow
import yaml

from spapi_elt.dbt_runner import DBT_PROJECT

SCHEMAS = ("seeds", "staging", "intermediate", "finance", "roi", "operations", "catalog")


def spark_conf(lake_root: Path) -> dict[str, str]:
    """The Spark settings of profiles.yml's `spark` output for this lake (rendered as dbt renders them)."""
    values = {**os.environ, "SPAPI_SPARK_DIR": str(lake_root)}
    rendered = jinja2.Template((DBT_PROJECT / "profiles.yml").read_text()).render(
        env_var=lambda name, default=None: values.get(name, default))
    return yaml.safe_load(rendered)["spapi_lakehouse"]["outputs"]["spark"]["server_side_parameters"]


def duckdb_type(spark_type) -> str:
    from pyspark.sql import types

    if isinstance(spark_type, types.DecimalType):
        return f"DECIMAL({spark_type.precision}, {spark_type.scale})"
    names = {types.StringType: "VARCHAR", types.LongType: "BIGINT", types.IntegerType: "INTEGER",
             types.BooleanType: "BOOLEAN", types.DateType: "DATE", types.TimestampType: "TIMESTAMP",
             types.DoubleType: "DOUBLE", types.ShortType: "SMALLINT", types.FloatType: "FLOAT"}
    return names[type(spark_type)]


def export_spark_warehouse(lake_root: Path, target: Path) -> dict[str, list[str]]:
    """Copy every table of the Spark build's schemas into DuckDB file `target`; returns the tables per schema."""
    from pyspark.sql import SparkSession, functions, types

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf(lake_root).items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    copied: dict[str, list[str]] = {}
    try:
        with duckdb.connect(str(target)) as con:
            for schema in SCHEMAS:
                if not spark.catalog.databaseExists(schema):
                    continue
                con.execute(f'create schema if not exists "{schema}"')
                for table in spark.catalog.listTables(schema):
                    frame = spark.table(f"{schema}.{table.name}")
                    fields = frame.schema.fields
                    columns = [functions.date_format(f.name, "yyyy-MM-dd HH:mm:ss.SSSSSS").alias(f.name)
                               if isinstance(f.dataType, types.TimestampType) else functions.col(f.name)
                               for f in fields]
                    rows = frame.select(columns).collect()
                    definition = ", ".join(f'"{f.name}" {duckdb_type(f.dataType)}' for f in fields)
                    con.execute(f'create or replace table "{schema}"."{table.name}" ({definition})')
                    if rows:
                        values = pyarrow.table({f"c{i}": pyarrow.array([row[i] for row in rows])
                                                for i in range(len(fields))})
                        con.register("spark_rows", values)
                        con.execute(f'insert into "{schema}"."{table.name}" select * from spark_rows')
                        con.unregister("spark_rows")
                    copied.setdefault(schema, []).append(table.name)
    finally:
        spark.stop()
    return copied
