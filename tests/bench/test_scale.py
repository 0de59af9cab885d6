"""bench/scale.py at a tiny size: the session's built world (tests/built_lakehouse.py) copied three times must still
add up settlement by settlement, read the same from the DuckDB file and the Parquet lake, and give three times the
base's rows in every main mart on both DuckDB legs. Figures (time, memory) are printed by the bench, never asserted."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
COPIES = 3


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


scale = load_bench()


@pytest.fixture(scope="module")
def scaled(built_lakehouse, tmp_path_factory):
    """Three copies of the built world's raw tables, as a file and a lake (the base copied first: the session
    reads the built lakehouse meanwhile)."""
    work = tmp_path_factory.mktemp("scale")
    base = work / "base.duckdb"
    shutil.copyfile(built_lakehouse.path, base)
    return base, scale.write_scaled(base, COPIES, work / f"x{COPIES}")


def test_scaled_settlements_add_up_as_the_base_does(scaled):
    base, data = scaled
    with duckdb.connect(str(base), read_only=True) as con:
        base_differences = scale.settlement_differences(con, "raw_spapi")
        base_lines, base_amount = con.execute("select count(*), sum(amount) from raw_spapi.settlement_lines").fetchone()
    with duckdb.connect(str(data.file), read_only=True) as con:
        differences = scale.settlement_differences(con, "raw_spapi")
        lines, amount = con.execute("select count(*), sum(amount) from raw_spapi.settlement_lines").fetchone()
        sellers = con.execute("select count(distinct seller_id) from raw_spapi.settlement_reports").fetchone()[0]
    assert dict(base_differences).get("0.00", 0) >= 10  # the base's settlements, most adding up to the cent
    assert differences == [(difference, COPIES * n) for difference, n in base_differences]
    assert (lines, amount) == (COPIES * base_lines, COPIES * base_amount) == (data.settlement_lines, amount)
    assert sellers == COPIES * 2


def test_the_lake_holds_what_the_file_holds_in_dlts_layout(scaled):
    _, data = scaled
    root = Path(data.lake.removeprefix("file://")) / "raw_spapi"
    with duckdb.connect(str(data.file), read_only=True) as con:
        for table in scale.SOURCES:
            files = sorted((root / table).glob("*.parquet"))
            expected = 1 if table == "catalog_items" else COPIES  # one load (file) per account set, per table
            assert len(files) == expected, table
            assert all(len(f.name.split(".")) == 4 for f in files)  # <load_id>.<file_id>.parquet, load ids dotted
            in_lake = con.execute(f"select * from read_parquet('{root / table}/*.parquet', union_by_name = true) "
                                  f"except all select * from raw_spapi.\"{table}\"").fetchall()
            counts = con.execute(f"select (select count(*) from read_parquet('{root / table}/*.parquet')), "
                                 f"(select count(*) from raw_spapi.\"{table}\")").fetchone()
            assert in_lake == [] and counts[0] == counts[1] > 0, table


def test_marts_grow_with_the_copies_on_both_duckdb_legs(scaled, built_lakehouse):
    _, data = scaled
    base_rows = {mart: built_lakehouse.query(f"select count(*) from {mart}")[0][0] for mart in scale.MARTS}
    assert base_rows["finance.settlement_lines"] > 1000 and base_rows["finance.reconciliation_exceptions"] > 0
    for leg in ("duckdb-file", "duckdb-lake"):
        run = scale.run_leg(leg, data, date.fromisoformat(built_lakehouse.as_of))
        assert run.error is None, run.error
        assert run.rows == {mart: COPIES * rows for mart, rows in base_rows.items()}, leg
        assert run.peak_mb > 100  # the dbt process was sampled while it ran


def test_the_spark_leg_says_what_is_missing_instead_of_failing(monkeypatch, tmp_path):
    monkeypatch.setattr(scale.importlib.util, "find_spec", lambda name: None)
    data = scale.Scaled(1, tmp_path / "lakehouse.duckdb", f"file://{tmp_path}/lake", 0)
    run = scale.run_leg("spark", data, date(2026, 1, 31))
    assert run.error == "spark: not installed (pip install -e '.[spark]')" and run.seconds == 0 and run.rows == {}
