"""Buyer PII protection: a declarative policy per field, applied to each row before a resource yields it.

`crypto` hashes and encrypts values (the Protector holds the keys), `policy` is the engine that decides
per field path what to keep, hash, encrypt or drop, and `policies` declares it for the resources we know.
Shredding stored values once their retention has passed is the application's purge (spapi_elt/purge.py).

This package exports what resources, the lakehouse, the CLI and tests import; the rest stays in its module.
"""

from dlt_sources.spapi.pii.crypto import (
    WRAPPED_DEK_BYTES,
    PiiDecryptError,
    PiiError,
    Protector,
    check_unwraps,
    decrypt,
    hash_value,
    is_protected,
    key_id,
    rewrap,
)
from dlt_sources.spapi.pii.policies import ORDER_REPORT_POLICY, ORDERS_POLICY, ORDERS_V0_POLICY
from dlt_sources.spapi.pii.policy import Action, PiiPolicy

__all__ = [
    "ORDERS_POLICY",
    "ORDERS_V0_POLICY",
    "ORDER_REPORT_POLICY",
    "WRAPPED_DEK_BYTES",
    "Action",
    "PiiDecryptError",
    "PiiError",
    "PiiPolicy",
    "Protector",
    "check_unwraps",
    "decrypt",
    "hash_value",
    "is_protected",
    "key_id",
    "rewrap",
]
