"""The SP-API client: one account's calls, authenticated, paced, retried, paged and audited.

No business logic lives here: resources say which operation with which parameters, the client does
what every call needs:

- the account's regional endpoint (or the configured override: the sandbox is just an endpoint);
- an LWA access token in `x-amz-access-token` (a Restricted Data Token for restricted operations),
  refreshed ahead of expiry and once when the server says it expired (auth.py);
- a token bucket per (account, operation) so the quota is spent evenly (throttle.py);
- retries with exponential backoff and full jitter on 429, 500/502/503/504, timeouts and dropped
  connections, up to `RetryPolicy.max_attempts`; then an `SpApiError` naming the operation, the
  account (never a secret), the status and Amazon's error code and message. Other 4xx fail at once;
- paging (each API spells its token differently: see settings.OPERATIONS) and date windows where an API caps them;
- an audit event per HTTP attempt, token grant and document download, and counters per operation
  (calls, retries, 429s, errors, latency) for progress output.

httpx, one sync client per SpApiClient: HTTP/1.1 keep-alive, TLS verification always on.

Why one module of ~500 lines: it is one class whose methods are the single path every request takes
(token, bucket, send, audit, retry, page, download); split, that path would be read across files. The
values on the wire (wire.py) and the call counters (call_stats.py) live on their own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from dlt_sources.spapi.audit import AuditEvent, AuditKind, AuditSink, discard
from dlt_sources.spapi.auth import (
    AuthError,
    SecretResolver,
    TokenStore,
    account_key,
    is_token_rejection,
    lwa_grant,
    parse_lwa_response,
    resolve_from_environment,
    restricted_key,
)
from dlt_sources.spapi.call_stats import CallStats
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.credentials import Secret
from dlt_sources.spapi.settings import OPERATIONS, Operation, Paging
from dlt_sources.spapi.throttle import Throttle
from dlt_sources.spapi.wire import dig, encode_params

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures where the request may not have reached Amazon, or its answer was lost: safe to send again.
RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpx.NetworkError,
                                                 httpx.RemoteProtocolError)
USER_AGENT = "spapi-lakehouse/0.1 (Language=Python)"


# --- errors -------------------------------------------------------------------------------------------------


class SpApiError(Exception):
    """A call failed for good. The message names operation, account, status and Amazon's error."""

    def __init__(self, operation: str, account: str, status: int | None,
                 errors: Sequence[Mapping[str, Any]] = (), request_id: str = "", reason: str = "",
                 attempts: int = 1) -> None:
        self.operation = operation
        self.account = account
        self.status = status
        self.errors = [dict(e) for e in errors if isinstance(e, Mapping)]
        self.request_id = request_id
        self.reason = reason
        self.attempts = attempts
        super().__init__(self._message())

    @property
    def code(self) -> str:
        return str(self.errors[0].get("code", "")) if self.errors else ""

    def _message(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        text = f"{self.operation} failed for account {self.account!r}: {status}"
        for error in self.errors[:3]:
            text += f"; {error.get('code', '?')}: {error.get('message', '')}"
            if error.get("details"):
                text += f" ({error['details']})"
        if self.reason:
            text += f"; {self.reason}"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class DocumentUrlExpired(Exception):
    """A report document URL answered 403 (Amazon's presigned URLs live 5 minutes): get a fresh one."""


# --- policies -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter: the n-th retry sleeps U(0, min(cap, base * 2^(n-1)))."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (retry - 1)))


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 60.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


# --- logging: keep URLs out of httpx's own log lines -----------------------------------------------------


class _RedactUrls(logging.Filter):
    """httpx logs every request's full URL at INFO: query values, and for report documents a presigned
    URL, which is a credential. Keep the origin only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("HTTP Request:") and isinstance(record.args,
                                                                                                 tuple):
            args = list(record.args)
            if len(args) > 1:
                parts = urlsplit(str(args[1]))
                args[1] = f"{parts.scheme}://{parts.netloc}/..."
                record.args = tuple(args)
        return True


def _install_log_filter() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactUrls())


_install_log_filter()


# --- the client ---------------------------------------------------------------------------------------------


@dataclass
class _Attempt:
    """What one HTTP attempt produced, for audit and stats."""

    status: int | None = None
    request_id: str = ""
    latency_ms: float = 0.0
    outcome: str = ""
    body: Any = None


class SpApiClient:
    """SP-API calls for one seller account. Thread-safe: resources may share one client.

    `resolve_secret` turns the account's SecretRefs into Secrets (default: environment variables);
    `audit` receives every AuditEvent; `throttle` and `tokens` default to the process-wide instances
    so that every client of an account shares one quota mirror and one token.
    """

    def __init__(self, account: AccountConfig, resolve_secret: SecretResolver | None = None,
                 audit: AuditSink = discard, *, retry: RetryPolicy | None = None,
                 timeouts: Timeouts | None = None, throttle: Throttle | None = None,
                 tokens: TokenStore | None = None, stats: CallStats | None = None,
                 operations: Mapping[str, Operation] = OPERATIONS, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self.account = account
        self._resolve = resolve_secret or resolve_from_environment
        self._audit = audit
        self.retry = retry or RetryPolicy()
        self.throttle = throttle or Throttle.shared()
        self.tokens = tokens or TokenStore.shared()
        self.stats = stats or CallStats()
        self.operations = operations
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=(timeouts or Timeouts()).httpx(), verify=True, http2=False,
                                          follow_redirects=False, headers={"user-agent": USER_AGENT})
        self.scope = f"{account.endpoint}|{account.seller_id}"  # one quota per seller and endpoint
        self._auth_key = account_key(account)

    def __repr__(self) -> str:
        return f"SpApiClient(account={self.account.name!r}, endpoint={self.account.endpoint!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- audit --------------------------------------------------------------------------------------------

    def record(self, kind: AuditKind, operation: str = "", outcome: str = "", detail: str = "",
               **fields: Any) -> None:
        """Emit an audit event for this account (used by reports.py for lifecycle decisions)."""
        self._audit(AuditEvent(kind=kind, account=self.account.name, seller_id=self.account.seller_id,
                               operation=operation, outcome=outcome, detail=detail, **fields))

    # --- tokens -------------------------------------------------------------------------------------------

    def access_token(self) -> Secret:
        """The account's LWA access token (cached; refreshed ahead of expiry)."""
        return self.tokens.access.get(self._auth_key, self._grant_access_token)

    def _grant_access_token(self) -> tuple[Secret, float]:
        grant = lwa_grant(self.account, self._resolve)
        name = self.account.name
        for attempt in range(1, self.retry.max_attempts + 1):
            outcome = _Attempt()
            started = time.perf_counter()
            try:
                response = self._http.post(grant.url, data=grant.form, headers={"accept": "application/json"})
            except RETRY_EXCEPTIONS as exc:
                outcome.outcome = type(exc).__name__
                self._audit_token(outcome, attempt, started)
                if attempt == self.retry.max_attempts:
                    raise AuthError(name, f"LWA token endpoint unreachable for account {name!r}: "
                                          f"{type(exc).__name__} (after {attempt} attempts)") from None
                self._backoff(attempt)
                continue
            outcome.status = response.status_code
            outcome.request_id = response.headers.get("x-amzn-RequestId", "")
            outcome.outcome = "ok" if response.status_code == 200 else f"http_{response.status_code}"
            self._audit_token(outcome, attempt, started)
            if response.status_code in RETRY_STATUSES and attempt < self.retry.max_attempts:
                self._backoff(attempt)
                continue
            return parse_lwa_response(name, response.status_code, _json_or_none(response), grant)
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def _audit_token(self, outcome: _Attempt, attempt: int, started: float) -> None:
        self.record(AuditKind.TOKEN_REFRESH, "lwaToken", outcome.outcome, method="POST",
                    path=urlsplit(self.account.lwa_token_url).path, status=outcome.status, attempt=attempt,
                    latency_ms=_elapsed_ms(started), request_id=outcome.request_id)

    def restricted_token(self, resources: Sequence[Mapping[str, Any]]) -> Secret:
        """A Restricted Data Token for these resources ({method, path, dataElements}), cached until
        shortly before it expires."""
        return self.tokens.restricted.get(restricted_key(self.account, resources),
                                          lambda: self._grant_rdt(resources))

    def _grant_rdt(self, resources: Sequence[Mapping[str, Any]]) -> tuple[Secret, float]:
        request = {"restrictedResources": [dict(r) for r in resources]}
        body = self.call("createRestrictedDataToken", json=request)
        token = body.get("restrictedDataToken")
        if not isinstance(token, str):
            raise SpApiError("createRestrictedDataToken", self.account.name, 200,
                             reason="the answer holds no restrictedDataToken")
        lifetime = float(body.get("expiresIn") or 3600)
        paths = ",".join(sorted(f"{r['method']} {r['path']}" for r in resources))
        self.record(AuditKind.RDT_GRANT, "createRestrictedDataToken", "ok", detail=paths[:500])
        return Secret(token), lifetime

    @staticmethod
    def restricted_resource(operation: Operation, data_elements: Sequence[str] = ()) -> dict[str, Any]:
        """The RDT resource of an operation: its generic path (placeholders kept, e.g. `{orderId}`), so
        one token covers every order."""
        resource: dict[str, Any] = {"method": operation.method, "path": operation.path}
        if data_elements:
            resource["dataElements"] = sorted(data_elements)
        return resource

    # --- calls --------------------------------------------------------------------------------------------

    def call(self, operation: str, path_params: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None, json: Any = None,
             data_elements: Sequence[str] | None = None) -> dict[str, Any]:
        """Call `operation` (a key of settings.OPERATIONS) and return its JSON body ({} when empty).

        `data_elements` (e.g. ["buyerInfo", "shippingAddress"]) asks for PII through a Restricted Data
        Token; operations marked `restricted` always use one.
        """
        spec = self.operations[operation]
        path = _fill_path(spec.path, path_params or {})
        query = encode_params(params)
        restricted = spec.restricted or bool(data_elements)
        resource = self.restricted_resource(spec, data_elements or ()) if restricted else None
        token_retried = False
        attempt = 0
        while True:
            attempt += 1
            token = self.restricted_token([resource]) if resource else self.access_token()
            waited = self.throttle.acquire(self.scope, operation)
            outcome = self._send(spec, path, query, json, token)
            self.stats.record(self.account.name, operation, calls=1, retries=int(attempt > 1),
                              throttled=int(outcome.status == 429), latency_ms=outcome.latency_ms,
                              waited_s=waited)
            self.record(AuditKind.API_CALL, operation, outcome.outcome, method=spec.method, path=spec.path,
                        param_names=tuple(sorted(query)), status=outcome.status, attempt=attempt,
                        latency_ms=round(outcome.latency_ms, 3), throttled=outcome.status == 429,
                        request_id=outcome.request_id)
            status = outcome.status
            if status is not None and 200 <= status < 300:
                return outcome.body if isinstance(outcome.body, dict) else {}
            if not token_retried and status is not None and is_token_rejection(status, outcome.body):
                token_retried = True  # refresh once and try again at once
                logger.info("%s: %s token rejected (HTTP %s); refreshing it", self.account.name, operation,
                            status)
                if resource:
                    self.tokens.restricted.invalidate(restricted_key(self.account, [resource]), token)
                else:
                    self.tokens.access.invalidate(self._auth_key, token)
                if attempt < self.retry.max_attempts:
                    continue
            retriable = status is None or status in RETRY_STATUSES
            if retriable and attempt < self.retry.max_attempts:
                logger.info("%s: %s got %s (attempt %d of %d); retrying", self.account.name, operation,
                            status or outcome.outcome, attempt, self.retry.max_attempts)
                self._backoff(attempt)
                continue
            self.stats.record(self.account.name, operation, errors=1)
            errors = outcome.body.get("errors") if isinstance(outcome.body, dict) else None
            reason = "" if status is not None else f"{outcome.outcome} (no usable response)"
            raise SpApiError(operation, self.account.name, status, errors if isinstance(errors, list) else (),
                             outcome.request_id, reason, attempt)

    def _send(self, spec: Operation, path: str, query: dict[str, str], body: Any, token: Secret) -> _Attempt:
        outcome = _Attempt()
        headers = {"x-amz-access-token": token.reveal(), "accept": "application/json"}
        started = time.perf_counter()
        try:
            response = self._http.request(spec.method, self.account.endpoint + path, params=query, json=body,
                                          headers=headers)
        except RETRY_EXCEPTIONS as exc:
            outcome.latency_ms = (time.perf_counter() - started) * 1000
            outcome.outcome = type(exc).__name__
            return outcome
        outcome.latency_ms = (time.perf_counter() - started) * 1000
        outcome.status = response.status_code
        outcome.request_id = response.headers.get("x-amzn-RequestId", "")
        self.throttle.observe(self.scope, spec.name, response.headers.get("x-amzn-RateLimit-Limit"))
        if response.status_code == 429:
            self.throttle.throttled(self.scope, spec.name)
        outcome.body = _json_or_none(response)
        if 200 <= response.status_code < 300:
            if response.content and outcome.body is None:
                outcome.status, outcome.outcome = None, "InvalidJson"  # a garbled answer: retry it
            else:
                outcome.outcome = "ok"
        else:
            outcome.outcome = _error_code(outcome.body) or f"http_{response.status_code}"
        return outcome

    def _backoff(self, attempt: int) -> None:
        delay = self.retry.delay(attempt, self._rng)
        if delay > 0:
            self._sleep(delay)

    # --- paging -------------------------------------------------------------------------------------------

    def pages(self, operation: str, params: Mapping[str, Any] | None = None, *,
              path_params: Mapping[str, Any] | None = None, paging: Paging | None = None,
              data_elements: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a listing operation, following its token until the last page."""
        spec = paging or self.operations[operation].paging
        if spec is None:
            raise ValueError(f"{operation} does not page (settings.OPERATIONS): pass `paging`")
        first = dict(params or {})
        body = self.call(operation, path_params, first, data_elements=data_elements)
        yield body
        seen: set[str] = set()
        while True:
            token = dig(body, spec.token_path)
            if not token:
                return
            if token in seen:  # a server bug would otherwise page forever
                raise SpApiError(operation, self.account.name, 200,
                                 reason="the same page token came back twice")
            seen.add(token)
            following = {spec.token_param: token} if spec.token_alone else {**first, spec.token_param: token}
            body = self.call(operation, path_params, following, data_elements=data_elements)
            yield body

    def paginate(self, operation: str, params: Mapping[str, Any] | None = None, *,
                 token_path: Sequence[str] | None = None, items_path: Sequence[str] | None = None,
                 token_param: str | None = None, token_alone: bool | None = None,
                 path_params: Mapping[str, Any] | None = None,
                 data_elements: Sequence[str] | None = None) -> Iterator[Any]:
        """Every item over all pages. Defaults come from the operation's `paging`; any part can be overridden."""
        known = self.operations.get(operation)
        spec = _paging_spec(operation, known.paging if known else None, token_path, items_path, token_param,
                            token_alone)
        for body in self.pages(operation, params, path_params=path_params, paging=spec,
                               data_elements=data_elements):
            yield from dig(body, spec.items_path) or ()

    # --- report documents ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def open_download(self, url: str, label: str = "") -> Iterator[httpx.Response]:
        """Stream a report document from its presigned URL (no token, no quota).

        Retries connection failures and 5xx before the body starts; a 403 (the URL expired) raises
        DocumentUrlExpired so the caller can ask getReportDocument for a fresh URL. The URL is never
        logged or audited (its signature is a credential): `label` (the document id) names it.
        """
        for attempt in range(1, self.retry.max_attempts + 1):
            started = time.perf_counter()
            try:
                request = self._http.build_request("GET", url, headers={"accept-encoding": "identity"})
                response = self._http.send(request, stream=True)
            except RETRY_EXCEPTIONS as exc:
                self._audit_download(label, None, attempt, started, type(exc).__name__)
                if attempt == self.retry.max_attempts:
                    raise SpApiError("downloadReportDocument", self.account.name, None,
                                     reason=f"{type(exc).__name__} (no response)", attempts=attempt) from None
                self._backoff(attempt)
                continue
            status = response.status_code
            self._audit_download(label, status, attempt, started, "ok" if status == 200 else f"http_{status}")
            if status == 200:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()  # an error answer: its body (S3's XML) is not needed
            if status == 403:
                raise DocumentUrlExpired(f"report document {label} URL refused (HTTP 403): it expired")
            if status in RETRY_STATUSES and attempt < self.retry.max_attempts:
                self._backoff(attempt)
                continue
            raise SpApiError("downloadReportDocument", self.account.name, status,
                             reason=f"document {label} download refused", attempts=attempt)

    def _audit_download(self, label: str, status: int | None, attempt: int, started: float,
                        outcome: str) -> None:
        self.record(AuditKind.DOCUMENT_DOWNLOAD, "downloadReportDocument", outcome, detail=label,
                    method="GET", status=status, attempt=attempt, latency_ms=_elapsed_ms(started))

    def get_bytes(self, url: str, label: str = "") -> bytes:
        """A whole (small) document as bytes, exactly as served (no decompression)."""
        with self.open_download(url, label) as response:
            return b"".join(response.iter_raw())


def _paging_spec(operation: str, base: Paging | None, token_path: Sequence[str] | None,
                 items_path: Sequence[str] | None, token_param: str | None, token_alone: bool | None) -> Paging:
    """The operation's paging (settings.OPERATIONS) with the given parts overridden."""
    if base is None:
        if token_path is None or items_path is None or token_param is None:
            raise ValueError(f"{operation} has no paging defaults: pass token_path, items_path, token_param")
        base = Paging(tuple(token_path), token_param, tuple(items_path))
    return Paging(tuple(token_path) if token_path is not None else base.token_path,
                  token_param if token_param is not None else base.token_param,
                  tuple(items_path) if items_path is not None else base.items_path,
                  token_alone if token_alone is not None else base.token_alone)


def _fill_path(template: str, values: Mapping[str, Any]) -> str:
    """The concrete path: each {name} replaced by its URL-encoded value (a '/' in a value stays inside)."""
    path = template
    for name, value in values.items():
        placeholder = "{" + name + "}"
        if placeholder not in path:
            raise ValueError(f"{template} has no placeholder {placeholder}")
        path = path.replace(placeholder, quote(str(value), safe=""))
    if "{" in path:
        raise ValueError(f"{template}: path parameters missing ({path})")
    return path


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _json_or_none(response: httpx.Response) -> Any:
    """The body as JSON with numbers that have a fraction as Decimal: money never passes through a float."""
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return None


def _error_code(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code", ""))[:64]
    return ""
