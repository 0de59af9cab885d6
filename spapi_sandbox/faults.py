"""Misbehaviour on purpose (--faults), deterministic from the seed, so clients can prove they cope.

Profiles:
- none (default): Amazon on a good day.
- flaky: SP-API calls (not /auth/o2/token, not report document downloads) sometimes get an extra 429
  (~5%), a 500 or 503 with Amazon's error body (~3%), a slow answer (~2%, a few hundred ms real time)
  or a dropped connection (~1%, the socket closes without a response). The decision comes from the
  seed and a per-(seller, operation) request counter, never from the request itself, and the request
  after a faulted one (same seller and operation) is never faulted: a client that retries always gets
  through. A faulted request never reaches its handler, so it changes nothing.
- reports: some requested reports end FATAL or CANCELLED (only odd report sequence numbers, about 45%
  of them: a client that requests the report again gets the next number, which always finishes DONE),
  and some report documents are served truncated or corrupted on their FIRST download only.
- baddoc: every seller's first settlement report is served unreadable on every download: its header
  names no `settlement-id` column, a layout no client knows. The seller's later settlements are whole. One
  unreadable document must not keep the others from loading; the same sandbox restarted without the
  profile serves the document whole, as a fixed parser (or a re-issued file) would read it.
- auth: every fifth access token issued (counting from an offset set by the seed) expires after 60
  sandbox seconds instead of 3600; LWA still says `expires_in: 3600`. Clients must refresh on 403.
The LWA token endpoint itself is fault-free under every profile.
"""

from __future__ import annotations

import hashlib
import threading
from enum import Enum

from spapi_sandbox.ratelimit import QUOTA_EXCEEDED

PROFILES = ("none", "flaky", "reports", "auth", "baddoc")

EARLY_TOKEN_LIFETIME = 60  # sandbox seconds, for the auth profile's short-lived tokens


class RequestFault(Enum):
    THROTTLE = "throttle"  # 429 QuotaExceeded although the bucket had room
    INTERNAL_ERROR = "internal_error"  # 500 InternalFailure
    UNAVAILABLE = "unavailable"  # 503 ServiceUnavailable
    SLOW = "slow"  # answered normally, after a real-time delay
    DROP = "drop"  # connection closed without a response


# Cumulative thresholds on a uniform draw in [0, 1): ~5% 429, ~3% 500/503, ~2% slow, ~1% dropped.
_FLAKY_THRESHOLDS: tuple[tuple[float, RequestFault], ...] = (
    (0.05, RequestFault.THROTTLE),
    (0.065, RequestFault.INTERNAL_ERROR),
    (0.08, RequestFault.UNAVAILABLE),
    (0.10, RequestFault.SLOW),
    (0.11, RequestFault.DROP),
)

ERROR_BODIES: dict[RequestFault, tuple[int, dict]] = {
    RequestFault.THROTTLE: (429, QUOTA_EXCEEDED),
    RequestFault.INTERNAL_ERROR: (500, {"errors": [{"code": "InternalFailure",
                                                    "message": "We encountered an internal error. "
                                                               "Please try again."}]}),
    RequestFault.UNAVAILABLE: (503, {"errors": [{"code": "ServiceUnavailable",
                                                 "message": "Service temporarily unavailable. "
                                                            "Please try again."}]}),
}


class FaultProfile:
    """The fault decisions of one running sandbox. Thread-safe."""

    def __init__(self, name: str = "none", seed: int = 0) -> None:
        if name not in PROFILES:
            raise ValueError(f"unknown fault profile {name!r}; choose one of {', '.join(PROFILES)}")
        self.name = name
        self.seed = seed
        self._counters: dict[tuple[str, str], int] = {}
        self._last_faulted: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _unit(self, *parts: object) -> float:
        """A uniform number in [0, 1) that depends only on the seed and `parts`."""
        text = "|".join(str(p) for p in (self.seed, *parts))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64

    def request_fault(self, seller_id: str, operation: str) -> RequestFault | None:
        """The fault (if any) for the next SP-API call of this seller and operation."""
        if self.name != "flaky":
            return None
        key = (seller_id, operation)
        with self._lock:
            count = self._counters.get(key, 0) + 1
            self._counters[key] = count
            if key in self._last_faulted:  # the retry of a faulted request always gets through
                self._last_faulted.discard(key)
                return None
            draw = self._unit("request", seller_id, operation, count)
            fault = next((f for limit, f in _FLAKY_THRESHOLDS if draw < limit), None)
            if fault is not None:
                self._last_faulted.add(key)
            return fault

    def slow_seconds(self, seller_id: str, operation: str) -> float:
        """Real seconds a SLOW response waits: 0.2 to 0.5."""
        return 0.2 + 0.3 * self._unit("slow", seller_id, operation)

    def access_token_lifetime(self, sequence: int, default: int) -> int:
        """Lifetime of the `sequence`-th access token issued (1-based)."""
        if self.name == "auth" and (sequence + self.seed) % 5 == 0:
            return EARLY_TOKEN_LIFETIME
        return default

    def report_outcome(self, report_seq: int) -> str:
        """How a requested report ends: DONE, FATAL or CANCELLED (odd sequence numbers only can fail)."""
        if self.name != "reports" or report_seq % 2 == 0:
            return "DONE"
        draw = self._unit("report", report_seq)
        if draw < 0.3:
            return "FATAL"
        if draw < 0.45:
            return "CANCELLED"
        return "DONE"

    def unreadable_settlement(self, settlement_number: int) -> bool:
        """Whether a seller's `settlement_number`-th settlement report is served unreadable (baddoc)."""
        return self.name == "baddoc" and settlement_number == 1

    def corrupt_document(self, report_seq: int, attempt: int) -> str | None:
        """None, "truncated" or "corrupted" for download `attempt` (1 = first) of a report's document."""
        if self.name != "reports" or attempt != 1:
            return None
        draw = self._unit("document", report_seq)
        if draw < 0.2:
            return "truncated"
        if draw < 0.35:
            return "corrupted"
        return None
