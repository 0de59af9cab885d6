"""The resources every area shares: where the lakehouse is, and how to reach SP-API for which accounts.

Configured, not hard-coded: each field has a default that follows the product's own environment
variables (SPAPI_LAKEHOUSE, SPAPI_ACCOUNTS), and can be set per run in the launchpad. Secrets never pass
through Dagster config, because Dagster stores a run's config in its run storage and serves it over
GraphQL: account secrets stay references in the accounts file, and the PII keys have no field at all.
They are read from the code location's environment (SPAPI_PII_*, put there by a secret store or the
deployment) by the steps that protect PII, and by no other: a step that only names accounts (the dbt
build's window, the reports) needs no key.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import dagster as dg

from dlt_sources.spapi import reads_buyer_data
from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountsConfig, load_accounts, secret_resolver
from dlt_sources.spapi.extraction import Extraction, Progress
from dlt_sources.spapi.pii import Protector
from spapi_elt.lakehouse import lakehouse_path

# Every step that opens the DuckDB file (ingest, dbt, purge, checks that query it) takes a slot of this
# pool; the instance (orchestration/dagster.yaml) limits it to 1, so only one process holds the file.
LAKEHOUSE_POOL = "lakehouse"
DEFAULT_ACCOUNTS_FILE = "accounts.toml"


class LakehouseResource(dg.ConfigurableResource):
    """The DuckDB lakehouse file: `path`, else SPAPI_LAKEHOUSE, else data/lakehouse.duckdb."""

    path: str | None = None

    def resolved(self) -> Path:
        # A lake is not wired into Dagster yet (its ingest pool and dbt target come with the Spark slice).
        return lakehouse_path(self.path, "Dagster").resolve()

    @contextmanager
    def dbt_environment(self) -> Iterator[Path]:
        """SPAPI_LAKEHOUSE set for the dbt subprocess (dbt_project/profiles.yml reads it), then restored."""
        path, before = self.resolved(), os.environ.get("SPAPI_LAKEHOUSE")
        os.environ["SPAPI_LAKEHOUSE"] = str(path)
        try:
            yield path
        finally:
            if before is None:
                os.environ.pop("SPAPI_LAKEHOUSE", None)
            else:
                os.environ["SPAPI_LAKEHOUSE"] = before


class SpApiResource(dg.ConfigurableResource):
    """SP-API access: the accounts file and an optional endpoint override (the sandbox, a proxy).

    No field may carry key material (tests/orchestration/test_definitions.py holds it to that)."""

    accounts_file: str | None = None  # else SPAPI_ACCOUNTS, else accounts.toml
    endpoint: str | None = None  # overrides every account's regional endpoint
    lwa_token_url: str | None = None  # overrides Amazon's token endpoint

    def accounts(self, names: Sequence[str] = ()) -> AccountsConfig:
        path = self.accounts_file or os.environ.get("SPAPI_ACCOUNTS") or DEFAULT_ACCOUNTS_FILE
        config = load_accounts(path).select(list(names) or None)
        if not (self.endpoint or self.lwa_token_url):
            return config
        accounts = tuple(replace(a, endpoint=self.endpoint or a.endpoint,
                                 lwa_token_url=self.lwa_token_url or a.lwa_token_url) for a in config.accounts)
        return replace(config, accounts=accounts)

    def protector(self) -> Protector:
        """The PII keys from the environment only (SPAPI_PII_HMAC_KEY, SPAPI_PII_KEYS, SPAPI_PII_ACTIVE_KEY_ID)."""
        return Protector.from_env()

    def extraction(self, start: datetime | None, end: datetime | None, accounts: Sequence[str] = (),
                   buyer_days: int = 7, resources: Sequence[str] | None = None) -> Extraction:
        """The dlt source's run context, built exactly as `spapi-elt ingest` builds it (the PII keys only when the
        resources read buyer data)."""
        config = self.accounts(accounts)
        resolve = secret_resolver(config)
        protector = self.protector() if reads_buyer_data(resources) else None
        ctx = Extraction(accounts=config, protector=protector, start=start, end=end, buyer_days=buyer_days,
                         client_factory=lambda a, audit, stats: SpApiClient(a, resolve, audit, stats=stats))
        ctx.progress = Progress(ctx.stats, out=None)  # silent until the asset hands it the run's log
        return ctx
