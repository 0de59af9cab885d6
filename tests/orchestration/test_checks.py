"""The lakehouse checks on tiny hand-made lakehouses: they pass on clean data and fail on what they guard. (The
blocking settlements check is a dbt test now: tests/dbt_project/test_singular_tests.py.)"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.defs.checks.checks import CanaryConfig, pii_canary_scan
from orchestration.resources import LakehouseResource


def lakehouse_with(path: Path, *statements: str) -> LakehouseResource:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return LakehouseResource(path=str(path))


def test_pii_canary_scan_finds_plaintext(tmp_path: Path) -> None:
    canaries = tmp_path / "canaries.txt"
    canaries.write_text("Jane Q. Doe\n12 Elm Street\n", encoding="utf-8")
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", "create schema raw_spapi",
                               "create table raw_spapi.orders (id varchar, note varchar)",
                               "insert into raw_spapi.orders values ('1', 'e1:k:abc'), ('2', 'ship to 12 Elm Street')")
    result = pii_canary_scan(config=CanaryConfig(canaries_file=str(canaries)), lakehouse=lakehouse)
    assert not result.passed
    assert result.metadata["tables_with_hits"].value == {"raw_spapi.orders": 1}


def test_pii_canary_scan_passes_on_protected_data(tmp_path: Path) -> None:
    canaries = tmp_path / "canaries.txt"
    canaries.write_text("Jane Q. Doe\n", encoding="utf-8")
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", "create schema raw_spapi",
                               "create table raw_spapi.orders (id varchar, buyer_name varchar)",
                               "insert into raw_spapi.orders values ('1', 'e1:k:abc'), ('2', null)")
    assert pii_canary_scan(config=CanaryConfig(canaries_file=str(canaries)), lakehouse=lakehouse).passed
