"""What `spapi-elt transform` shows when dbt fails: the failing tests and where their queries are, not the
tail of the log (the SKIP list); and which dbt target and lake settings a run gets."""

from __future__ import annotations

import pytest

from dlt_sources.spapi.config import ConfigError
from spapi_elt.dbt_runner import BuildResult, build, dbt_target, lake_environment
from spapi_elt.lake import as_lake

OUTPUT = """\
12:00:01  1 of 3 START sql table model finance.settlements ..... [RUN]
12:00:02  2 of 3 FAIL 2 unique_settlements_settlement_id ........ [FAIL 2 in 0.05s]
12:00:02  3 of 3 SKIP relation finance.payouts .................. [SKIP]
12:00:03
12:00:03  Completed with 1 error, 0 partial successes, and 0 warnings:
12:00:03
12:00:03  Failure in test unique_settlements_settlement_id (models/marts/finance/_finance__models.yml)
12:00:03    Got 2 results, configured to fail if != 0
12:00:03
12:00:03    compiled code at data/dbt/target/compiled/spapi_lakehouse/models/marts/finance/unique.sql
12:00:03
12:00:03  Done. PASS=1 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=3
"""


def test_failures_are_the_failing_tests_and_their_compiled_queries() -> None:
    failures = BuildResult(1, OUTPUT).failures()
    assert "Failure in test unique_settlements_settlement_id" in failures
    assert "compiled code at data/dbt/target/compiled/" in failures
    assert "SKIP" not in failures and "Done. PASS=" not in failures
    assert BuildResult(1, OUTPUT).summary_line().endswith("Done. PASS=1 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=3")


def test_the_dbt_target_follows_spapi_dbt_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPAPI_DBT_TARGET", raising=False)
    assert dbt_target() == "local"
    monkeypatch.setenv("SPAPI_DBT_TARGET", "spark")
    assert dbt_target() == "spark"
    monkeypatch.setenv("SPAPI_DBT_TARGET", "snowflake")
    with pytest.raises(ConfigError, match="snowflake"):
        dbt_target()


def test_spark_is_refused_a_duckdb_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("SPAPI_DBT_TARGET", "spark")
    with pytest.raises(ConfigError, match="file:// lake"):
        build(tmp_path / "lakehouse.duckdb")
    assert not (tmp_path / "lakehouse.duckdb.lock").exists()  # refused before taking the lock


def test_a_lake_names_its_raw_tables_with_files_and_its_spark_folder(tmp_path) -> None:
    lake = as_lake(f"file://{tmp_path}/lake")
    (tmp_path / "lake" / "raw_spapi" / "orders").mkdir(parents=True)
    (tmp_path / "lake" / "raw_spapi" / "orders" / "1767225600.1.parquet").write_bytes(b"")
    (tmp_path / "lake" / "raw_spapi" / "payouts").mkdir()  # a folder without files: Spark would fail on it
    environment = lake_environment(lake)
    assert environment == {"SPAPI_RAW_LAKE": f"{tmp_path}/lake/raw_spapi", "SPAPI_RAW_LAKE_TABLES": "orders",
                           "SPAPI_SPARK_DIR": str((tmp_path / "lake").resolve())}
