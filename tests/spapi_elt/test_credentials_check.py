"""`spapi-elt credentials check` as an operator runs it: every missing key and secret named in one run, the PII
keys only when buyer data is read, and `--online` asking a real LWA endpoint (the sandbox's) for a token."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from dlt_sources.spapi.credentials import CredentialsFile
from spapi_elt import demo
from spapi_elt.credentials_commands import credentials_file_findings
from spapi_sandbox.truth import truth

ROOT = Path(__file__).resolve().parents[2]
MASTER = bytes(range(32))
MASTER_B64 = base64.b64encode(MASTER).decode()
ACCOUNT = """
[[accounts]]
name = "acme"
seller_id = "A1B2C3D4E5F6G7"
region = "NA"
marketplace_ids = ["ATVPDKIKX0DER"]
lwa_client_id = "amzn1.application-oa2-client.0123"
lwa_client_secret = {{ env = "ACME_LWA_SECRET", issued = "{issued}" }}
refresh_token = {{ secret = "acme" }}
"""


def check(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The command in a clean environment: none of the caller's SPAPI_* variables leak in."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SPAPI_")}
    return subprocess.run([sys.executable, "-m", "spapi_elt.cli", "credentials", "check", *args], text=True,
                          capture_output=True, cwd=ROOT, env={**base, "DO_NOT_TRACK": "1", **env}, timeout=120)


def fail_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("FAIL")]


def test_every_missing_key_and_secret_is_named_in_one_run(tmp_path: Path) -> None:
    """No credentials key, the client secret's variable unset, no PII keys: four problems, four lines, exit 2.
    Before, the check stopped at the first (the credentials key) with one error line."""
    config = tmp_path / "accounts.toml"
    config.write_text(ACCOUNT.format(issued=date.today().isoformat()))
    done = check("--config", str(config), env={"SPAPI_CREDENTIALS_FILE": str(tmp_path / "c.json")})
    assert done.returncode == 2, done.stderr
    failed = fail_lines(done)
    named = " ".join(failed)
    for missing in ("SPAPI_CREDENTIALS_KEY", "ACME_LWA_SECRET", "SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS"):
        assert missing in named, (missing, done.stdout)
    assert any("acme: refresh_token" in line and "credentials file" in line for line in failed)
    assert any(line.startswith("FAIL  credentials file") and "does not exist" in line for line in failed)
    assert len(failed) == 6, done.stdout  # key, file, client secret, refresh token, two PII variables


def test_without_buyer_data_the_pii_keys_are_not_needed(tmp_path: Path) -> None:
    credentials = tmp_path / "c.json"
    store = CredentialsFile.create(credentials, MASTER)
    store.set("acme", "Atzr|refresh-token-value", date.today())
    store.save()
    config = tmp_path / "accounts.toml"
    config.write_text(ACCOUNT.format(issued=date.today().isoformat()))
    env = {"SPAPI_CREDENTIALS_FILE": str(credentials), "SPAPI_CREDENTIALS_KEY": MASTER_B64,
           "ACME_LWA_SECRET": "client-secret-value"}
    done = check("--config", str(config), "--resources", "settlements,financial_event_groups", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PII keys not checked" in done.stdout and not fail_lines(done)
    assert "client-secret-value" not in done.stdout and "refresh-token-value" not in done.stdout
    with_orders = check("--config", str(config), "--resources", "settlements,orders", env=env)
    assert with_orders.returncode == 2
    assert [line.split()[1] for line in fail_lines(with_orders)] == ["SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS"]


def test_a_credentials_file_others_can_read_or_the_key_cannot_open_is_named(tmp_path: Path) -> None:
    from dlt_sources.spapi.credentials import SecretRef

    path = tmp_path / "c.json"
    CredentialsFile.create(path, MASTER)
    path.chmod(0o644)
    refs = [SecretRef(secret="acme")]
    store, findings = credentials_file_findings(refs, {"SPAPI_CREDENTIALS_FILE": str(path),
                                                       "SPAPI_CREDENTIALS_KEY": MASTER_B64})
    assert store is not None
    assert [(f.code, f.detail.split(":")[0]) for f in findings][0] == (1, "mode 644")
    other = base64.b64encode(bytes(32)).decode()
    store, findings = credentials_file_findings(refs, {"SPAPI_CREDENTIALS_FILE": str(path),
                                                       "SPAPI_CREDENTIALS_KEY": other})
    assert store is None and findings[-1].code == 2 and "does not decrypt" in findings[-1].detail


def test_online_asks_the_sandbox_lwa_for_a_token_per_account(sandbox, tmp_path: Path) -> None:
    """A good refresh token is ok, a wrong one refused with LWA's own error code; no secret is printed."""
    facts = truth(sandbox.world)
    env = demo.demo_environment(facts)
    wrong = "Atzr|not-the-token-amazon-issued"
    env[demo.env_name(1, "REFRESH_TOKEN")] = wrong
    config = tmp_path / "accounts.toml"
    config.write_text(demo.accounts_toml(sandbox.base_url, facts))
    done = check("--config", str(config), "--online", env=env)
    lines = done.stdout.splitlines()
    names = [a["name"].lower().replace(" ", "-") for a in facts["accounts"]]
    lwa = {line.split()[1]: line for line in lines if ": LWA" in line}
    assert lwa[f"{names[0]}:"].startswith("ok") and "ok: access token issued by" in lwa[f"{names[0]}:"]
    assert lwa[f"{names[1]}:"].startswith("FAIL") and "refused: invalid_grant" in lwa[f"{names[1]}:"]
    assert done.returncode == 2
    for secret in [wrong] + [v for a in facts["accounts"] for v in (a["refresh_token"], a["lwa_client_secret"])]:
        assert secret not in done.stdout + done.stderr


def test_online_names_an_endpoint_that_does_not_answer(tmp_path: Path) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text('[settings]\nlwa_token_url = "http://127.0.0.1:9/auth/o2/token"\n'
                      + ACCOUNT.format(issued=date.today().isoformat()).replace('{ secret = "acme" }',
                                                                                 '{ env = "ACME_TOKEN" }'))
    done = check("--config", str(config), "--online", "--resources", "settlements",
                 env={"ACME_LWA_SECRET": "s3cr3t-value", "ACME_TOKEN": "Atzr|t0ken-value"})
    assert done.returncode == 2
    line = next(line for line in done.stdout.splitlines() if "acme: LWA" in line)
    assert line.startswith("FAIL") and "unreachable: http://127.0.0.1:9/auth/o2/token: ConnectError" in line
    assert "s3cr3t-value" not in done.stdout and "t0ken-value" not in done.stdout
