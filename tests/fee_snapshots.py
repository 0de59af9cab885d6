"""Which planted FBA fee overcharges the loaded fee estimate snapshots can judge.

Amazon's fee estimates report gives only the estimates in force the day it is requested; the audit judges an
FBA fee by a snapshot only when no FBA fee change of the marketplace (dbt seed fba_fee_changes, read by the
sandbox too) lies between the purchase and the snapshot. A planted overcharge no snapshot can judge is not found:
it is reported as `no fee estimate in force`. Computed here from the sandbox's own purchase days, independently
of the dbt models.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from spapi_sandbox.fee_schedules import fba_fee_change_days
from spapi_sandbox.generate import utc_date
from spapi_sandbox.world import World

Finding = tuple[str, str, str, str, Decimal]  # kind, seller, marketplace, reference, amount


def purchase_days(world: World) -> dict[tuple[str, str], date]:
    """(seller_id, order item id) -> the day it was bought: what the truth's fee findings refer to."""
    return {(seller.account.seller_id, item.order_item_id): utc_date(order.purchased_at)
            for seller in world.sellers for order in seller.orders for item in order.items}


def judged_by_a_snapshot(marketplace_id: str, purchased: date, snapshots: Iterable[date]) -> bool:
    """Some snapshot has no FBA fee change of the marketplace between it and the purchase."""
    changes = fba_fee_change_days().get(marketplace_id, frozenset())
    return any(not any(min(purchased, s) < c <= max(purchased, s) for c in changes) for s in snapshots)


def truth_findings(truth: dict) -> Counter[Finding]:
    return Counter((d["kind"], d["seller_id"], d["marketplace_id"], d["reference_id"], Decimal(d["amount"]))
                   for d in truth["discrepancies"])


def unjudgeable_fba_plants(truth: dict, purchased_on: Mapping[tuple[str, str], date],
                           snapshots: Iterable[date]) -> Counter[Finding]:
    """The planted FBA overcharges none of `snapshots` can judge."""
    days = list(snapshots)
    return Counter({f: n for f, n in truth_findings(truth).items() if f[0] == "fba_fee_overcharged"
                    and not judged_by_a_snapshot(f[2], purchased_on[(f[1], f[3])], days)})
