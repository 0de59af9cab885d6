"""`spapi-elt credentials set` and `check`: the value from stdin never echoed, expiry and missing secrets."""

from __future__ import annotations

import io
import stat
from datetime import date
from pathlib import Path

from dlt_sources.spapi.credentials import CredentialsFile, SecretRef
from spapi_elt.credentials_commands import TrackedSecret, cli_check, cli_set_secret
from tests.dlt_sources.test_credentials import CLIENT_SECRET, MASTER, MASTER_B64, TOKEN


def test_cli_set_reads_stdin_and_never_echoes(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc.json"
    env = {"SPAPI_CREDENTIALS_KEY": MASTER_B64}
    out = io.StringIO()
    code = cli_set_secret("acme.refresh_token", io.StringIO(TOKEN + "\n"), out, env=env, path=path,
                          today=date(2026, 1, 5))
    assert code == 0 and TOKEN not in out.getvalue()
    assert "stored secret 'acme.refresh_token'" in out.getvalue()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert CredentialsFile.load(path, MASTER).get("acme.refresh_token").reveal() == TOKEN
    out = io.StringIO()
    assert cli_set_secret("acme.refresh_token", io.StringIO("Atzr|new\r\n"), out, env=env, path=path) == 0
    assert "replaced" in out.getvalue()
    assert CredentialsFile.load(path, MASTER).get("acme.refresh_token").reveal() == "Atzr|new"
    out = io.StringIO()
    assert cli_set_secret("acme", io.StringIO("\n"), out, env=env, path=path) == 2
    assert "empty" in out.getvalue()
    out = io.StringIO()
    assert cli_set_secret("acme", io.StringIO(TOKEN), out, env={}, path=tmp_path / "x.json") == 2
    assert "SPAPI_CREDENTIALS_KEY" in out.getvalue() and TOKEN not in out.getvalue()
    assert not (tmp_path / "x.json").exists()


def test_cli_check_reports_expiry_and_missing_secrets(tmp_path: Path) -> None:
    store = CredentialsFile(tmp_path / "c.json", MASTER)
    store.set("acme.lwa_client_secret", CLIENT_SECRET, date(2026, 1, 1))
    env = {"ACME_TOKEN": TOKEN, "BETA_SECRET": CLIENT_SECRET}
    today = date(2026, 6, 10)  # 160 days after 2026-01-01: 20 days left
    tracked = [
        TrackedSecret("acme: refresh_token", SecretRef(env="ACME_TOKEN")),
        TrackedSecret("acme: lwa_client_secret", SecretRef(secret="acme.lwa_client_secret"), rotates=True),
    ]
    out = io.StringIO()
    assert cli_check(tracked, out, today=today, env=env, store=store) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ok") and "present" in lines[0]
    assert lines[1].startswith("warn") and "expires 2026-06-30 (20 days left)" in lines[1]
    more = tracked + [
        TrackedSecret("beta: lwa_client_secret", SecretRef(env="BETA_SECRET", issued=date(2025, 1, 1)), True),
        TrackedSecret("gamma: refresh_token", SecretRef(env="GAMMA_TOKEN")),
        TrackedSecret("delta: lwa_client_secret", SecretRef(env="BETA_SECRET"), rotates=True),
    ]
    out = io.StringIO()
    assert cli_check(more, out, today=today, env=env, store=store) == 2
    lines = out.getvalue().splitlines()
    assert lines[2].startswith("FAIL") and "expired on 2025-06-30" in lines[2]
    assert lines[3].startswith("FAIL") and "GAMMA_TOKEN is not set" in lines[3]
    assert lines[4].startswith("FAIL") and "no issue date" in lines[4]
    assert TOKEN not in out.getvalue() and CLIENT_SECRET not in out.getvalue()
    out = io.StringIO()
    assert cli_check(tracked[:1], out, today=today, env=env) == 0
