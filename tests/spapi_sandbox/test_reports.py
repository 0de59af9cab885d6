"""Reports API 2021-06-30 over real HTTP: lifecycle, settlement listing, paging, cancel, documents, faults."""

from __future__ import annotations

import csv
import gzip
import io
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from spapi_sandbox.faults import FaultProfile
from spapi_sandbox.generate import build_world
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.report_documents import (
    ALL_ORDERS,
    FBA_ESTIMATED_FEES,
    FBA_INVENTORY,
    MERCHANT_LISTINGS,
    SETTLEMENT_REPORT_TYPE,
    DocumentScope,
    gzip_report,
    iso,
)
from spapi_sandbox.report_store import requested_report_seq
from spapi_sandbox.settlement_file import render_settlement
from tests.conftest import TEST_ARGUMENTS, Sandbox, running_sandbox

pytestmark = pytest.mark.integration

REPORTS = "/reports/2021-06-30/reports"
DOCUMENTS = "/reports/2021-06-30/documents"
TIME_SCALE = 60.0  # 90 sandbox seconds of processing take 1.5 s; a document URL lives 5 s
TERMINAL = ("DONE", "FATAL", "CANCELLED")
LONG_AGO = "2020-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def fast_sandbox() -> Iterator[Sandbox]:
    with running_sandbox(TEST_ARGUMENTS, time_scale=TIME_SCALE) as running:
        yield running


@pytest.fixture(scope="module")
def faulty_sandbox() -> Iterator[Sandbox]:
    with running_sandbox(TEST_ARGUMENTS, time_scale=TIME_SCALE, faults="reports") as running:
        yield running


@pytest.fixture(scope="module")
def reports_model(spapi_model) -> dict:
    return spapi_model("reports_2021-06-30.json")


def conforms(model: dict, definition: str, body: Any) -> None:
    """Validate a body against one of the model's definitions (the models are Swagger 2.0)."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": model["definitions"]}
    jsonschema.validate(body, schema)


class Client:
    """A small SP-API client for one seller: waits out 429s as a well-behaved client does."""

    def __init__(self, sandbox: Sandbox, index: int = 0) -> None:
        self.sandbox = sandbox
        self.index = index
        self.account = sandbox.account(index)
        self.http = sandbox.client(headers={"x-amz-access-token": sandbox.access_token(index)})

    def marketplace_id(self, position: int = 0) -> str:
        return MARKETPLACES[self.account.marketplace_codes[position]].marketplace_id

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for _ in range(50):
            response = self.http.request(method, path, **kwargs)
            if response.status_code != 429:
                return response
            rate = float(response.headers.get("x-amzn-RateLimit-Limit") or 1.0)
            time.sleep(min(2.0, 1.0 / rate))
        raise AssertionError(f"{method} {path}: still throttled")

    def create(self, report_type: str, marketplace_ids: list[str] | None = None, **times: str) -> str:
        body = {"reportType": report_type, "marketplaceIds": marketplace_ids or [self.marketplace_id()],
                **times}
        response = self.call("POST", REPORTS, json=body)
        assert response.status_code == 202, response.text
        return response.json()["reportId"]

    def report(self, report_id: str) -> dict:
        response = self.call("GET", f"{REPORTS}/{report_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, report_id: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            report = self.report(report_id)
            if report["processingStatus"] in statuses:
                return report
            time.sleep(0.05)
        raise AssertionError(f"report {report_id} never reached {statuses}")

    def document(self, document_id: str) -> dict:
        response = self.call("GET", f"{DOCUMENTS}/{document_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def fetch(self, document_id: str) -> bytes:
        """getReportDocument, then download the URL without any SP-API header."""
        response = httpx.get(self.document(document_id)["url"], timeout=30)
        assert response.status_code == 200, response.text
        return response.content

    def all_reports(self, params: dict) -> list[dict]:
        """Every page of getReports, following nextToken alone."""
        response = self.call("GET", REPORTS, params=params)
        reports = []
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            reports.extend(body["reports"])
            if "nextToken" not in body:
                return reports
            response = self.call("GET", REPORTS, params={"nextToken": body["nextToken"]})


def tsv_rows(document: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.decode("utf-8")), delimiter="\t", quoting=csv.QUOTE_NONE))


# --- lifecycle ----------------------------------------------------------------------------------------------

def test_requested_report_goes_through_the_lifecycle_to_a_document(fast_sandbox, reports_model):
    client = Client(fast_sandbox)
    start, end = "2026-01-10T00:00:00Z", "2026-02-10T00:00:00Z"
    created = client.call("POST", REPORTS, json={
        "reportType": ALL_ORDERS, "marketplaceIds": [client.marketplace_id()], "dataStartTime": start,
        "dataEndTime": end})
    assert created.status_code == 202
    conforms(reports_model, "CreateReportResponse", created.json())
    report_id = created.json()["reportId"]
    assert report_id.isdigit()

    queued = client.report(report_id)
    conforms(reports_model, "Report", queued)
    assert queued["processingStatus"] == "IN_QUEUE"
    assert "processingStartTime" not in queued and "reportDocumentId" not in queued
    assert (queued["reportType"], queued["marketplaceIds"]) == (ALL_ORDERS, [client.marketplace_id()])
    assert (queued["dataStartTime"], queued["dataEndTime"]) == ("2026-01-10T00:00:00+00:00",
                                                                "2026-02-10T00:00:00+00:00")

    in_progress = client.wait(report_id, ("IN_PROGRESS", *TERMINAL))
    assert in_progress["processingStatus"] == "IN_PROGRESS"
    assert "processingStartTime" in in_progress and "processingEndTime" not in in_progress

    done = client.wait(report_id)
    conforms(reports_model, "Report", done)
    assert done["processingStatus"] == "DONE"
    assert done["reportDocumentId"].startswith("amzn1.spdoc.1.4.na.")
    created_at = parse(done["createdTime"])
    assert parse(done["processingStartTime"]) - created_at == 30
    assert parse(done["processingEndTime"]) - parse(done["processingStartTime"]) == 60

    document = client.document(done["reportDocumentId"])
    conforms(reports_model, "ReportDocument", document)
    assert document["compressionAlgorithm"] == "GZIP"
    assert document["reportDocumentId"] == done["reportDocumentId"]
    download = httpx.get(document["url"], timeout=30)  # a presigned URL: no access token
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/plain; charset=UTF-8"
    assert "content-encoding" not in download.headers
    rows = tsv_rows(gzip.decompress(download.content))

    seller = fast_sandbox.world.sellers[0]
    lo, hi = parse(start), parse(end)
    expected = {(o.order_id, i.sku): (o, i) for o in seller.orders if o.marketplace == "US"
                and lo <= o.last_updated_at <= hi for i in o.items}
    assert expected and {(r["amazon-order-id"], r["sku"]) for r in rows} == set(expected)
    for row in rows:
        order, item = expected[(row["amazon-order-id"], row["sku"])]
        assert int(row["quantity"]) == item.quantity
        assert row["item-price"] == f"{item.item_price / 100:.2f}"
        assert row["currency"] == "USD" and row["sales-channel"] == "Amazon.com"
        assert row["ship-postal-code"] == order.buyer.postal_code
        assert row["last-updated-date"] == iso(order.last_updated_at)


def test_content_encoding_header_on_request(fast_sandbox):
    client = Client(fast_sandbox)
    done = client.wait(client.create(MERCHANT_LISTINGS))
    response = client.call("GET", f"{DOCUMENTS}/{done['reportDocumentId']}",
                           params={"enableContentEncodingUrlHeader": "true"})
    download = httpx.get(response.json()["url"], timeout=30)  # httpx un-gzips on Content-Encoding
    assert download.headers["content-encoding"] == "gzip"
    assert download.text.startswith("item-name\titem-description\tlisting-id\t")


def test_identical_arguments_give_identical_bytes(fast_sandbox):
    client = Client(fast_sandbox)
    times = {"dataStartTime": "2026-01-01T00:00:00Z", "dataEndTime": "2026-03-01T00:00:00Z"}
    first, second = (client.create(ALL_ORDERS, **times) for _ in range(2))
    assert first != second
    done = [client.wait(first), client.wait(second)]
    assert done[0]["reportDocumentId"] != done[1]["reportDocumentId"]
    contents = [client.fetch(r["reportDocumentId"]) for r in done]
    assert contents[0] == contents[1]
    # ... and the same bytes a fresh process renders from the same data arguments.
    world = build_world(TEST_ARGUMENTS)
    scope = DocumentScope((client.marketplace_id(),), parse(times["dataStartTime"]),
                          parse(times["dataEndTime"]))
    assert contents[0] == gzip_report(ALL_ORDERS, world.sellers[0], scope)


def test_reports_are_per_seller(fast_sandbox):
    mine, theirs = Client(fast_sandbox, 0), Client(fast_sandbox, 1)
    report_id = mine.create(FBA_ESTIMATED_FEES)
    assert theirs.call("GET", f"{REPORTS}/{report_id}").status_code == 404
    document_id = mine.wait(report_id)["reportDocumentId"]
    assert theirs.call("GET", f"{DOCUMENTS}/{document_id}").status_code == 404
    listed = theirs.call("GET", REPORTS, params={"reportTypes": FBA_ESTIMATED_FEES}).json()["reports"]
    assert report_id not in {r["reportId"] for r in listed}


# --- createReport validation --------------------------------------------------------------------------------

def test_settlement_reports_cannot_be_requested(fast_sandbox, reports_model):
    client = Client(fast_sandbox)
    response = client.call("POST", REPORTS, json={"reportType": SETTLEMENT_REPORT_TYPE,
                                                  "marketplaceIds": [client.marketplace_id()]})
    assert response.status_code == 400
    conforms(reports_model, "ErrorList", response.json())
    assert response.json() == {"errors": [{
        "code": "InvalidInput", "message": "Request for report type 1118 is not allowed at this time"}]}


@pytest.mark.parametrize("body, message", [
    ({"reportType": "GET_NO_SUCH_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]},
     "Invalid reportType: GET_NO_SUCH_REPORT."),
    ({"marketplaceIds": ["ATVPDKIKX0DER"]}, "reportType is required and must be a string."),
    ({"reportType": ALL_ORDERS, "marketplaceIds": []},
     "marketplaceIds is required: a list of 1 to 25 marketplace identifiers."),
    ({"reportType": ALL_ORDERS, "marketplaceIds": ["A1PA6795UKMFR9"]},
     "Invalid marketplaceIds: A1PA6795UKMFR9. The seller does not participate in these marketplaces."),
    ({"reportType": MERCHANT_LISTINGS, "marketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]},
     f"Report type {MERCHANT_LISTINGS} accepts exactly one marketplaceId per request."),
    ({"reportType": ALL_ORDERS, "marketplaceIds": ["ATVPDKIKX0DER"], "dataStartTime": "yesterday"},
     "dataStartTime 'yesterday' is not a valid ISO 8601 date-time."),
    ({"reportType": ALL_ORDERS, "marketplaceIds": ["ATVPDKIKX0DER"], "dataStartTime": "2026-02-01T00:00:00Z",
      "dataEndTime": "2026-01-01T00:00:00Z"}, "dataStartTime must be prior to or equal to dataEndTime."),
    ({"reportType": ALL_ORDERS, "marketplaceIds": ["ATVPDKIKX0DER"], "dataStartTime": "2030-01-01T00:00:00Z",
      "dataEndTime": "2030-02-01T00:00:00Z"},
     "dataStartTime must be prior to or equal to the current date and time."),
])
def test_invalid_create_report_is_400(fast_sandbox, body, message):
    response = Client(fast_sandbox).call("POST", REPORTS, json=body)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": "InvalidInput", "message": message}]}


# --- settlement reports and getReports ----------------------------------------------------------------------

def test_settlement_reports_listed_per_closed_settlement_and_twice_when_reissued(fast_sandbox, reports_model):
    for index, seller in enumerate(fast_sandbox.world.sellers):
        client = Client(fast_sandbox, index)
        listed = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "pageSize": 100,
                                     "createdSince": LONG_AGO})
        for report in listed:
            conforms(reports_model, "Report", report)
        expected = sorted(
            [(iso(s.report_created_at), s) for s in seller.settlements if s.closed]
            + [(iso(s.reissued_at), s) for s in seller.settlements if s.closed and s.reissued_at is not None],
            key=lambda pair: pair[0], reverse=True)
        assert [r["createdTime"] for r in listed] == [created for created, _ in expected]  # newest first
        for report, (_, settlement) in zip(listed, expected, strict=True):
            assert report["processingStatus"] == "DONE"
            assert report["marketplaceIds"] == [MARKETPLACES[settlement.marketplace].marketplace_id]
            assert report["dataStartTime"] == iso(settlement.start_at)
            assert report["dataEndTime"] == iso(settlement.end_at)
        assert len({r["reportId"] for r in listed}) == len(listed)
        assert len({r["reportDocumentId"] for r in listed}) == len(listed)


def test_reissued_settlement_reports_carry_the_same_document(fast_sandbox):
    seller = fast_sandbox.world.sellers[0]
    reissued = [s for s in seller.settlements if s.closed and s.reissued_at is not None]
    assert reissued, "the test data set should contain a re-issued settlement"
    settlement = reissued[0]
    client = Client(fast_sandbox)
    listed = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "pageSize": 100,
                                 "createdSince": LONG_AGO})
    both = [r for r in listed if r["dataStartTime"] == iso(settlement.start_at)
            and r["marketplaceIds"] == [MARKETPLACES[settlement.marketplace].marketplace_id]]
    assert [r["createdTime"] for r in both] == [iso(settlement.reissued_at),
                                                iso(settlement.report_created_at)]
    documents = [gzip.decompress(client.fetch(r["reportDocumentId"])) for r in both]
    assert documents[0] == documents[1] == render_settlement(settlement)
    assert tsv_rows(documents[0])[0]["settlement-id"] == settlement.settlement_id


def test_get_reports_pages_with_next_token_alone(fast_sandbox):
    client = Client(fast_sandbox)
    params = {"reportTypes": SETTLEMENT_REPORT_TYPE, "createdSince": LONG_AGO}
    everything = client.all_reports({**params, "pageSize": 100})
    paged = client.all_reports({**params, "pageSize": 2})
    assert len(everything) > 4
    assert [r["reportId"] for r in paged] == [r["reportId"] for r in everything]

    first = client.call("GET", REPORTS, params={**params, "pageSize": 2}).json()
    assert len(first["reports"]) == 2
    with_extra = client.call("GET", REPORTS, params={"nextToken": first["nextToken"], "pageSize": 2})
    assert with_extra.status_code == 400
    assert with_extra.json()["errors"][0]["code"] == "InvalidInput"
    assert client.call("GET", REPORTS, params={"nextToken": "garbage"}).status_code == 400
    # Another seller cannot replay this seller's token.
    replayed = Client(fast_sandbox, 1).call("GET", REPORTS, params={"nextToken": first["nextToken"]})
    assert replayed.status_code == 400


def test_get_reports_filters(fast_sandbox):
    client = Client(fast_sandbox)
    ca = MARKETPLACES["CA"].marketplace_id
    everything = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "createdSince": LONG_AGO,
                                     "pageSize": 100})
    only_ca = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "createdSince": LONG_AGO,
                                  "marketplaceIds": ca, "pageSize": 100})
    assert only_ca and [r for r in everything if r["marketplaceIds"] == [ca]] == only_ca
    in_queue = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "createdSince": LONG_AGO,
                                   "processingStatuses": "IN_QUEUE,IN_PROGRESS"})
    assert in_queue == []
    # createdSince defaults to 90 days ago.
    now = parse(client.report(client.create(MERCHANT_LISTINGS))["createdTime"])
    recent = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "pageSize": 100})
    assert recent == [r for r in everything if parse(r["createdTime"]) >= now - 90 * 86400 - 60]
    window = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "pageSize": 100,
                                 "createdSince": everything[-2]["createdTime"],
                                 "createdUntil": everything[1]["createdTime"]})
    assert window == everything[1:-1]


@pytest.mark.parametrize("params, message", [
    ({}, "reportTypes or nextToken is required."),
    ({"reportTypes": ALL_ORDERS, "pageSize": "0"}, "pageSize must be an integer between 1 and 100."),
    ({"reportTypes": ALL_ORDERS, "pageSize": "101"}, "pageSize must be an integer between 1 and 100."),
    ({"reportTypes": ALL_ORDERS, "processingStatuses": "FINISHED"},
     "Invalid processingStatuses: FINISHED. Valid values: CANCELLED, DONE, FATAL, IN_PROGRESS, IN_QUEUE."),
    ({"reportTypes": ALL_ORDERS, "createdSince": "2026-02-01T00:00:00Z",
      "createdUntil": "2026-01-01T00:00:00Z"}, "createdSince must be prior to or equal to createdUntil."),
])
def test_invalid_get_reports_is_400(fast_sandbox, params, message):
    response = Client(fast_sandbox).call("GET", REPORTS, params=params)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": "InvalidInput", "message": message}]}


# --- cancelReport -------------------------------------------------------------------------------------------

def test_cancel_report_in_queue(fast_sandbox, reports_model):
    client = Client(fast_sandbox)
    report_id = client.create(FBA_INVENTORY)
    cancelled = client.call("DELETE", f"{REPORTS}/{report_id}")
    assert cancelled.status_code == 200 and cancelled.content == b""
    report = client.report(report_id)
    conforms(reports_model, "Report", report)
    assert report["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in report and "processingStartTime" not in report
    time.sleep(90 / TIME_SCALE + 0.2)  # past the time it would have finished
    assert client.report(report_id)["processingStatus"] == "CANCELLED"
    listed = client.all_reports({"reportTypes": FBA_INVENTORY, "processingStatuses": "CANCELLED"})
    assert report_id in {r["reportId"] for r in listed}

    again = client.call("DELETE", f"{REPORTS}/{report_id}")
    assert again.status_code == 400
    conforms(reports_model, "ErrorList", again.json())


def test_cancel_report_that_started_or_does_not_exist(fast_sandbox):
    client = Client(fast_sandbox)
    report_id = client.create(FBA_INVENTORY)
    client.wait(report_id)
    response = client.call("DELETE", f"{REPORTS}/{report_id}")
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": "InvalidInput", "message": (
        f"Only reports with processingStatus=IN_QUEUE can be cancelled; report {report_id} is DONE.")}]}
    assert client.call("DELETE", f"{REPORTS}/99999999999").status_code == 404
    assert client.call("GET", f"{REPORTS}/99999999999").status_code == 404


# --- document URLs ------------------------------------------------------------------------------------------

def test_document_url_expires_and_a_fresh_one_works(start_sandbox):
    scale = 300.0  # a URL lives one real second
    client = Client(start_sandbox(time_scale=scale))
    document_id = client.wait(client.create(MERCHANT_LISTINGS))["reportDocumentId"]
    stale_url = client.document(document_id)["url"]
    time.sleep(300 / scale + 0.2)  # 5 sandbox minutes
    expired = httpx.get(stale_url, timeout=30)
    assert expired.status_code == 403
    assert expired.headers["content-type"] == "application/xml"
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired.text
    fresh = httpx.get(client.document(document_id)["url"], timeout=30)
    assert fresh.status_code == 200
    assert gzip.decompress(fresh.content).startswith(b"item-name\t")


def test_unknown_document_url_is_access_denied(fast_sandbox):
    response = httpx.get(f"{fast_sandbox.base_url}/documents/not-a-token", timeout=30)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code><Message>Access Denied</Message>" in response.text
    assert Client(fast_sandbox).call("GET", f"{DOCUMENTS}/amzn1.spdoc.1.4.na.nope").status_code == 404


# --- the "reports" fault profile ----------------------------------------------------------------------------

def _first_reports_showing_every_fault(profile: FaultProfile, seller_index: int) -> int:
    """How many reports the seller must request to meet FATAL, CANCELLED and a damaged DONE document."""
    seen: set[str] = set()
    for n in range(1, 16):
        seq = requested_report_seq(seller_index, n)
        outcome = profile.report_outcome(seq)
        seen.add(outcome)
        if outcome == "DONE" and profile.corrupt_document(seq, 1):
            seen.add("damaged")
        if {"FATAL", "CANCELLED", "damaged"} <= seen:
            return n
    raise AssertionError("seed gives no report of every fault within the createReport burst")


def test_reports_fault_profile(faulty_sandbox, reports_model):
    index = 1
    client = Client(faulty_sandbox, index)
    profile = FaultProfile("reports", TEST_ARGUMENTS.seed)
    count = _first_reports_showing_every_fault(profile, index)
    report_ids = [client.create(MERCHANT_LISTINGS, [client.marketplace_id()]) for _ in range(count)]
    for n, report_id in enumerate(report_ids, start=1):
        seq = requested_report_seq(index, n)
        report = client.wait(report_id)
        conforms(reports_model, "Report", report)
        expected = profile.report_outcome(seq)
        assert report["processingStatus"] == expected
        if n % 2 == 0:
            assert expected == "DONE"  # a retried report always gets through
        if expected == "CANCELLED":
            assert "reportDocumentId" not in report
            continue
        first = httpx.get(client.document(report["reportDocumentId"])["url"], timeout=30).content
        damage = profile.corrupt_document(seq, 1)
        if damage:
            with pytest.raises((EOFError, gzip.BadGzipFile, zlib.error)):
                gzip.decompress(first)
        content = gzip.decompress(client.fetch(report["reportDocumentId"]))  # the second download is whole
        if expected == "FATAL":
            assert content.startswith(b'{"errorDetails":')
        else:
            assert content.startswith(b"item-name\t")
            if not damage:
                assert gzip.decompress(first) == content


def parse(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_settlement_documents_may_be_damaged_on_first_download_only(faulty_sandbox):
    index = 1
    client = Client(faulty_sandbox, index)
    settlements = {s.settlement_id: s for s in faulty_sandbox.world.sellers[index].settlements}
    listed = client.all_reports({"reportTypes": SETTLEMENT_REPORT_TYPE, "pageSize": 100,
                                 "createdSince": LONG_AGO})
    damaged = 0
    for report in listed:
        url = client.document(report["reportDocumentId"])["url"]
        first, second = (httpx.get(url, timeout=30).content for _ in range(2))  # one URL, two downloads
        content = gzip.decompress(second)
        assert content == render_settlement(settlements[tsv_rows(content)[0]["settlement-id"]])
        try:
            damaged += gzip.decompress(first) != content
        except (EOFError, gzip.BadGzipFile, zlib.error):
            damaged += 1
    assert listed and damaged >= 1
