"""The HTTP server around the handlers: routing, wire format, errors, faults and the CLI."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest

from spapi_sandbox.faults import FaultProfile, RequestFault
from spapi_sandbox.http import ApiError, Request, Response
from tests.conftest import ROOT, TEST_ARGUMENTS

RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
NOT_FOUND = b'{"errors":[{"code":"NotFound","message":"Resource not found."}]}'


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spapi_sandbox", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


# --- routing and wire format -----------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/no/such/operation"),
    ("GET", "/"),
    ("DELETE", RDT_PATH),  # a known path with a method it does not have: Amazon answers 404 too
    ("GET", RDT_PATH + "/extra"),
])
def test_unknown_resources_are_404_not_found(sandbox, method, path):
    response = httpx.request(method, f"{sandbox.base_url}{path}", timeout=30,
                             headers={"x-amz-access-token": sandbox.access_token()})
    assert response.status_code == 404
    assert response.content == NOT_FOUND  # compact JSON, as Amazon sends it
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-amzn-RequestId"]


@pytest.mark.integration
def test_connections_are_kept_alive_and_request_ids_differ(sandbox):
    host, port = urlsplit(sandbox.base_url).hostname, urlsplit(sandbox.base_url).port
    connection = http.client.HTTPConnection(host, port, timeout=30)
    ids = set()
    try:
        for _ in range(3):
            connection.request("GET", "/nothing/here")
            response = connection.getresponse()
            assert response.status == 404 and response.read() == NOT_FOUND
            assert response.version == 11 and not response.will_close
            ids.add(response.getheader("x-amzn-RequestId"))
        assert connection.sock is not None  # the same socket served every request
    finally:
        connection.close()
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)


@pytest.mark.integration
def test_query_strings_and_extra_parameters_do_not_break_routing(sandbox):
    response = httpx.post(f"{sandbox.base_url}{RDT_PATH}?unknown=1&other=x", json={}, timeout=30,
                          headers={"x-amz-access-token": sandbox.access_token()})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "InvalidInput"


def failing_handler(state, req: Request) -> Response:
    raise RuntimeError("boom")


def teapot_handler(state, req: Request) -> Response:
    raise ApiError(418, "Teapot", "I am a teapot.", "short and stout")


def document_handler(state, req: Request) -> Response:
    return Response(200, gzip.compress(b"settlement-id\ttotal-amount\n1\t95,00\n", mtime=0),
                    content_type="application/octet-stream", headers={"x-test": "yes"})


def echo_handler(state, req: Request) -> Response:
    return Response(200, {"b": 1, "a": [req.seller_id, req.operation], "ü": "ß"})


TEST_ROUTES = (
    ("GET", "/testing/v0/fail", "getInventorySummaries", "access", failing_handler),
    ("GET", "/testing/v0/teapot", "getInventorySummaries", "access", teapot_handler),
    ("GET", "/testing/v0/documents/{documentId}", "downloadTestDocument", "none", document_handler),
    ("POST", "/testing/v0/echo", "getCatalogItem", "access", echo_handler),
)


@pytest.fixture
def test_server(inprocess_sandbox):
    return inprocess_sandbox(routes=TEST_ROUTES, verbose=True)


def test_unexpected_exceptions_are_500_internal_failure(test_server, capfd):
    token = test_server.access_token()
    response = httpx.get(f"{test_server.base_url}/testing/v0/fail?nextToken=SECRET", timeout=30,
                         headers={"x-amz-access-token": token})
    assert response.status_code == 500
    assert response.json() == {"errors": [{"code": "InternalFailure",
                                           "message": "We encountered an internal error. Please try again."}]}
    assert response.headers["x-amzn-RateLimit-Limit"] == "2.0"
    err = capfd.readouterr().err
    assert "RuntimeError: boom" in err and "getInventorySummaries" in err
    assert token not in err and "SECRET" not in err  # no tokens, no query values in the log
    assert "GET /testing/v0/fail?nextToken 500" in err


def test_api_errors_become_amazon_error_bodies(test_server):
    response = httpx.get(f"{test_server.base_url}/testing/v0/teapot", timeout=30,
                         headers={"x-amz-access-token": test_server.access_token()})
    assert response.status_code == 418
    assert response.json() == {"errors": [{"code": "Teapot", "message": "I am a teapot.",
                                           "details": "short and stout"}]}


def test_bytes_responses_are_sent_as_is_without_auth_or_rate_limit(test_server, capfd):
    responses = [httpx.get(f"{test_server.base_url}/testing/v0/documents/DOC-SIGNED-123", timeout=30)
                 for _ in range(5)]
    for response in responses:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["x-test"] == "yes"
        assert "x-amzn-RateLimit-Limit" not in response.headers
        assert gzip.decompress(response.content) == b"settlement-id\ttotal-amount\n1\t95,00\n"
    err = capfd.readouterr().err
    assert "DOC-SIGNED-123" not in err and "/testing/v0/documents/{documentId} 200" in err


def test_json_is_compact_utf8_in_the_order_built(test_server):
    response = httpx.post(f"{test_server.base_url}/testing/v0/echo", timeout=30,
                          headers={"x-amz-access-token": test_server.access_token(1)})
    seller = test_server.state.world.sellers[1].account.seller_id
    assert response.content == f'{{"b":1,"a":["{seller}","getCatalogItem"],"ü":"ß"}}'.encode()


# --- fault profiles --------------------------------------------------------------------------------

def test_flaky_faults_are_deterministic_and_never_repeat_for_one_request():
    first, second = FaultProfile("flaky", 7), FaultProfile("flaky", 7)
    draws = [first.request_fault("S1", "getReport") for _ in range(5000)]
    assert draws == [second.request_fault("S1", "getReport") for _ in range(5000)]
    assert all(a is None or b is None for a, b in zip(draws, draws[1:], strict=False))
    counts = {fault: draws.count(fault) for fault in RequestFault}
    assert 150 <= counts[RequestFault.THROTTLE] <= 350  # ~5%
    assert 80 <= counts[RequestFault.INTERNAL_ERROR] + counts[RequestFault.UNAVAILABLE] <= 220  # ~3%
    assert 40 <= counts[RequestFault.SLOW] <= 160 and 10 <= counts[RequestFault.DROP] <= 90
    assert draws != [FaultProfile("flaky", 8).request_fault("S1", "getReport") for _ in range(5000)]
    assert all(FaultProfile(name, 7).request_fault("S1", "getReport") is None
               for name in ("none", "reports", "auth") for _ in range(200))


def test_report_faults_affect_some_reports_and_only_first_downloads():
    faults = FaultProfile("reports", 7)
    outcomes = [faults.report_outcome(seq) for seq in range(1, 401)]
    assert {"DONE", "FATAL", "CANCELLED"} == set(outcomes)
    assert all(outcomes[i] == "DONE" for i in range(1, 400, 2))  # even sequence numbers always finish
    corrupt = [faults.corrupt_document(seq, 1) for seq in range(1, 401)]
    assert {None, "truncated", "corrupted"} == set(corrupt)
    assert all(faults.corrupt_document(seq, attempt) is None for seq in range(1, 401) for attempt in (2, 3))
    calm = FaultProfile("none", 7)
    assert {calm.report_outcome(s) for s in range(1, 200)} == {"DONE"}
    assert {calm.corrupt_document(s, 1) for s in range(1, 200)} == {None}


def test_a_dropped_connection_closes_without_response_and_the_retry_succeeds(inprocess_sandbox):
    sandbox = inprocess_sandbox(time_scale=1000.0, faults="flaky")
    seller = sandbox.state.world.sellers[0].account.seller_id
    oracle = FaultProfile("flaky", TEST_ARGUMENTS.seed)  # same seed, same decisions
    decisions = [oracle.request_fault(seller, "createRestrictedDataToken") for _ in range(2000)]
    drop_at = decisions.index(RequestFault.DROP)
    with httpx.Client(base_url=sandbox.base_url, timeout=30,
                      headers={"x-amz-access-token": sandbox.access_token()}) as client:
        for _ in range(drop_at):
            client.post(RDT_PATH, json={})
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(RDT_PATH, json={})
        assert client.post(RDT_PATH, json={}).status_code == 400  # the retry reaches the operation


def test_chunked_bodies_are_read_and_broken_framing_is_400(sandbox):
    host, port = urlsplit(sandbox.base_url).hostname, urlsplit(sandbox.base_url).port
    token = sandbox.access_token()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("POST", RDT_PATH, body=iter([b'{"restrictedResources":', b' []}']),
                           headers={"x-amz-access-token": token, "Content-Type": "application/json"},
                           encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 400
        assert b"restrictedResources is required" in response.read()
    finally:
        connection.close()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.putrequest("POST", RDT_PATH)
        connection.putheader("Content-Length", "lots")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 400 and response.will_close
        assert json.loads(response.read())["errors"][0]["code"] == "InvalidInput"
    finally:
        connection.close()


def test_unknown_fault_profile_is_refused():
    with pytest.raises(ValueError, match="unknown fault profile"):
        FaultProfile("chaos", 1)


class RetryingClient:
    """What a well-behaved client does: refresh on 403, retry 429, 5xx and dropped connections."""

    def __init__(self, sandbox, index: int) -> None:
        self.sandbox, self.index = sandbox, index
        self.http = sandbox.client()
        self.token = sandbox.access_token(index)
        self.tally = {"dropped": 0, "429": 0, "500": 0, "503": 0}

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        for _ in range(20):
            try:
                headers = {"x-amz-access-token": self.token}
                response = self.http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError:
                self.tally["dropped"] += 1
                continue
            if response.status_code == 403:  # the token expired: the clock runs fast here
                self.token = self.sandbox.access_token(self.index)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                self.tally[str(response.status_code)] += 1
                continue
            return response
        raise AssertionError(f"{method} {path} never succeeded")


@pytest.mark.integration
def test_flaky_sandbox_gives_a_retrying_client_the_same_data(start_sandbox):
    """About 11% of calls misbehave; retried, every answer equals the fault-free sandbox's."""
    scale = 5000.0
    pace = 1 / (0.016 * scale)  # getMarketplaceParticipations' documented rate, scaled
    results, tallies = {}, {}
    for profile in ("none", "flaky"):
        sandbox = start_sandbox(time_scale=scale, faults=profile)
        tally = {"dropped": 0, "429": 0, "500": 0, "503": 0}
        bodies = []
        for index in range(sandbox.arguments.sellers):
            client = RetryingClient(sandbox, index)
            for _ in range(60):
                response = client.request("GET", "/sellers/v1/marketplaceParticipations")
                bodies.append((response.status_code, response.content))
                response = client.request("POST", RDT_PATH, json={"x": 1})
                bodies.append((response.status_code, response.content))
                time.sleep(pace)
            client.http.close()
            tally = {k: v + client.tally[k] for k, v in tally.items()}
        results[profile], tallies[profile] = bodies, tally
    assert tallies["none"] == {"dropped": 0, "429": 0, "500": 0, "503": 0}
    assert tallies["flaky"]["429"] > 0 and tallies["flaky"]["500"] + tallies["flaky"]["503"] > 0
    assert sum(tallies["flaky"].values()) >= 10
    assert results["flaky"] == results["none"]
    assert {status for status, _ in results["none"]} == {200, 400}


# --- CLI ---------------------------------------------------------------------------------------------

@pytest.mark.integration
def test_serve_prints_one_url_line_and_stops_cleanly_on_sigterm(start_sandbox):
    sandbox = start_sandbox(extra=("--verbose",))
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.base_url)
    token = sandbox.access_token()
    httpx.post(f"{sandbox.base_url}{RDT_PATH}?nextToken=abc", json={}, timeout=30,
               headers={"x-amz-access-token": token})
    assert sandbox.stop() == 0
    assert sandbox.process.stdout.read() == b""  # nothing after the URL line
    log = sandbox.log()
    assert f"POST {RDT_PATH}?nextToken 400" in log and "POST /auth/o2/token 200" in log
    assert token not in log and "abc" not in log


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "2026-13-01"], "invalid date '2026-13-01'"),
    (["--start", "yesterday"], "invalid date"),
    (["--days", "0"], "must be at least 1"),
    (["--sellers", "0"], "must be at least 1"),
    (["--orders-per-day", "x"], "invalid integer"),
    (["--faults", "chaos"], "invalid choice: 'chaos'"),
    (["--time-scale", "0"], "must be a positive number"),
    (["--port", "-1"], "must be at least 0"),
])
def test_serve_refuses_bad_arguments_with_exit_code_2(args, message):
    result = run_cli("serve", *args, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""


def test_no_command_is_a_usage_error():
    result = run_cli(timeout=60)
    assert result.returncode == 2 and "usage: spapi-sandbox" in result.stderr


def test_truth_writes_the_ground_truth(tmp_path):
    out = tmp_path / "truth.json"
    args = ["--seed", "3", "--sellers", "1", "--days", "20", "--orders-per-day", "5"]
    result = run_cli("truth", *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    truth = json.loads(out.read_text())
    assert truth["arguments"]["seed"] == 3 and len(truth["accounts"]) == 1
    again = tmp_path / "again.json"
    assert run_cli("truth", *args, "--out", str(again)).returncode == 0
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.integration
def test_demo_summarises_what_the_sandbox_serves():
    result = run_cli("demo", "--sellers", "2", "--days", "30", "--orders-per-day", "5", timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"Sandbox serving at http://127\.0\.0\.1:\d+", out)
    for column in ("seller", "marketplaces", "orders", "settlement reports", "event groups"):
        assert column in out
    assert "getMarketplaceParticipations" in out and "createRestrictedDataToken" in out
    assert "US,CA" in out and "GB,DE" in out


def test_default_arguments_are_the_documented_ones():
    from spapi_sandbox.cli import build_parser, data_arguments

    assert data_arguments(build_parser().parse_args(["serve"])) == TEST_ARGUMENTS.__class__()
