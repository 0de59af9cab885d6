"""The lakehouse tables the source writes: their keys and write dispositions, in one place.

Some resources write more than one table (a settlement document gives its summary and its lines;
the all-orders report gives orders and their items), so hints are attached per item.
"""

from __future__ import annotations

from typing import Any

import dlt
import pyarrow as pa

# table -> primary key. Every mutable entity is merged on its key, so re-running a window changes nothing.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "marketplace_participations": ("seller_id", "marketplace_id"),
    "settlement_reports": ("seller_id", "settlement_id"),
    "settlement_report_documents": ("seller_id", "report_id"),
    "settlement_lines": ("seller_id", "settlement_id", "report_id", "line_number"),
    "financial_event_groups": ("seller_id", "financial_event_group_id"),
    "financial_transactions": ("seller_id", "transaction_id"),
    "orders": ("seller_id", "amazon_order_id"),
    "order_items": ("seller_id", "amazon_order_id", "sku"),
    "order_buyers": ("seller_id", "order_id"),
    "listings": ("seller_id", "marketplace_id", "seller_sku"),
    "catalog_items": ("marketplace_id", "asin"),
    "inventory": ("seller_id", "marketplace_id", "seller_sku"),
    "fba_reimbursements": ("seller_id", "reimbursement_id", "sku"),
    # one snapshot per report day: Amazon's report has no history, so the table keeps it (fba_reports.py)
    "fee_estimates": ("seller_id", "marketplace_id", "sku", "snapshot_date"),
    "inventory_ledger": ("seller_id", "reference_id", "event_type", "msku", "fulfillment_center", "disposition"),
    "balances": ("seller_id", "marketplace_id", "account_type", "balance_type"),
    "expected_payouts": ("seller_id", "marketplace_id", "account_type", "period_start"),
    "payouts": ("seller_id", "payout_id"),
    "settlement_summaries": ("seller_id", "settlement_id", "breakdown_path"),
}

MONEY = {"data_type": "decimal", "precision": 18, "scale": 2}
# Column types dlt cannot infer from dict rows (Python Decimals would otherwise land as DECIMAL(38,9)).
COLUMN_HINTS: dict[str, dict[str, dict[str, Any]]] = {
    # The newest document's summary wins when two versions of a settlement load in one run.
    "settlement_reports": {"total_amount": MONEY, "lines_amount_sum": MONEY,
                           "report_created_at": {"data_type": "timestamp", "dedup_sort": "desc"}},
    # `error`: why a document could not be read (settlements.py); declared so the column exists before the first.
    "settlement_report_documents": {"created_at": {"data_type": "timestamp"},
                                    "error": {"data_type": "text", "nullable": True}},
    "balances": {"amount": MONEY},
    "expected_payouts": {"amount": MONEY},
    "payouts": {"amount": MONEY, "failure_reason": {"data_type": "text", "nullable": True}},
    "settlement_summaries": {"amount": MONEY, "net_proceeds": MONEY},
    # Records without an HTTP call (a settlement file imported, a purge) leave these empty.
    "api_audit_log": {"status": {"data_type": "bigint", "nullable": True},
                      "latency_ms": {"data_type": "double", "nullable": True}},
}

# Append-only: every row is a fact that happened once. Settlement lines are a document's content: loaded once
# per document version (settlements.py), keyed but never rewritten. Appending is 1.45x cheaper than a keyed
# insert-only merge (bench/settlement_ingest.py); the one way a line can land twice (a load job that committed
# just before its run was killed, run again when the package is finished) is repaired on that recovery
# (spapi_elt/lakehouse.py: finish_interrupted_loads).
# `window_replacements`: a lake's record of each re-read window (spapi_elt/ingest.py), applied by staging.
APPEND_ONLY = ("api_audit_log", "flat_file_quarantine", "pii_purges", "settlement_lines", "window_replacements")


def to_table(table: str, item: Any) -> Any:
    """Mark an item (a dict, a list of dicts or an Arrow table) for `table` with its key and disposition."""
    key = PRIMARY_KEYS.get(table, ())
    if isinstance(item, pa.Table) and key:
        item = _keys_not_null(item, key)
    columns = [{"name": name, **hint} for name, hint in COLUMN_HINTS.get(table, {}).items()] or None
    hints = dlt.mark.make_hints(table_name=table, primary_key=list(key) or None, columns=columns,
                                write_disposition="append" if table in APPEND_ONLY else "merge")
    # A table variant: each table of a multi-table resource keeps its own key, columns and disposition.
    return dlt.mark.with_hints(item, hints, create_table_variant=True)


def _keys_not_null(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Declare key columns non-nullable in the Arrow schema, as they are in the table's dlt schema."""
    if all(not table.schema.field(name).nullable for name in key if name in table.column_names):
        return table
    fields = [f.with_nullable(False) if f.name in key and table.column(f.name).null_count == 0 else f
              for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))
