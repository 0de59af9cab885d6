"""The report lifecycle: request (or reuse) -> poll -> document -> verified, decompressed stream.

Reports are how bulk history leaves Amazon cheaply, but every step has a catch:

- createReport costs scarce quota (0.0167 rps) and Amazon keeps reports 90 days, so before creating
  one we look for an equivalent report (same type, marketplaces and data window) that is queued,
  in progress or done, and reuse it: a re-run, or a run that timed out while polling, costs nothing.
- Processing takes minutes: getReport is polled with a growing delay, for a bounded total time.
- DONE: getReportDocument gives a presigned URL that lives 5 minutes. A 403 means it expired: ask for
  a fresh one. The body is gzip (compressionAlgorithm GZIP). It is decompressed while it downloads,
  into a temporary file, so the whole document never sits in memory and a truncated or corrupted
  download (EOFError, zlib.error, BadGzipFile) is caught before a single row is parsed; it is then
  downloaded again from a fresh URL (bounded).
- The temporary file is encrypted (AES-256-CTR under a random key that lives only in this process's
  memory): documents such as the all-orders report hold buyer cities and postal codes, and plaintext
  PII must not touch the disk. The file has no name (deleted on close, or when the process dies).
- The charset comes from the download's Content-Type (Amazon serves e.g. `text/plain;charset=UTF-8`
  or `Cp1252`), UTF-8 when none is declared, never a hard-coded latin-1.
- FATAL: the report's document is an error description; fetch it and raise ReportFatal with it.
  CANCELLED: Amazon found no data for the window; that is an answer, not an error.
  Both are first re-requested (`fatal_retries`, `cancelled_retries`), since a transient failure on
  Amazon's side looks the same; after that they are final.
- Settlement reports cannot be requested; `list_reports` pages getReports (the nextToken alone, as
  the Reports API requires) and `download_report` fetches any listed report's document.

Why one module of ~500 lines: request, poll and download are one protocol with one policy (ReportPolicy)
and one set of errors, and a re-request after FATAL or a damaged download crosses all three steps.
"""

from __future__ import annotations

import codecs
import gzip
import io
import logging
import os
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dlt_sources.spapi.audit import AuditKind
from dlt_sources.spapi.client import (
    RETRY_EXCEPTIONS,
    DocumentUrlExpired,
    SpApiClient,
    SpApiError,
)
from dlt_sources.spapi.flatfiles.charset import codec_for
from dlt_sources.spapi.settings import REPORT_MAX_WINDOW_DAYS
from dlt_sources.spapi.wire import date_windows, iso_z

logger = logging.getLogger(__name__)

IN_FLIGHT = ("IN_QUEUE", "IN_PROGRESS")
REUSABLE = (*IN_FLIGHT, "DONE")
DEFAULT_CHARSET = "utf-8"
CHUNK = 1 << 20
MAX_INFLATE = 1 << 24  # inflate at most 16 MiB per step, whatever one compressed chunk expands to
ERROR_DOCUMENT_LIMIT = 64 * 1024


Sleep = Callable[[float], None]


class ReportError(Exception):
    """A report could not be produced or read. Names report type and id, never document content."""


class ReportFatal(ReportError):
    """Amazon ended the report FATAL; `error_document` is the error description it published."""

    def __init__(self, report_type: str, report_id: str, error_document: str) -> None:
        self.report_type = report_type
        self.report_id = report_id
        self.error_document = error_document
        super().__init__(f"report {report_id} ({report_type}) ended FATAL: {error_document[:500]}")


class ReportTimeout(ReportError):
    """The report did not finish within `ReportPolicy.max_wait`; a later run will reuse it."""


@dataclass(frozen=True)
class ReportPolicy:
    """How patiently to wait for reports. Durations are seconds of the server's clock: against Amazon
    that is wall time; a sandbox running its clock X times faster is polled X times more often."""

    poll_initial: float = 15.0  # seconds before the first getReport
    poll_factor: float = 1.5
    poll_max: float = 120.0
    max_wait: float = 3600.0  # total polling time per report
    fatal_retries: int = 1  # re-request a FATAL report this many times before raising ReportFatal
    cancelled_retries: int = 1  # re-request a CANCELLED report this many times before accepting "no data"
    download_attempts: int = 3  # downloads of one document (fresh URL after expiry or corruption)
    reuse: bool = True  # look for an equivalent queued/in-progress/done report first
    spool_dir: str | None = None  # where the (encrypted) temporary files go; None: the system default


# --- the document: an encrypted spool of the decompressed bytes ---------------------------------------------


class _Spool:
    """An anonymous temporary file whose bytes are AES-256-CTR encrypted under an in-memory key."""

    def __init__(self, directory: str | None = None) -> None:
        self._key, self._nonce = os.urandom(32), os.urandom(16)
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - lives as long as the document
        self._encryptor = self._cipher().encryptor()
        self.size = 0

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CTR(self._nonce))

    def write(self, data: bytes) -> None:
        if data:
            self._file.write(self._encryptor.update(data))
            self.size += len(data)

    def finish(self) -> None:
        self._file.flush()

    def reader(self) -> BinaryIO:
        return io.BufferedReader(_SpoolReader(self._file.fileno(), self._cipher(), self.size), CHUNK)

    def close(self) -> None:
        self._file.close()


class _SpoolReader(io.RawIOBase):
    """Reads and decrypts a spool from offset 0; independent of other readers (positional reads)."""

    def __init__(self, fd: int, cipher: Cipher, size: int) -> None:
        self._fd, self._decryptor, self._size, self._position = fd, cipher.decryptor(), size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        data = self._decryptor.update(os.pread(self._fd, wanted, self._position))
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)


@dataclass
class ReportDocument:
    """A downloaded, verified report document. `open()` streams its (decompressed) bytes.

    Close it (or use it as a context manager) to delete the temporary file early.
    """

    report_id: str
    document_id: str
    report_type: str
    charset: str
    created_time: datetime | None
    data_start: datetime | None
    data_end: datetime | None
    marketplace_ids: tuple[str, ...]
    size: int  # decompressed bytes
    _spool: _Spool = field(repr=False)

    def open(self) -> BinaryIO:
        """A new binary stream from the first byte (several may be open at once)."""
        return self._spool.reader()

    def read_text(self) -> str:
        """The whole document decoded with its charset: for small documents (and tests) only."""
        with self.open() as stream:
            return stream.read().decode(self.charset)

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> ReportDocument:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class ReportResult:
    """How a requested report ended: DONE with its document, or CANCELLED (no data for the window)."""

    status: str  # DONE or CANCELLED
    report_type: str
    report_id: str
    marketplace_ids: tuple[str, ...]
    data_start: datetime | None
    data_end: datetime | None
    reused: bool  # an equivalent report that already existed was used
    document: ReportDocument | None = None

    @property
    def has_data(self) -> bool:
        return self.document is not None


# --- helpers ------------------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time of the Reports API as an aware UTC datetime (None if absent)."""
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _second(moment: datetime | None) -> datetime | None:
    """Whole seconds in UTC: what we send (iso_z) and what Amazon echoes back."""
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def charset_of(content_type: str | None) -> str:
    """The charset a Content-Type declares, if Python knows it; else UTF-8."""
    if not content_type:
        return DEFAULT_CHARSET
    message = Message()
    message["content-type"] = content_type
    label = message.get_param("charset")
    if not isinstance(label, str) or not label.strip():
        return DEFAULT_CHARSET
    label = label.strip().strip('"')
    try:
        codecs.lookup(label)
    except LookupError:
        try:  # the web's names Python lacks (Windows-31J, x-sjis: Amazon.co.jp's Shift_JIS)
            return codec_for(label)[0]
        except LookupError:
            logger.warning("report document declares an unknown charset %r; reading it as UTF-8", label[:40])
            return DEFAULT_CHARSET
    return label


def _marketplaces(marketplace_ids: str | Sequence[str]) -> tuple[str, ...]:
    """A tuple of ids; a single id given as a string is one id, not a sequence of letters."""
    return (marketplace_ids,) if isinstance(marketplace_ids, str) else tuple(marketplace_ids)


def report_windows(report_type: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into the windows Amazon accepts for this report type (one if it has no cap)."""
    days = REPORT_MAX_WINDOW_DAYS.get(report_type)
    return date_windows(start, end, days) if days else [(start, end)]


class _Gunzip:
    """Incremental gzip decoding (multi-member), raising on corruption and, at the end, on truncation."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._seen_input = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            self._seen_input = True
            out = self._inflater.decompress(data, MAX_INFLATE)
            if out:
                yield out
            if self._inflater.unconsumed_tail:
                data = self._inflater.unconsumed_tail
            elif self._inflater.eof:
                data = self._inflater.unused_data
                if data:  # another gzip member follows
                    self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                data = b""

    def finish(self) -> bytes:
        tail = self._inflater.flush()
        if not self._seen_input or not self._inflater.eof:
            raise EOFError("the compressed document ended before its end marker (truncated download)")
        return tail


# --- downloading --------------------------------------------------------------------------------------------


def _document_url(client: SpApiClient, document_id: str) -> tuple[str, bool]:
    body = client.call("getReportDocument", {"reportDocumentId": document_id})
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise ReportError(f"getReportDocument for {document_id} returned no URL")
    return url, str(body.get("compressionAlgorithm", "")).upper() == "GZIP"


def _fetch_into_spool(client: SpApiClient, url: str, gzipped: bool, document_id: str,
                      spool_dir: str | None) -> tuple[_Spool, str]:
    """One download attempt: (spool, charset). Raises on expiry, corruption or a broken stream."""
    spool = _Spool(spool_dir)
    try:
        with client.open_download(url, document_id) as response:
            charset = charset_of(response.headers.get("content-type"))
            encoded = gzipped or response.headers.get("content-encoding", "").lower() == "gzip"
            inflater = _Gunzip() if encoded else None
            for chunk in response.iter_raw(CHUNK):
                if inflater is None:
                    spool.write(chunk)
                else:
                    for piece in inflater.feed(chunk):
                        spool.write(piece)
            if inflater is not None:
                spool.write(inflater.finish())
        spool.finish()
        return spool, charset
    except BaseException:
        spool.close()
        raise


def download_report(client: SpApiClient, report: Mapping[str, Any], policy: ReportPolicy | None = None,
                    first_url: tuple[str, bool] | None = None) -> ReportDocument:
    """The verified document of a DONE report (a Report object from getReport or getReports).

    `first_url` (url, gzipped) skips the first getReportDocument (tests hand in a stale URL this way).
    """
    policy = policy or ReportPolicy()
    document_id = report.get("reportDocumentId")
    if not isinstance(document_id, str) or not document_id:
        raise ReportError(f"report {report.get('reportId')} has no reportDocumentId")
    url, gzipped = first_url or _document_url(client, document_id)
    problem = ""
    for attempt in range(1, policy.download_attempts + 1):
        try:
            spool, charset = _fetch_into_spool(client, url, gzipped, document_id, policy.spool_dir)
        except DocumentUrlExpired:
            problem = "url_expired"
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            problem = f"corrupt:{type(exc).__name__}"
        except RETRY_EXCEPTIONS as exc:  # the body broke off mid-stream
            problem = f"broken:{type(exc).__name__}"
        else:
            return ReportDocument(
                report_id=str(report.get("reportId", "")), document_id=document_id,
                report_type=str(report.get("reportType", "")), charset=charset,
                created_time=parse_time(report.get("createdTime")),
                data_start=parse_time(report.get("dataStartTime")),
                data_end=parse_time(report.get("dataEndTime")),
                marketplace_ids=tuple(report.get("marketplaceIds") or ()), size=spool.size, _spool=spool)
        client.record(AuditKind.REPORT, "downloadReportDocument", problem, detail=document_id,
                      attempt=attempt)
        logger.info("%s: document %s download attempt %d failed (%s); fetching a fresh URL",
                    client.account.name, document_id, attempt, problem)
        if attempt < policy.download_attempts:
            url, gzipped = _document_url(client, document_id)
    raise ReportError(f"report document {document_id} could not be downloaded intact after "
                      f"{policy.download_attempts} attempts (last problem: {problem})")


def _error_document(client: SpApiClient, report: Mapping[str, Any], policy: ReportPolicy) -> str:
    """The text of a FATAL report's error document ('' when Amazon published none)."""
    if not report.get("reportDocumentId"):
        return ""
    try:
        with download_report(client, report, policy) as document, document.open() as stream:
            return stream.read(ERROR_DOCUMENT_LIMIT).decode(document.charset, "replace")
    except (ReportError, SpApiError) as exc:
        return f"(the error document could not be read: {exc})"


# --- the lifecycle ------------------------------------------------------------------------------------------


def list_reports(client: SpApiClient, report_types: str | Sequence[str],
                 created_since: datetime | None = None, created_until: datetime | None = None,
                 marketplace_ids: Sequence[str] | None = None, statuses: Sequence[str] | None = ("DONE",),
                 page_size: int = 100) -> Iterator[dict[str, Any]]:
    """Every report matching the filters, newest first, over all pages (nextToken sent alone)."""
    types = [report_types] if isinstance(report_types, str) else list(report_types)
    params = {"reportTypes": types, "processingStatuses": list(statuses) if statuses else None,
              "marketplaceIds": list(marketplace_ids) if marketplace_ids else None, "pageSize": page_size,
              "createdSince": created_since, "createdUntil": created_until}
    yield from client.paginate("getReports", params)


def find_equivalent(client: SpApiClient, report_type: str, marketplace_ids: Sequence[str],
                    start: datetime | None, end: datetime | None) -> dict[str, Any] | None:
    """An existing report we may use instead of creating one: same type, marketplaces and window.

    With a window, every report for it was created at or after its end (Amazon refuses a dataEndTime
    in the future), so `createdSince=end` bounds the lookup exactly, without trusting our clock.
    Without a window (snapshot reports) only a queued or in-progress report is fresh enough.
    A DONE report is preferred (no wait), else the newest in flight.
    """
    if (start is None) != (end is None):
        return None  # Amazon fills the missing bound with "now": nothing else is equivalent
    wanted = set(_marketplaces(marketplace_ids))
    windowed = end is not None
    try:
        listed = list(list_reports(client, report_type, created_since=end, marketplace_ids=sorted(wanted),
                                   statuses=REUSABLE if windowed else IN_FLIGHT))
    except SpApiError as exc:
        if exc.status != 400:
            raise
        logger.info("%s: the lookup for an equivalent %s report was refused (%s); creating one",
                    client.account.name, report_type, exc.code)
        return None
    candidates = [r for r in listed if set(r.get("marketplaceIds") or ()) == wanted and (
        not windowed or (_second(parse_time(r.get("dataStartTime"))) == start
                         and _second(parse_time(r.get("dataEndTime"))) == end))]
    done = [r for r in candidates if r.get("processingStatus") == "DONE"]
    return (done or candidates or [None])[0]


def create_report(client: SpApiClient, report_type: str, marketplace_ids: Sequence[str],
                  start: datetime | None = None, end: datetime | None = None,
                  options: Mapping[str, str] | None = None) -> str:
    body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(_marketplaces(marketplace_ids))}
    if start is not None:
        body["dataStartTime"] = iso_z(start)
    if end is not None:
        body["dataEndTime"] = iso_z(end)
    if options:
        body["reportOptions"] = dict(options)
    answer = client.call("createReport", json=body)
    report_id = answer.get("reportId")
    if not isinstance(report_id, str) or not report_id:
        raise ReportError(f"createReport for {report_type} returned no reportId")
    client.record(AuditKind.REPORT, "createReport", "created", detail=f"{report_type} {report_id}")
    return report_id


def wait_for_report(client: SpApiClient, report_id: str, policy: ReportPolicy, sleep: Sleep = time.sleep,
                    first: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Poll getReport with a growing delay until the report is DONE, FATAL or CANCELLED.

    `first` is what we already know (a listed report): a finished one needs no call at all.
    """
    report = dict(first) if first else None
    # Report processing runs on the server's clock; a sandbox with a faster clock says so in its rate header.
    speed = client.throttle.speedup(client.scope, "getReport")
    delay, waited, max_wait = policy.poll_initial / speed, 0.0, policy.max_wait / speed
    while report is None or report.get("processingStatus") in IN_FLIGHT:
        if report is not None and waited >= max_wait:
            raise ReportTimeout(f"report {report_id} is still {report.get('processingStatus')} after "
                                f"{waited:.0f} s of polling; a later run will reuse it")
        pause = max(0.0, min(delay, max_wait - waited))
        sleep(pause)
        waited += pause
        delay = min(policy.poll_max / speed, delay * policy.poll_factor)
        report = client.call("getReport", {"reportId": report_id})
        speed = client.throttle.speedup(client.scope, "getReport")
    return report


def request_report(client: SpApiClient, report_type: str, marketplace_ids: Sequence[str],
                   start: datetime | None = None, end: datetime | None = None,
                   options: Mapping[str, str] | None = None, policy: ReportPolicy | None = None,
                   sleep: Sleep = time.sleep) -> ReportResult:
    """A finished report for the window: reused if an equivalent exists, else created; then downloaded.

    Returns DONE with its document, or CANCELLED (no data; recorded in the audit log). Raises
    ReportFatal (with Amazon's error document) and ReportTimeout. Reuse is skipped when `options` are
    given: getReports does not show a report's options, so equivalence could not be checked.
    """
    policy = policy or ReportPolicy()
    start, end = _second(start), _second(end)
    markets = _marketplaces(marketplace_ids)
    fatal = cancelled = 0
    window = f"{report_type} {iso_z(start) if start else '-'}..{iso_z(end) if end else '-'}"
    while True:
        existing = (find_equivalent(client, report_type, markets, start, end)
                    if policy.reuse and not options else None)
        if existing is not None:
            report_id = str(existing["reportId"])
            client.record(AuditKind.REPORT, "createReport", "reused",
                          detail=f"{window} {report_id} {existing.get('processingStatus')}")
            report = wait_for_report(client, report_id, policy, sleep, existing)
        else:
            report_id = create_report(client, report_type, markets, start, end, options)
            report = wait_for_report(client, report_id, policy, sleep)
        status = report.get("processingStatus")
        if status == "DONE":
            client.record(AuditKind.REPORT, "getReport", "done", detail=f"{window} {report_id}")
            return ReportResult("DONE", report_type, report_id, markets, start, end, existing is not None,
                                download_report(client, report, policy))
        if status == "CANCELLED":
            client.record(AuditKind.REPORT, "getReport", "cancelled", detail=f"{window} {report_id}")
            if cancelled < policy.cancelled_retries:
                cancelled += 1
                continue
            return ReportResult("CANCELLED", report_type, report_id, markets, start, end,
                                existing is not None)
        error = _error_document(client, report, policy)
        client.record(AuditKind.REPORT, "getReport", "fatal", detail=f"{window} {report_id}")
        if fatal < policy.fatal_retries:
            fatal += 1
            logger.warning("%s: report %s (%s) ended %s; requesting it again", client.account.name, report_id,
                           report_type, status)
            continue
        raise ReportFatal(report_type, report_id, error)


def fetch_listed(client: SpApiClient, reports: Sequence[Mapping[str, Any]],
                 policy: ReportPolicy | None = None) -> Iterator[ReportDocument]:
    """Documents of listed reports (e.g. settlements from list_reports), one at a time, caller closes."""
    for report in reports:
        yield download_report(client, report, policy)
