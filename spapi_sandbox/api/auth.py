"""Login with Amazon: the refresh-token grant that turns an account's credentials into an access token.

Errors use LWA's OAuth body `{"error", "error_description"}` (the server renders an ApiError raised
from an `auth="lwa"` route that way), not SP-API's `errors` list.
"""

from __future__ import annotations

from spapi_sandbox.http import ApiError, Request, Response, route
from spapi_sandbox.state import SandboxState


@route("POST", "/auth/o2/token", "lwaToken", auth="lwa")
def token(state: SandboxState, req: Request) -> Response:
    form = req.form()
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise ApiError(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant_type != "refresh_token":
        raise ApiError(400, "unsupported_grant_type",
                       "The authorization grant type is not supported by the authorization server")
    for name in ("refresh_token", "client_id", "client_secret"):
        if not form.get(name):
            raise ApiError(400, "invalid_request", f"The request is missing a required parameter : {name}")

    clients = [s.account for s in state.world.sellers
               if s.account.lwa_client_id == form["client_id"]
               and s.account.lwa_client_secret == form["client_secret"]]
    if not clients:
        raise ApiError(401, "invalid_client", "Client authentication failed")
    account = next((a for a in clients if a.refresh_token == form["refresh_token"]), None)
    if account is None:
        raise ApiError(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")

    issued = state.tokens.issue_access_token(account.seller_id)
    body = {"access_token": issued.token, "refresh_token": account.refresh_token,
            "token_type": "bearer", "expires_in": 3600}
    return Response(200, body, content_type="application/json;charset=UTF-8")
