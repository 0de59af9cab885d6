"""The request/response types every API module of the sandbox is written against.

API modules declare routes with `@route(...)`; the server (server.py) matches them, checks
the access token (or Restricted Data Token), applies the operation's rate limit and faults,
and turns an ApiError into Amazon's `errors` body. Handlers only build payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    seller_id: str = ""  # the seller account the access token belongs to
    operation: str = ""

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def list_param(self, name: str) -> list[str]:
        """Comma-separated list parameter (Amazon's `marketplaceIds=A,B` style), repeated or not."""
        return [v for raw in self.query.get(name, []) for v in raw.split(",") if v]

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except json.JSONDecodeError as exc:
            raise ApiError(400, "InvalidInput", f"Request body is not valid JSON: {exc.msg}") from None

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class ApiError(Exception):
    """An error Amazon answers with an `errors` list (or LWA's `error` body for /auth)."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"errors": [error]}


Handler = Callable[["SandboxState", Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. /orders/2026-01-01/orders/{orderId}
    operation: str  # the operationId, also the rate-limit key
    handler: Handler
    auth: str  # "lwa" (the token endpoint itself), "access" (access token) or "restricted" (RDT)
    pattern: re.Pattern[str]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        # Path parameters arrive percent-encoded (a Japanese SKU in a fees call): compare them decoded.
        return {name: unquote(value) for name, value in found.groupdict().items()} if found else None


ROUTES: list[Route] = []


def route(method: str, template: str, operation: str, auth: str = "access") -> Callable[[Handler], Handler]:
    """Register a handler for one SP-API operation."""
    pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template))

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, operation, handler, auth, pattern))
        return handler

    return register


def invalid_input(message: str) -> ApiError:
    return ApiError(400, "InvalidInput", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NotFound", message)
