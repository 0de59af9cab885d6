"""Settlement reports: Amazon generates them (about every 14 days); we list, download and parse them.

One document gives three tables:
- `settlement_lines`: every detail line of a document, appended (a settlement can hold millions of
  lines, and one write is twice as fast as a merge's staging plus copy). Each line carries its
  `report_id`; (settlement_id, line_number) is the stable line key within a document.
- `settlement_reports`: one row per settlement from the summary row, merged on the settlement id.
- `settlement_report_documents`: one row per report, so a re-issue stays visible.

A settlement's lines are loaded once. A re-issue is compared with what was loaded (total, lines,
sum of lines, size): identical content is only recorded as a document; changed content is loaded as
a new version, and the staging model keeps the newest document's lines. Malformed lines go to the
quarantine, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import dlt
import numpy as np
import pyarrow as pa

from dlt_sources.spapi.audit import AuditKind
from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.extraction import Extraction, forward
from dlt_sources.spapi.flatfiles import FlatFileError, SettlementParse, parse_settlement
from dlt_sources.spapi.reports import ReportError, download_report, list_reports, parse_time
from dlt_sources.spapi.settings import SETTLEMENT_REPORT
from dlt_sources.spapi.tables import to_table

# Reports are listed again from a day before the newest one seen: a late re-issue is not missed.
LIST_OVERLAP = timedelta(days=1)
SEEN_REPORTS_KEPT = 500  # report ids remembered per account, so a document is downloaded once

Opener = Callable[[], AbstractContextManager[BinaryIO]]
# What makes one document unreadable (its layout, its bytes), as opposed to an API or network failure, which
# fails the account's run and is retried as a whole.
UNREADABLE = (FlatFileError, ReportError, UnicodeError)


def _fingerprint(parsed: SettlementParse) -> str:
    """What identifies a settlement document's content well enough to call a re-issue identical. Not its bytes:
    the same settlement also arrives as a Seller Central download (spapi_elt/settlement_import.py), whose
    layout, charset and line endings may differ from the API's document."""
    lines = parsed.stats.rows + len(parsed.quarantine)
    return f"{parsed.summary['total_amount']}|{lines}|{parsed.stats.amount_sum}"


def _constant(value: str, rows: int) -> pa.Array:
    """A column holding one value: a one-entry dictionary, cheap to build and to write."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)), pa.array([value], pa.string()))


def document_items(open_document: Opener, *, seller_id: str, marketplace_id: str | None, report_id: str,
                   document_id: str, created_at: datetime | None, size: int, charset: str,
                   loaded: dict[str, str], quarantine: Callable[[list[dict[str, Any]]], None]) -> Iterator[Any]:
    """The tables' items for one settlement document. `loaded` (settlement id -> fingerprint of the
    content already in the lakehouse) is read and updated: it is the resource's state."""

    def parse(stream: BinaryIO) -> SettlementParse:
        return parse_settlement(stream, seller_id=seller_id, charset=charset, marketplace_id=marketplace_id,
                                source=f"report {report_id}")

    document = {"seller_id": seller_id, "report_id": report_id, "document_id": document_id,
                "marketplace_id": marketplace_id, "created_at": created_at, "document_bytes": size}
    with open_document() as stream:
        parsed = parse(stream)
        settlement_id = parsed.summary["settlement_id"]
        if settlement_id in loaded:  # a re-issue: read it through before deciding to load it
            for _ in parsed.lines:
                pass
            # Fingerprints recorded before 2026-12 also held the document's size: compare what both hold.
            if _fingerprint(parsed) == "|".join(loaded[settlement_id].split("|")[:3]):
                yield to_table("settlement_report_documents",
                               {**document, "settlement_id": settlement_id, "content": "identical"})
                return
    with open_document() as stream:
        parsed = parse(stream)
        content = "changed" if settlement_id in loaded else "loaded"
        for table in parsed.lines:
            yield to_table("settlement_lines", table.append_column("report_id", _constant(report_id, table.num_rows)))
    loaded[settlement_id] = _fingerprint(parsed)
    summary = {key: value for key, value in parsed.summary.items() if key != "locale"}
    summary.update(seller_id=seller_id, marketplace_id=marketplace_id, report_id=report_id,
                   report_created_at=created_at, number_format=parsed.locale.code,
                   line_count=parsed.stats.rows + len(parsed.quarantine), quarantined_lines=len(parsed.quarantine),
                   lines_amount_sum=parsed.stats.amount_sum)
    yield to_table("settlement_reports", summary)
    yield to_table("settlement_report_documents", {**document, "settlement_id": settlement_id, "content": content})
    if parsed.quarantine:
        quarantine(parsed.quarantine)


def settlement_items(ctx: Extraction, account: AccountConfig, client: SpApiClient, since: datetime,
                     seen: set[str], loaded: dict[str, str]) -> Iterator[Any]:
    """Every not-yet-seen settlement report of the account created since `since`, oldest first.

    A document that cannot be read (a layout the parser does not know, bytes that never arrive intact) is
    recorded as `unreadable` with the reason, and the account's other documents load: one bad document
    never blocks the rest. It is not marked seen, so every later run tries it again (after a fix it loads).
    Only an error before the document's first line was handed on can be contained this way; one after it
    fails the account's settlements as any other error does (its rows are already on their way).
    """
    listed = list(list_reports(client, SETTLEMENT_REPORT, created_since=since, created_until=ctx.end))
    listed.sort(key=lambda r: (r.get("createdTime") or "", r["reportId"]))
    for report in listed:
        if report["reportId"] in seen:
            continue
        marketplace_id = (report.get("marketplaceIds") or [None])[0]
        started = False
        try:
            with download_report(client, report) as document:
                for item in document_items(
                        document.open, seller_id=account.seller_id, marketplace_id=marketplace_id,
                        report_id=document.report_id, document_id=document.document_id,
                        created_at=parse_time(report.get("createdTime")), size=document.size,
                        charset=document.charset, loaded=loaded, quarantine=ctx.add_quarantine):
                    started = True
                    yield item
        except UNREADABLE as error:
            if started:
                raise
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:500]
            client.record(AuditKind.REPORT, "settlement document", "unreadable",
                          detail=f"{report['reportId']} {reason}")
            yield to_table("settlement_report_documents", {
                "seller_id": account.seller_id, "report_id": report["reportId"],
                "document_id": report.get("reportDocumentId"), "marketplace_id": marketplace_id,
                "created_at": parse_time(report.get("createdTime")), "settlement_id": None,
                "content": "unreadable", "error": reason})
            yield ("unreadable", report["reportId"], report.get("createdTime"))
            continue
        yield ("seen", report["reportId"], report.get("createdTime"))


def settlements(ctx: Extraction) -> Any:
    @dlt.resource(name="settlements", write_disposition="merge")
    def settlements_resource() -> Iterator[Any]:
        state = dlt.current.resource_state()
        cursors: dict[str, str] = state.setdefault("listed_until", {})
        seen_by_account: dict[str, list[str]] = state.setdefault("seen_reports", {})
        loaded_by_account: dict[str, dict[str, str]] = state.setdefault("loaded_settlements", {})
        since = {a.seller_id: ctx.window_start(cursors.get(a.seller_id), LIST_OVERLAP) for a in ctx.accounts.accounts}
        seen = {sid: set(ids) for sid, ids in seen_by_account.items()}
        for account in ctx.accounts.accounts:  # created here: worker threads only touch their own account's dict
            loaded_by_account.setdefault(account.seller_id, {})
        newest: dict[str, str] = {}

        def work(account: AccountConfig, client: SpApiClient) -> Iterator[Any]:
            return settlement_items(ctx, account, client, since[account.seller_id],
                                    seen.get(account.seller_id, set()), loaded_by_account[account.seller_id])

        unreadable: dict[str, str] = {}  # seller id -> created time of its oldest unreadable document
        for account, item in ctx.per_account("settlements", work):
            if isinstance(item, tuple) and item[0] == "unreadable":  # listed again next run: the cursor waits
                created = item[2] or ""
                if created and created < unreadable.get(account.seller_id, "9999"):
                    unreadable[account.seller_id] = created
            elif isinstance(item, tuple):  # ("seen", report id, created time)
                _, report_id, created = item
                ids = seen_by_account.setdefault(account.seller_id, [])
                ids.append(report_id)
                del ids[:-SEEN_REPORTS_KEPT]
                if created and created > newest.get(account.seller_id, ""):
                    newest[account.seller_id] = created
            elif item is None:  # the account finished: move its listing cursor, never past an unreadable one
                if account.seller_id in unreadable:
                    newest[account.seller_id] = min(newest.get(account.seller_id, unreadable[account.seller_id]),
                                                    unreadable[account.seller_id])
                if account.seller_id in newest:
                    cursors[account.seller_id] = forward(cursors.get(account.seller_id),
                                                         parse_time(newest[account.seller_id]))
            else:
                yield item

    return settlements_resource
