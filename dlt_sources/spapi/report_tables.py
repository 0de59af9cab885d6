"""Request a report, stream its document through the flat-file parser, mark the tables for loading."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction
from dlt_sources.spapi.flatfiles import SPECS, parse_report
from dlt_sources.spapi.reports import ReportDocument, report_windows, request_report
from dlt_sources.spapi.tables import to_table


def report_tables(ctx: Extraction, account: AccountConfig, client: SpApiClient, report_type: str,
                  start: datetime | None = None, end: datetime | None = None,
                  per_marketplace: bool = False, snapshot_date: bool = False) -> Iterator[Any]:
    """The report's rows as Arrow tables for its table, over every window and marketplace it needs.

    Some report types take one marketplace per request (listings, FBA inventory): `per_marketplace`.
    `snapshot_date`: stamp every row with the UTC day the report was created, for reports that give only
    the current state (the fee estimates report) and are kept as one snapshot per day.
    """
    spec = SPECS[report_type]
    scopes = [(m,) for m in account.marketplace_ids] if per_marketplace else [account.marketplace_ids]
    windows = report_windows(report_type, start, end) if start and end else [(start, end)]
    for marketplaces in scopes:
        for lower, upper in windows:
            result = request_report(client, report_type, marketplaces, lower, upper)
            if result.document is None:  # CANCELLED: no data for this window (recorded in the audit log)
                continue
            with result.document as document, document.open() as stream:
                parsed = parse_report(stream, spec, seller_id=account.seller_id, charset=document.charset,
                                      marketplace_id=marketplaces[0] if len(marketplaces) == 1 else None,
                                      source=f"report {document.report_id}")
                for table in parsed.tables:
                    if snapshot_date:
                        table = table.append_column(
                            pa.field("snapshot_date", pa.date32(), nullable=False),
                            pa.array([created_day(document)] * table.num_rows, pa.date32()))
                    yield to_table(spec.table, table)
                ctx.add_quarantine(parsed.quarantine)


def created_day(document: ReportDocument) -> Any:
    """The UTC day Amazon created the report (createdTime is required in the Reports API 2021-06-30 model);
    today's UTC date should a server leave it out."""
    return (document.created_time or datetime.now(UTC)).astimezone(UTC).date()
