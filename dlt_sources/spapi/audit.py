"""The audit trail of the source: every API call, token refresh, RDT grant and report decision.

Amazon's Data Protection Policy asks for logs that are kept and cannot be tampered with, and that
hold no PII. So an event records what happened and to which account, never a value that could be
personal or secret: operations and path *templates* (`/orders/2026-01-01/orders/{orderId}`, not the
order id), query parameter *names* (never values), statuses, timings and Amazon's request id.

The client hands each `AuditEvent` to a sink (any callable). `MemoryAuditSink` collects them
thread-safely; the resource layer drains it into the append-only audit table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class AuditKind(StrEnum):
    API_CALL = "api_call"  # one HTTP attempt against SP-API (retries are separate events)
    TOKEN_REFRESH = "token_refresh"  # an LWA access token obtained (or refused)
    RDT_GRANT = "rdt_grant"  # a Restricted Data Token obtained
    DOCUMENT_DOWNLOAD = "document_download"  # one download attempt of a report document
    REPORT = "report"  # a report lifecycle decision: created, reused, done, cancelled, fatal, ...
    PII_PURGE = "pii_purge"  # written by the purge command, not by the client
    WINDOW_REPLACE = "window_replace"  # rows of a re-read window that the API no longer returned, deleted
    RECOVERY = "recovery"  # load packages an interrupted run left behind, finished before this run extracted
    KEY_ROTATION = "key_rotation"  # encrypted PII values re-wrapped under the active key id (rotate-keys)
    SETTLEMENT_IMPORT = "settlement_import"  # one settlement file imported (import-settlements), with its outcome


@dataclass(frozen=True)
class AuditEvent:
    """One audited fact. Every field is safe to store: no PII, tokens, secrets or query values."""

    kind: AuditKind
    account: str  # the configured account name
    seller_id: str
    operation: str = ""
    method: str = ""
    path: str = ""  # the path template, never the concrete path
    param_names: tuple[str, ...] = ()  # query parameter names (sorted); values are never recorded
    status: int | None = None  # HTTP status; None when no response arrived
    attempt: int = 1  # 1 for the first try of a call, 2 for its first retry, ...
    latency_ms: float | None = None
    throttled: bool = False  # the answer was 429
    request_id: str = ""  # Amazon's x-amzn-RequestId, for support cases
    outcome: str = ""  # short machine-readable result: ok, retry, error code, reused, cancelled, ...
    detail: str = ""  # a short safe note (report ids, error class names); never PII or secrets
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_row(self) -> dict[str, Any]:
        """A flat dict for the audit table (enums as text, names joined with commas)."""
        row = asdict(self)
        row["kind"] = str(self.kind)
        row["param_names"] = ",".join(self.param_names)
        return row


AuditSink = Callable[[AuditEvent], None]


def discard(event: AuditEvent) -> None:
    """A sink that keeps nothing (for callers that do not audit, e.g. one-off commands)."""


class MemoryAuditSink:
    """Collects events in memory until drained; safe to share between threads and clients."""

    def __init__(self) -> None:
        self._events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: AuditEvent) -> None:
        with self._lock:
            self._events.append(event)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def __repr__(self) -> str:
        return f"MemoryAuditSink({len(self)} events)"

    def events(self) -> list[AuditEvent]:
        """A snapshot of the events collected so far (they stay in the sink)."""
        with self._lock:
            return list(self._events)

    def drain(self) -> list[AuditEvent]:
        """Take every event collected so far; the sink starts empty again."""
        with self._lock:
            taken, self._events = self._events, []
        return taken


def fan_out(*sinks: AuditSink) -> AuditSink:
    """One sink that passes each event to several (e.g. the table's buffer and a live counter)."""

    def send(event: AuditEvent) -> None:
        for sink in sinks:
            sink(event)

    return send


def count(events: Iterable[AuditEvent], kind: AuditKind, operation: str | None = None,
          outcome: str | None = None) -> int:
    """How many events of a kind (and operation, and outcome) there are; for progress and tests."""
    return sum(1 for e in events if e.kind == kind and operation in (None, e.operation)
               and outcome in (None, e.outcome))
