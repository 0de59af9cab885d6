"""LWA token grant, access-token checks and Restricted Data Tokens, over real HTTP."""

from __future__ import annotations

import time

import httpx
import jsonschema
import pytest

from spapi_sandbox.http import Request, Response
from spapi_sandbox.tokens import RestrictedResource

pytestmark = pytest.mark.integration

RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
DENIED = "Access to requested resource is denied."


def unauthorized(details: str) -> dict:
    return {"errors": [{"code": "Unauthorized", "message": DENIED, "details": details}]}


def grant(base_url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{base_url}/auth/o2/token", data=form, timeout=30)


def account_form(sandbox, index: int = 0) -> dict[str, str]:
    account = sandbox.account(index)
    return {"grant_type": "refresh_token", "refresh_token": account.refresh_token,
            "client_id": account.lwa_client_id, "client_secret": account.lwa_client_secret}


# --- LWA: POST /auth/o2/token -----------------------------------------------------------------------

def test_refresh_token_grant_returns_a_bearer_token(sandbox):
    form = account_form(sandbox)
    response = grant(sandbox.base_url, **form)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "refresh_token", "token_type", "expires_in"]
    assert body["access_token"].startswith("Atza|") and len(body["access_token"]) > 40
    assert body["refresh_token"] == form["refresh_token"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert "x-amzn-RateLimit-Limit" not in response.headers  # LWA is not an SP-API operation


def test_every_account_gets_its_own_tokens(sandbox):
    tokens = {sandbox.access_token(i) for i in range(sandbox.arguments.sellers)}
    assert len(tokens) == sandbox.arguments.sellers


def test_unknown_refresh_token_is_invalid_grant(sandbox):
    response = grant(sandbox.base_url, **{**account_form(sandbox), "refresh_token": "Atzr|not-a-token"})
    assert response.status_code == 400
    description = "The request has an invalid grant parameter : refresh_token"
    assert response.json() == {"error": "invalid_grant", "error_description": description}


def test_another_accounts_refresh_token_is_invalid_grant(sandbox):
    other = sandbox.account(1).refresh_token
    response = grant(sandbox.base_url, **{**account_form(sandbox, 0), "refresh_token": other})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("field", ["client_id", "client_secret"])
def test_wrong_client_credentials_are_invalid_client(sandbox, field):
    response = grant(sandbox.base_url, **{**account_form(sandbox), field: "wrong"})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Client authentication failed"}


def test_other_grant_types_are_unsupported(sandbox):
    response = grant(sandbox.base_url, **{**account_form(sandbox), "grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("missing", ["grant_type", "refresh_token", "client_id", "client_secret"])
def test_missing_parameters_are_invalid_request(sandbox, missing):
    form = {k: v for k, v in account_form(sandbox).items() if k != missing}
    response = grant(sandbox.base_url, **form)
    assert response.status_code == 400
    description = f"The request is missing a required parameter : {missing}"
    assert response.json() == {"error": "invalid_request", "error_description": description}


# --- access tokens on SP-API operations ------------------------------------------------------------

def test_missing_access_token_is_403_unauthorized(sandbox):
    response = httpx.post(f"{sandbox.base_url}{RDT_PATH}", json={}, timeout=30)
    assert response.status_code == 403
    assert response.json() == unauthorized("Access token is missing in the request header.")
    assert response.headers["x-amzn-RequestId"]


def test_unknown_access_token_is_403_unauthorized(sandbox):
    response = httpx.post(f"{sandbox.base_url}{RDT_PATH}", json={}, timeout=30,
                          headers={"x-amz-access-token": "Atza|forged"})
    assert response.status_code == 403
    assert response.json() == unauthorized("The access token you provided is revoked, malformed or invalid.")


def test_valid_access_token_reaches_the_operation(sandbox):
    response = httpx.post(f"{sandbox.base_url}{RDT_PATH}", json={}, timeout=30,
                          headers={"x-amz-access-token": sandbox.access_token()})
    assert response.status_code == 400  # past auth: the empty body is the operation's own error
    assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_access_token_expires_after_an_hour_of_sandbox_time(start_sandbox):
    fast = start_sandbox(time_scale=3600.0)  # one sandbox hour per real second
    token = fast.access_token()
    headers = {"x-amz-access-token": token}
    assert httpx.post(f"{fast.base_url}{RDT_PATH}", json={}, headers=headers, timeout=30).status_code == 400
    time.sleep(1.3)
    response = httpx.post(f"{fast.base_url}{RDT_PATH}", json={}, headers=headers, timeout=30)
    assert response.status_code == 403
    assert response.json() == unauthorized("The access token you provided has expired.")
    fresh = {"x-amz-access-token": fast.access_token()}  # refreshing recovers
    assert httpx.post(f"{fast.base_url}{RDT_PATH}", json={}, headers=fresh, timeout=30).status_code == 400


def test_auth_fault_profile_expires_every_fifth_token_early(start_sandbox):
    # seed 7: the (n + 7) % 5 == 0 th tokens, i.e. the 3rd and 8th, live 60 sandbox seconds (1 s here)
    faulty = start_sandbox(time_scale=60.0, faults="auth")
    tokens = [faulty.access_token(i % 2) for i in range(10)]
    time.sleep(1.3)
    statuses = [httpx.post(f"{faulty.base_url}{RDT_PATH}", json={}, timeout=30,
                           headers={"x-amz-access-token": t}).status_code for t in tokens]
    assert statuses == [400, 400, 403, 400, 400, 400, 400, 403, 400, 400]


# --- Restricted Data Tokens ------------------------------------------------------------------------

def restricted_handler(state, req: Request) -> Response:
    elements = sorted(state.tokens.data_elements(req.headers.get("x-amz-access-token"), req.method, req.path))
    return Response(200, {"payload": {"thingId": req.path_params["thingId"], "seller": req.seller_id,
                                      "dataElements": elements}})


TEST_ROUTES = (("GET", "/testing/v0/things/{thingId}/address", "getThingAddress", "restricted",
                restricted_handler),)


@pytest.fixture
def rdt_sandbox(inprocess_sandbox):
    return inprocess_sandbox(routes=TEST_ROUTES)


def create_rdt(base_url: str, token: str, resources: list[dict]) -> httpx.Response:
    return httpx.post(f"{base_url}{RDT_PATH}", json={"restrictedResources": resources}, timeout=30,
                      headers={"x-amz-access-token": token})


def test_restricted_route_refuses_a_plain_access_token(rdt_sandbox):
    response = httpx.get(f"{rdt_sandbox.base_url}/testing/v0/things/T1/address", timeout=30,
                         headers={"x-amz-access-token": rdt_sandbox.access_token()})
    assert response.status_code == 403
    assert response.json() == unauthorized(
        "This operation requires a Restricted Data Token for the requested resource.")


def test_rdt_for_a_path_template_opens_every_matching_resource(rdt_sandbox):
    created = create_rdt(rdt_sandbox.base_url, rdt_sandbox.access_token(1), [
        {"method": "GET", "path": "/testing/v0/things/{thingId}/address",
         "dataElements": ["shippingAddress"]}])
    assert created.status_code == 200
    body = created.json()
    assert list(body) == ["restrictedDataToken", "expiresIn"]
    assert body["restrictedDataToken"].startswith("Atz.sprdt|") and body["expiresIn"] == 3600
    assert created.headers["x-amzn-RateLimit-Limit"] == "1.0"
    seller = rdt_sandbox.state.world.sellers[1].account.seller_id
    for thing in ("T1", "T2"):
        response = httpx.get(f"{rdt_sandbox.base_url}/testing/v0/things/{thing}/address", timeout=30,
                             headers={"x-amz-access-token": body["restrictedDataToken"]})
        assert response.status_code == 200
        assert response.json() == {"payload": {"thingId": thing, "seller": seller,
                                               "dataElements": ["shippingAddress"]}}


def test_rdt_for_one_resource_does_not_open_others(rdt_sandbox):
    rdt = create_rdt(rdt_sandbox.base_url, rdt_sandbox.access_token(), [
        {"method": "GET", "path": "/testing/v0/things/T1/address"}]).json()["restrictedDataToken"]
    headers = {"x-amz-access-token": rdt}
    ok = httpx.get(f"{rdt_sandbox.base_url}/testing/v0/things/T1/address", headers=headers, timeout=30)
    assert ok.status_code == 200
    other = httpx.get(f"{rdt_sandbox.base_url}/testing/v0/things/T2/address", headers=headers, timeout=30)
    assert other.status_code == 403
    assert other.json() == unauthorized(
        "The Restricted Data Token you provided does not cover the requested resource.")
    # nor is an RDT an access token for operations it does not name
    assert create_rdt(rdt_sandbox.base_url, rdt, [{"method": "GET", "path": "/testing/v0/things/T3/address"}
                                                  ]).status_code == 403


@pytest.mark.parametrize("body", [
    {},
    {"restrictedResources": []},
    {"restrictedResources": [{"method": "GET"}]},
    {"restrictedResources": [{"method": "FETCH", "path": "/testing/v0/things/T1/address"}]},
    {"restrictedResources": [{"method": "GET", "path": "/no/such/resource"}]},
    {"restrictedResources": [{"method": "GET", "path": "/testing/v0/things/T1/address",
                              "dataElements": "x"}]},
    [1, 2],
])
def test_invalid_rdt_requests_are_invalid_input(rdt_sandbox, body):
    response = httpx.post(f"{rdt_sandbox.base_url}{RDT_PATH}", json=body, timeout=30,
                          headers={"x-amz-access-token": rdt_sandbox.access_token()})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput" and error["message"]


def test_restricted_resource_matching():
    template = RestrictedResource("GET", "/orders/v0/orders/{orderId}/address")
    assert template.covers("GET", "/orders/v0/orders/111-1/address")
    assert not template.covers("POST", "/orders/v0/orders/111-1/address")
    assert not template.covers("GET", "/orders/v0/orders/111-1")
    bulk = RestrictedResource("GET", "/orders/v0/orders", ("buyerInfo",))
    assert bulk.covers("GET", "/orders/v0/orders") and not bulk.covers("GET", "/orders/v0/orders/111-1")


def validate(model: dict, definition: str, body: object) -> None:
    """A JSON-schema check of `body` against one of the model's definitions (Swagger 2.0 refs resolve)."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": model["definitions"]}
    jsonschema.Draft7Validator(schema).validate(body)


def test_rdt_responses_validate_against_the_tokens_model(rdt_sandbox, spapi_model):
    model = spapi_model("tokens_2021-03-01.json")
    ok = create_rdt(rdt_sandbox.base_url, rdt_sandbox.access_token(),
                    [{"method": "GET", "path": "/testing/v0/things/{thingId}/address"}])
    validate(model, "CreateRestrictedDataTokenResponse", ok.json())
    for response in (create_rdt(rdt_sandbox.base_url, rdt_sandbox.access_token(), []),
                     create_rdt(rdt_sandbox.base_url, "Atza|forged", [])):
        assert response.status_code in (400, 403)
        validate(model, "ErrorList", response.json())
