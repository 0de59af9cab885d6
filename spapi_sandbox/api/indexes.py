"""Per-seller lookup tables the handlers share: orders by id and by time, postings by time, products by SKU.

A year of orders at 300 a day is 100k records; scanning and sorting them on every page of
searchOrders would make paging quadratic. The tables are built once per SellerWorld (the world
never changes while the sandbox runs) and let a page start where the last one stopped.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from spapi_sandbox.world import Order, Posting, Product, SellerWorld

RESERVE_CURRENT = "Current Reserve Amount"  # the settlement line holding money back for the next period


@dataclass
class SellerIndex:
    orders_by_id: dict[str, Order]
    orders_by_created: list[Order]  # (purchased_at, order_id)
    orders_by_updated: list[Order]  # (last_updated_at, order_id)
    created_keys: list[int]  # purchased_at of orders_by_created, for bisect
    updated_keys: list[int]
    postings: list[Posting]  # (posted_at, posting_id)
    posting_keys: list[int]
    products_by_sku: dict[str, Product]
    products_by_asin: dict[str, Product]
    # (marketplace code, sku) -> units in FBA orders not shipped yet, and the last order activity there
    open_fba_units: dict[tuple[str, str], int] = field(default_factory=dict)
    last_order_activity: dict[tuple[str, str], int] = field(default_factory=dict)
    # event group id -> reserve its settlement holds back (positive), carried into the next period
    reserve_held: dict[str, int] = field(default_factory=dict)


_CACHE: dict[int, tuple[weakref.ref, SellerIndex]] = {}
_LOCK = threading.Lock()


def _build(seller: SellerWorld) -> SellerIndex:
    created = sorted(seller.orders, key=lambda o: (o.purchased_at, o.order_id))
    updated = sorted(seller.orders, key=lambda o: (o.last_updated_at, o.order_id))
    postings = sorted(seller.postings, key=lambda p: (p.posted_at, p.posting_id))
    open_units: dict[tuple[str, str], int] = {}
    activity: dict[tuple[str, str], int] = {}
    for order in seller.orders:
        for item in order.items:
            key = (order.marketplace, item.sku)
            activity[key] = max(activity.get(key, 0), order.last_updated_at)
            if order.fulfillment_channel == "AFN" and order.status in ("Pending", "Unshipped"):
                open_units[key] = open_units.get(key, 0) + item.quantity
    reserve_held: dict[str, int] = {}
    for posting in seller.postings:
        for component in posting.components:
            if component.description == RESERVE_CURRENT:
                group = posting.event_group_id
                reserve_held[group] = reserve_held.get(group, 0) - component.amount
    return SellerIndex(
        orders_by_id={o.order_id: o for o in seller.orders},
        orders_by_created=created,
        orders_by_updated=updated,
        created_keys=[o.purchased_at for o in created],
        updated_keys=[o.last_updated_at for o in updated],
        postings=postings,
        posting_keys=[p.posted_at for p in postings],
        products_by_sku={p.sku: p for p in seller.products},
        products_by_asin={p.asin: p for p in seller.products},
        open_fba_units=open_units,
        last_order_activity=activity,
        reserve_held=reserve_held,
    )


def seller_index(seller: SellerWorld) -> SellerIndex:
    """The (cached) index of one seller's world."""
    key = id(seller)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0]() is seller:
            return cached[1]
    index = _build(seller)
    with _LOCK:
        for stale in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[stale]
        _CACHE[key] = (weakref.ref(seller), index)
    return index
