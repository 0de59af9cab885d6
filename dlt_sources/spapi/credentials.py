"""Secrets (refresh tokens, LWA client secrets): where they are read, how they are held, when they expire.

The product never stores a secret in plaintext. The accounts configuration names where a secret
lives, never the secret itself: `{"env": "VAR"}` (an environment variable) or `{"secret": "name"}`
(an entry of the encrypted credentials file), optionally with `"issued": "YYYY-MM-DD"` for LWA
client secrets, which Amazon requires to be rotated every 180 days.

The credentials file is JSON `{"format", "version", "nonce", "ciphertext"}`: the secrets, as JSON,
sealed with AES-256-GCM under a random 32-byte master key from SPAPI_CREDENTIALS_KEY (no password,
so no KDF). It is written atomically with mode 0600.

Resolved secrets are `Secret` objects: repr, str and format print `Secret('***')`, pickling is refused,
and the value comes out only through `.reveal()`, at the point where it goes on the wire.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dlt_sources.spapi.keys import CREDENTIALS_KEY_VAR

logger = logging.getLogger(__name__)

FILE_FORMAT = "spapi-credentials"
FILE_VERSION = 1
CREDENTIALS_FILE_VAR = "SPAPI_CREDENTIALS_FILE"
DEFAULT_CREDENTIALS_FILE = Path("credentials.enc.json")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
ROTATION_DAYS = 180
WARN_WITHIN_DAYS = 30
_AAD = f"{FILE_FORMAT}|v{FILE_VERSION}".encode()


class CredentialsError(Exception):
    """A secret could not be found or read. Messages name variables and secret names, never values."""


class SecretNotFound(CredentialsError):
    pass


class CredentialsFileError(CredentialsError):
    pass


class WrongCredentialsKey(CredentialsFileError):
    pass


class Secret:
    """A secret value that does not print itself: only `.reveal()` gives it out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        # Constant-time, so comparing a presented secret leaks nothing through timing.
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        raise TypeError("Secret is not hashable")

    def __bool__(self) -> bool:
        return bool(self._value)

    def __copy__(self) -> Secret:
        return self  # immutable; copying must not go through pickling's __reduce__

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:
        # Pickles end up in run storage (Dagster, multiprocessing): a secret must never be written there.
        raise TypeError("Secret cannot be pickled; pass a SecretRef and resolve it where it is used")


# --- the encrypted credentials file -------------------------------------------------------------------------


@dataclass
class _Entry:
    value: str
    updated: date


class CredentialsFile:
    """The encrypted store of named secrets. Nothing is written until `save()`."""

    def __init__(self, path: Path, key: bytes, entries: dict[str, _Entry] | None = None) -> None:
        if len(key) != 32:
            raise CredentialsFileError("the credentials master key must be 32 bytes")
        self.path = Path(path)
        self._aead = AESGCM(key)
        self._entries: dict[str, _Entry] = dict(entries or {})

    def __repr__(self) -> str:
        return f"CredentialsFile({str(self.path)!r}, names={self.names()})"

    @classmethod
    def create(cls, path: Path | str, key: bytes) -> CredentialsFile:
        """A new, empty store, saved at once; refuses to overwrite an existing file."""
        path = Path(path)
        if path.exists():
            raise CredentialsFileError(f"{path} already exists; load it instead of creating it")
        store = cls(path, key)
        store.save()
        return store

    @classmethod
    def load(cls, path: Path | str, key: bytes) -> CredentialsFile:
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CredentialsFileError(f"credentials file {path} does not exist") from None
        except (OSError, ValueError) as error:
            raise CredentialsFileError(f"credentials file {path} is not readable JSON: "
                                       f"{type(error).__name__}") from None
        _warn_if_open(path)
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise CredentialsFileError(f"{path} is not an SP-API credentials file")
        if document.get("version") != FILE_VERSION:
            raise CredentialsFileError(f"{path} has version {document.get('version')!r}; this program reads "
                                       f"version {FILE_VERSION}")
        try:
            nonce = base64.b64decode(document["nonce"], validate=True)
            sealed = base64.b64decode(document["ciphertext"], validate=True)
        except (KeyError, TypeError, binascii.Error, ValueError):
            raise CredentialsFileError(f"{path} lacks a valid nonce or ciphertext") from None
        store = cls(path, key)
        try:
            plain = store._aead.decrypt(nonce, sealed, _AAD)
        except InvalidTag:
            raise WrongCredentialsKey(f"{path} does not decrypt: {CREDENTIALS_KEY_VAR} is not the key it was "
                                      "written with, or the file was modified") from None
        secrets = json.loads(plain)["secrets"]
        store._entries = {name: _Entry(entry["value"], date.fromisoformat(entry["updated"]))
                          for name, entry in secrets.items()}
        return store

    @classmethod
    def open_or_create(cls, path: Path | str, key: bytes) -> CredentialsFile:
        return cls.load(path, key) if Path(path).exists() else cls(Path(path), key)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> Secret:
        try:
            return Secret(self._entries[name].value)
        except KeyError:
            raise SecretNotFound(f"no secret named {name!r} in {self.path}") from None

    def updated(self, name: str) -> date:
        """When the secret was last set (a fallback issue date for rotation checks)."""
        try:
            return self._entries[name].updated
        except KeyError:
            raise SecretNotFound(f"no secret named {name!r} in {self.path}") from None

    def set(self, name: str, value: str | Secret, updated: date | None = None) -> None:
        if not NAME_PATTERN.fullmatch(name):
            raise CredentialsError(f"secret name {name!r} must be letters, digits, '_', '.', '-' "
                                   "(at most 128)")
        text = value.reveal() if isinstance(value, Secret) else value
        if not text:
            raise CredentialsError(f"secret {name!r} is empty")
        self._entries[name] = _Entry(text, updated or date.today())

    def remove(self, name: str) -> None:
        if self._entries.pop(name, None) is None:
            raise SecretNotFound(f"no secret named {name!r} in {self.path}")

    def save(self) -> None:
        """Seal with a fresh nonce and replace the file atomically (temp file in the same folder, 0600)."""
        plain = json.dumps({"secrets": {name: {"value": e.value, "updated": e.updated.isoformat()}
                                        for name, e in sorted(self._entries.items())}}).encode("utf-8")
        nonce = os.urandom(12)
        document = {"format": FILE_FORMAT, "version": FILE_VERSION,
                    "nonce": base64.b64encode(nonce).decode("ascii"),
                    "ciphertext": base64.b64encode(self._aead.encrypt(nonce, plain, _AAD)).decode("ascii")}
        _atomic_write(self.path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 from the start: the content is never readable by others, even briefly.
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _warn_if_open(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("credentials file %s has mode %o; it should be 0600 (chmod 600 %s)", path, mode, path)


def credentials_path(env: Mapping[str, str] | None = None) -> Path:
    """SPAPI_CREDENTIALS_FILE, else credentials.enc.json in the working directory."""
    env = os.environ if env is None else env
    return Path(env.get(CREDENTIALS_FILE_VAR) or DEFAULT_CREDENTIALS_FILE)


# --- references from configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives: an environment variable or a named entry of the credentials file."""

    env: str | None = None
    secret: str | None = None
    issued: date | None = None

    def __post_init__(self) -> None:
        if (self.env is None) == (self.secret is None):
            raise CredentialsError("a secret reference names exactly one of 'env' or 'secret'")

    @classmethod
    def parse(cls, spec: Any, where: str = "secret") -> SecretRef:
        """From configuration: {"env": "VAR"} or {"secret": "name"}, plus optional "issued": "YYYY-MM-DD".

        A plain string is refused without being echoed: it is most likely the secret itself, pasted
        into a configuration file.
        """
        if isinstance(spec, SecretRef):
            return spec
        if not isinstance(spec, Mapping):
            raise CredentialsError(f'{where}: expected {{"env": "VAR"}} or {{"secret": "name"}}, got a '
                                   f"{type(spec).__name__}; never put the secret itself in the configuration")
        unknown = set(spec) - {"env", "secret", "issued"}
        if unknown:
            raise CredentialsError(f"{where}: unknown keys {sorted(unknown)} (allowed: env, secret, issued)")
        issued = spec.get("issued")
        if isinstance(issued, str):
            try:
                issued = date.fromisoformat(issued)
            except ValueError:
                raise CredentialsError(f"{where}: 'issued' must be a date YYYY-MM-DD") from None
        elif isinstance(issued, datetime):  # YAML reads "2026-01-15 10:00" as a datetime
            issued = issued.date()
        elif issued is not None and not isinstance(issued, date):
            raise CredentialsError(f"{where}: 'issued' must be a date YYYY-MM-DD")
        for key in ("env", "secret"):
            if key in spec and not (isinstance(spec[key], str) and spec[key]):
                raise CredentialsError(f"{where}: '{key}' must be a non-empty name")
        try:
            return cls(env=spec.get("env"), secret=spec.get("secret"), issued=issued)
        except CredentialsError as error:
            raise CredentialsError(f"{where}: {error}") from None

    def describe(self) -> str:
        return f"env {self.env}" if self.env else f"secret {self.secret!r}"

    def resolve(self, env: Mapping[str, str] | None = None, store: CredentialsFile | None = None) -> Secret:
        """The secret, or SecretNotFound saying where it was looked for."""
        if self.env is not None:
            env = os.environ if env is None else env
            value = env.get(self.env)
            if not value:
                raise SecretNotFound(f"environment variable {self.env} is not set")
            return Secret(value)
        assert self.secret is not None
        if store is None:
            raise SecretNotFound(f"secret {self.secret!r} lives in the credentials file, but none is open "
                                 f"(set {CREDENTIALS_FILE_VAR} and {CREDENTIALS_KEY_VAR})")
        return store.get(self.secret)

    def issued_on(self, store: CredentialsFile | None = None) -> date | None:
        """The configured issue date, else when the credentials file last had it set, else None."""
        if self.issued is not None:
            return self.issued
        if self.secret is not None and store is not None and self.secret in store:
            return store.updated(self.secret)
        return None


# --- rotation -----------------------------------------------------------------------------------------------


class RotationState(StrEnum):
    OK = "ok"
    EXPIRING = "expiring"
    EXPIRED = "expired"


@dataclass(frozen=True)
class RotationStatus:
    state: RotationState
    days_left: int
    expires_on: date


def check_rotation(issued: date, today: date, max_age_days: int = ROTATION_DAYS,
                   warn_within_days: int = WARN_WITHIN_DAYS) -> RotationStatus:
    """Where a secret issued on `issued` stands: expired from day `max_age_days` on (0 days left),
    expiring while at most `warn_within_days` days are left, ok before."""
    if issued > today:
        raise ValueError(f"issue date {issued} is after today ({today})")
    expires_on = issued + timedelta(days=max_age_days)
    days_left = (expires_on - today).days
    if days_left <= 0:
        state = RotationState.EXPIRED
    elif days_left <= warn_within_days:
        state = RotationState.EXPIRING
    else:
        state = RotationState.OK
    return RotationStatus(state, days_left, expires_on)
