"""The accounts configuration, the spapi-elt command line and the PII purge, as a user meets them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import dlt
import pytest

from dlt_sources.spapi.config import ConfigError, load_accounts, parse_accounts
from dlt_sources.spapi.lakehouse import DATASET, pipeline, purge_pii
from dlt_sources.spapi.tables import to_table
from tests.dlt_source.ingest_helpers import query

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "accounts.example.toml"


def account(**overrides) -> dict:
    entry = {"name": "acme", "seller_id": "A1", "region": "EU", "marketplace_ids": ["A1PA6795UKMFR9"],
             "lwa_client_id": "amzn1.application-oa2-client.x", "lwa_client_secret": {"env": "SECRET"},
             "refresh_token": {"secret": "acme"}}
    entry.update(overrides)
    return entry


def test_example_configuration_loads_with_regional_endpoints():
    config = load_accounts(EXAMPLE)
    assert [a.endpoint for a in config.accounts] == ["https://sellingpartnerapi-na.amazon.com",
                                                     "https://sellingpartnerapi-eu.amazon.com"]
    assert config.accounts[0].lwa_client_secret.issued == date(2026, 10, 1)
    assert config.select(["northwind-eu"]).accounts[0].seller_id == "A7G6F5E4D3C2B1"


def test_endpoint_override_makes_the_sandbox_just_another_endpoint():
    config = parse_accounts({"settings": {"endpoint": "http://127.0.0.1:9/"}, "accounts": [account()]})
    assert config.accounts[0].endpoint == "http://127.0.0.1:9"


@pytest.mark.parametrize("bad, message", [
    ({"refresh_token": "Atzr|pasted-token-value"}, "never put the secret itself"),
    ({"region": "MOON"}, "region must be one of NA, EU, FE"),
    ({"marketplace_ids": []}, "marketplace_ids must be a non-empty list"),
    ({"colour": "blue"}, "unknown keys ['colour']"),
])
def test_bad_configuration_is_a_clear_error_that_never_echoes_a_secret(bad, message):
    with pytest.raises(ConfigError) as error:
        parse_accounts({"accounts": [account(**bad)]})
    assert message in str(error.value) and "pasted-token-value" not in str(error.value)


def test_unknown_account_names_are_an_error_not_ignored():
    with pytest.raises(ConfigError, match="unknown account"):
        load_accounts(EXAMPLE).select(["nobody"])


def spapi_elt(*args: str, env: dict | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlt_sources.spapi.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120)


def test_ingest_with_a_missing_configuration_exits_2_with_the_reason(tmp_path):
    done = spapi_elt("ingest", "--config", str(tmp_path / "none.toml"))
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_ingest_without_pii_keys_refuses_to_run(tmp_path):
    env = {k: "" for k in ("SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS", "SPAPI_PII_ACTIVE_KEY_ID")}
    done = spapi_elt("ingest", "--config", str(EXAMPLE), "--lakehouse", str(tmp_path / "l.duckdb"), env=env)
    assert done.returncode == 2 and "SPAPI_PII_HMAC_KEY" in done.stderr
    assert not (tmp_path / "l.duckdb").exists()


def test_unknown_resource_is_an_error(tmp_path):
    done = spapi_elt("ingest", "--config", str(EXAMPLE), "--resources", "ordres")
    assert done.returncode == 2 and "unknown resource(s) ordres" in done.stderr


def test_credentials_set_and_check(tmp_path):
    key = "V0I3UDNqV2x6M0o5c0V2Wm1hZmFQcHhBZ1pKb1VQd1M="  # base64 of 32 bytes
    env = {"SPAPI_CREDENTIALS_KEY": key, "SPAPI_CREDENTIALS_FILE": str(tmp_path / "credentials.enc.json")}
    stored = spapi_elt("credentials", "set", "northwind-na", env=env, stdin="Atzr|super-secret-refresh\n")
    assert stored.returncode == 0 and "super-secret" not in stored.stdout + stored.stderr
    assert b"super-secret" not in (tmp_path / "credentials.enc.json").read_bytes()
    checked = spapi_elt("credentials", "check", "--config", str(EXAMPLE),
                        env={**env, "SPAPI_LWA_CLIENT_SECRET": "s", "SPAPI_REFRESH_TOKEN_NORTHWIND_EU": "t"})
    lines = checked.stdout.splitlines()
    assert any(line.startswith("ok") and "northwind-na: refresh_token" in line for line in lines)
    # Issued 2026-10-01: 180 days end 2027-03-30, so it is fine until 30 days before that.
    assert any("northwind-na: lwa_client_secret" in line and "expires 2027-03-30" in line for line in lines)
    assert checked.returncode in (0, 1)


def test_purge_shreds_old_pii_once_and_records_it(tmp_path):
    lakehouse = tmp_path / "l.duckdb"
    old, recent = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC)
    rows = [{"seller_id": "A1", "order_id": "1", "last_updated_at": old, "buyer": {"buyerName": "e1:k:old"}},
            {"seller_id": "A1", "order_id": "2", "last_updated_at": recent, "buyer": {"buyerName": "e1:k:new"}}]
    pipeline(lakehouse).run(dlt.resource([to_table("order_buyers", rows)], name="order_buyers"))
    assert purge_pii(lakehouse, today=date(2026, 3, 25)) == 1
    assert purge_pii(lakehouse, today=date(2026, 3, 25)) == 0  # idempotent
    names = dict(query(lakehouse, f"select order_id, buyer__buyer_name from {DATASET}.order_buyers"))
    assert names == {"1": "purged:2026-03-25", "2": "e1:k:new"}
    purges = query(lakehouse, f"select table_name, rows_purged from {DATASET}.pii_purges order by purged_at")
    assert purges == [("order_buyers", 1), ("order_buyers", 0)]
    assert query(lakehouse, f"select count(*) from {DATASET}.api_audit_log where kind = 'pii_purge'")[0][0] == 2


def test_cursors_only_move_forward():
    from dlt_sources.spapi.extraction import forward

    later, earlier = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    assert forward(None, earlier) == earlier.isoformat()
    assert forward(later.isoformat(), earlier) == later.isoformat()  # a backfill of February
    assert forward(earlier.isoformat(), later) == later.isoformat()
