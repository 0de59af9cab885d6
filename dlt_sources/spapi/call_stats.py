"""Counters of SP-API calls per (account, operation) and per resource: what progress lines, the raw assets'
metadata and the throttle benchmark report. Thread-safe: one CallStats is shared by every client of a run."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass
class OperationStats:
    calls: int = 0  # HTTP attempts sent (first tries and retries)
    retries: int = 0  # attempts after the first of a call
    throttled: int = 0  # 429 answers
    errors: int = 0  # calls that failed for good
    latency_ms: float = 0.0  # sum over attempts
    waited_s: float = 0.0  # time spent waiting for a token of our own bucket

    def add(self, other: OperationStats) -> None:
        for name in ("calls", "retries", "throttled", "errors", "latency_ms", "waited_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def throttle_share(self) -> float:
        return self.throttled / self.calls if self.calls else 0.0


# The resource a thread extracts for (set by Extraction.per_account), so calls are counted per resource too:
# several resources share operations (every report-based one calls createReport, getReport, ...).
CURRENT_RESOURCE: ContextVar[str] = ContextVar("spapi_resource", default="")


class CallStats:
    """Counters per (account name, operation) and per resource; thread-safe. Share one between clients for
    run totals."""

    def __init__(self) -> None:
        self._stats: dict[tuple[str, str], OperationStats] = {}
        self._resources: dict[str, OperationStats] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        total = self.totals()
        return f"CallStats(calls={total.calls}, retries={total.retries}, throttled={total.throttled})"

    def record(self, account: str, operation: str, **increments: float) -> None:
        with self._lock:
            for stats in (self._stats.setdefault((account, operation), OperationStats()),
                          self._resources.setdefault(CURRENT_RESOURCE.get(), OperationStats())):
                for name, value in increments.items():
                    setattr(stats, name, getattr(stats, name) + value)

    def by_resource(self) -> dict[str, OperationStats]:
        """Totals per resource ("" for calls made outside any resource's extraction)."""
        with self._lock:
            return {key: replace(value) for key, value in self._resources.items()}

    def snapshot(self) -> dict[tuple[str, str], OperationStats]:
        with self._lock:
            return {key: replace(value) for key, value in self._stats.items()}

    def totals(self, account: str | None = None) -> OperationStats:
        total = OperationStats()
        for (name, _), stats in self.snapshot().items():
            if account is None or name == account:
                total.add(stats)
        return total
