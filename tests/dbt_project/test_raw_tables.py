"""The raw tables' columns declared in _spapi__sources.yml are the ones dlt writes: staging reads an empty
relation of those columns where the lakehouse has no such table yet (macros/raw_table.sql), so a declaration
that drifts from the loader would build marts from columns that do not exist or have another type."""

from __future__ import annotations

from pathlib import Path

import yaml

SOURCES = Path(__file__).parents[2] / "dbt_project" / "models" / "staging" / "spapi" / "_spapi__sources.yml"


def declared() -> dict[str, list[tuple[str, str]]]:
    source = yaml.safe_load(SOURCES.read_text())["sources"][0]
    return {t["name"]: [(c["name"], c["data_type"]) for c in t.get("columns", [])] for t in source["tables"]}


def test_every_raw_table_is_declared_with_the_columns_dlt_wrote(built_lakehouse) -> None:
    tables = declared()
    written = built_lakehouse.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'raw_spapi' order by table_name, ordinal_position")
    by_table: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in written:
        by_table.setdefault(table, []).append((column, data_type))
    checked = [name for name in tables if name in by_table]
    assert len(checked) >= 14  # every table staging reads, present in the oracle world
    for name in checked:
        assert sorted(tables[name]) == sorted(by_table[name]), name
