"""What `spapi-elt transform` shows when dbt fails: the failing tests and where their queries are, not the
tail of the log (the SKIP list)."""

from __future__ import annotations

from spapi_elt.dbt_runner import BuildResult, build, target_args

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


def test_the_dbt_target_comes_from_spapi_dbt_target(tmp_path, monkeypatch) -> None:
    """Unset or `duckdb`: the profile's DuckDB target; anything else reaches dbt as --target (the Spark slice's)."""
    monkeypatch.delenv("SPAPI_DBT_TARGET", raising=False)
    assert target_args() == []
    monkeypatch.setenv("SPAPI_DBT_TARGET", "duckdb")
    assert target_args() == []
    monkeypatch.setenv("SPAPI_DBT_TARGET", "no_such_target")
    result = build(tmp_path / "lakehouse.duckdb", None, "parse")
    assert not result.ok and "no_such_target" in result.output
