"""The accounts configuration: which seller accounts to load, where they live, where their secrets are.

A TOML file (see accounts.example.toml at the project root):

    [settings]
    max_parallel_accounts = 4          # accounts extracted at once, each inside its own quota
    # endpoint = "http://127.0.0.1:8000"   # optional: one endpoint for every account (the sandbox)
    # lwa_token_url = "http://127.0.0.1:8000/auth/o2/token"

    [[accounts]]
    name = "northwind-na"
    seller_id = "A1B2C3D4E5F6G7"
    region = "NA"                      # NA, EU or FE: picks Amazon's regional endpoint
    marketplace_ids = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
    lwa_client_id = "amzn1.application-oa2-client.0123"
    lwa_client_secret = { env = "SPAPI_LWA_CLIENT_SECRET", issued = "2026-06-01" }
    refresh_token = { secret = "northwind-na" }   # or { env = "VAR" }

Secrets are references, never values: a pasted token is refused with an error that does not echo it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlt_sources.spapi.credentials import CredentialsError, CredentialsFile, Secret, SecretRef, credentials_path
from dlt_sources.spapi.keys import load_credentials_key
from dlt_sources.spapi.settings import LWA_TOKEN_URL, MARKETPLACE_REGIONS, REGION_ENDPOINTS

DEFAULT_PARALLEL_ACCOUNTS = 4


class ConfigError(ValueError):
    """The accounts configuration is unusable; the message says where."""


@dataclass(frozen=True)
class AccountConfig:
    name: str
    seller_id: str
    region: str
    marketplace_ids: tuple[str, ...]
    lwa_client_id: str
    lwa_client_secret: SecretRef
    refresh_token: SecretRef
    endpoint: str
    lwa_token_url: str


@dataclass(frozen=True)
class AccountsConfig:
    accounts: tuple[AccountConfig, ...]
    max_parallel_accounts: int = DEFAULT_PARALLEL_ACCOUNTS
    source: Path | None = field(default=None, compare=False)

    def select(self, names: Iterable[str] | None) -> AccountsConfig:
        """Only the named accounts (by name or seller id); unknown names are an error, not ignored."""
        if not names:
            return self
        wanted = list(names)
        known = {a.name: a for a in self.accounts} | {a.seller_id: a for a in self.accounts}
        missing = [n for n in wanted if n not in known]
        if missing:
            raise ConfigError(f"unknown account(s) {', '.join(missing)}; configured: "
                              + ", ".join(a.name for a in self.accounts))
        chosen = {known[n].seller_id: known[n] for n in wanted}
        return AccountsConfig(tuple(chosen.values()), self.max_parallel_accounts, self.source)


def load_accounts(path: str | Path) -> AccountsConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"accounts configuration {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_accounts(raw, source=path)


def parse_accounts(raw: dict[str, Any], source: Path | None = None) -> AccountsConfig:
    where = str(source or "accounts configuration")
    settings = raw.get("settings", {})
    unknown = set(settings) - {"max_parallel_accounts", "endpoint", "lwa_token_url"}
    if unknown:
        raise ConfigError(f"{where}: unknown [settings] keys {sorted(unknown)}")
    parallel = settings.get("max_parallel_accounts", DEFAULT_PARALLEL_ACCOUNTS)
    if not isinstance(parallel, int) or parallel < 1:
        raise ConfigError(f"{where}: max_parallel_accounts must be a whole number >= 1")
    entries = raw.get("accounts")
    if not entries:
        raise ConfigError(f"{where}: no [[accounts]] configured")
    accounts = tuple(_account(entry, settings, f"{where}: accounts[{i}]") for i, entry in enumerate(entries))
    for attr in ("name", "seller_id"):
        values = [getattr(a, attr) for a in accounts]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ConfigError(f"{where}: duplicate account {attr} {', '.join(duplicates)}")
    return AccountsConfig(accounts, parallel, source)


def _account(entry: dict[str, Any], settings: dict[str, Any], where: str) -> AccountConfig:
    required = ("name", "seller_id", "region", "marketplace_ids", "lwa_client_id", "lwa_client_secret",
                "refresh_token")
    missing = [k for k in required if k not in entry]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    unknown = set(entry) - set(required) - {"endpoint", "lwa_token_url"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    region = str(entry["region"]).upper()
    if region not in REGION_ENDPOINTS:
        raise ConfigError(f"{where}: region must be one of {', '.join(REGION_ENDPOINTS)}, got {region!r}")
    marketplaces = entry["marketplace_ids"]
    all_text = isinstance(marketplaces, list) and all(isinstance(m, str) for m in marketplaces)
    if not (marketplaces and all_text):
        raise ConfigError(f"{where}: marketplace_ids must be a non-empty list of marketplace ids")
    unknown_ids = [m for m in marketplaces if m not in MARKETPLACE_REGIONS]
    if unknown_ids:
        raise ConfigError(f"{where}: unknown marketplace id(s) {', '.join(unknown_ids)} (Amazon's list: "
                          "https://developer-docs.amazon.com/sp-api/docs/marketplace-ids)")
    elsewhere = [f"{m} ({MARKETPLACE_REGIONS[m]})" for m in marketplaces if MARKETPLACE_REGIONS[m] != region]
    if elsewhere:
        raise ConfigError(f"{where}: marketplace(s) {', '.join(elsewhere)} are not served by the {region} "
                          "endpoint: configure them on an account of their region")
    try:
        client_secret = SecretRef.parse(entry["lwa_client_secret"], f"{where}.lwa_client_secret")
        refresh_token = SecretRef.parse(entry["refresh_token"], f"{where}.refresh_token")
    except CredentialsError as exc:  # one error type for callers of the configuration
        raise ConfigError(str(exc)) from None
    return AccountConfig(
        name=str(entry["name"]),
        seller_id=str(entry["seller_id"]),
        region=region,
        marketplace_ids=tuple(marketplaces),
        lwa_client_id=str(entry["lwa_client_id"]),
        lwa_client_secret=client_secret,
        refresh_token=refresh_token,
        endpoint=str(entry.get("endpoint") or settings.get("endpoint") or REGION_ENDPOINTS[region]).rstrip(
            "/"),
        lwa_token_url=str(entry.get("lwa_token_url") or settings.get("lwa_token_url") or LWA_TOKEN_URL),
    )


def credentials_store(refs: Iterable[SecretRef]) -> CredentialsFile | None:
    """The encrypted credentials file, opened only when some reference lives there."""
    return CredentialsFile.load(credentials_path(), load_credentials_key()) if any(r.secret for r in refs) else None


def secret_resolver(accounts: AccountsConfig) -> Callable[[SecretRef], Secret]:
    """Environment references resolve directly; file references open the encrypted credentials file once."""
    store = credentials_store(ref for a in accounts.accounts for ref in (a.refresh_token, a.lwa_client_secret))

    def resolve(ref: SecretRef) -> Secret:
        return ref.resolve(None, store)

    return resolve
