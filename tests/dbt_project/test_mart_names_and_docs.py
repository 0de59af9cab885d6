"""Marts name what their ids mean (the account, Amazon's marketplace name) and carry their documentation into
the database (dbt persist_docs), so a SQL client shows every table's and column's description."""

from __future__ import annotations

import csv

import yaml

from spapi_elt.dbt_runner import DBT_PROJECT
from spapi_sandbox.marketplaces import MARKETPLACES
from tests.built_lakehouse import BuiltLakehouse

MARTS = ["finance.settlements", "finance.settlement_lines", "finance.reconciliation_exceptions", "finance.payouts",
         "finance.payout_forecast", "roi.marketplace_pnl", "roi.sku_profitability", "roi.sku_profitability_monthly",
         "roi.sku_profitability_to_date", "operations.order_fulfillment", "catalog.listing_quality"]


def test_the_marketplace_seed_names_marketplaces_as_amazon_does() -> None:
    with (DBT_PROJECT / "seeds" / "marketplaces.csv").open(newline="", encoding="utf-8") as handle:
        seed = {r["marketplace_id"]: r["marketplace_name"] for r in csv.DictReader(handle)}
    for marketplace in MARKETPLACES.values():  # the sandbox writes Amazon's names into its files and API answers
        assert seed[marketplace.marketplace_id] == marketplace.name


def test_every_mart_names_the_account_and_the_marketplace_next_to_the_ids(built_lakehouse: BuiltLakehouse) -> None:
    """The names are the ones Amazon's Sellers API gave for the seller (storeName) and the marketplace (name)."""
    assert built_lakehouse.returncode == 0, built_lakehouse.build_output[-3000:]
    marketplaces = dict(built_lakehouse.query(
        "select marketplace_id, any_value(marketplace_name) from raw_spapi.marketplace_participations group by 1"))
    stores = dict(built_lakehouse.query(
        "select seller_id, min(store_name) from raw_spapi.marketplace_participations group by 1"))
    for mart in MARTS:
        columns = [c for (c,) in built_lakehouse.query(
            f"select column_name from duckdb_columns() where schema_name || '.' || table_name = '{mart}' "
            "order by column_index")]
        assert columns.index("account_name") == columns.index("marketplace_id") + 1, (mart, columns)
        assert columns.index("marketplace_name") == columns.index("account_name") + 1, mart
        rows = built_lakehouse.query(
            f"select distinct seller_id, account_name, marketplace_id, marketplace_name from {mart}")
        assert rows, mart
        for seller_id, account, marketplace_id, name in rows:
            assert account == stores[seller_id], (mart, seller_id, account)
            if marketplace_id is not None:
                assert name == marketplaces[marketplace_id], (mart, marketplace_id, name)
    assert {n for (n,) in built_lakehouse.query("select distinct marketplace_name from finance.settlement_lines")} \
        >= {"Amazon.de", "Amazon.fr"}


def yml_descriptions(path: str) -> dict[str, dict]:
    models = yaml.safe_load((DBT_PROJECT / "models" / path).read_text(encoding="utf-8"))["models"]
    return {m["name"]: m for m in models}


def test_a_sql_client_sees_every_marts_and_columns_description(built_lakehouse: BuiltLakehouse) -> None:
    tables = {f"{s}.{t}": comment for s, t, comment in built_lakehouse.query(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where schema_name in ('finance', 'roi', 'operations', 'catalog')")}
    assert set(MARTS) <= set(tables)
    assert all(tables[m] for m in MARTS), [m for m in MARTS if not tables[m]]
    documented = yml_descriptions("marts/finance/_finance__models.yml")["settlements"]
    assert tables["finance.settlements"] == documented["description"]
    columns = dict(built_lakehouse.query(
        "select column_name, comment from duckdb_columns() where schema_name = 'finance' "
        "and table_name = 'settlements'"))
    for column in documented["columns"]:
        assert columns[column["name"]] == column["description"], column["name"]
    assert columns["deposit_minus_total_amount"].startswith("transferred_amount - reported_total_amount")
