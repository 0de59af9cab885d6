"""The sandbox's HTTP server: Amazon's wire behaviour around the handlers of spapi_sandbox/api.

For every request it matches a route, checks the access token or Restricted Data Token, takes a
request from the seller's token bucket, applies the fault profile, calls the handler and writes
compact JSON (or the bytes of a report document) with `x-amzn-RequestId` and
`x-amzn-RateLimit-Limit`. Handlers only build payloads; everything Amazon does around them is here.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from spapi_sandbox.clock import SandboxClock
from spapi_sandbox.faults import ERROR_BODIES, FaultProfile, RequestFault
from spapi_sandbox.http import ROUTES, ApiError, Request, Response, Route
from spapi_sandbox.ratelimit import QUOTA_EXCEEDED, RateLimiter, format_rate, limit_key
from spapi_sandbox.state import SandboxState
from spapi_sandbox.tokens import IssuedToken, TokenStatus, TokenStore
from spapi_sandbox.world import DataArguments

# Every API module of the sandbox; importing one registers its routes. Modules not written yet are
# skipped (and reported by `missing_api_modules`), so the server runs while the API grows.
API_MODULES: tuple[str, ...] = (
    "auth", "tokens_api", "sellers", "orders", "orders_v0", "finances", "balances", "summaries", "transfers",
    "catalog", "inventory", "fees", "reports",
)

SP_API_AUTH = ("access", "restricted")  # routes that need an x-amz-access-token (and have rate limits)

_DENIED = "Access to requested resource is denied."
_TOKEN_DETAILS = {
    TokenStatus.MISSING: "Access token is missing in the request header.",
    TokenStatus.INVALID: "The access token you provided is revoked, malformed or invalid.",
    TokenStatus.EXPIRED: "The access token you provided has expired.",
}
_NEEDS_RDT = "This operation requires a Restricted Data Token for the requested resource."
_RDT_ELSEWHERE = "The Restricted Data Token you provided does not cover the requested resource."
_NOT_FOUND = {"errors": [{"code": "NotFound", "message": "Resource not found."}]}
_BAD_FRAMING = {"errors": [{"code": "InvalidInput", "message": "The request body is not framed correctly."}]}
_INTERNAL = {"errors": [{"code": "InternalFailure",
                         "message": "We encountered an internal error. Please try again."}]}


def missing_api_modules() -> list[str]:
    """Import every API module that exists; return the names of those not written yet."""
    missing = []
    for name in API_MODULES:
        module = f"spapi_sandbox.api.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but needs something that does not
                raise
            missing.append(name)
    return missing


@dataclass
class Outcome:
    """What to send back: a status and body, or nothing at all (a dropped connection)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


def _json_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _from_response(response: Response, extra: dict[str, str]) -> Outcome:
    body = response.body if isinstance(response.body, bytes | bytearray) else _json_bytes(response.body)
    return Outcome(response.status, bytes(body), response.content_type, {**extra, **response.headers})


def _errors(status: int, body: dict, headers: dict[str, str]) -> Outcome:
    return Outcome(status, _json_bytes(body), headers=headers)


def _unauthorized(details: str, headers: dict[str, str]) -> Outcome:
    return _errors(403, ApiError(403, "Unauthorized", _DENIED, details).body(), headers)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in ROUTES:
        params = candidate.match(method, path)
        if params is not None:
            return candidate, params
    return None


def _authorize(state: SandboxState, route: Route, req: Request, headers: dict[str, str]
               ) -> IssuedToken | Outcome:
    """The token that may call this route, or the 403 Amazon answers instead."""
    status, issued = state.tokens.check(req.headers.get("x-amz-access-token"))
    if status is not TokenStatus.VALID or issued is None:
        return _unauthorized(_TOKEN_DETAILS[status], headers)
    if issued.is_rdt and issued.covering(req.method, req.path) is None:
        return _unauthorized(_RDT_ELSEWHERE, headers)
    if route.auth == "restricted" and not issued.is_rdt:
        return _unauthorized(_NEEDS_RDT, headers)
    return issued


def dispatch(state: SandboxState, route: Route, req: Request) -> Outcome:
    """Everything Amazon does around a handler, for one matched request."""
    req.operation = route.operation
    if route.auth not in SP_API_AUTH:  # the LWA token endpoint, report document downloads
        return _call(state, route, req, {})

    key = limit_key(route.operation, route.template)
    limited = state.rate_limiter.is_limited(key)
    headers: dict[str, str] = {}
    if limited:
        headers["x-amzn-RateLimit-Limit"] = format_rate(state.rate_limiter.rate_in_effect(key))
    issued = _authorize(state, route, req, headers)
    if isinstance(issued, Outcome):
        return issued
    req.seller_id = issued.seller_id

    if limited:
        allowed, rate = state.rate_limiter.acquire(issued.seller_id, key)
        headers = {"x-amzn-RateLimit-Limit": format_rate(rate)}
        if not allowed:
            return _errors(429, QUOTA_EXCEEDED, headers)

    fault = state.faults.request_fault(issued.seller_id, key)
    if fault is RequestFault.DROP:
        return Outcome(drop=True)
    if fault is RequestFault.SLOW:
        time.sleep(state.faults.slow_seconds(issued.seller_id, key))
    elif fault is not None:
        status, body = ERROR_BODIES[fault]
        return _errors(status, body, headers)
    return _call(state, route, req, headers)


def _call(state: SandboxState, route: Route, req: Request, headers: dict[str, str]) -> Outcome:
    try:
        response = route.handler(state, req)
    except ApiError as error:
        if route.auth == "lwa":  # LWA speaks OAuth: {"error", "error_description"}
            body = {"error": error.code, "error_description": error.message}
            return Outcome(error.status, _json_bytes(body), "application/json;charset=UTF-8")
        return _errors(error.status, error.body(), headers)
    except Exception:
        # The traceback names the route, never the request headers (they hold tokens).
        sys.stderr.write(f"spapi-sandbox: internal error in {route.operation} ({req.method} "
                         f"{route.template})\n{traceback.format_exc()}")
        return _errors(500, _INTERNAL, headers)
    return _from_response(response, headers)


class SandboxServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the sandbox state; one daemon thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SandboxState, verbose: bool = False) -> None:
        if ":" in address[0]:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)
        self.state = state
        self.verbose = verbose
        self.thread: threading.Thread | None = None
        self._request_count = 0
        self._count_lock = threading.Lock()
        self._id_namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"spapi-sandbox:{state.faults.seed}")

    def next_request_id(self) -> str:
        with self._count_lock:
            self._request_count += 1
            count = self._request_count
        return str(uuid.uuid5(self._id_namespace, str(count)))


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall
    server: SandboxServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence http.server's own log lines: they would print the query string."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        started = time.perf_counter()
        split = urlsplit(self.path)
        outcome, logged_path = self._respond(split.path, split.query)
        # Logged before the answer goes out, so whoever got the answer can already read its log line.
        if self.server.verbose:
            names = ",".join(sorted(parse_qs(split.query, keep_blank_values=True)))
            status = "dropped" if outcome.drop else str(outcome.status)
            sys.stderr.write(f"{self.command} {logged_path}{'?' + names if names else ''} {status} "
                             f"{(time.perf_counter() - started) * 1000:.1f}ms\n")
        if outcome.drop:
            self.close_connection = True
        else:
            self._write(outcome)

    def _respond(self, path: str, query: str) -> tuple[Outcome, str]:
        """The outcome of this request, and the path to log for it."""
        try:
            body = self._read_body()
        except ValueError:  # a malformed Content-Length or chunk size: the stream cannot be trusted
            self.close_connection = True
            return _errors(400, _BAD_FRAMING, {}), path
        found = find_route(self.command, path)
        if found is None:
            return _errors(404, _NOT_FOUND, {}), path
        route, params = found
        req = Request(self.command, path, parse_qs(query, keep_blank_values=True),
                      {k.lower(): v for k, v in self.headers.items()}, body, params)
        # Document download paths carry their signature: log only the route's template for them.
        logged_path = path if route.auth in (*SP_API_AUTH, "lwa") else route.template
        return dispatch(self.server.state, route, req), logged_path

    def _write(self, outcome: Outcome) -> None:
        try:
            self.send_response(outcome.status)
            self.send_header("Content-Type", outcome.content_type)
            self.send_header("Content-Length", str(len(outcome.body)))
            self.send_header("x-amzn-RequestId", self.server.next_request_id())
            for name, value in outcome.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(outcome.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def build_state(args: DataArguments, time_scale: float = 1.0, faults_profile: str = "none") -> SandboxState:
    """Generate the world and everything a running sandbox keeps beside it."""
    from spapi_sandbox.generate import build_world
    from spapi_sandbox.report_store import ReportStore

    faults = FaultProfile(faults_profile, args.seed)  # fails early on an unknown profile
    world = build_world(args)
    clock = SandboxClock(world.now, time_scale)
    return SandboxState(world=world, clock=clock, faults=faults, rate_limiter=RateLimiter(clock),
                        tokens=TokenStore(clock, faults), reports=ReportStore(world))


def serve_state(state: SandboxState, host: str = "127.0.0.1", port: int = 0,
                verbose: bool = False) -> tuple[SandboxServer, str]:
    """Bind and serve `state` on a background thread; port 0 picks a free port."""
    missing_api_modules()
    server = SandboxServer((host, port), state, verbose)
    bound_port = server.server_address[1]
    base_url = f"http://[{host}]:{bound_port}" if ":" in host else f"http://{host}:{bound_port}"
    state.base_url = base_url
    server.thread = threading.Thread(target=server.serve_forever, name="spapi-sandbox", daemon=True)
    server.thread.start()
    return server, base_url


def start_server(host: str, port: int, args: DataArguments, time_scale: float = 1.0,
                 faults_profile: str = "none", verbose: bool = False) -> tuple[SandboxServer, str]:
    """Build the world for `args` and serve it; returns the running server and its base URL."""
    return serve_state(build_state(args, time_scale, faults_profile), host, port, verbose)


def stop(server: SandboxServer) -> None:
    """Stop accepting requests, close the socket and wait for the serving thread."""
    server.shutdown()
    server.server_close()
    if server.thread is not None:
        server.thread.join(timeout=5)
