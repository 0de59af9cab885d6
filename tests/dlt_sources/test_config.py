"""The accounts configuration as a user meets it: regions, endpoints, clear errors; cursors only move forward."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dlt_sources.spapi.config import ConfigError, load_accounts, parse_accounts

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
    ({"marketplace_ids": ["A1PA6795UKMFR0"]}, "unknown marketplace id(s) A1PA6795UKMFR0"),
    ({"region": "NA"}, "marketplace(s) A1PA6795UKMFR9 (EU) are not served by the NA endpoint"),
    ({"colour": "blue"}, "unknown keys ['colour']"),
])
def test_bad_configuration_is_a_clear_error_that_never_echoes_a_secret(bad, message):
    with pytest.raises(ConfigError) as error:
        parse_accounts({"accounts": [account(**bad)]})
    assert message in str(error.value) and "pasted-token-value" not in str(error.value)


def test_unknown_account_names_are_an_error_not_ignored():
    with pytest.raises(ConfigError, match="unknown account"):
        load_accounts(EXAMPLE).select(["nobody"])


def test_cursors_only_move_forward():
    from dlt_sources.spapi.extraction import forward

    later, earlier = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    assert forward(None, earlier) == earlier.isoformat()
    assert forward(later.isoformat(), earlier) == later.isoformat()  # a backfill of February
    assert forward(earlier.isoformat(), later) == later.isoformat()
