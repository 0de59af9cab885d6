"""A small client for tests that call the sandbox's SP-API operations over real HTTP.

It wraps a running `spapi-sandbox serve` (tests.conftest.launch_sandbox), fetches and caches one
LWA access token per seller account, and creates Restricted Data Tokens on demand. API test
modules start their own server (module scope) so their calls do not drain the rate-limit buckets
of the session-wide `sandbox` other tests share.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.world import SellerWorld, World
from tests.conftest import TEST_ARGUMENTS, Sandbox, launch_sandbox

MAX_WAIT = 5.0  # seconds a paced call may wait for a token


@dataclass
class Api:
    sandbox: Sandbox
    _tokens: dict[int, str] = field(default_factory=dict)
    _client: httpx.Client | None = None

    @property
    def world(self) -> World:
        return self.sandbox.world

    def seller(self, index: int = 0) -> SellerWorld:
        return self.world.sellers[index]

    def marketplace_id(self, index: int = 0, which: int = 0) -> str:
        return MARKETPLACES[self.seller(index).account.marketplace_codes[which]].marketplace_id

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = self.sandbox.client()
        return self._client

    def token(self, seller: int = 0) -> str:
        if seller not in self._tokens:
            self._tokens[seller] = self.sandbox.access_token(seller)
        return self._tokens[seller]

    def rdt(self, resources: list[dict[str, Any]], seller: int = 0) -> str:
        for _ in range(5):  # createRestrictedDataToken allows 1 per second after a burst of 10
            response = self.client.post("/tokens/2021-03-01/restrictedDataToken",
                                        json={"restrictedResources": resources},
                                        headers={"x-amz-access-token": self.token(seller)})
            if response.status_code != 429:
                break
            time.sleep(1.0 / self.sandbox.time_scale)
        assert response.status_code == 200, response.text
        return response.json()["restrictedDataToken"]

    def request(self, method: str, path: str, params: Any = None, json: Any = None, seller: int = 0,
                token: str | None = None, anonymous: bool = False, paced: bool = True) -> httpx.Response:
        """One call. `paced`: on 429 wait for the bucket to refill and retry, as a polite client does,
        unless the operation's rate is so low that the wait would be longer than MAX_WAIT seconds."""
        headers = {} if anonymous else {"x-amz-access-token": token or self.token(seller)}
        for _ in range(10):
            response = self.client.request(method, path, params=params, json=json, headers=headers)
            if response.status_code != 429 or not paced:
                return response
            wait = 1.0 / float(response.headers["x-amzn-RateLimit-Limit"])  # real seconds per request
            if wait > MAX_WAIT:
                return response
            time.sleep(wait)
        return response

    def get(self, path: str, params: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, params=params, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@contextmanager
def running_api(**options: Any) -> Iterator[Api]:
    """Start a sandbox (TEST_ARGUMENTS, clock x1, no faults unless told otherwise) and stop it after."""
    options.setdefault("arguments", TEST_ARGUMENTS)
    sandbox = launch_sandbox(**options)
    api = Api(sandbox)
    try:
        yield api
    finally:
        api.close()
        sandbox.close()


def error_codes(response: httpx.Response) -> list[str]:
    return [e["code"] for e in response.json().get("errors", [])]
