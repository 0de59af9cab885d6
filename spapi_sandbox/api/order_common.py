"""Facts about an order that Orders v0 and Orders 2026-01-01 both render, each in its own shape.

Both versions must tell the same story about the same order (status, windows, packages, which
PII a token may see), so the derivations live here once and the two modules only spell them.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spapi_sandbox.api.indexes import seller_index
from spapi_sandbox.api.paging import scan_page
from spapi_sandbox.http import Request, invalid_input, not_found
from spapi_sandbox.world import Order, SellerWorld

if TYPE_CHECKING:
    from spapi_sandbox.state import SandboxState

DAY = 86_400
ORDER_ID_RE = re.compile(r"\d{3}-\d{7}-\d{7}")
CARRIERS = {"US": "UPS", "CA": "Canada Post", "UK": "Royal Mail", "DE": "DHL"}
CARRIERS["JP"] = "Yamato Transport"
# PII data elements an RDT can grant (Tokens API `dataElements`), as Amazon names them.
BUYER_INFO = "buyerInfo"
SHIPPING_ADDRESS = "shippingAddress"


def find_order(seller: SellerWorld, order_id: str, now: float) -> Order:
    """The seller's order; 400 for an id that is not 3-7-7, 404 for one that does not exist (yet)."""
    if not ORDER_ID_RE.fullmatch(order_id):
        raise invalid_input(f"Invalid orderId: '{order_id}' is not an Amazon order identifier "
                            "in 3-7-7 format.")
    order = seller_index(seller).orders_by_id.get(order_id)
    if order is None or order.purchased_at > now:
        raise not_found(f"Order {order_id} was not found for this seller.")
    return order


def granted_elements(state: SandboxState, req: Request) -> frozenset[str]:
    """The PII data elements the request's token grants for this call (empty for a plain access token)."""
    return state.tokens.data_elements(req.headers.get("x-amz-access-token"), req.method, req.path)


def has_pricing(order: Order) -> bool:
    """Amazon withholds prices while an order is Pending and drops them once it is Canceled."""
    return order.status not in ("Pending", "Canceled")


def has_address(order: Order) -> bool:
    """Shipping addresses exist for Unshipped, PartiallyShipped and Shipped orders only."""
    return order.status in ("Unshipped", "PartiallyShipped", "Shipped")


def phone_visible(order: Order, now: float) -> bool:
    """Amazon suppresses the buyer's phone on FBA orders and on FBM orders once delivered."""
    return order.fulfillment_channel == "MFN" and (order.delivered_at is None or order.delivered_at > now)


@dataclass(frozen=True)
class Window:
    earliest: int
    latest: int


def ship_window(order: Order) -> Window:
    """The promised ship-by window: the purchase day plus two days for the seller to ship."""
    return Window(order.purchased_at, order.purchased_at + 2 * DAY)


def delivery_window(order: Order) -> Window:
    days = (1, 3) if order.ship_service_level == "Expedited" else (3, 7)
    return Window(order.purchased_at + days[0] * DAY, order.purchased_at + days[1] * DAY)


def _digest(*parts: str) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def carrier(order: Order) -> str:
    return CARRIERS.get(order.marketplace, "UPS")


def tracking_number(order: Order) -> str:
    """A deterministic tracking number shaped like the carrier's (1Z... for UPS)."""
    digits = str(int(_digest("tracking", order.order_id)[:16], 16))[:16].rjust(16, "0")
    if carrier(order) == "UPS":
        return "1Z" + _digest("ups", order.order_id)[:6].upper() + digits[:10]
    return digits


def units_shipped(order: Order) -> int:
    return sum(i.quantity for i in order.items) if order.status == "Shipped" else 0


def units_unshipped(order: Order) -> int:
    return sum(i.quantity for i in order.items) if order.status in ("Pending", "Unshipped") else 0


def orders_page(index: Any, query: dict[str, Any], start: int,
                keep: Callable[[Order], bool]) -> tuple[list[Order], int | None]:
    """One page of a seller's orders in the query's created/updated window, from `start` (-1: the beginning)."""
    orders, keys = ((index.orders_by_created, index.created_keys) if query["mode"] == "created"
                    else (index.orders_by_updated, index.updated_keys))
    if start < 0:
        start = bisect_left(keys, query["after"])
    return scan_page(orders, start, bisect_right(keys, query["before"]), keep, query["size"])
