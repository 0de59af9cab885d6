"""Client-side token buckets: spend each operation's quota evenly instead of hitting 429s.

Amazon meters every operation per seller account and application with a token bucket: it holds
`burst` requests, refills at `rate` per second and starts full. We keep a mirror of that bucket per
(account, operation) and wait for a token before each call, so the server's bucket is (almost) never
empty when our request arrives:

- Start from the documented rate and burst (settings.OPERATIONS), full, like Amazon's.
- Follow `x-amzn-RateLimit-Limit`: it states the rate in force for this seller (higher plans, or
  the sandbox's --time-scale). The burst is not in the header, so it stays the documented one.
- Pace at `safety` (default 95%) of that rate. Requests reach the server a little earlier or later
  than we sent them; the 5% slack accumulates as spare tokens in the server's bucket and absorbs
  that jitter, at the price of 5% of the quota.
- After a 429 the server's bucket is empty whatever ours says: empty ours too, so the retry waits
  one refill interval and later callers wait behind it.

Callers wait on a condition, not in a fixed sleep: when a response reveals a higher rate than the
documented one (the sandbox's time scale, a raised usage plan), waiting callers recompute at once
instead of sleeping out a wait computed at the old rate. The lock is released while waiting.
Accounts never share a bucket, so one account's backlog never slows another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dlt_sources.spapi.settings import OPERATIONS, Operation

DEFAULT_SAFETY = 0.95

Clock = Callable[[], float]


def parse_rate_header(value: str | None) -> float | None:
    """The rate of an `x-amzn-RateLimit-Limit` header, or None if it is absent or not a positive number."""
    if not value:
        return None
    try:
        rate = float(value.strip())
    except ValueError:
        return None
    return rate if rate > 0 and rate != float("inf") else None


class TokenBucket:
    """One (account, operation) bucket. Thread-safe."""

    def __init__(self, rate: float, burst: int, safety: float = DEFAULT_SAFETY, clock: Clock = time.monotonic,
                 ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        self.documented_rate = rate
        self.rate = rate  # the rate in force (from the header once a response carried it)
        self.burst = burst
        self.safety = safety
        self._clock = clock
        self._tokens = float(burst)  # Amazon's buckets start full
        self._updated = clock()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst}, tokens={self.tokens:.2f})"

    @property
    def pace(self) -> float:
        """Requests per second we actually allow ourselves."""
        return self.rate * self.safety

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    def _refill(self, now: float) -> None:
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.pace)
        self._updated = now

    def acquire(self) -> float:
        """Block until a token is ours; return the seconds waited."""
        started = self._clock()
        with self._changed:
            while True:
                now = self._clock()
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return now - started
                self._changed.wait((1.0 - self._tokens) / self.pace)

    def adapt(self, rate: float) -> None:
        """Follow the rate the server says is in force; the burst and the tokens held stay."""
        with self._lock:
            if rate == self.rate:
                return
            self._refill(self._clock())  # tokens earned so far count at the old rate
            self.rate = rate
            self._changed.notify_all()  # waiters recompute their wait at the new rate

    def throttled(self) -> None:
        """The server answered 429: its bucket is empty, so ours must be too (reservations stay)."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 0.0)


@dataclass(frozen=True)
class BucketState:
    rate: float
    burst: int
    tokens: float


class Throttle:
    """All buckets of a process, keyed by (account scope, operation); created on first use.

    One Throttle should be shared by every client of the same account in a process (threads of a
    dlt run): two mirrors of one server bucket would each spend the whole quota. `Throttle.shared()`
    is that process-wide instance; tests pass their own.
    """

    _shared: Throttle | None = None
    _shared_lock = threading.Lock()

    def __init__(self, operations: Mapping[str, Operation] = OPERATIONS, safety: float = DEFAULT_SAFETY,
                 clock: Clock = time.monotonic) -> None:
        self.operations = operations
        self.safety = safety
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> Throttle:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def bucket(self, scope: str, operation: str) -> TokenBucket:
        key = (scope, operation)
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                spec = self.operations[operation]
                found = self._buckets[key] = TokenBucket(spec.rate, spec.burst, self.safety, self._clock)
            return found

    def acquire(self, scope: str, operation: str) -> float:
        """Block until this account may call `operation`; return the seconds waited."""
        return self.bucket(scope, operation).acquire()

    def observe(self, scope: str, operation: str, rate_header: str | None) -> None:
        """Adapt to a response's `x-amzn-RateLimit-Limit` (ignored when absent or malformed)."""
        rate = parse_rate_header(rate_header)
        if rate is not None:
            self.bucket(scope, operation).adapt(rate)

    def throttled(self, scope: str, operation: str) -> None:
        self.bucket(scope, operation).throttled()

    def speedup(self, scope: str, operation: str) -> float:
        """How many times the documented rate the server grants (1 until a header said otherwise).

        A local sandbox running its clock faster reports that in the same header, so this is also how
        fast its time runs: waits that follow the server's clock (report polling) shrink with it.
        """
        return max(1.0, self.bucket(scope, operation).rate / self.operations[operation].rate)

    def state(self, scope: str, operation: str) -> BucketState:
        bucket = self.bucket(scope, operation)
        return BucketState(bucket.rate, bucket.burst, bucket.tokens)
