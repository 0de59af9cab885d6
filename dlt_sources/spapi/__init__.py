"""The SP-API dlt source: one seller account or hundreds, into the lakehouse, PII protected first.

    ctx = Extraction(accounts=load_accounts("accounts.toml"), protector=Protector.from_env())
    pipeline.run(spapi_source(ctx))

Resources (RESOURCES) and the tables they write (RESOURCE_TABLES; keys in tables.py):
marketplace_participations; settlements (settlement_reports, settlement_report_documents, settlement_lines);
financial_event_groups; financial_transactions; orders (orders, order_items); order_buyers;
listings (listings, catalog_items); inventory; fba_reimbursements; fee_estimates; inventory_ledger;
balances; expected_payouts; payouts; settlement_summaries.
Every row carries seller_id and, where it has one, marketplace_id.

This package is the source and nothing else: the pipeline that loads it, dbt, the reports and the CLI are
the application's (spapi_elt/), Dagster's wiring is orchestration/'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dlt

from dlt_sources.spapi.extraction import Extraction
from dlt_sources.spapi.fba_reports import fba_reimbursements, fee_estimates, inventory_ledger
from dlt_sources.spapi.finances import financial_event_groups, financial_transactions
from dlt_sources.spapi.inventory import inventory
from dlt_sources.spapi.listings import listings
from dlt_sources.spapi.marketplace_participations import marketplace_participations
from dlt_sources.spapi.orders import order_buyers, orders
from dlt_sources.spapi.payouts import balances, expected_payouts, payouts, settlement_summaries
from dlt_sources.spapi.settlements import settlements

RESOURCES: dict[str, Callable[[Extraction], Any]] = {
    "marketplace_participations": marketplace_participations,
    "settlements": settlements,
    "financial_event_groups": financial_event_groups,
    "financial_transactions": financial_transactions,
    "orders": orders,
    "order_buyers": order_buyers,
    "listings": listings,
    "inventory": inventory,
    "fba_reimbursements": fba_reimbursements,
    "fee_estimates": fee_estimates,
    "inventory_ledger": inventory_ledger,
    "balances": balances,
    "expected_payouts": expected_payouts,
    "payouts": payouts,
    "settlement_summaries": settlement_summaries,
}

# The tables each resource writes (keys and dispositions: tables.py); most write their namesake alone.
RESOURCE_TABLES: dict[str, tuple[str, ...]] = {
    name: {"settlements": ("settlement_reports", "settlement_report_documents", "settlement_lines"),
           "orders": ("orders", "order_items"),
           "listings": ("listings", "catalog_items")}.get(name, (name,))
    for name in RESOURCES
}


# The resources whose rows or quarantined lines hold buyer data: only they need the PII keys.
BUYER_DATA_RESOURCES = ("orders", "order_buyers")


def reads_buyer_data(selected: Sequence[str] | None) -> bool:
    return any(name in BUYER_DATA_RESOURCES for name in resource_names(selected))


class UnknownResource(ValueError):
    pass


def resource_names(selected: Sequence[str] | None) -> list[str]:
    """The resources to run, in their fixed order; unknown names are an error, not ignored."""
    if not selected:
        return list(RESOURCES)
    unknown = [n for n in selected if n not in RESOURCES]
    if unknown:
        raise UnknownResource(f"unknown resource(s) {', '.join(unknown)}; known: {', '.join(RESOURCES)}")
    return [n for n in RESOURCES if n in selected]


@dlt.source(name="spapi")
def spapi_source(ctx: Extraction, resources: Sequence[str] | None = None) -> Any:
    return [RESOURCES[name](ctx) for name in resource_names(resources)]
