"""The report lifecycle against the real sandbox: create, reuse, poll, download (fresh URL on expiry),
verified gunzip into an encrypted spool, charset from the response, FATAL, CANCELLED and corrupted
documents under the sandbox's `reports` fault profile, and settlement reports found by listing."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from dlt_sources.spapi.audit import AuditKind, MemoryAuditSink, count
from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.reports import (
    ReportFatal,
    ReportPolicy,
    ReportTimeout,
    _Gunzip,
    charset_of,
    create_report,
    download_report,
    list_reports,
    report_windows,
    request_report,
)
from dlt_sources.spapi.settings import ALL_ORDERS_REPORT, LISTINGS_REPORT, SETTLEMENT_REPORT
from spapi_sandbox.faults import FaultProfile
from spapi_sandbox.http import Response
from spapi_sandbox.report_documents import DocumentScope, gzip_report
from spapi_sandbox.report_store import requested_report_seq
from tests.conftest import TEST_ARGUMENTS, Sandbox, running_sandbox
from tests.dlt_sources.test_client import make_client

pytestmark = pytest.mark.integration

TIME_SCALE = 120.0  # processing (90 sandbox s) takes 0.75 s; a document URL (300 sandbox s) lives 2.5 s
# Durations are on the server's clock: the sandbox's rate header tells the client how fast that runs.
FAST = ReportPolicy()
JANUARY = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC))


@pytest.fixture(scope="module")
def fast() -> Iterator[Sandbox]:
    with running_sandbox(TEST_ARGUMENTS, time_scale=TIME_SCALE) as running:
        yield running


def expected_document(sandbox: Sandbox, client: SpApiClient, report_type: str, markets: tuple[str, ...],
                      start: datetime, end: datetime) -> bytes:
    seller = sandbox.world.seller(client.account.seller_id)
    assert seller is not None
    scope = DocumentScope(markets, int(start.timestamp()), int(end.timestamp()), {})
    return gzip.decompress(gzip_report(report_type, seller, scope))


def creates(audit: MemoryAuditSink) -> int:
    return count(audit.events(), AuditKind.API_CALL, "createReport", "ok")


def test_a_report_is_created_once_then_reused(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    client = make_client(fast, audit=audit)
    markets = client.account.marketplace_ids[:1]
    first = request_report(client, ALL_ORDERS_REPORT, markets, *JANUARY, policy=FAST)
    assert (first.status, first.reused, first.has_data) == ("DONE", False, True)
    document = first.document
    assert document is not None
    expected = expected_document(fast, client, ALL_ORDERS_REPORT, markets, *JANUARY)
    with document.open() as one, document.open() as two:  # independent readers
        assert one.read(100) == expected[:100]
        assert two.read() == expected
        assert one.read() == expected[100:]
    assert document.size == len(expected) and document.charset.lower() == "utf-8"
    assert (document.report_type, document.data_start, document.data_end) == (ALL_ORDERS_REPORT, *JANUARY)
    assert document.marketplace_ids == markets and document.created_time is not None

    # The spool on disk is ciphertext: not one header name of the (PII-bearing) report is readable.
    spooled = document._spool._file
    spooled.seek(0)
    raw = spooled.read()
    assert len(raw) == len(expected) and b"amazon-order-id" not in raw and b"ship-postal-code" not in raw
    document.close()

    again = request_report(client, ALL_ORDERS_REPORT, markets, *JANUARY, policy=FAST)
    assert again.reused and again.report_id == first.report_id and again.status == "DONE"
    assert again.document is not None and again.document.read_text().encode() == expected
    assert creates(audit) == 1  # no duplicate createReport
    assert count(audit.events(), AuditKind.REPORT, outcome="reused") == 1


def test_a_report_still_in_progress_is_waited_for_not_requested_again(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    client = make_client(fast, audit=audit)
    markets = client.account.marketplace_ids[:1]
    window = (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 15, tzinfo=UTC))
    impatient = ReportPolicy(poll_initial=0.01, poll_max=0.01, max_wait=0.02)
    with pytest.raises(ReportTimeout, match="later run will reuse it"):
        request_report(client, ALL_ORDERS_REPORT, markets, *window, policy=impatient)
    result = request_report(client, ALL_ORDERS_REPORT, markets, *window, policy=FAST)  # the next run
    assert result.reused and result.status == "DONE" and creates(audit) == 1
    assert result.document is not None
    assert result.document.read_text().encode() == expected_document(fast, client, ALL_ORDERS_REPORT, markets,
                                                                       *window)


def test_a_snapshot_report_reuses_only_one_in_flight(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    client = make_client(fast, 1, audit=audit)
    markets = client.account.marketplace_ids[:1]
    create_report(client, LISTINGS_REPORT, markets)  # e.g. a run that died right after requesting it
    reused = request_report(client, LISTINGS_REPORT, markets, policy=FAST)
    assert reused.reused and creates(audit) == 1
    fresh = request_report(client, LISTINGS_REPORT, markets, policy=FAST)  # a DONE snapshot is stale
    assert not fresh.reused and creates(audit) == 2


def test_an_expired_document_url_is_replaced_by_a_fresh_one(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    client = make_client(fast, audit=audit)
    markets = client.account.marketplace_ids[:1]
    done = request_report(client, ALL_ORDERS_REPORT, markets, *JANUARY, policy=FAST)
    report = client.call("getReport", {"reportId": done.report_id})
    stale = client.call("getReportDocument", {"reportDocumentId": report["reportDocumentId"]})["url"]
    time.sleep(300 / TIME_SCALE + 0.3)  # Amazon's presigned URLs live 5 minutes
    with download_report(client, report, FAST, first_url=(stale, True)) as document:
        assert document.read_text().encode() == expected_document(fast, client, ALL_ORDERS_REPORT, markets,
                                                                    *JANUARY)
    downloads = [e for e in audit.events() if e.kind == AuditKind.DOCUMENT_DOWNLOAD]
    assert [d.status for d in downloads[-2:]] == [403, 200]
    assert count(audit.events(), AuditKind.REPORT, outcome="url_expired") == 1
    assert all(stale not in repr(e) for e in audit.events())  # a presigned URL is a credential


def test_settlement_reports_are_listed_and_downloaded(fast: Sandbox) -> None:
    client = make_client(fast)
    seller = fast.world.seller(client.account.seller_id)
    assert seller is not None
    listed = list(list_reports(client, SETTLEMENT_REPORT, page_size=3))
    closed = [s for s in seller.settlements if s.closed]
    assert len(listed) == len(closed) + sum(1 for s in closed if s.reissued)
    newest = listed[0]
    with download_report(client, newest, FAST) as document:
        with document.open() as stream:
            header, summary = stream.readline(), stream.readline()
        assert header.startswith(b"settlement-id\t")
        settlement_id = summary.split(b"\t")[0].decode()
    assert settlement_id in {s.settlement_id for s in closed}
    assert document.data_start is not None and document.report_id == newest["reportId"]


def test_the_charset_comes_from_the_response(fast: Sandbox, inprocess_sandbox) -> None:
    text = "sku\tproduct-name\nSKU-1\tMüller Kaffeemühle – 500 g\n"
    served = {"cp1252": (gzip.compress(text.encode("cp1252")), "text/plain;charset=Cp1252"),
              "plain": (gzip.compress(text.encode("utf-8")), "text/plain")}

    def document(state, req) -> Response:
        body, content_type = served[req.path_params["name"]]
        return Response(200, body, content_type=content_type)

    server = inprocess_sandbox(routes=(("GET", "/test-documents/{name}", "testDocument", "none", document),))
    client = make_client(fast)
    report = {"reportId": "1", "reportDocumentId": "doc-1", "reportType": LISTINGS_REPORT}
    for name, charset in (("cp1252", "Cp1252"), ("plain", "utf-8")):
        url = f"{server.base_url}/test-documents/{name}"
        with download_report(client, report, FAST, first_url=(url, True)) as downloaded:
            assert downloaded.charset == charset
            assert downloaded.read_text() == text


def test_the_reports_fault_profile(start_sandbox) -> None:
    """FATAL surfaces the error document, CANCELLED is 'no data' (recorded), a corrupted download is
    fetched again, and with the default policy a failed report is requested again: same data."""
    sandbox = start_sandbox(time_scale=600.0, faults="reports")
    audit = MemoryAuditSink()
    client = make_client(sandbox, audit=audit)
    markets = client.account.marketplace_ids[:1]
    profile = FaultProfile("reports", sandbox.arguments.seed)
    index = sandbox.account(0).index

    def outcome(n: int) -> tuple[str, str | None]:
        seq = requested_report_seq(index, n)
        return profile.report_outcome(seq), profile.corrupt_document(seq, 1)

    plan = {"FATAL": None, "CANCELLED": None, "corrupt": None}
    for n in range(1, 60):
        status, damage = outcome(n)
        key = "corrupt" if status == "DONE" and damage else status
        if key in plan and plan[key] is None:
            plan[key] = n
    assert all(plan.values()), plan
    strict = ReportPolicy(fatal_retries=0,
                          cancelled_retries=0, reuse=False)
    created = 0
    results = {}
    for key, n in sorted(plan.items(), key=lambda item: item[1]):
        while created < n - 1:  # fillers, so that the interesting request gets sequence number n
            create_report(client, LISTINGS_REPORT, markets)
            created += 1
        created += 1
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)
        window = (start, start + timedelta(days=1))
        if key == "FATAL":
            with pytest.raises(ReportFatal) as fatal:
                request_report(client, ALL_ORDERS_REPORT, markets, *window, policy=strict)
            results[key] = fatal.value
        else:
            results[key] = request_report(client, ALL_ORDERS_REPORT, markets, *window, policy=strict)

    fatal_error = results["FATAL"]
    assert "could not be generated" in fatal_error.error_document
    assert fatal_error.report_id in str(fatal_error)
    cancelled = results["CANCELLED"]
    assert (cancelled.status, cancelled.has_data) == ("CANCELLED", False)
    assert count(audit.events(), AuditKind.REPORT, outcome="cancelled") == 1
    corrupt = results["corrupt"]
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=plan["corrupt"])
    assert corrupt.document is not None
    window = (start, start + timedelta(days=1))
    expected = expected_document(sandbox, client, ALL_ORDERS_REPORT, markets, *window)
    assert corrupt.document.read_text().encode() == expected
    assert any(e.kind == AuditKind.REPORT and e.outcome.startswith("corrupt:") for e in audit.events())

    # The default policy: the next odd request may fail, and is requested again until DONE.
    while outcome(created + 1)[0] == "DONE":
        create_report(client, LISTINGS_REPORT, markets)
        created += 1
    result = request_report(client, ALL_ORDERS_REPORT, markets, *JANUARY,
                            policy=ReportPolicy())
    assert result.status == "DONE" and result.document is not None
    expected = expected_document(sandbox, client, ALL_ORDERS_REPORT, markets, *JANUARY)
    assert result.document.read_text().encode() == expected


# --- units --------------------------------------------------------------------------------------------------


def test_gunzip_checks_integrity_and_reads_several_members() -> None:
    data = b"x\ty\n" * 50_000
    packed = gzip.compress(data[:100_000]) + gzip.compress(data[100_000:])
    inflater = _Gunzip()
    out = b"".join(piece for i in range(0, len(packed), 777) for piece in inflater.feed(packed[i:i + 777]))
    assert out + inflater.finish() == data

    truncated = _Gunzip()
    b"".join(truncated.feed(packed[: len(packed) // 3]))
    with pytest.raises(EOFError):
        truncated.finish()
    with pytest.raises(EOFError):
        _Gunzip().finish()  # nothing at all is not an empty document

    damaged = bytearray(gzip.compress(data))
    damaged[-6] ^= 0xFF  # the CRC
    with pytest.raises(zlib.error):
        b"".join(_Gunzip().feed(bytes(damaged)))


def test_charset_of_content_types() -> None:
    assert charset_of("text/plain;charset=UTF-8") == "UTF-8"
    assert charset_of('text/plain; charset="windows-1252"') == "windows-1252"
    assert charset_of("text/plain;charset=Cp1252") == "Cp1252"
    assert charset_of("text/plain") == "utf-8" and charset_of(None) == "utf-8"
    assert charset_of("text/plain;charset=x-no-such-charset") == "utf-8"


def test_report_windows_follow_the_report_types_cap() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    windows = report_windows(ALL_ORDERS_REPORT, start, end)
    assert len(windows) == 3 and windows[0] == (start, start + timedelta(days=30)) and windows[-1][1] == end
    assert report_windows(LISTINGS_REPORT, start, end) == [(start, end)]
