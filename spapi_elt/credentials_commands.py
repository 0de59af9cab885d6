"""`spapi-elt credentials set NAME` and `spapi-elt credentials check`: store a secret read from standard
input in the encrypted credentials file, and report per secret whether it resolves and when it must rotate.
The file, references and rotation rules are the source's (dlt_sources/spapi/credentials.py).

The check names every problem it finds, one line each, rather than stopping at the first: the credentials
file (its master key, whether it exists, decrypts and is private), every account's secrets, the PII keys
(when the checked resources read buyer data), and with --online a real token request per account
(lwa_check.py)."""

from __future__ import annotations

import getpass
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from dlt_sources.spapi.credentials import (
    ROTATION_DAYS,
    WARN_WITHIN_DAYS,
    CredentialsError,
    CredentialsFile,
    RotationState,
    Secret,
    SecretRef,
    check_rotation,
    credentials_path,
)
from dlt_sources.spapi.keys import (
    CREDENTIALS_KEY_VAR,
    HMAC_KEY_VAR,
    KEYS_VAR,
    KeyMaterialError,
    load_credentials_key,
    load_hmac_key,
    load_keyring,
)

STATES = {0: "ok", 1: "warn", 2: "FAIL"}


def read_secret_value(stdin: TextIO) -> str:
    """The value from standard input, never from argv (argv is visible in `ps` and shell history).

    On a terminal it is prompted for without echo; from a pipe, one line (the trailing newline removed).
    """
    if stdin.isatty():
        return getpass.getpass("secret value (not echoed): ", stream=None)
    return stdin.readline().rstrip("\r\n")


def cli_set_secret(name: str, stdin: TextIO, out: TextIO, env: Mapping[str, str] | None = None,
                   path: Path | None = None, today: date | None = None) -> int:
    """`spapi-elt credentials set NAME`: store the value read from stdin in the credentials file.

    Returns the exit code: 0 stored, 2 refused (no key, empty value, bad name, unreadable file).
    """
    env = os.environ if env is None else env
    path = path or credentials_path(env)
    try:
        store = CredentialsFile.open_or_create(path, load_credentials_key(env))
        existed = name in store
        store.set(name, Secret(read_secret_value(stdin)), today or date.today())
        store.save()
    except (CredentialsError, KeyMaterialError) as error:
        out.write(f"error: {error}\n")
        return 2
    verb = "replaced" if existed else "stored"
    out.write(f"{verb} secret {name!r} in {path} (updated {store.updated(name).isoformat()}); "
              f"the value was not echoed\n")
    return 0


@dataclass(frozen=True)
class TrackedSecret:
    """A secret the configuration refers to, labelled for the report (e.g. 'acme: lwa_client_secret')."""

    label: str
    ref: SecretRef
    rotates: bool = False  # True for LWA client secrets (180 days); others are checked for presence only


def cli_check(secrets: Iterable[TrackedSecret], out: TextIO, today: date | None = None,
              env: Mapping[str, str] | None = None, store: CredentialsFile | None = None,
              max_age_days: int = ROTATION_DAYS, warn_within_days: int = WARN_WITHIN_DAYS) -> int:
    """`spapi-elt credentials check`: one line per secret: can it be resolved, and when does it expire.

    Exit code: 0 all fine; 1 a secret expires within `warn_within_days`; 2 a secret is missing, has
    expired, or has no issue date although it must rotate.
    """
    today = today or date.today()
    worst = 0
    for tracked in secrets:
        problems: list[str] = []
        code = 0
        try:
            tracked.ref.resolve(env, store)
        except CredentialsError as error:
            problems.append(f"missing ({error})")
            code = 2
        if tracked.rotates:
            issued = tracked.ref.issued_on(store)
            if issued is None:
                problems.append('no issue date: add "issued": "YYYY-MM-DD" to its configuration')
                code = 2
            else:
                status = check_rotation(issued, today, max_age_days, warn_within_days)
                when = (f"expired on {status.expires_on}" if status.state == RotationState.EXPIRED
                        else f"expires {status.expires_on} ({status.days_left} days left)")
                if status.state == RotationState.EXPIRED:
                    problems.append(f"{when}: rotate it in Seller Central now")
                    code = 2
                elif status.state == RotationState.EXPIRING:
                    problems.append(f"{when}: rotate it soon")
                    code = max(code, 1)
                else:
                    problems.append(when)
        state = STATES[code]
        detail = "; ".join(problems) or "present"
        out.write(f"{state:<4}  {tracked.label}  [{tracked.ref.describe()}]  {detail}\n")
        worst = max(worst, code)
    return worst


@dataclass(frozen=True)
class Finding:
    """One line of the check: 0 ok, 1 warn, 2 FAIL; what was checked; what was found (never a secret)."""

    code: int
    label: str
    detail: str


def write_findings(findings: Iterable[Finding], out: TextIO) -> int:
    """One line per finding, in the layout of cli_check; returns the worst code."""
    worst = 0
    for finding in findings:
        out.write(f"{STATES[finding.code]:<4}  {finding.label}  {finding.detail}\n")
        worst = max(worst, finding.code)
    return worst


def credentials_file_findings(refs: Iterable[SecretRef], env: Mapping[str, str] | None = None,
                              ) -> tuple[CredentialsFile | None, list[Finding]]:
    """The credentials file, opened if it can be, and every problem on the way: no master key, no file, a file
    others can read (Amazon: keys accessible only to our own processes), a file the key does not open. Each is
    named; none stops the others from being looked at. Nothing to check when no secret lives in the file."""
    env = os.environ if env is None else env
    if not any(ref.secret for ref in refs):
        return None, []
    findings: list[Finding] = []
    try:
        key: bytes | None = load_credentials_key(env)
    except KeyMaterialError as error:
        findings.append(Finding(2, CREDENTIALS_KEY_VAR, str(error)))
        key = None
    path = credentials_path(env)
    label = f"credentials file {path}"
    if not path.is_file():
        findings.append(Finding(2, label, "does not exist: store each secret with `spapi-elt credentials set NAME` "
                                          "(or point SPAPI_CREDENTIALS_FILE at the file)"))
        return None, findings
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        findings.append(Finding(1, label, f"mode {mode:o}: others can read it; chmod 600 {path}"))
    if key is None:
        return None, findings
    try:
        store = CredentialsFile.load(path, key)
    except CredentialsError as error:
        findings.append(Finding(2, label, str(error)))
        return None, findings
    findings.append(Finding(0, label, f"decrypts with {CREDENTIALS_KEY_VAR}, mode {mode:o}, "
                                      f"{len(store.names())} secret(s)"))
    return store, findings


def pii_key_findings(env: Mapping[str, str] | None = None) -> list[Finding]:
    """The PII hashing key and the key-encryption keys: each missing or malformed variable named."""
    findings = []
    for variable, load in ((HMAC_KEY_VAR, load_hmac_key), (KEYS_VAR, load_keyring)):
        try:
            loaded = load(env)
        except KeyMaterialError as error:
            findings.append(Finding(2, getattr(error, "variable", variable), str(error)))
        else:
            findings.append(Finding(0, variable, f"loaded: {loaded!r}"))  # the reprs show ids and versions only
    return findings
