"""The ground truth: what the generated world contains, for tests and downstream oracles."""

from __future__ import annotations

import json

from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.money import decimal_string, minor_digits
from spapi_sandbox.world import World


def truth(world: World) -> dict:
    """Accounts with their sandbox credentials, order counts, settlements, planted findings, canaries.

    Settlements are those Amazon has generated a report for by the sandbox's now (closed ones).
    """
    return {
        "arguments": world.arguments.as_dict(),
        "now": world.now,
        "accounts": [
            {
                "seller_id": s.account.seller_id,
                "name": s.account.name,
                "region": s.account.region,
                "marketplace_ids": [MARKETPLACES[m].marketplace_id for m in s.account.marketplace_codes],
                "lwa_client_id": s.account.lwa_client_id,
                "lwa_client_secret": s.account.lwa_client_secret,
                "lwa_client_secret_issued": s.account.secret_issued_date,
                "refresh_token": s.account.refresh_token,
            }
            for s in world.sellers
        ],
        "orders": {s.account.seller_id: len(s.orders) for s in world.sellers},
        "order_items": {s.account.seller_id: sum(len(o.items) for o in s.orders) for s in world.sellers},
        "settlements": [
            {
                "settlement_id": st.settlement_id,
                "seller_id": st.seller_id,
                "marketplace_id": MARKETPLACES[st.marketplace].marketplace_id,
                "currency": MARKETPLACES[st.marketplace].currency,
                "total": _amount(st.total, MARKETPLACES[st.marketplace].currency),
                "lines": st.line_count,
                "reissued": st.reissued,
                "deposit": None if st.transferred_amount is None else _amount(st.transferred_amount,
                                                                             MARKETPLACES[st.marketplace].currency),
            }
            for s in world.sellers
            for st in s.settlements
            if st.closed
        ],
        "discrepancies": [
            {
                "kind": d.kind,
                "seller_id": d.seller_id,
                "marketplace_id": d.marketplace_id,
                "reference_id": d.reference_id,
                "amount": _amount(d.amount, d.currency),
                "currency": d.currency,
            }
            for d in world.discrepancies
        ],
        "pii_canaries": world.pii_canaries,
    }


def _amount(minor: int, currency: str) -> str:
    return decimal_string(minor, digits=minor_digits(currency))  # whole yen for JPY


def truth_json(world: World) -> str:
    return json.dumps(truth(world), indent=2, ensure_ascii=False) + "\n"
