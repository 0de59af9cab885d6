"""Tokens API 2021-03-01: createRestrictedDataToken, the RDT that restricted (PII) operations require."""

from __future__ import annotations

from spapi_sandbox.http import ROUTES, Request, Response, invalid_input, route
from spapi_sandbox.state import SandboxState
from spapi_sandbox.tokens import RDT_LIFETIME, RestrictedResource

_METHODS = ("GET", "PUT", "POST", "DELETE")
_MAX_RESOURCES = 50


def _parse_resource(raw: object, index: int) -> RestrictedResource:
    if not isinstance(raw, dict):
        raise invalid_input(f"restrictedResources[{index}] must be an object.")
    method, path, elements = raw.get("method"), raw.get("path"), raw.get("dataElements", [])
    if method not in _METHODS:
        raise invalid_input(f"restrictedResources[{index}].method must be one of {', '.join(_METHODS)}.")
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid_input(f"restrictedResources[{index}].path must be a path starting with '/'.")
    if not isinstance(elements, list) or not all(isinstance(e, str) for e in elements):
        raise invalid_input(f"restrictedResources[{index}].dataElements must be a list of strings.")
    resource = RestrictedResource(method, path.split("?", 1)[0], tuple(elements))
    if not any(r.match(method, resource.path) is not None for r in ROUTES
               if r.auth in ("access", "restricted") and r.operation != "createRestrictedDataToken"):
        raise invalid_input(f"restrictedResources[{index}]: {method} {resource.path} is not a resource "
                            "of this API.")
    return resource


@route("POST", "/tokens/2021-03-01/restrictedDataToken", "createRestrictedDataToken")
def create_restricted_data_token(state: SandboxState, req: Request) -> Response:
    body = req.json()
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object.")
    resources = body.get("restrictedResources")
    if not isinstance(resources, list) or not resources:
        raise invalid_input("restrictedResources is required and must be a non-empty list.")
    if len(resources) > _MAX_RESOURCES:
        raise invalid_input(f"restrictedResources accepts at most {_MAX_RESOURCES} resources.")
    parsed = [_parse_resource(raw, i) for i, raw in enumerate(resources)]
    issued = state.tokens.issue_rdt(req.seller_id, parsed)
    return Response(200, {"restrictedDataToken": issued.token, "expiresIn": RDT_LIFETIME})
