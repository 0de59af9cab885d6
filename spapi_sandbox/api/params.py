"""Request validation shared by the API handlers, with Amazon-like InvalidInput messages.

Unknown query parameters are ignored (real clients send extras); a parameter that is present
but invalid, or a required one that is missing, is a 400 InvalidInput. Marketplaces are checked
twice: the id must be one Amazon knows, and the calling seller must sell there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spapi_sandbox.http import ApiError, Request, invalid_input
from spapi_sandbox.marketplaces import BY_ID, MARKETPLACES, Marketplace
from spapi_sandbox.render import parse_iso

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState
    from spapi_sandbox.world import SellerWorld

# Amazon asks for time bounds at least two minutes before the request; the sandbox caps instead.
TWO_MINUTES = 120


def seller_world(state: SandboxState, req: Request) -> SellerWorld:
    """The calling seller's data; the server has already resolved req.seller_id from the token."""
    seller = state.world.seller(req.seller_id)
    if seller is None:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                       "The access token does not belong to a known seller account.")
    return seller


def seller_marketplaces(seller: SellerWorld) -> list[Marketplace]:
    return [MARKETPLACES[code] for code in seller.account.marketplace_codes]


def check_marketplace(seller: SellerWorld, marketplace_id: str, name: str = "marketplaceId") -> Marketplace:
    """One marketplace id: known to Amazon and one the seller participates in."""
    market = BY_ID.get(marketplace_id)
    if market is None:
        raise invalid_input(f"Invalid {name}: '{marketplace_id}' is not a valid marketplace identifier.")
    if market.code not in seller.account.marketplace_codes:
        raise invalid_input(f"The seller {seller.account.seller_id} is not registered in marketplace "
                            f"{marketplace_id} ({market.name}); {name} must be a marketplace the seller "
                            "participates in.")
    return market


def marketplaces(req: Request, seller: SellerWorld, name: str, required: bool = True,
                 max_items: int | None = None) -> list[Marketplace]:
    """A comma-separated marketplace id list; all of the seller's marketplaces when optional and absent."""
    ids = req.list_param(name)
    if not ids:
        if required:
            raise invalid_input(f"Missing required parameter: {name}.")
        return seller_marketplaces(seller)
    if max_items is not None and len(ids) > max_items:
        raise invalid_input(f"{name} accepts at most {max_items} value(s); {len(ids)} were given.")
    unique = list(dict.fromkeys(ids))
    return [check_marketplace(seller, mid, name) for mid in unique]


def required(req: Request, name: str) -> str:
    value = req.param(name)
    if value is None or value == "":
        raise invalid_input(f"Missing required parameter: {name}.")
    return value


def timestamp(req: Request, name: str) -> int | None:
    """An optional ISO-8601 date-time parameter as epoch seconds."""
    value = req.param(name)
    if value is None or value == "":
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise invalid_input(f"Invalid {name}: '{value}' is not a valid ISO 8601 date-time "
                            "(expected e.g. 2026-01-01T00:00:00Z).") from None


def integer(req: Request, name: str, default: int, low: int, high: int) -> int:
    value = req.param(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise invalid_input(f"Invalid {name}: '{value}' is not an integer.") from None
    if not low <= number <= high:
        raise invalid_input(f"Invalid {name}: {number} is out of range; it must be between {low} and {high}.")
    return number


def boolean(req: Request, name: str, default: bool) -> bool:
    value = req.param(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_input(f"Invalid {name}: '{value}' is not a boolean (true or false).")


def enum_list(req: Request, name: str, allowed: tuple[str, ...], max_items: int | None = None) -> list[str]:
    """A comma-separated list whose values must each be one of `allowed` (case-sensitive, like Amazon)."""
    values = list(dict.fromkeys(req.list_param(name)))
    if max_items is not None and len(values) > max_items:
        raise invalid_input(f"{name} accepts at most {max_items} value(s); {len(values)} were given.")
    for value in values:
        if value not in allowed:
            raise invalid_input(f"Invalid {name}: '{value}' is not one of {', '.join(allowed)}.")
    return values


def enum_value(req: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = req.param(name)
    if value is None or value == "":
        return None
    if value not in allowed:
        raise invalid_input(f"Invalid {name}: '{value}' is not one of {', '.join(allowed)}.")
    return value


def window(after: int | None, before: int | None, now: int, after_name: str, before_name: str) -> int:
    """Check an [after, before] window against the sandbox clock; return the effective upper bound.

    Amazon wants `before` at least two minutes in the past; rather than refuse a client whose clock
    differs from the sandbox's, the sandbox caps the bound at its own now (and reports the bound it
    used where the model has a field for it).
    """
    if after is not None and after > now:
        raise invalid_input(f"Invalid {after_name}: the date is in the future; it must be before the time "
                            "of the request.")
    upper = now if before is None else min(before, now)
    if after is not None and before is not None and before < after:
        raise invalid_input(f"Invalid {before_name}: it must be equal to or after {after_name}.")
    return upper
