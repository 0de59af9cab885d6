"""Amazon's usage plans: one token bucket per seller account and operation, on the sandbox clock.

Rates and bursts are the documented defaults (Amazon's models, RATE_LIMITS.md). Buckets refill
in sandbox seconds, so with --time-scale X a client sees X times the documented rate in real
time; `x-amzn-RateLimit-Limit` reports that scaled rate, as Amazon reports a seller's actual limit.
"""

from __future__ import annotations

import threading

from spapi_sandbox.clock import SandboxClock

# operationId -> (rate in requests per second, burst). Orders v0 and Orders 2026-01-01 both name an
# operation "getOrder": the v0 one keeps the plain name, the 2026-01-01 one is "getOrder_2026".
RATE_LIMITS: dict[str, tuple[float, int]] = {
    # Sellers v1
    "getMarketplaceParticipations": (0.016, 15),
    "getAccount": (0.016, 15),
    # Orders 2026-01-01
    "searchOrders": (0.0056, 20),
    "getOrder_2026": (0.5, 30),
    # Orders v0 (deprecated, still widely called)
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "getOrderAddress": (0.5, 30),
    "getOrderBuyerInfo": (0.5, 30),
    "getOrderItemsBuyerInfo": (0.5, 30),
    # Finances v0 and 2024-06-19
    "listFinancialEventGroups": (0.5, 30),
    "listFinancialEventsByGroupId": (0.5, 30),
    "listFinancialEventsByOrderId": (0.5, 30),
    "listFinancialEvents": (0.5, 30),
    "listTransactions": (0.5, 10),
    "listBalances": (0.5, 10),
    "listSummary": (0.5, 10),
    # Transfers 2024-06-01
    "listPayouts": (0.5, 10),
    "listExpectedPayouts": (0.5, 10),
    # Reports 2021-06-30
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReports": (0.0222, 10),
    "cancelReport": (0.0222, 10),
    "getReportDocument": (0.0167, 15),
    # Catalog Items 2022-04-01
    "searchCatalogItems": (2.0, 2),
    "getCatalogItem": (2.0, 2),
    # FBA Inventory v1
    "getInventorySummaries": (2.0, 2),
    # Product Fees v0
    "getMyFeesEstimateForSKU": (1.0, 2),
    "getMyFeesEstimateForASIN": (1.0, 2),
    "getMyFeesEstimates": (0.5, 1),
    # Tokens 2021-03-01
    "createRestrictedDataToken": (1.0, 10),
}

# Routes whose operationId collides with another API's: the rate-limit key is taken from the path.
TEMPLATE_KEYS: dict[str, str] = {"/orders/2026-01-01/orders/{orderId}": "getOrder_2026"}

QUOTA_EXCEEDED = {"errors": [{"code": "QuotaExceeded",
                              "message": "You exceeded your quota for the requested resource."}]}


def limit_key(operation: str, template: str) -> str:
    """The RATE_LIMITS key of a route: its operationId, unless another API uses the same id."""
    return TEMPLATE_KEYS.get(template, operation)


def format_rate(rate: float) -> str:
    """The header value: Amazon writes plain decimals such as `0.0167` or `2.0`."""
    text = f"{rate:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class TokenBucket:
    """Holds up to `burst` requests and refills `rate` per sandbox second; starts full."""

    def __init__(self, rate: float, burst: int, clock: SandboxClock) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock.now()
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        with self._lock:
            now = self._clock.now()
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class RateLimiter:
    """All buckets of a running sandbox, created on first use per (seller account, operation)."""

    def __init__(self, clock: SandboxClock, limits: dict[str, tuple[float, int]] | None = None) -> None:
        self.clock = clock
        self.limits = RATE_LIMITS if limits is None else limits
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def is_limited(self, operation: str) -> bool:
        return operation in self.limits

    def rate_in_effect(self, operation: str) -> float:
        """The documented rate in real requests per second, i.e. scaled by the clock's speed."""
        return self.limits[operation][0] * self.clock.scale

    def acquire(self, seller_id: str, operation: str) -> tuple[bool, float]:
        """Take one request from the seller's bucket: (allowed, rate in effect)."""
        rate, burst = self.limits[operation]
        with self._lock:
            bucket = self._buckets.get((seller_id, operation))
            if bucket is None:
                bucket = self._buckets[(seller_id, operation)] = TokenBucket(rate, burst, self.clock)
        return bucket.try_take(), self.rate_in_effect(operation)
