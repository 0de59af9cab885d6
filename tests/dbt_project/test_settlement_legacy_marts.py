"""Settlements loaded from Amazon's older Flat File layout give the same marts as the V2 files they twin.

A copy of the session's built lakehouse has every settlement's raw lines replaced by the lines the loader
reads from the same sandbox settlement rendered in the older layout (36 columns); after a full-refresh build
every table a build writes holds what the V2 build holds. Only line numbers differ (the older layout numbers
a row's lines file line * 10 + k), so columns naming a line are left out of the comparison.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pytest

from dlt_sources.spapi.flatfiles import parse_settlement
from spapi_sandbox.generate import build_world
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.settlement_file import render_settlement
from tests.built_lakehouse import ORACLE_ARGUMENTS, BuiltLakehouse
from tests.dbt_project.test_incremental import BUILT_SCHEMAS, Contents, copy_of, differing

pytestmark = pytest.mark.integration


def contents_without_line_ids(path: Path) -> Contents:
    """Row count and an order-independent checksum of every built table, leaving out line-number columns."""
    schemas = ", ".join(f"'{schema}'" for schema in BUILT_SCHEMAS)
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            f"select schema_name, table_name from duckdb_tables() where schema_name in ({schemas})").fetchall()
        found: Contents = {}
        for schema, table in tables:
            columns = [name for (name,) in connection.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                "order by column_index", [schema, table]).fetchall()
                if "line_number" not in name and "line_id" not in name]
            listed = ", ".join(f'"{name}"' for name in columns)
            found[f"{schema}.{table}"] = connection.execute(
                f"""select count(*), md5(coalesce(string_agg(row_text, chr(10) order by row_text), ''))
                    from (select cast(row({listed}) as varchar) as row_text from "{schema}"."{table}")"""
            ).fetchone()
        return found


def test_flat_file_settlements_give_the_same_marts(built_lakehouse: BuiltLakehouse, tmp_path: Path) -> None:
    assert built_lakehouse.returncode == 0, built_lakehouse.build_output[-5000:]
    world = build_world(ORACLE_ARGUMENTS)  # the sandbox's world: the same arguments give the same settlements
    settlements = {(s.account.seller_id, st.settlement_id): st for s in world.sellers for st in s.settlements}
    copy = copy_of(built_lakehouse, tmp_path)
    documents = copy.sql("select distinct seller_id, settlement_id, report_id, _dlt_load_id "
                         "from raw_spapi.settlement_lines")
    assert documents
    with duckdb.connect(str(copy.path)) as connection:
        for seller_id, settlement_id, report_id, load_id in documents:
            st = settlements[(seller_id, settlement_id)]
            marketplace_id = MARKETPLACES[st.marketplace].marketplace_id
            parsed = parse_settlement(io.BytesIO(render_settlement(st, "flat36")), seller_id=seller_id,
                                      charset=st.charset, marketplace_id=marketplace_id)
            lines = list(parsed.lines)
            assert parsed.layout == "flat" and parsed.quarantine == []
            where = "seller_id = ? and settlement_id = ? and report_id = ?"
            connection.execute(f"delete from raw_spapi.settlement_lines where {where}",
                               [seller_id, settlement_id, report_id])
            for table in lines:
                connection.register("flat_lines", table)
                connection.execute("insert into raw_spapi.settlement_lines by name "
                                   "select *, ? as report_id, ? as _dlt_load_id from flat_lines", [report_id, load_id])
                connection.unregister("flat_lines")
        flat_lines = connection.execute("select count(*), sum(amount) from raw_spapi.settlement_lines").fetchone()
    v2_lines = built_lakehouse.query("select count(*), sum(amount) from raw_spapi.settlement_lines")[0]
    assert flat_lines == v2_lines
    assert copy.sql("select min(line_number) from raw_spapi.settlement_lines")[0][0] >= 30  # the older numbering
    copy.build("--full-refresh")
    expected = contents_without_line_ids(built_lakehouse.path)
    assert {"finance.settlements", "finance.settlement_lines", "roi.sku_profitability"} <= set(expected)
    assert differing(expected, contents_without_line_ids(copy.path)) == {}
