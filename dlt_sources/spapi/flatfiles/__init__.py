"""Amazon flat files (tab-separated reports) as a stream of typed Arrow tables, with a quarantine.

Why this shape: a settlement report can hold millions of lines, and the common approach (decode the
whole document as latin-1, csv.DictReader, float amounts) is slow, memory-hungry and wrong. Here the
document is read in blocks by header name (`reader`, after `charset` transcoding), each block's values
are converted vectorised and exactly (`conversion`), bad rows go to a quarantine instead of vanishing
(`parse`), and a settlement's summary row is read first (`settlement`). What each report looks like is
declared in `specs`.

Usage (from a dlt resource; `stream` is any binary file-like, e.g. a GzipFile over the download):

    parsed = parse_report(stream, SPECS[report_type], charset=..., seller_id=..., marketplace_id=...)
    for table in parsed.tables: ...
    parsed.quarantine                 # complete once `tables` is exhausted

    parsed = parse_settlement(stream, charset="utf-8", seller_id=seller_id)
    summary = parsed.summary          # available at once
    for table in parsed.lines: ...    # pyarrow Tables of settlement lines

This package exports what resources and tests use; the helpers stay in their modules.
"""

from dlt_sources.spapi.flatfiles.parse import FlatFileParse, ParseStats, parse_report
from dlt_sources.spapi.flatfiles.reader import FlatFileError
from dlt_sources.spapi.flatfiles.settlement import SettlementParse, parse_settlement
from dlt_sources.spapi.flatfiles.specs import (
    ALL_ORDERS,
    INVENTORY_LEDGER,
    MERCHANT_LISTINGS,
    SETTLEMENT,
    SPECS,
    Column,
    ReportSpec,
)

__all__ = [
    "ALL_ORDERS",
    "INVENTORY_LEDGER",
    "MERCHANT_LISTINGS",
    "SETTLEMENT",
    "SPECS",
    "Column",
    "FlatFileError",
    "FlatFileParse",
    "ParseStats",
    "ReportSpec",
    "SettlementParse",
    "parse_report",
    "parse_settlement",
]
