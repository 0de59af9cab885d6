"""Reports API 2021-06-30: create, list, get and cancel reports, get a document, and download it.

The download URL is not an SP-API operation: it stands for Amazon's presigned S3 URL, so it takes
no access token (auth="none"), expires after 5 sandbox minutes with S3's 403 body, and may be served
truncated or corrupted on a first download under the "reports" fault profile.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from datetime import UTC, datetime

from spapi_sandbox.http import Request, Response, invalid_input, not_found, route
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.render import parse_iso
from spapi_sandbox.report_documents import REPORTS, SETTLEMENT_REPORT_TYPE
from spapi_sandbox.report_store import ReportStateError, StoredReport, UrlExpired, UrlUnknown
from spapi_sandbox.state import SandboxState

STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
FILTER_PARAMS = ("reportTypes", "processingStatuses", "marketplaceIds", "pageSize", "createdSince",
                 "createdUntil")
DEFAULT_PAGE_SIZE = 10
RETENTION_SECONDS = 90 * 86400  # createdSince defaults to 90 days ago
# Amazon's answer to createReport for settlement reports (its internal number for the type).
SETTLEMENT_NOT_ALLOWED = "Request for report type 1118 is not allowed at this time"


def parse_time(value: object, name: str) -> int:
    """ISO-8601 date or date-time (Z, offset, or none = UTC) to epoch seconds, or 400 InvalidInput."""
    if not isinstance(value, str) or not value:
        raise invalid_input(f"{name} must be an ISO 8601 date-time string.")
    try:
        return parse_iso(value)
    except ValueError:
        raise invalid_input(f"{name} '{value}' is not a valid ISO 8601 date-time.") from None


def _seller_marketplaces(state: SandboxState, seller_id: str) -> set[str]:
    seller = state.world.seller(seller_id)
    if seller is None:
        return set()
    return {MARKETPLACES[c].marketplace_id for c in seller.account.marketplace_codes}


# --- createReport -------------------------------------------------------------------------------------------

@route("POST", "/reports/2021-06-30/reports", "createReport")
def create_report(state: SandboxState, req: Request) -> Response:
    body = req.json()
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object.")
    report_type = body.get("reportType")
    if not isinstance(report_type, str) or not report_type:
        raise invalid_input("reportType is required and must be a string.")
    marketplace_ids = body.get("marketplaceIds")
    if (not isinstance(marketplace_ids, list) or not 1 <= len(marketplace_ids) <= 25
            or not all(isinstance(m, str) and m for m in marketplace_ids)):
        raise invalid_input("marketplaceIds is required: a list of 1 to 25 marketplace identifiers.")
    if report_type == SETTLEMENT_REPORT_TYPE:
        raise invalid_input(SETTLEMENT_NOT_ALLOWED)
    spec = REPORTS.get(report_type)
    if spec is None:
        raise invalid_input(f"Invalid reportType: {report_type}.")
    allowed = _seller_marketplaces(state, req.seller_id)
    unknown = [m for m in marketplace_ids if m not in allowed]
    if unknown:
        raise invalid_input(f"Invalid marketplaceIds: {', '.join(unknown)}. The seller does not participate "
                            "in these marketplaces.")
    marketplaces = tuple(dict.fromkeys(marketplace_ids))
    if spec.single_marketplace and len(marketplaces) > 1:
        raise invalid_input(f"Report type {report_type} accepts exactly one marketplaceId per request.")
    options = body.get("reportOptions", {})
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise invalid_input("reportOptions must be an object of string values.")

    now = state.clock.now()
    start = parse_time(body["dataStartTime"], "dataStartTime") if "dataStartTime" in body else int(now)
    end = parse_time(body["dataEndTime"], "dataEndTime") if "dataEndTime" in body else int(now)
    if start > now:
        raise invalid_input("dataStartTime must be prior to or equal to the current date and time.")
    if start > end:
        raise invalid_input("dataStartTime must be prior to or equal to dataEndTime.")
    record = state.reports.create(req.seller_id, report_type, marketplaces, start, end, options, now,
                                  state.faults.report_outcome)
    return Response(202, {"reportId": record.report_id})


# --- getReports ---------------------------------------------------------------------------------------------

def _encode_token(filters: dict) -> str:
    raw = json.dumps(filters, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, seller_id: str) -> dict:
    try:
        filters = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_input("Invalid nextToken.") from None
    if not isinstance(filters, dict) or filters.get("seller") != seller_id or "cursor" not in filters:
        raise invalid_input("Invalid nextToken.")
    return filters


def _page_size(req: Request) -> int:
    raw = req.param("pageSize")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise invalid_input("pageSize must be an integer between 1 and 100.") from None
    if not 1 <= size <= 100:
        raise invalid_input("pageSize must be an integer between 1 and 100.")
    return size


def _first_page_filters(req: Request, now: float) -> dict:
    types = req.list_param("reportTypes")
    if not types:
        raise invalid_input("reportTypes or nextToken is required.")
    if len(types) > 10:
        raise invalid_input("reportTypes accepts at most 10 report types.")
    statuses = req.list_param("processingStatuses")
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise invalid_input(f"Invalid processingStatuses: {', '.join(bad)}. "
                            f"Valid values: {', '.join(STATUSES)}.")
    marketplaces = req.list_param("marketplaceIds")
    if len(marketplaces) > 10:
        raise invalid_input("marketplaceIds accepts at most 10 marketplace identifiers.")
    since_raw, until_raw = req.param("createdSince"), req.param("createdUntil")
    since = parse_time(since_raw, "createdSince") if since_raw is not None else int(now) - RETENTION_SECONDS
    until = parse_time(until_raw, "createdUntil") if until_raw is not None else now
    if since > until:
        raise invalid_input("createdSince must be prior to or equal to createdUntil.")
    return {"seller": req.seller_id, "types": types, "statuses": statuses, "marketplaces": marketplaces,
            "size": _page_size(req), "since": since, "until": until, "cursor": None}


def _matches(record: StoredReport, filters: dict, now: float) -> bool:
    if record.report_type not in filters["types"]:
        return False
    if filters["statuses"] and record.status(now) not in filters["statuses"]:
        return False
    if filters["marketplaces"] and not set(filters["marketplaces"]) & set(record.marketplace_ids):
        return False
    if filters["cursor"] is not None and [record.created_at, record.report_id] >= filters["cursor"]:
        return False  # already on an earlier page (newest first)
    return filters["since"] <= record.created_at <= filters["until"]


@route("GET", "/reports/2021-06-30/reports", "getReports")
def get_reports(state: SandboxState, req: Request) -> Response:
    now = state.clock.now()
    token = req.param("nextToken")
    if token is not None:
        extra = [p for p in FILTER_PARAMS if p in req.query]
        if extra:
            raise invalid_input(f"nextToken must be the only parameter; remove {', '.join(extra)}.")
        filters = _decode_token(token, req.seller_id)
    else:
        filters = _first_page_filters(req, now)
    found = [r for r in state.reports.reports(req.seller_id, now) if _matches(r, filters, now)]
    page = found[:filters["size"]]
    body: dict = {"reports": [r.as_json(now) for r in page]}
    if len(found) > len(page):
        last = page[-1]
        body["nextToken"] = _encode_token({**filters, "cursor": [last.created_at, last.report_id]})
    return Response(200, body)


# --- getReport / cancelReport -------------------------------------------------------------------------------

@route("GET", "/reports/2021-06-30/reports/{reportId}", "getReport")
def get_report(state: SandboxState, req: Request) -> Response:
    now = state.clock.now()
    record = state.reports.get(req.seller_id, req.path_params["reportId"], now)
    if record is None:
        raise not_found(f"Report {req.path_params['reportId']} not found.")
    return Response(200, record.as_json(now))


@route("DELETE", "/reports/2021-06-30/reports/{reportId}", "cancelReport")
def cancel_report(state: SandboxState, req: Request) -> Response:
    report_id = req.path_params["reportId"]
    try:
        record = state.reports.cancel(req.seller_id, report_id, state.clock.now())
    except ReportStateError as exc:
        raise invalid_input(f"Only reports with processingStatus=IN_QUEUE can be cancelled; report "
                            f"{report_id} is {exc.args[0]}.") from None
    if record is None:
        raise not_found(f"Report {report_id} not found.")
    return Response(200, None)


# --- getReportDocument and the download URL -----------------------------------------------------------------

@route("GET", "/reports/2021-06-30/documents/{reportDocumentId}", "getReportDocument")
def get_report_document(state: SandboxState, req: Request) -> Response:
    now = state.clock.now()
    document_id = req.path_params["reportDocumentId"]
    encoding_flag = (req.param("enableContentEncodingUrlHeader") or "false").lower()
    if encoding_flag not in ("true", "false"):
        raise invalid_input("enableContentEncodingUrlHeader must be true or false.")
    record = state.reports.document_report(req.seller_id, document_id, now)
    if record is None:
        raise not_found(f"Report document {document_id} not found.")
    token = state.reports.issue_url(document_id, now, gzip_content_encoding=encoding_flag == "true")
    return Response(200, {"reportDocumentId": document_id, "url": f"{state.base_url}/documents/{token}",
                          "compressionAlgorithm": "GZIP"})


def _s3_time(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _s3_error(code: str, message: str, extra: str = "") -> Response:
    """S3's XML error body, as a presigned URL answers."""
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}</Error>")
    return Response(403, body.encode(), content_type="application/xml")


def damage(body: bytes, how: str | None) -> bytes:
    """A download gone wrong: cut short, or with flipped bytes (the gzip CRC check then fails)."""
    if how == "truncated":
        return body[: max(10, len(body) // 2)]
    if how == "corrupted":
        damaged = bytearray(body)
        for i in range(len(damaged) - 8, len(damaged) - 4):  # the CRC32 trailer
            damaged[i] ^= 0xFF
        if len(damaged) > 40:
            damaged[len(damaged) // 2] ^= 0x5A
        return bytes(damaged)
    return body


def unreadable(body: bytes) -> bytes:
    """A settlement document in a layout no client knows: the header's settlement-id column renamed."""
    content = gzip.decompress(body)
    header, _, rest = content.partition(b"\n")
    return gzip.compress(header.replace(b"settlement-id", b"settlement-ref", 1) + b"\n" + rest, mtime=0)


@route("GET", "/documents/{token}", "downloadReportDocument", auth="none")
def download_document(state: SandboxState, req: Request) -> Response:
    now = state.clock.now()
    try:
        record, url = state.reports.open_url(req.path_params["token"], now)
    except UrlUnknown:
        return _s3_error("AccessDenied", "Access Denied")
    except UrlExpired as exc:
        return _s3_error("AccessDenied", "Request has expired",
                         f"<X-Amz-Expires>300</X-Amz-Expires><Expires>{_s3_time(exc.args[0])}</Expires>"
                         f"<ServerTime>{_s3_time(now)}</ServerTime>")
    document = state.reports.document(record)
    attempt = state.reports.next_attempt(url.document_id)
    body = damage(document.body, state.faults.corrupt_document(record.seq, attempt))
    if record.settlement is not None and state.faults.unreadable_settlement(record.settlement_number):
        body = unreadable(body)
    headers = {"Content-Encoding": "gzip"} if url.gzip_content_encoding else {}
    return Response(200, body, headers=headers, content_type=document.content_type)

