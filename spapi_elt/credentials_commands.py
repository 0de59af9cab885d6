"""`spapi-elt credentials set NAME` and `spapi-elt credentials check`: store a secret read from standard
input in the encrypted credentials file, and report per secret whether it resolves and when it must rotate.
The file, references and rotation rules are the source's (dlt_sources/spapi/credentials.py)."""

from __future__ import annotations

import getpass
import os
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
from dlt_sources.spapi.keys import KeyMaterialError, load_credentials_key


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
        state = {0: "ok", 1: "warn", 2: "FAIL"}[code]
        detail = "; ".join(problems) or "present"
        out.write(f"{state:<4}  {tracked.label}  [{tracked.ref.describe()}]  {detail}\n")
        worst = max(worst, code)
    return worst
