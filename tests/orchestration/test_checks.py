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


def test_pii_scan_finds_an_email_address_with_no_canaries_configured(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SPAPI_PII_CANARIES", raising=False)
    monkeypatch.delenv("SPAPI_PII_CANARY_VALUES", raising=False)
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", "create schema raw_spapi",
                               "create table raw_spapi.order_buyers (id varchar, email varchar)",
                               "insert into raw_spapi.order_buyers values ('1', 'h1:ab12'), ('2', 'jo@example.co.uk')")
    result = pii_canary_scan(config=CanaryConfig(), lakehouse=lakehouse)
    assert not result.passed and result.metadata["tables_with_hits"].value == {"raw_spapi.order_buyers": 1}
    with duckdb.connect(lakehouse.path) as con:
        con.execute("delete from raw_spapi.order_buyers where id = '2'")
    assert pii_canary_scan(config=CanaryConfig(), lakehouse=lakehouse).passed


def test_canaries_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SPAPI_PII_CANARIES", raising=False)
    monkeypatch.setenv("SPAPI_PII_CANARY_VALUES", "Zebulon Q. Doe\n")
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", "create schema raw_spapi",
                               "create table raw_spapi.orders (id varchar, note varchar)",
                               "insert into raw_spapi.orders values ('1', 'for Zebulon Q. Doe')")
    result = pii_canary_scan(config=CanaryConfig(), lakehouse=lakehouse)
    assert not result.passed and result.metadata["canaries"].value == 1
