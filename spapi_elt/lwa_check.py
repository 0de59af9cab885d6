"""`spapi-elt credentials check --online`: does Login with Amazon give each account an access token?

One real refresh-token grant per account, to the account's own token endpoint (Amazon's
https://api.amazon.com/auth/o2/token, or the `lwa_token_url` of the accounts file: the sandbox's
/auth/o2/token). The answer is one of: ok (an access token came back, and is thrown away), refused (LWA
answered with an error, e.g. `invalid_grant` for a revoked or mistyped refresh token, `invalid_client` for a
wrong client id or secret) or unreachable (no answer, or a server error). Never a secret in the output: the
grant is built by the source's `lwa_grant` and LWA's error text is scrubbed of the values it sent
(`parse_lwa_response`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from dlt_sources.spapi.auth import AuthError, lwa_grant, parse_lwa_response
from dlt_sources.spapi.config import AccountConfig
from dlt_sources.spapi.credentials import Secret, SecretRef

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class LwaOutcome:
    account: str
    state: str  # ok | refused | unreachable
    detail: str  # LWA's error code and description, or what kept us from an answer; never a secret


def check_lwa(account: AccountConfig, resolve: Callable[[SecretRef], Secret],
              http: httpx.Client | None = None) -> LwaOutcome:
    """One token request for `account` (its secrets must resolve: check those first)."""
    grant = lwa_grant(account, resolve)
    client = http or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        response = client.post(grant.url, data=grant.form, headers={"accept": "application/json"})
    except httpx.HTTPError as error:
        return LwaOutcome(account.name, "unreachable", f"{grant.url}: {type(error).__name__}")
    finally:
        if http is None:
            client.close()
    if response.status_code >= 500:
        return LwaOutcome(account.name, "unreachable", f"{grant.url}: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    try:
        parse_lwa_response(account.name, response.status_code, body, grant)
    except AuthError as error:
        code = error.error or f"HTTP {response.status_code}"
        return LwaOutcome(account.name, "refused", f"{code}: {error.description}" if error.description else code)
    return LwaOutcome(account.name, "ok", f"access token issued by {grant.url}")
