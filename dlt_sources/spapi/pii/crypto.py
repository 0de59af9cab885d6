"""Keyed hashing and envelope encryption of PII values, and the Protector that holds the keys.

- Hash: HMAC-SHA256 under SPAPI_PII_HMAC_KEY, written `h<key version>:<64 hex>`. The input is
  normalised first (`email`: trimmed, lower-case; `phone`: digits and a leading '+'; `text`: NFKC,
  single spaces, case-folded; `exact`), so the same buyer hashes the same in every run, table and API
  version: hashes are for joins and de-duplication, never for reading back.
- Encrypt: AES-256-GCM envelope encryption, written `e1:<kid>:<base64(wrapped data key | nonce |
  ciphertext+tag)>`. A data key (DEK) encrypts the value; the key-encryption key (KEK) named by `kid`
  wraps the DEK. The associated data binds the ciphertext to the field path and the seller id, so a
  value copied into another field or another seller's row does not decrypt. `decrypt` reads it back;
  `rewrap` moves a value to the active KEK without touching the ciphertext.

Data keys: one per batch, not per value. A DEK encrypts at most VALUES_PER_DATA_KEY values in one
thread, then a fresh one is drawn. Per value, a fresh DEK costs a second AES-GCM key schedule and a
second encryption (the wrap): about 3.5x the time (8 us against 2.3 us per value here) and buys no
protection, since a DEK lives only in memory next to the KEK that unwraps it, and every stored value
still carries its own wrapped DEK, nonce and tag (self-describing, decryptable alone). The bound keeps
each DEK far below AES-GCM's 2^32 random-nonce limit.

A stored PII value is a hash, a ciphertext or, once purged, the tombstone `purged:<date>`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dlt_sources.spapi.keys import HmacKey, Keyring, load_hmac_key, load_keyring

ENCRYPTED_PREFIX = "e1:"
PURGED_PREFIX = "purged:"
VALUES_PER_DATA_KEY = 1 << 16
NONCE_BYTES = 12
TAG_BYTES = 16
WRAPPED_DEK_BYTES = NONCE_BYTES + 32 + TAG_BYTES
HASH_PATTERN = re.compile(r"h[1-9][0-9]*:[0-9a-f]{64}")


class PiiError(Exception):
    """PII protection failed. Messages name fields and key ids, never values or keys."""


class PiiDecryptError(PiiError):
    """A protected value does not decrypt: wrong field or seller, tampered, or another key."""


# --- normalisation for hashing ------------------------------------------------------------------------------


def _email(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def _phone(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    digits = "".join(ch for ch in value if ch.isdigit())
    return "+" + digits if value.startswith("+") else digits


def _text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


NORMALISERS: dict[str, Callable[[str], str]] = {"email": _email, "phone": _phone, "text": _text,
                                                "exact": lambda value: value}


def _as_text(value: Any) -> str:
    """Strings as they are; anything else as canonical JSON text (what `decrypt` then returns)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# --- keyed hashing and envelope encryption ---------------------------------------------------------------


def hash_value(value: Any, key: HmacKey, normalise: str = "text") -> str:
    """`h<version>:<hex>` of the normalised value. Also for look-ups, e.g. a data subject's email."""
    text = NORMALISERS[normalise](_as_text(value))
    if not text:
        return ""
    return f"h{key.version}:" + hmac.digest(key.key, text.encode("utf-8"), "sha256").hex()


@lru_cache(maxsize=4096)
def _data_aad(field_path: str, seller_id: str | None) -> bytes:
    # JSON keeps the pair unambiguous whatever characters the field or seller id hold.
    return json.dumps(["spapi-pii", "e1", field_path, seller_id or ""]).encode("utf-8")


def _wrap_aad(kid: str) -> bytes:
    return f"spapi-pii|e1|dek|{kid}".encode()


@dataclass
class _DataKey:
    kid: str
    aead: AESGCM
    header: bytes  # wrap nonce | wrapped DEK (+ tag), carried by every value it encrypts
    remaining: int


def _split(value: str) -> tuple[str, bytes]:
    """`e1:<kid>:<base64>` -> (kid, raw bytes), or PiiError naming what is wrong (not the value)."""
    if not isinstance(value, str) or not value.startswith(ENCRYPTED_PREFIX):
        raise PiiError("not an encrypted PII value (expected the e1: prefix)")
    kid, sep, body = value[len(ENCRYPTED_PREFIX):].partition(":")
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not sep or not kid or len(raw) < WRAPPED_DEK_BYTES + NONCE_BYTES + TAG_BYTES:
        raise PiiError("malformed encrypted PII value (expected e1:<kid>:<base64>)")
    return kid, raw


def _unwrap(kid: str, raw: bytes, keyring: Keyring) -> bytes:
    header = raw[:WRAPPED_DEK_BYTES]
    try:
        return AESGCM(keyring.key(kid)).decrypt(header[:NONCE_BYTES], header[NONCE_BYTES:], _wrap_aad(kid))
    except InvalidTag:
        raise PiiDecryptError(f"the data key does not unwrap under key id {kid!r}: tampered value or a "
                              "different key with the same id") from None


def decrypt(value: str, keyring: Keyring, field_path: str, seller_id: str | None = None, *,
            cache: dict[bytes, AESGCM] | None = None) -> str:
    """The plaintext of an `e1:` value, given the field path and seller id it was encrypted for.

    Non-string values were encrypted as canonical JSON text, which is what comes back. `cache`, a
    dict the caller keeps, remembers unwrapped data keys (only ones that authenticated) across calls.
    """
    kid, raw = _split(value)
    header = kid.encode() + b"|" + raw[:WRAPPED_DEK_BYTES]
    aead = cache.get(header) if cache is not None else None
    if aead is None:
        aead = AESGCM(_unwrap(kid, raw, keyring))
        if cache is not None:
            if len(cache) >= 1024:
                cache.clear()
            cache[header] = aead
    body = raw[WRAPPED_DEK_BYTES:]
    try:
        plain = aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _data_aad(field_path, seller_id))
    except InvalidTag:
        raise PiiDecryptError(f"value does not decrypt as field {field_path!r}: it belongs to another field "
                              "or seller, or was tampered with") from None
    return plain.decode("utf-8")


def rewrap(value: str, keyring: Keyring, *, cache: dict[bytes, bytes] | None = None) -> str:
    """The same ciphertext with its data key wrapped under the active key id (for retiring an old KEK).

    `cache`, a dict the caller keeps, maps an old wrapped data key to its new one, so the values of one
    batch (which share a data key) share one new wrapping, as they did the old one, and unwrap once.
    """
    kid, raw = _split(value)
    if kid == keyring.active:
        return value
    old = kid.encode() + b"|" + raw[:WRAPPED_DEK_BYTES]
    header = cache.get(old) if cache is not None else None
    if header is None:
        dek = _unwrap(kid, raw, keyring)
        nonce = os.urandom(NONCE_BYTES)
        header = nonce + AESGCM(keyring.key(keyring.active)).encrypt(nonce, dek, _wrap_aad(keyring.active))
        if cache is not None:
            if len(cache) >= 1024:
                cache.clear()
            cache[old] = header
    body = base64.b64encode(header + raw[WRAPPED_DEK_BYTES:]).decode("ascii")
    return f"{ENCRYPTED_PREFIX}{keyring.active}:{body}"


def check_unwraps(value: str, keyring: Keyring) -> None:
    """PiiDecryptError unless the value's data key unwraps under the key its key id names: proof that a
    key is the one a stored value was encrypted with, without the field path or seller id it is bound to."""
    kid, raw = _split(value)
    _unwrap(kid, raw, keyring)


def key_id(value: str) -> str:
    """The key id an `e1:` value is wrapped with (to find what still needs a key before retiring it)."""
    return _split(value)[0]


class Protector:
    """Hashes and encrypts values with the keys it was given. Thread-safe: data keys are per thread.

    Build one per run with `Protector.from_env()` before extracting, so a missing key fails the run
    at its start, not halfway through a resource.
    """

    def __init__(self, hmac_key: HmacKey, keyring: Keyring,
                 values_per_data_key: int = VALUES_PER_DATA_KEY) -> None:
        self.hmac_key = hmac_key
        self.keyring = keyring
        self.values_per_data_key = values_per_data_key
        self._kek = AESGCM(keyring.key(keyring.active))
        self._prefix = f"{ENCRYPTED_PREFIX}{keyring.active}:"
        self._local = threading.local()
        self._unwrapped: dict[bytes, AESGCM] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Protector:
        """Keys from SPAPI_PII_HMAC_KEY, SPAPI_PII_KEYS, SPAPI_PII_ACTIVE_KEY_ID (PiiKeyMissing if absent)."""
        return cls(load_hmac_key(env), load_keyring(env))

    def __repr__(self) -> str:
        return f"Protector(hmac_version={self.hmac_key.version}, active_kid={self.keyring.active!r})"

    def hash(self, value: Any, normalise: str = "text") -> str:
        return hash_value(value, self.hmac_key, normalise)

    def new_data_key(self) -> None:
        """Draw a fresh data key for this thread's next value (e.g. at the start of a batch)."""
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        header = nonce + self._kek.encrypt(nonce, dek, _wrap_aad(self.keyring.active))
        self._local.key = _DataKey(self.keyring.active, AESGCM(dek), header, self.values_per_data_key)

    def encrypt(self, value: Any, field_path: str, seller_id: str | None = None) -> str:
        key: _DataKey | None = getattr(self._local, "key", None)
        if key is None or key.remaining <= 0:
            self.new_data_key()
            key = self._local.key
        key.remaining -= 1
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, _as_text(value).encode("utf-8"), _data_aad(field_path, seller_id))
        return self._prefix + base64.b64encode(key.header + nonce + sealed).decode("ascii")

    def decrypt(self, value: str, field_path: str, seller_id: str | None = None) -> str:
        """As `decrypt`, remembering unwrapped data keys: values of one batch share one."""
        return decrypt(value, self.keyring, field_path, seller_id, cache=self._unwrapped)


def is_protected(value: Any) -> bool:
    """True for a hash, an encrypted value or a purge tombstone (a check for tests and audits)."""
    if not isinstance(value, str):
        return False
    return (value.startswith(ENCRYPTED_PREFIX) or value.startswith(PURGED_PREFIX)
            or HASH_PATTERN.fullmatch(value) is not None)
