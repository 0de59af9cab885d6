"""The lakehouse checks on tiny hand-made lakehouses: they pass on clean data and fail on what they guard. (The
blocking settlements check is a dbt test now: tests/dbt_project/test_singular_tests.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.checks.checks import CanaryConfig, pii_canary_scan
from orchestration.resources import LakehouseResource

CIPHERTEXT = "e1:k1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MjQyNDI0Mg=="
EMAIL_HASH = "h1:" + "0123456789abcdef" * 4
# A protected buyer row and an order-report row as the PII policies leave them, with the values real raw tables
# are full of beside them (order ids look phone-like, dates, amounts, SKUs, ASINs).
PROTECTED = (
    "create schema raw_spapi",
    "create table raw_spapi.order_buyers (seller_id varchar, order_id varchar, buyer__buyer_email varchar, "
    "buyer__buyer_name varchar, recipient__delivery_address__address_line1 varchar, "
    "recipient__delivery_address__phone varchar, recipient__delivery_address__state_or_region varchar, "
    "recipient__delivery_address__country_code varchar)",
    f"insert into raw_spapi.order_buyers values ('AWW9V8FOH82YHA', '112-3590044-3641144', '{EMAIL_HASH}', "
    f"'{CIPHERTEXT}', '{CIPHERTEXT}', '{CIPHERTEXT}', 'WA', 'US'), ('AWW9V8FOH82YHA', '701-3529730-0534711', "
    "'purged:2026-12-01', 'purged:2026-12-01', 'purged:2026-12-01', null, 'ON', 'CA')",
    "create table raw_spapi.orders (amazon_order_id varchar, merchant_order_id varchar, ship_city varchar, "
    "ship_postal_code varchar, ship_state varchar, currency varchar, sku varchar, asin varchar, note varchar)",
    f"insert into raw_spapi.orders values ('303-1234567-1234567', '2026-01-31', '{CIPHERTEXT}', '{CIPHERTEXT}', "
    "'Bayern', 'EUR', 'S0-BEA-007', 'B024VQYYJD', '11.10.2024 08:59:52 UTC 95,00 1977.17')",
)


def lakehouse_with(path: Path, *statements: str) -> LakehouseResource:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return LakehouseResource(path=str(path))


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance on disk (SQLite event logs under its home) that has run one harmless job."""
    monkeypatch.delenv("SPAPI_PII_CANARY_VALUES", raising=False)
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    with dg.DagsterInstance.local_temp(str(tmp_path / "dagster")) as local:
        assert logging_job("Loaded 2 orders for AWW9V8FOH82YHA").execute_in_process(instance=local).success
        yield local


def logging_job(message: str) -> dg.JobDefinition:
    @dg.op
    def log_it(context) -> None:  # (Dagster reads the annotation, which `annotations` turns into a string)
        context.log.info(message)

    @dg.job
    def logs() -> None:
        log_it()

    return logs


def scan(instance: dg.DagsterInstance, lakehouse: LakehouseResource, **config) -> dg.AssetCheckResult:
    return pii_canary_scan(dg.build_asset_check_context(instance=instance), config=CanaryConfig(**config),
                           lakehouse=lakehouse)


def test_a_clean_protected_lakehouse_passes_and_says_what_it_scanned(tmp_path: Path, instance) -> None:
    result = scan(instance, lakehouse_with(tmp_path / "l.duckdb", *PROTECTED))
    assert result.passed, result.description
    metadata = {name: value.value for name, value in result.metadata.items()}
    assert metadata["findings"] == {}
    assert metadata["lakehouse_tables"] == 2 and metadata["text_columns"] == 17
    # order_buyers: e-mail, name, street (two rows), phone (one); orders: city, postal code (one row).
    assert metadata["protected_columns"] == 6 and metadata["protected_values"] == 2 + 2 + 2 + 1 + 1 + 1
    assert metadata["buyer_columns_shape_scanned"] == 4 + 7
    assert metadata["dagster_files"] >= 2 and metadata["canaries"] == 0  # the run's event log and the index


def test_a_plaintext_phone_in_a_protected_column_fails_with_no_canaries(tmp_path: Path, instance) -> None:
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", *PROTECTED,
                               "update raw_spapi.order_buyers set recipient__delivery_address__phone = "
                               "'+49 30 9018201234' where order_id = '701-3529730-0534711'")
    result = scan(instance, lakehouse)
    assert not result.passed
    assert result.metadata["findings"].value == {
        "raw_spapi.order_buyers.recipient__delivery_address__phone": {"phone": 1}}
    assert "+49" not in (result.description or "")  # where and what kind, never the value


def test_a_plaintext_street_address_in_a_protected_column_fails(tmp_path: Path, instance) -> None:
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", *PROTECTED,
                               "update raw_spapi.order_buyers set recipient__delivery_address__address_line1 = "
                               "'4521 Maple Ave' where order_id = '112-3590044-3641144'",
                               "update raw_spapi.orders set ship_city = 'Seattle'")
    result = scan(instance, lakehouse)
    assert not result.passed
    assert result.metadata["findings"].value == {
        "raw_spapi.order_buyers.recipient__delivery_address__address_line1": {"street address": 1},
        "raw_spapi.orders.ship_city": {"plaintext": 1}}


def test_a_phone_in_an_unprotected_buyer_column_fails(tmp_path: Path, instance) -> None:
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", *PROTECTED,
                               "update raw_spapi.orders set note = 'call (206) 555-0100 before delivery'")
    result = scan(instance, lakehouse)
    assert not result.passed and result.metadata["findings"].value == {"raw_spapi.orders.note": {"phone": 1}}


def test_a_canary_in_dagsters_event_log_fails(tmp_path: Path, instance) -> None:
    canary = "Zebulon Quackenbush-T3ST01"
    run = logging_job(f"shipping to {canary}").execute_in_process(instance=instance)
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", *PROTECTED)
    result = scan(instance, lakehouse, canaries=[canary])
    assert not result.passed and result.metadata["canaries"].value == 1
    findings = result.metadata["findings"].value
    assert findings[f"history/runs/{run.run_id}.db"] == {"canary": 1}
    # Dagster's console logger also wrote the line to the step's captured stderr: the compute log.
    compute_logs = [place for place in findings if place.startswith("storage/")]
    assert compute_logs and all(place.startswith(f"storage/{run.run_id}/compute_logs/") for place in compute_logs)
    assert set(findings) - set(compute_logs) <= {f"history/runs/{run.run_id}.db", "history/runs/index.db"}
    assert canary not in (result.description or "")


def test_an_email_address_in_dagsters_event_log_fails_with_no_canaries(tmp_path: Path, instance) -> None:
    run = logging_job("no buyer found for jo.bloggs@example.co.uk").execute_in_process(instance=instance)
    result = scan(instance, lakehouse_with(tmp_path / "l.duckdb", *PROTECTED))
    assert not result.passed
    assert result.metadata["findings"].value[f"history/runs/{run.run_id}.db"] == {"email": 1}


def test_nothing_to_scan_is_a_warning_not_a_pass(tmp_path: Path, instance) -> None:
    for lakehouse in (LakehouseResource(path=str(tmp_path / "absent.duckdb")),
                      lakehouse_with(tmp_path / "empty.duckdb", "create schema raw_spapi")):
        result = scan(instance, lakehouse)
        assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
        assert result.description.startswith("Skipped") and result.metadata["lakehouse_tables"].value == 0


def test_a_canary_anywhere_in_the_lakehouse_fails(tmp_path: Path, instance) -> None:
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", "create schema raw_spapi",
                               "create table raw_spapi.settlement_lines (id varchar, note varchar)",
                               "insert into raw_spapi.settlement_lines values ('1', 'e1:k:abc'), "
                               "('2', 'ship to Jane Q. Doe')")
    result = scan(instance, lakehouse, canaries=["Jane Q. Doe", "12 Elm Street"])
    assert not result.passed
    assert result.metadata["findings"].value == {"raw_spapi.settlement_lines": {"canary": 1}}
    assert scan(instance, lakehouse, canaries=["Zebulon Q. Doe"]).passed


def test_an_email_address_anywhere_fails_with_no_canaries(tmp_path: Path, instance) -> None:
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", "create schema finance",
                               "create table finance.notes (id varchar, note varchar)",
                               "insert into finance.notes values ('1', 'h1:ab12'), ('2', 'jo@example.co.uk')")
    result = scan(instance, lakehouse)
    assert not result.passed and result.metadata["findings"].value == {"finance.notes": {"email": 1}}
    with duckdb.connect(lakehouse.path) as con:
        con.execute("delete from finance.notes where id = '2'")
    assert scan(instance, lakehouse).passed


def test_canaries_from_the_environment(tmp_path: Path, instance, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAPI_PII_CANARY_VALUES", "Zebulon Q. Doe\n")
    lakehouse = lakehouse_with(tmp_path / "l.duckdb", "create schema raw_spapi",
                               "create table raw_spapi.orders_notes (id varchar, note varchar)",
                               "insert into raw_spapi.orders_notes values ('1', 'for Zebulon Q. Doe')")
    result = scan(instance, lakehouse)
    assert not result.passed and result.metadata["canaries"].value == 1


def lake_with(root: Path, *statements: str) -> LakehouseResource:
    """The same tables as a lake: each written as one Parquet file where dlt's layout puts it."""
    with duckdb.connect() as con:
        for statement in statements:
            con.execute(statement)
        for (table,) in con.execute("select table_name from information_schema.tables where table_schema = "
                                    "'raw_spapi'").fetchall():
            (root / "raw_spapi" / table).mkdir(parents=True)
            con.execute(f"copy raw_spapi.{table} to '{root}/raw_spapi/{table}/1.a.parquet' (format parquet)")
    return LakehouseResource(path=f"file://{root}")


def test_the_plaintext_check_reads_a_lakes_parquet(tmp_path: Path, instance) -> None:
    clean = scan(instance, lake_with(tmp_path / "clean", *PROTECTED))
    assert clean.passed, clean.description
    assert {k: clean.metadata[k].value for k in ("lakehouse_tables", "text_columns", "protected_values")} == {
        "lakehouse_tables": 2, "text_columns": 17, "protected_values": 9}
    leaked = scan(instance, lake_with(tmp_path / "leaked", *PROTECTED,
                                      "update raw_spapi.order_buyers set recipient__delivery_address__phone = "
                                      "'+49 30 9018201234' where order_id = '701-3529730-0534711'"))
    assert not leaked.passed
    assert leaked.metadata["findings"].value == {
        "raw_spapi.order_buyers.recipient__delivery_address__phone": {"phone": 1}}
