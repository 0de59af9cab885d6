"""Orders and their items from the all-orders report; buyer details from Orders 2026-01-01.

Quota: searchOrders allows 0.0056 requests/s (one every three minutes after a burst of 20), at 100
orders a page. The all-orders report costs about six calls per 30-day window whatever the volume
(createReport, a few getReport polls, getReportDocument). So history and daily loads both come from
the report; searchOrders, with a Restricted Data Token, is only used for buyer and recipient details,
and only for the last `buyer_days` of a window. Buyer PII is hashed or encrypted before it is
yielded; unknown PII fields are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, windowed_resource
from dlt_sources.spapi.flatfiles import SPECS, parse_report
from dlt_sources.spapi.pii.policies import ORDER_REPORT_POLICY, ORDERS_POLICY
from dlt_sources.spapi.reports import report_windows, request_report
from dlt_sources.spapi.settings import ALL_ORDERS_REPORT
from dlt_sources.spapi.tables import to_table

ORDER_LOOKBACK = timedelta(days=3)  # orders keep changing (shipping, cancellation) for a few days
ORDER_COLUMNS = ("seller_id", "marketplace_id", "amazon_order_id", "merchant_order_id", "purchased_at",
                 "last_updated_at", "order_status", "fulfillment_channel", "sales_channel", "order_channel",
                 "ship_service_level", "currency", "ship_city", "ship_state", "ship_postal_code", "ship_country",
                 "is_business_order", "purchase_order_number", "price_designation")
ITEM_EXCLUDED = ("ship_city", "ship_state", "ship_postal_code", "ship_country", "merchant_order_id",
                 "sales_channel", "order_channel", "ship_service_level", "purchase_order_number")


def split_order_rows(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The report's item rows as (orders: first row per order, order-level columns; items: no address)."""
    ids = table.column("amazon_order_id").to_numpy(zero_copy_only=False)
    _, first = np.unique(ids, return_index=True)
    orders = table.take(pa.array(np.sort(first))).select([c for c in ORDER_COLUMNS if c in table.column_names])
    items = table.drop_columns([c for c in ITEM_EXCLUDED if c in table.column_names])
    return orders, items


def order_report_rows(ctx: Extraction, account: AccountConfig, client: SpApiClient, start: datetime,
                      end: datetime) -> Iterator[Any]:
    spec = SPECS[ALL_ORDERS_REPORT]

    def protect_line(line: str) -> str:
        return ctx.pii_protector().encrypt(line, "flat_file_quarantine.raw_line", account.seller_id)

    for lower, upper in report_windows(ALL_ORDERS_REPORT, start, end):
        result = request_report(client, ALL_ORDERS_REPORT, account.marketplace_ids, lower, upper)
        if result.document is None:  # CANCELLED: Amazon had no data for the window
            continue
        with result.document as document, document.open() as stream:
            parsed = parse_report(stream, spec, seller_id=account.seller_id, charset=document.charset,
                                  source=f"report {document.report_id}", protect_raw_line=protect_line)
            for table in parsed.tables:
                orders, items = split_order_rows(table)
                protected = ORDER_REPORT_POLICY.apply_table(orders, ctx.pii_protector(), account.seller_id)
                yield to_table("orders", protected)
                yield to_table("order_items", items)
            ctx.add_quarantine(parsed.quarantine)


def buyer_rows(ctx: Extraction, account: AccountConfig, client: SpApiClient, start: datetime,
               end: datetime) -> Iterator[dict[str, Any]]:
    """Buyer and recipient details of orders updated in the last `buyer_days` of the window, protected."""
    if ctx.buyer_days <= 0:
        return
    since = max(start, end - timedelta(days=ctx.buyer_days))
    params = {"lastUpdatedAfter": since, "lastUpdatedBefore": end, "marketplaceIds": list(account.marketplace_ids),
              "includedData": ["BUYER", "RECIPIENT"], "maxResultsPerPage": 100}
    for order in client.paginate("searchOrders", params, data_elements=["buyerInfo", "shippingAddress"]):
        personal = {key: order[key] for key in ("buyer", "recipient") if key in order}
        protected = ORDERS_POLICY.apply(personal, ctx.pii_protector(), account.seller_id)
        yield {"seller_id": account.seller_id, "order_id": order["orderId"],
               "marketplace_id": (order.get("salesChannel") or {}).get("marketplaceId"),
               "last_updated_at": order.get("lastUpdatedTime"), **protected}


def orders(ctx: Extraction) -> Any:
    return windowed_resource(ctx, "orders", ORDER_LOOKBACK,
                             lambda account, client, start, end: order_report_rows(ctx, account, client, start, end))


def order_buyers(ctx: Extraction) -> Any:
    return windowed_resource(ctx, "order_buyers", ORDER_LOOKBACK,
                             lambda account, client, start, end: buyer_rows(ctx, account, client, start, end))
