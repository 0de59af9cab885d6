"""LWA access tokens and their cache against the real sandbox: refresh ahead of expiry, on 403, once for
many threads; LWA errors; and the sandbox's real secrets never showing in logs, reprs or exceptions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from dlt_sources.spapi.audit import AuditKind, MemoryAuditSink, count
from dlt_sources.spapi.auth import (
    AuthError,
    TokenCache,
    TokenStore,
    account_key,
    is_token_rejection,
    lwa_grant,
    scrub,
)
from dlt_sources.spapi.client import SpApiError
from dlt_sources.spapi.credentials import Secret
from spapi_sandbox.faults import EARLY_TOKEN_LIFETIME
from tests.conftest import TEST_ARGUMENTS, Sandbox, running_sandbox
from tests.dlt_sources.test_client import account_config, make_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fast() -> Iterator[Sandbox]:
    with running_sandbox(TEST_ARGUMENTS, time_scale=100.0) as running:
        yield running


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refreshes(audit: MemoryAuditSink) -> int:
    return count(audit.events(), AuditKind.TOKEN_REFRESH, outcome="ok")


def test_access_token_is_cached_and_refreshed_60_s_ahead_of_expiry(fast: Sandbox) -> None:
    clock, audit = FakeClock(), MemoryAuditSink()
    client = make_client(fast, audit=audit, tokens=TokenStore(margin=60.0, clock=clock))
    client.call("getMarketplaceParticipations")
    first = client.access_token()
    assert refreshes(audit) == 1

    clock.now += 3600 - 61  # LWA said expires_in 3600: still outside the margin
    client.call("getMarketplaceParticipations")
    assert refreshes(audit) == 1 and client.access_token() == first

    clock.now += 2  # now within 60 s of expiry: refreshed before the call, not after a failure
    client.call("getMarketplaceParticipations")
    assert refreshes(audit) == 2 and client.access_token() != first
    assert not any(e.status == 403 for e in audit.events())


def test_an_expired_token_is_refreshed_once_on_403_and_the_call_retried(start_sandbox) -> None:
    """faults=auth: every fifth access token dies after 60 sandbox seconds although LWA says 3600."""
    scale = 1000.0
    sandbox = start_sandbox(time_scale=scale, faults="auth")
    audit = MemoryAuditSink()
    client = make_client(sandbox, audit=audit)
    for _ in range(10):  # ten fresh tokens: at least one of them is short-lived
        client.tokens.access.invalidate(account_key(client.account), client.access_token())
        client.access_token()
        time.sleep(EARLY_TOKEN_LIFETIME / scale * 1.5)  # the short ones have expired, the others not
        assert client.call("getMarketplaceParticipations")["payload"]
    events = audit.events()
    rejected = [i for i, e in enumerate(events) if e.kind == AuditKind.API_CALL and e.status == 403]
    assert 1 <= len(rejected) <= 4
    for i in rejected:  # each rejection: one refresh, then the same call succeeds on its next attempt
        assert events[i].outcome == "Unauthorized"
        assert events[i + 1].kind == AuditKind.TOKEN_REFRESH and events[i + 1].outcome == "ok"
        retried = events[i + 2]
        assert retried.kind == AuditKind.API_CALL and (retried.status, retried.attempt) == (200, 2)
    assert client.stats.totals().errors == 0


def test_threads_share_one_refresh(fast: Sandbox) -> None:
    audit = MemoryAuditSink()
    client = make_client(fast, audit=audit)
    barrier = threading.Barrier(8)
    tokens: list[Secret] = []

    def fetch() -> None:
        barrier.wait()
        tokens.append(client.access_token())

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refreshes(audit) == 1 and len(tokens) == 8 and all(t == tokens[0] for t in tokens)

    # Eight threads calling with a token the server rejects: one refresh, every call succeeds.
    client.tokens.access.invalidate(account_key(client.account), tokens[0])
    client.tokens.access.get(account_key(client.account), lambda: (Secret("Atza|revoked-long-ago"), 3600.0))
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def call() -> None:
        barrier.wait()
        try:
            client.call("getMarketplaceParticipations")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert refreshes(audit) == 2  # the first token and exactly one replacement of the rejected one


def test_lwa_errors_name_lwas_code_never_the_secrets(fast: Sandbox) -> None:
    config, env = account_config(fast)
    secrets = [env[k] for k in env]
    wrong_token = {**env, "SPAPI_TEST_REFRESH_0": "Atzr|not-the-right-refresh-token-123"}
    wrong_secret = {**env, "SPAPI_TEST_SECRET_0": "amzn1.oa2-cs.v1.not-the-right-secret"}
    cases = ((wrong_token, 400, "invalid_grant"), (wrong_secret, 401, "invalid_client"))
    for environment, status, code in cases:
        client = make_client(fast, env=environment)
        with pytest.raises(AuthError) as refused:
            client.call("getMarketplaceParticipations")
        error = refused.value
        assert (error.status, error.error) == (status, code)
        assert code in str(error) and repr(config.name) in str(error)
        assert error.description  # LWA's error_description is surfaced
        shown = f"{error} {error!r} {error.description} {error.__cause__!r} {error.__context__!r}"
        for value in (*secrets, *environment.values()):
            assert value not in shown


def test_secrets_never_reach_logs_reprs_or_errors(fast: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # everything, including httpx and httpcore wire traces
    config, env = account_config(fast)
    audit = MemoryAuditSink()
    client = make_client(fast, audit=audit)
    client.call("getMarketplaceParticipations")
    params = {"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": 1,
              "marketplaceIds": config.marketplace_ids}
    client.call("searchOrders", params=params, data_elements=["buyerInfo"])
    access, rdt = client.access_token(), client.restricted_token(
        [client.restricted_resource(client.operations["searchOrders"], ["buyerInfo"])])
    with pytest.raises(SpApiError) as failed:
        client.call("getReport", {"reportId": "nope"})
    grant = lwa_grant(config, lambda ref: ref.resolve(env))

    values = [*env.values(), access.reveal(), rdt.reveal()]
    shown = [caplog.text, repr(client), repr(client.tokens), repr(client.tokens.access), repr(grant),
             repr(config), str(config), repr(access), repr(rdt), str(failed.value), repr(failed.value),
             *(repr(e) for e in audit.events()), *(str(e.as_row()) for e in audit.events()),
             repr(client.stats), repr(client.throttle.bucket(client.scope, "searchOrders"))]
    for text in shown:
        for value in values:
            assert value not in text
    assert "HTTP Request" in caplog.text  # httpx did log its requests, with the URL cut to the origin
    assert "createdAfter" not in caplog.text and "maxResultsPerPage" not in caplog.text


def test_token_rejection_is_told_from_a_missing_role() -> None:
    def body(details: str) -> dict:
        return {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                            "details": details}]}

    assert is_token_rejection(403, body("The access token you provided has expired."))
    assert is_token_rejection(403, body("The access token you provided is revoked, malformed or invalid."))
    assert is_token_rejection(403, body("Access token is missing in the request header."))
    assert not is_token_rejection(403, body(""))  # the application lacks a role: a new token will not help
    assert not is_token_rejection(403, body("This operation requires a Restricted Data Token for the "
                                            "requested resource."))
    assert not is_token_rejection(400, body("The access token you provided has expired."))
    assert not is_token_rejection(403, None)


def test_token_cache_refreshes_short_lived_tokens_at_half_life_and_drops_only_the_rejected() -> None:
    clock = FakeClock()
    cache = TokenCache(margin=60.0, clock=clock)
    issued = iter(Secret(f"t{i}") for i in range(10))
    first = cache.get("k", lambda: (next(issued), 100.0))
    clock.now += 49
    assert cache.get("k", lambda: (next(issued), 100.0)) == first
    clock.now += 2  # past half of a 100 s life (a 60 s margin would leave nothing)
    second = cache.get("k", lambda: (next(issued), 100.0))
    assert second != first
    cache.invalidate("k", first)  # a stale rejection does not drop the newer token
    assert cache.is_cached("k")
    cache.invalidate("k", second)
    assert not cache.is_cached("k")


def test_scrub_removes_secret_values() -> None:
    secret = Secret("amzn1.oa2-cs.v1.s3cr3t")
    assert scrub("bad client_secret amzn1.oa2-cs.v1.s3cr3t here", [secret]) == "bad client_secret *** here"
