"""Credentials: redacted secrets, references from configuration, the encrypted file, rotation checks."""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import pickle
import stat
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from dlt_sources.spapi.credentials import (
    CredentialsError,
    CredentialsFile,
    CredentialsFileError,
    RotationState,
    Secret,
    SecretNotFound,
    SecretRef,
    WrongCredentialsKey,
    check_rotation,
)
from dlt_sources.spapi.keys import KeyMissing, load_credentials_key

TOKEN = "Atzr|IwEBICanaryRefreshToken-7f3a9c"
CLIENT_SECRET = "amzn1.oa2-cs.v1.canarysecret0042"
MASTER = bytes(range(32))
MASTER_B64 = base64.b64encode(MASTER).decode()


# --- Secret -------------------------------------------------------------------------------------------------


def test_secret_is_redacted_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(TOKEN)
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret!s}", f"{secret:>40}",
             "%s" % secret, "%r" % (secret,), "{}".format(secret),  # noqa: UP031, UP032 - old styles on purpose
             repr([secret]), repr({"token": secret})]
    for text in shown:
        assert TOKEN not in text
    assert repr(secret) == str(secret) == "Secret('***')"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("token %s and %r", secret, secret)
        logging.getLogger("test").info(f"token {secret}")
    assert TOKEN not in caplog.text and "Secret('***')" in caplog.text
    with pytest.raises(ValueError) as caught:
        raise ValueError(f"refresh failed for {secret}")
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    with pytest.raises(TypeError) as not_json:
        json.dumps({"token": secret})
    assert TOKEN not in str(not_json.value)
    assert secret.reveal() == TOKEN


def test_secret_refuses_pickling_but_copies(tmp_path: Path) -> None:
    secret = Secret(TOKEN)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [secret]})
    assert copy.deepcopy({"s": secret})["s"].reveal() == TOKEN and copy.copy(secret) is secret
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b") and Secret("a") != "a"
    with pytest.raises(TypeError):
        hash(secret)
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


# --- SecretRef ----------------------------------------------------------------------------------------------


def test_secret_ref_parses_env_and_secret_with_issue_date() -> None:
    ref = SecretRef.parse({"env": "ACME_REFRESH_TOKEN"})
    assert ref == SecretRef(env="ACME_REFRESH_TOKEN") and ref.issued is None
    stored = SecretRef.parse({"secret": "acme.lwa_client_secret", "issued": "2026-01-15"})
    assert stored.secret == "acme.lwa_client_secret" and stored.issued == date(2026, 1, 15)
    assert SecretRef.parse(stored) is stored
    from_yaml = SecretRef.parse({"env": "X", "issued": datetime(2026, 1, 15, 10, 0)})
    assert from_yaml.issued == date(2026, 1, 15) and type(from_yaml.issued) is date
    assert ref.resolve({"ACME_REFRESH_TOKEN": TOKEN}).reveal() == TOKEN


@pytest.mark.parametrize("spec", [
    TOKEN, {"env": "A", "secret": "b"}, {}, {"env": ""}, {"env": "A", "value": TOKEN},
    {"env": "A", "issued": "15.01.2026"}, {"secret": 5}, None,
])
def test_secret_ref_rejects_bad_specs_without_echoing(spec: object) -> None:
    with pytest.raises(CredentialsError) as caught:
        SecretRef.parse(spec, where="accounts[0].refresh_token")
    assert TOKEN not in str(caught.value)
    assert "accounts[0].refresh_token" in str(caught.value)


def test_secret_ref_resolution_errors_name_the_place(tmp_path: Path) -> None:
    with pytest.raises(SecretNotFound, match="ACME_TOKEN"):
        SecretRef(env="ACME_TOKEN").resolve({})
    with pytest.raises(SecretNotFound, match="SPAPI_CREDENTIALS_KEY"):
        SecretRef(secret="acme").resolve({}, None)
    store = CredentialsFile(tmp_path / "c.json", MASTER)
    with pytest.raises(SecretNotFound, match="'acme'"):
        SecretRef(secret="acme").resolve({}, store)
    store.set("acme", TOKEN, date(2026, 2, 1))
    assert SecretRef(secret="acme").resolve({}, store).reveal() == TOKEN
    assert SecretRef(secret="acme").issued_on(store) == date(2026, 2, 1)
    assert SecretRef(secret="acme", issued=date(2026, 1, 1)).issued_on(store) == date(2026, 1, 1)


# --- the credentials file -----------------------------------------------------------------------------------


def test_credentials_file_round_trip_mode_and_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "credentials.enc.json"
    old_umask = os.umask(0o022)
    try:
        store = CredentialsFile.create(path, MASTER)
        store.set("acme.refresh_token", TOKEN, date(2026, 1, 2))
        store.set("acme.lwa_client_secret", Secret(CLIENT_SECRET), date(2026, 1, 3))
        store.save()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    for plain in (TOKEN, CLIENT_SECRET, "acme.refresh_token", "Atzr"):
        assert plain.encode() not in raw
    document = json.loads(raw)
    assert document["format"] == "spapi-credentials" and document["version"] == 1
    assert set(document) == {"format", "version", "nonce", "ciphertext"}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    loaded = CredentialsFile.load(path, MASTER)
    assert loaded.names() == ["acme.lwa_client_secret", "acme.refresh_token"]
    assert loaded.get("acme.refresh_token").reveal() == TOKEN
    assert loaded.updated("acme.lwa_client_secret") == date(2026, 1, 3)
    assert TOKEN not in repr(loaded)
    first_nonce = document["nonce"]
    loaded.remove("acme.refresh_token")
    loaded.save()
    assert json.loads(path.read_text())["nonce"] != first_nonce  # a fresh nonce on every save
    assert CredentialsFile.load(path, MASTER).names() == ["acme.lwa_client_secret"]
    with pytest.raises(CredentialsFileError, match="already exists"):
        CredentialsFile.create(path, MASTER)


def test_wrong_master_key_and_tampering_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    store = CredentialsFile.create(path, MASTER)
    store.set("acme", TOKEN)
    store.save()
    with pytest.raises(WrongCredentialsKey, match="SPAPI_CREDENTIALS_KEY") as caught:
        CredentialsFile.load(path, bytes(32))
    assert TOKEN not in str(caught.value)
    document = json.loads(path.read_text())
    sealed = bytearray(base64.b64decode(document["ciphertext"]))
    sealed[3] ^= 1
    document["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(WrongCredentialsKey):
        CredentialsFile.load(path, MASTER)
    path.write_text("{not json")
    with pytest.raises(CredentialsFileError, match="not readable JSON"):
        CredentialsFile.load(path, MASTER)
    path.write_text(json.dumps({"format": "spapi-credentials", "version": 9}))
    with pytest.raises(CredentialsFileError, match="version 9"):
        CredentialsFile.load(path, MASTER)
    with pytest.raises(CredentialsFileError, match="does not exist"):
        CredentialsFile.load(tmp_path / "missing.json", MASTER)


def test_open_file_permissions_are_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.json"
    CredentialsFile.create(path, MASTER)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        CredentialsFile.load(path, MASTER)
    assert "0600" in caplog.text


def test_master_key_from_environment() -> None:
    assert load_credentials_key({"SPAPI_CREDENTIALS_KEY": MASTER_B64}) == MASTER
    with pytest.raises(KeyMissing, match="SPAPI_CREDENTIALS_KEY"):
        load_credentials_key({})


def test_invalid_names_and_empty_values_are_refused(tmp_path: Path) -> None:
    store = CredentialsFile(tmp_path / "c.json", MASTER)
    with pytest.raises(CredentialsError):
        store.set("has space", TOKEN)
    with pytest.raises(CredentialsError, match="empty"):
        store.set("acme", "")


# --- rotation -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "state", "days_left"), [
    (0, RotationState.OK, 180),
    (149, RotationState.OK, 31),
    (150, RotationState.EXPIRING, 30),
    (179, RotationState.EXPIRING, 1),
    (180, RotationState.EXPIRED, 0),
    (400, RotationState.EXPIRED, -220),
])
def test_rotation_boundaries(age: int, state: RotationState, days_left: int) -> None:
    issued = date(2026, 1, 1)
    status = check_rotation(issued, issued + timedelta(days=age))
    assert (status.state, status.days_left, status.expires_on) == (state, days_left, date(2026, 6, 30))


def test_rotation_rejects_future_issue_dates_and_takes_other_windows() -> None:
    with pytest.raises(ValueError):
        check_rotation(date(2026, 2, 1), date(2026, 1, 1))
    status = check_rotation(date(2026, 1, 1), date(2026, 1, 21), max_age_days=30, warn_within_days=10)
    assert status.state == RotationState.EXPIRING and status.days_left == 10
