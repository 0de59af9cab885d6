"""Opaque, deterministic page tokens shared by every paginated operation.

A token carries the operation, the normalised query (including the upper time bound resolved on
the first page, so later pages do not shift while the sandbox clock runs) and the offset of the
next page, base64url-encoded with a short digest so a damaged or edited token is refused.
Carrying the query lets a client send the token alone (Orders v0 and Reports expect exactly
that) while clients that repeat their arguments keep working too: the token's query wins.
Same query and offset, same token.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from spapi_sandbox.http import ApiError, invalid_input

T = TypeVar("T")


def _digest(body: bytes) -> str:
    return hashlib.sha256(b"spapi-sandbox-page|" + body).hexdigest()[:12]


def encode_token(operation: str, query: dict[str, Any], offset: int, owner: str = "") -> str:
    """The token for the page of `query` that starts at `offset`, usable by `owner` (the seller) only."""
    body = json.dumps({"op": operation, "q": query, "o": offset, "s": owner}, sort_keys=True,
                      separators=(",", ":")).encode()
    raw = _digest(body).encode() + b"." + body
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(operation: str, token: str, name: str = "nextToken",
                 owner: str = "") -> tuple[dict[str, Any], int]:
    """(query, offset) from a token this operation issued to `owner`; 400 InvalidInput for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        digest, body = raw.split(b".", 1)
        if digest.decode() != _digest(body):
            raise ValueError("digest mismatch")
        data = json.loads(body)
        if data["op"] != operation or data["s"] != owner or not isinstance(data["o"], int) or data["o"] < 0:
            raise ValueError("token of another operation")
        return data["q"], data["o"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise invalid_input(f"Invalid {name}: the token is malformed or was not issued for this request.") \
            from None


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_token: str | None
    previous_token: str | None = None


def paginate(operation: str, query: dict[str, Any], items: list[T], offset: int, size: int,
             owner: str = "") -> Page[T]:
    """Slice one page out of the full, deterministically ordered result list."""
    if offset > len(items):
        raise ApiError(400, "InvalidInput", "Invalid nextToken: the page it points to no longer exists.")
    page = items[offset:offset + size]
    next_token = encode_token(operation, query, offset + size, owner) if offset + size < len(items) else None
    previous = encode_token(operation, query, max(0, offset - size), owner) if offset > 0 else None
    return Page(page, next_token, previous)


def resume_or_start(req: Any, operation: str, token_param: str,
                    fresh_query: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """(query, offset) from the request's page token, or (a fresh query, -1) on the first page."""
    token = req.param(token_param)
    if token:
        return decode_token(operation, token, token_param, req.seller_id)
    return fresh_query(), -1


def scan_page(items: Sequence[T], start: int, stop: int, keep: Callable[[T], bool],
              size: int) -> tuple[list[T], int | None]:
    """Up to `size` items of items[start:stop] that `keep` accepts, and where the next page starts.

    For long, time-sorted lists: a page costs what it returns (plus the gap to the next match),
    not a scan of everything before it. The returned position is None on the last page.
    """
    page: list[T] = []
    i = start
    while i < stop and len(page) < size:
        if keep(items[i]):
            page.append(items[i])
        i += 1
    while i < stop and not keep(items[i]):
        i += 1
    return page, (i if i < stop else None)
