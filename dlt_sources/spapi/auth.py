"""Login with Amazon access tokens and Restricted Data Tokens: obtained once, shared, refreshed in time.

Every SP-API call carries a token in `x-amz-access-token`: an LWA access token (refresh-token grant,
valid about an hour) or, for restricted operations, a Restricted Data Token from the Tokens API.
Getting one costs a round trip (and, for RDTs, quota), so tokens are cached:

- per account (LWA) and per (account, restricted resource set) (RDT);
- until `margin` seconds before they expire, so no call starts with a token about to lapse;
- behind one lock per cache entry: concurrent callers wait for a single refresh and share its result;
- dropped when the server rejects them (a 403 saying expired/invalid): the client then refreshes
  once and retries. A rejected token is dropped only if it is still the cached one, so many threads
  failing with the same token cause one refresh, not many.

This module does no HTTP itself: the client passes a `fetch` callable that performs the grant (with
its retries and audit), so the cache stays small and testable. Tokens and secrets are `Secret`s
(redacted in every repr); LWA errors carry LWA's `error` and `error_description`, scrubbed of any
secret value, never the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.credentials import Secret, SecretRef

DEFAULT_MARGIN = 60.0  # refresh this many seconds before a token expires
REDACTED = "***"

Clock = Callable[[], float]
SecretResolver = Callable[[SecretRef], Secret]
Fetch = Callable[[], tuple[Secret, float]]  # -> (token, lifetime in seconds)


class AuthError(Exception):
    """A token could not be obtained. Names the account and LWA's error code, never a secret."""

    def __init__(self, account: str, message: str, status: int | None = None, error: str = "",
                 description: str = "") -> None:
        super().__init__(message)
        self.account = account
        self.status = status
        self.error = error
        self.description = description


def resolve_from_environment(ref: SecretRef) -> Secret:
    """The default resolver: environment variables only (a credentials-file resolver is passed in)."""
    return ref.resolve()


def scrub(text: str, secrets: Iterable[Secret]) -> str:
    """`text` with every secret value replaced by ***: for server messages that might echo input."""
    for secret in secrets:
        value = secret.reveal()
        if len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


@dataclass(frozen=True)
class LwaGrant:
    """The refresh-token grant of one account: the form to POST, with the secrets it reveals."""

    url: str
    form: dict[str, str]
    secrets: tuple[Secret, ...]

    def __repr__(self) -> str:
        return f"LwaGrant(url={self.url!r}, fields={sorted(self.form)})"


def lwa_grant(account: AccountConfig, resolve: SecretResolver) -> LwaGrant:
    """Build the refresh-token grant; the secrets are revealed here, into the form only."""
    refresh_token = resolve(account.refresh_token)
    client_secret = resolve(account.lwa_client_secret)
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token.reveal(),
            "client_id": account.lwa_client_id, "client_secret": client_secret.reveal()}
    return LwaGrant(account.lwa_token_url, form, (refresh_token, client_secret))


def parse_lwa_response(account: str, status: int, body: Any, grant: LwaGrant) -> tuple[Secret, float]:
    """(access token, lifetime) from LWA's answer, or AuthError with LWA's error code and description."""
    if status == 200 and isinstance(body, Mapping) and isinstance(body.get("access_token"), str):
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        return Secret(body["access_token"]), lifetime
    error = description = ""
    if isinstance(body, Mapping):
        error = scrub(str(body.get("error", "")), grant.secrets)[:100]
        description = scrub(str(body.get("error_description", "")), grant.secrets)[:300]
    message = f"LWA refused an access token for account {account!r}: HTTP {status}"
    if error:
        message += f" {error}"
    if description:
        message += f": {description}"
    if status == 200:
        message += " (the answer holds no access_token)"
    raise AuthError(account, message, status, error, description)


def is_token_rejection(status: int, body: Any) -> bool:
    """Does this answer say the token itself was the problem (expired, revoked, malformed, missing)?

    Amazon answers 403 `Unauthorized` both for a bad token and for an application that lacks a role;
    only the first is cured by a fresh token, and it is the one whose details mention the token.
    """
    if status != 403 or not isinstance(body, Mapping):
        return False
    for error in body.get("errors") or ():
        if not isinstance(error, Mapping):
            continue
        text = f"{error.get('message', '')} {error.get('details', '')}".lower()
        if "token" in text and any(word in text for word in ("expired", "revoked", "malformed", "invalid",
                                                               "missing")):
            return True
    return False


@dataclass
class _Entry:
    lock: threading.Lock
    token: Secret | None = None
    refresh_at: float = 0.0  # clock time after which the token is not used any more

    def __repr__(self) -> str:
        return f"_Entry(cached={self.token is not None}, refresh_at={self.refresh_at:.1f})"


class TokenCache:
    """Tokens by key, each refreshed `margin` seconds before it expires. Thread-safe."""

    def __init__(self, margin: float = DEFAULT_MARGIN, clock: Clock = time.monotonic) -> None:
        self.margin = margin
        self._clock = clock
        self._entries: dict[Hashable, _Entry] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenCache({len(self._entries)} keys)"

    def _entry(self, key: Hashable) -> _Entry:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(threading.Lock())
            return entry

    def get(self, key: Hashable, fetch: Fetch) -> Secret:
        """The cached token, or a fresh one from `fetch` (one fetch at a time per key)."""
        entry = self._entry(key)
        with entry.lock:
            if entry.token is not None and self._clock() < entry.refresh_at:
                return entry.token
            token, lifetime = fetch()
            # Short-lived tokens: never refresh earlier than half their life.
            ahead = min(self.margin, max(lifetime, 0.0) / 2)
            entry.token, entry.refresh_at = token, self._clock() + lifetime - ahead
            return token

    def invalidate(self, key: Hashable, rejected: Secret) -> None:
        """Drop `rejected` if it is still the cached token (another thread may have refreshed already)."""
        entry = self._entry(key)
        with entry.lock:
            if entry.token is not None and entry.token == rejected:
                entry.token, entry.refresh_at = None, 0.0

    def is_cached(self, key: Hashable) -> bool:
        entry = self._entry(key)
        with entry.lock:
            return entry.token is not None and self._clock() < entry.refresh_at


class TokenStore:
    """The access-token and RDT caches of a process. Share one between clients of the same account.

    `TokenStore.shared()` is the process-wide instance the client uses by default, so resources of one
    run (dlt extracts them in threads) refresh a token once, not once each.
    """

    _shared: TokenStore | None = None
    _shared_lock = threading.Lock()

    def __init__(self, margin: float = DEFAULT_MARGIN, clock: Clock = time.monotonic) -> None:
        self.access = TokenCache(margin, clock)
        self.restricted = TokenCache(margin, clock)

    def __repr__(self) -> str:
        return f"TokenStore(access={self.access!r}, restricted={self.restricted!r})"

    @classmethod
    def shared(cls) -> TokenStore:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared


def account_key(account: AccountConfig) -> tuple[str, str, str, str]:
    """What identifies an account's LWA grant (without any secret): token URL, client, seller, name."""
    return (account.lwa_token_url, account.lwa_client_id, account.seller_id, account.name)


def restricted_key(account: AccountConfig, resources: Iterable[Mapping[str, Any]]) -> tuple:
    """An RDT cache key: the account and the (method, path, data elements) of every resource."""
    normalised = tuple(sorted((str(r["method"]).upper(), str(r["path"]),
                               tuple(sorted(r.get("dataElements", ())))) for r in resources))
    return (*account_key(account), normalised)
