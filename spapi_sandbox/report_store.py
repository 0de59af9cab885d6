"""Reports a seller requested and reports Amazon generated (settlements), with their documents.

A requested report's status is a function of the sandbox clock: IN_QUEUE for 30 sandbox seconds,
IN_PROGRESS for 60 more, then its outcome (DONE, or FATAL/CANCELLED when the fault profile says
so), so no background thread is needed and --time-scale speeds it up for free. Settlement reports
are Amazon's: one per closed settlement, created when the world says (about a day after the period
ends), DONE from the start and visible once the clock passes createdTime; a re-issued settlement
has a second, later report with the same content.

Documents are rendered once per distinct content, gzip'd deterministically and kept; a download
URL is a random token that expires after 5 sandbox minutes, like Amazon's presigned S3 URLs.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from spapi_sandbox import charsets
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.report_documents import (
    SETTLEMENT_REPORT_TYPE,
    DocumentScope,
    document_charset,
    gzip_bytes,
    gzip_report,
    iso,
)
from spapi_sandbox.world import SellerWorld, Settlement, World

QUEUE_SECONDS = 30  # sandbox seconds a requested report waits IN_QUEUE
PROGRESS_SECONDS = 60  # then IN_PROGRESS for this long
URL_LIFETIME = 300  # presigned document URLs expire after 5 minutes

_SEQ_BLOCK = 1_000_000  # report sequence numbers: seller index * block + n (even, keeps parity)
_SETTLEMENT_SEQ_OFFSET = 500_000
_DOC_NAMESPACE = uuid.UUID("6f1c2a52-3d0e-4b7c-9a55-2f4be2f1d0a1")

TERMINAL = ("DONE", "FATAL", "CANCELLED")


def requested_report_seq(seller_index: int, n: int) -> int:
    """The fault profile's sequence number of a seller's n-th requested report (1-based).

    Per seller, so one account's retries never depend on another's traffic; the block is even, so
    the profile's "odd numbers may fail" rule holds per seller: a retried report gets an even number.
    """
    return seller_index * _SEQ_BLOCK + n


@dataclass
class StoredReport:
    report_id: str
    seller_id: str
    report_type: str
    marketplace_ids: tuple[str, ...]
    created_at: float  # sandbox epoch seconds
    data_start: int
    data_end: int
    seq: int  # the number the fault profile decides outcome and document corruption by
    outcome: str  # how processing ends: DONE, FATAL or CANCELLED
    document_id: str | None  # DONE and FATAL reports have a document
    queue_seconds: float = QUEUE_SECONDS
    progress_seconds: float = PROGRESS_SECONDS
    options: dict[str, str] = field(default_factory=dict)
    settlement: Settlement | None = None  # set for Amazon-generated settlement reports
    settlement_number: int = 0  # 1 for a seller's first settlement report, 2 for the next, ...
    cancelled_at: float | None = None  # an explicit cancelReport

    @property
    def processing_start(self) -> float:
        return self.created_at + self.queue_seconds

    @property
    def processing_end(self) -> float:
        return self.processing_start + self.progress_seconds

    def status(self, now: float) -> str:
        if self.settlement is not None:  # Amazon lists its own reports only once they are done
            return "DONE"
        if self.cancelled_at is not None:
            return "CANCELLED"
        if now < self.processing_start:
            return "IN_QUEUE"
        if now < self.processing_end:
            return "IN_PROGRESS"
        return self.outcome

    def has_document(self, now: float) -> bool:
        return self.document_id is not None and self.status(now) in ("DONE", "FATAL")

    def as_json(self, now: float) -> dict:
        """The Report object of the Reports API 2021-06-30."""
        status = self.status(now)
        body: dict = {
            "reportId": self.report_id,
            "reportType": self.report_type,
            "dataStartTime": iso(self.data_start),
            "dataEndTime": iso(self.data_end),
            "marketplaceIds": list(self.marketplace_ids),
            "createdTime": iso(self.created_at),
            "processingStatus": status,
        }
        if self.cancelled_at is None and status != "IN_QUEUE":
            body["processingStartTime"] = iso(self.processing_start)
        if self.cancelled_at is None and status in TERMINAL:
            body["processingEndTime"] = iso(self.processing_end)
        if self.has_document(now):
            body["reportDocumentId"] = self.document_id
        return body


@dataclass(frozen=True)
class Document:
    body: bytes  # gzip
    content_type: str


@dataclass(frozen=True)
class DocumentUrl:
    document_id: str
    expires_at: float
    gzip_content_encoding: bool  # getReportDocument's enableContentEncodingUrlHeader


class ReportStateError(Exception):
    """A report is not in the state the operation needs (e.g. cancelling a report that already started)."""


class UrlExpired(Exception):
    pass


class UrlUnknown(Exception):
    pass


@dataclass
class _SellerReports:
    index: int
    region: str
    reports: list[StoredReport] = field(default_factory=list)
    by_id: dict[str, StoredReport] = field(default_factory=dict)
    requested: int = 0  # how many reports this seller has created


class ReportStore:
    """All reports of a running sandbox, per seller account. Thread-safe."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._lock = threading.Lock()
        self._sellers: dict[str, _SellerReports] = {}
        self._documents: dict[str, StoredReport] = {}
        self._content: dict[tuple, Document] = {}
        self._build_locks: dict[tuple, threading.Lock] = {}
        self._attempts: dict[str, int] = {}
        self._urls: dict[str, DocumentUrl] = {}
        for seller in world.sellers:
            self._sellers[seller.account.seller_id] = _SellerReports(seller.account.index,
                                                                     seller.account.region.lower())
            self._add_settlement_reports(seller)

    # --- creating ----------------------------------------------------------------------------------------

    def _document_id(self, seller_id: str, report_id: str, region: str) -> str:
        name = f"{self._world.arguments.seed}|{seller_id}|{report_id}"
        return f"amzn1.spdoc.1.4.{region}.{uuid.uuid5(_DOC_NAMESPACE, name)}"

    def _add(self, record: StoredReport) -> None:
        mine = self._sellers[record.seller_id]
        mine.reports.append(record)
        mine.by_id[record.report_id] = record
        if record.document_id is not None:
            self._documents[record.document_id] = record

    def _add_settlement_reports(self, seller: SellerWorld) -> None:
        """One report per closed settlement (two when re-issued), numbered in the order Amazon made them."""
        seller_id = seller.account.seller_id
        mine = self._sellers[seller_id]
        planned: list[tuple[int, Settlement]] = []
        for settlement in seller.settlements:
            if not settlement.closed:
                continue
            planned.append((settlement.report_created_at, settlement))
            if settlement.reissued_at is not None:
                planned.append((settlement.reissued_at, settlement))
        planned.sort(key=lambda p: (p[0], p[1].settlement_id))
        for n, (created, settlement) in enumerate(planned, start=1):
            report_id = str(40_000_000_000 + mine.index * 10_000_000 + n)
            market = MARKETPLACES[settlement.marketplace].marketplace_id
            self._add(StoredReport(
                report_id=report_id, seller_id=seller_id, report_type=SETTLEMENT_REPORT_TYPE,
                marketplace_ids=(market,), created_at=created, data_start=settlement.start_at,
                data_end=settlement.end_at, seq=mine.index * _SEQ_BLOCK + _SETTLEMENT_SEQ_OFFSET + n,
                outcome="DONE", document_id=self._document_id(seller_id, report_id, mine.region),
                queue_seconds=0, progress_seconds=0, settlement=settlement, settlement_number=n,
            ))

    def create(self, seller_id: str, report_type: str, marketplace_ids: tuple[str, ...], data_start: int,
               data_end: int, options: dict[str, str], now: float,
               outcome_for_seq: Callable[[int], str]) -> StoredReport:
        """Queue a requested report. `outcome_for_seq(seq)` is the fault profile's report_outcome."""
        with self._lock:
            mine = self._sellers[seller_id]
            mine.requested += 1
            n = mine.requested
            seq = requested_report_seq(mine.index, n)
            outcome = outcome_for_seq(seq)
            report_id = str(50_000_000_000 + mine.index * 10_000_000 + n)
            document_id = None
            if outcome != "CANCELLED":  # a report cancelled for lack of data has no document
                document_id = self._document_id(seller_id, report_id, mine.region)
            record = StoredReport(
                report_id=report_id, seller_id=seller_id, report_type=report_type,
                marketplace_ids=marketplace_ids, created_at=now, data_start=data_start, data_end=data_end,
                seq=seq, outcome=outcome, document_id=document_id, options=dict(options),
            )
            self._add(record)
            return record

    # --- reading -----------------------------------------------------------------------------------------

    def reports(self, seller_id: str, now: float) -> list[StoredReport]:
        """The seller's visible reports, newest first."""
        with self._lock:
            mine = self._sellers.get(seller_id)
            found = [r for r in mine.reports if r.created_at <= now] if mine else []
        found.sort(key=lambda r: (r.created_at, r.report_id), reverse=True)
        return found

    def get(self, seller_id: str, report_id: str, now: float) -> StoredReport | None:
        with self._lock:
            mine = self._sellers.get(seller_id)
            record = mine.by_id.get(report_id) if mine else None
        return record if record is not None and record.created_at <= now else None

    def cancel(self, seller_id: str, report_id: str, now: float) -> StoredReport | None:
        """Cancel an IN_QUEUE report; None if there is no such report; ReportStateError if it started."""
        with self._lock:
            mine = self._sellers.get(seller_id)
            record = mine.by_id.get(report_id) if mine else None
            if record is None or record.created_at > now:
                return None
            status = record.status(now)
            if status != "IN_QUEUE" or record.settlement is not None:
                raise ReportStateError(status)
            record.cancelled_at = now
            return record

    def document_report(self, seller_id: str, document_id: str, now: float) -> StoredReport | None:
        """The seller's report whose (finished) document this is."""
        with self._lock:
            record = self._documents.get(document_id)
        if record is None or record.seller_id != seller_id or not record.has_document(now):
            return None
        if record.created_at > now:
            return None
        return record

    # --- document URLs -----------------------------------------------------------------------------------

    def issue_url(self, document_id: str, now: float, gzip_content_encoding: bool = False) -> str:
        """A fresh download token for the document, valid for URL_LIFETIME sandbox seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._urls[token] = DocumentUrl(document_id, now + URL_LIFETIME, gzip_content_encoding)
            if len(self._urls) % 1024 == 0:
                self._forget_expired(now)
        return token

    def open_url(self, token: str, now: float) -> tuple[StoredReport, DocumentUrl]:
        with self._lock:
            url = self._urls.get(token)
            record = self._documents.get(url.document_id) if url else None
        if url is None or record is None:
            raise UrlUnknown(token)
        if now >= url.expires_at:
            raise UrlExpired(url.expires_at)
        return record, url

    def _forget_expired(self, now: float) -> None:
        stale = [t for t, u in self._urls.items() if u.expires_at + 86400 < now]
        for token in stale:
            del self._urls[token]

    def next_attempt(self, document_id: str) -> int:
        """Count one more download of the document; 1 for the first."""
        with self._lock:
            self._attempts[document_id] = self._attempts.get(document_id, 0) + 1
            return self._attempts[document_id]

    # --- document content --------------------------------------------------------------------------------

    def document(self, record: StoredReport) -> Document:
        """The report's document, built on first use and shared by reports with identical content."""
        key = self._content_key(record)
        with self._lock:
            cached = self._content.get(key)
            if cached is not None:
                return cached
            build_lock = self._build_locks.setdefault(key, threading.Lock())
        with build_lock:  # one build per content, other requests for it wait instead of building again
            with self._lock:
                cached = self._content.get(key)
            if cached is not None:
                return cached
            built = self._build(record)
            with self._lock:
                self._content[key] = built
                self._build_locks.pop(key, None)
            return built

    @staticmethod
    def _content_key(record: StoredReport) -> tuple:
        if record.settlement is not None:
            return ("settlement", record.seller_id, record.settlement.settlement_id)
        if record.outcome == "FATAL":
            return ("fatal", record.seller_id, record.report_id)
        return ("report", record.seller_id, record.report_type, record.marketplace_ids, record.data_start,
                record.data_end, tuple(sorted(record.options.items())))

    def _build(self, record: StoredReport) -> Document:
        seller = self._world.seller(record.seller_id)
        if seller is None:  # cannot happen: reports are only created for the world's sellers
            raise KeyError(record.seller_id)
        if record.settlement is not None:
            from spapi_sandbox.settlement_file import content_type, render_settlement  # loaded late

            content = render_settlement(record.settlement)
            return Document(gzip_bytes(content), content_type(record.settlement))
        if record.outcome == "FATAL":
            return Document(gzip_bytes(fatal_document(record)), "application/json")
        scope = DocumentScope(record.marketplace_ids, record.data_start, record.data_end, record.options)
        return Document(gzip_report(record.report_type, seller, scope),
                        charsets.content_type(document_charset(record.report_type, scope)))


def fatal_document(record: StoredReport) -> bytes:
    """What Amazon puts in a FATAL report's document: a short JSON error description."""
    return (b'{"errorDetails":"The report could not be generated because of an internal error while '
            b'processing report ' + record.report_id.encode() + b'. Please request the report again."}')
