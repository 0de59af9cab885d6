"""Key material from the environment: the PII hashing key, the PII key-encryption keys, the credentials key.

Keys are 32 random bytes, written base64 in environment variables (`new_key()` makes one). They are
read once, checked (base64, 32 bytes), and held in objects whose repr never shows them. A missing or
malformed key is an error that names the environment variable and never echoes its value: the product
never falls back to storing plaintext.

Variables:
- SPAPI_PII_HMAC_KEY: `[<version>:]<base64>`: the key for `hash` fields; the version (default 1) is
  written into every hash (`h<version>:...`), so hashes made under another key never silently compare.
- SPAPI_PII_KEYS: `kid1:<base64>,kid2:<base64>`: key-encryption keys for `encrypt` fields, by key id;
  old ids stay listed so older values still decrypt.
- SPAPI_PII_ACTIVE_KEY_ID: the key id new values are wrapped with (optional when only one key is listed).
- SPAPI_CREDENTIALS_KEY: `<base64>`: the master key of the encrypted credentials file.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

KEY_BYTES = 32
HMAC_KEY_VAR = "SPAPI_PII_HMAC_KEY"
KEYS_VAR = "SPAPI_PII_KEYS"
ACTIVE_KEY_VAR = "SPAPI_PII_ACTIVE_KEY_ID"
CREDENTIALS_KEY_VAR = "SPAPI_CREDENTIALS_KEY"

# A key id is written into every ciphertext between ':' separators, so it may not contain one.
KID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class KeyMaterialError(Exception):
    """A key could not be loaded. Messages name the variable, never the key."""


class KeyMissing(KeyMaterialError):
    def __init__(self, variable: str, purpose: str) -> None:
        self.variable = variable
        super().__init__(f"environment variable {variable} is not set: it holds {purpose}. "
                         f"Make a key with `python -m dlt_sources.spapi.keys` and keep it in a secret store.")


class PiiKeyMissing(KeyMissing):
    """A PII key is missing: protected fields cannot be written, and plaintext is never a fallback."""


class UnknownKeyId(PiiKeyMissing):
    """A ciphertext names a key id that SPAPI_PII_KEYS does not list (retired, or another deployment's)."""

    def __init__(self, kid: str) -> None:
        self.variable, self.kid = KEYS_VAR, kid
        KeyMaterialError.__init__(self, f"no key with id {kid!r} in {KEYS_VAR}: values wrapped with it "
                                        "cannot be decrypted (was the key retired?)")


class KeyInvalid(KeyMaterialError):
    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"environment variable {variable} is malformed: {problem}")


def new_key() -> str:
    """A fresh random 32-byte key, base64, for one of the variables above."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def decode_key(text: str, variable: str) -> bytes:
    """Base64 -> exactly 32 bytes, or KeyInvalid naming `variable` (the text itself is never quoted)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyInvalid(variable, "a key is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyInvalid(variable, f"a key must be {KEY_BYTES} bytes, this one decodes to {len(raw)}")
    return raw


@dataclass(frozen=True)
class HmacKey:
    """The key for `hash` fields and its version (written into each hash as `h<version>:`)."""

    version: int
    key: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"HmacKey(version={self.version}, key=***)"


@dataclass(frozen=True)
class Keyring:
    """Key-encryption keys by key id; `active` wraps new values, every listed id can unwrap."""

    active: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyInvalid(ACTIVE_KEY_VAR, f"active key id {self.active!r} is not among the listed key ids "
                                             f"{sorted(self.keys)}")

    def __repr__(self) -> str:
        return f"Keyring(active={self.active!r}, kids={sorted(self.keys)})"

    def key(self, kid: str) -> bytes:
        try:
            return self.keys[kid]
        except KeyError:
            raise UnknownKeyId(kid) from None


def _get(env: Mapping[str, str], variable: str) -> str | None:
    value = env.get(variable)
    return value if value and value.strip() else None


def load_hmac_key(env: Mapping[str, str] | None = None) -> HmacKey:
    """SPAPI_PII_HMAC_KEY as `[<version>:]<base64>` (version 1 when left out)."""
    env = os.environ if env is None else env
    text = _get(env, HMAC_KEY_VAR)
    if text is None:
        raise PiiKeyMissing(HMAC_KEY_VAR, "the secret key for hashed PII fields (base64, 32 bytes)")
    version_text, sep, key_text = text.strip().rpartition(":")
    if not sep:
        return HmacKey(1, decode_key(key_text, HMAC_KEY_VAR))
    if not version_text.isdigit() or int(version_text) < 1:
        raise KeyInvalid(HMAC_KEY_VAR, "the version before ':' must be a positive integer")
    return HmacKey(int(version_text), decode_key(key_text, HMAC_KEY_VAR))


def load_keyring(env: Mapping[str, str] | None = None) -> Keyring:
    """SPAPI_PII_KEYS (`kid:<base64>,...`) and SPAPI_PII_ACTIVE_KEY_ID."""
    env = os.environ if env is None else env
    text = _get(env, KEYS_VAR)
    if text is None:
        raise PiiKeyMissing(KEYS_VAR, "the key-encryption keys for encrypted PII fields, as "
                                      "kid1:<base64>,kid2:<base64>")
    keys: dict[str, bytes] = {}
    for number, entry in enumerate(text.split(","), start=1):
        kid, sep, key_text = entry.strip().partition(":")
        if not sep or not KID_PATTERN.fullmatch(kid):
            raise KeyInvalid(KEYS_VAR, f"entry {number} is not kid:<base64> with a key id of letters, "
                                       "digits, '_', '.', '-' (at most 32)")
        if kid in keys:
            raise KeyInvalid(KEYS_VAR, f"key id {kid!r} is listed twice")
        keys[kid] = decode_key(key_text, KEYS_VAR)
    active = _get(env, ACTIVE_KEY_VAR)
    if active is None:
        if len(keys) > 1:
            raise PiiKeyMissing(ACTIVE_KEY_VAR, f"the key id that wraps new values, one of {sorted(keys)}")
        (active,) = keys
    return Keyring(active.strip(), keys)


def load_credentials_key(env: Mapping[str, str] | None = None) -> bytes:
    """SPAPI_CREDENTIALS_KEY: the master key of the encrypted credentials file."""
    env = os.environ if env is None else env
    text = _get(env, CREDENTIALS_KEY_VAR)
    if text is None:
        raise KeyMissing(CREDENTIALS_KEY_VAR, "the master key of the encrypted credentials file "
                                              "(base64, 32 bytes)")
    return decode_key(text, CREDENTIALS_KEY_VAR)


if __name__ == "__main__":  # `python -m dlt_sources.spapi.keys`: print one fresh key for a secret store
    import sys

    sys.stdout.write(new_key() + "\n")
