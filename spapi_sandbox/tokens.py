"""LWA access tokens and Restricted Data Tokens issued by a running sandbox.

Tokens are random (nothing to derive them from), bound to one seller account, and expire on the
sandbox clock. They are secrets: nothing here logs them, and `repr` of a record hides the token.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from spapi_sandbox.clock import SandboxClock

if TYPE_CHECKING:
    from spapi_sandbox.faults import FaultProfile

ACCESS_TOKEN_LIFETIME = 3600  # sandbox seconds, as LWA's expires_in
RDT_LIFETIME = 3600
_KEEP_EXPIRED = 86400  # remember expired tokens this long, so clients get "expired" rather than "invalid"


@dataclass(frozen=True)
class RestrictedResource:
    """One restricted resource an RDT covers: a method and a path, `{name}` matching any one segment."""

    method: str
    path: str
    data_elements: tuple[str, ...] = ()

    def covers(self, method: str, path: str) -> bool:
        if method.upper() != self.method.upper():
            return False
        mine, theirs = self.path.strip("/").split("/"), path.strip("/").split("/")
        if len(mine) != len(theirs):
            return False
        pairs = zip(mine, theirs, strict=True)
        return all(m == t or (m.startswith("{") and m.endswith("}")) for m, t in pairs)


class TokenStatus(Enum):
    VALID = "valid"
    MISSING = "missing"
    INVALID = "invalid"  # never issued (or forgotten long after expiry)
    EXPIRED = "expired"


@dataclass(frozen=True)
class IssuedToken:
    token: str = field(repr=False)
    seller_id: str
    expires_at: float  # sandbox epoch seconds
    restricted: tuple[RestrictedResource, ...] | None = None  # None: a plain LWA access token

    @property
    def is_rdt(self) -> bool:
        return self.restricted is not None

    def covering(self, method: str, path: str) -> RestrictedResource | None:
        """The RDT resource that grants `method path`, if any (None for plain access tokens)."""
        for resource in self.restricted or ():
            if resource.covers(method, path):
                return resource
        return None


class TokenStore:
    """Issues and checks tokens; thread-safe. `faults` may shorten access-token lifetimes (profile auth)."""

    def __init__(self, clock: SandboxClock, faults: FaultProfile | None = None) -> None:
        self.clock = clock
        self.faults = faults
        self._tokens: dict[str, IssuedToken] = {}
        self._issued_access = 0
        self._lock = threading.Lock()

    def issue_access_token(self, seller_id: str) -> IssuedToken:
        """A new LWA access token (`Atza|...`). Its real lifetime is 3600 s unless a fault shortens it."""
        with self._lock:
            self._issued_access += 1
            sequence = self._issued_access
        lifetime = ACCESS_TOKEN_LIFETIME
        if self.faults is not None:
            lifetime = self.faults.access_token_lifetime(sequence, ACCESS_TOKEN_LIFETIME)
        return self._store("Atza|", seller_id, lifetime, None)

    def issue_rdt(self, seller_id: str, resources: list[RestrictedResource]) -> IssuedToken:
        """A Restricted Data Token (`Atz.sprdt|...`) for exactly these resources."""
        return self._store("Atz.sprdt|", seller_id, RDT_LIFETIME, tuple(resources))

    def check(self, token: str | None) -> tuple[TokenStatus, IssuedToken | None]:
        if not token:
            return TokenStatus.MISSING, None
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None:
            return TokenStatus.INVALID, None
        if self.clock.now() >= issued.expires_at:
            return TokenStatus.EXPIRED, issued
        return TokenStatus.VALID, issued

    def data_elements(self, token: str | None, method: str, path: str) -> frozenset[str]:
        """The PII data elements (buyerInfo, shippingAddress, ...) a valid RDT grants for this call.

        Handlers of operations that return PII only with an RDT (getOrders, getOrder, getOrderItems)
        call this with the request's `x-amz-access-token`; a plain access token grants nothing.
        """
        status, issued = self.check(token)
        if status is not TokenStatus.VALID or issued is None:
            return frozenset()
        resource = issued.covering(method, path)
        return frozenset(resource.data_elements) if resource else frozenset()

    def _store(self, prefix: str, seller_id: str, lifetime: float,
               restricted: tuple[RestrictedResource, ...] | None) -> IssuedToken:
        now = self.clock.now()
        issued = IssuedToken(prefix + secrets.token_urlsafe(48), seller_id, now + lifetime, restricted)
        with self._lock:
            self._tokens[issued.token] = issued
            if len(self._tokens) % 1024 == 0:
                self._forget_old(now)
        return issued

    def _forget_old(self, now: float) -> None:
        stale = [t for t, issued in self._tokens.items() if issued.expires_at + _KEEP_EXPIRED < now]
        for token in stale:
            del self._tokens[token]
