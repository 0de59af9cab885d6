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
import duckdb

from dlt_sources.spapi import reads_buyer_data
from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountsConfig, load_accounts, secret_resolver
from dlt_sources.spapi.extraction import Extraction, Progress
from dlt_sources.spapi.pii import Protector
from spapi_elt.dbt_runner import LAKE_VARIABLES, lake_environment
from spapi_elt.lake import as_lake, is_lake, lake_views
from spapi_elt.lakehouse import lakehouse_setting
from spapi_elt.lakehouse_lock import lakehouse_lock

# Every step that opens the DuckDB file (ingest, dbt, purge, checks that query it) takes a slot of this
# pool; the instance (orchestration/dagster.yaml) limits it to 1, so only one process holds the file.
LAKEHOUSE_POOL = "lakehouse"
DEFAULT_ACCOUNTS_FILE = "accounts.toml"


def raw_load_pool() -> str | None:
    """The raw loads' pool: the single-writer pool on a DuckDB file; none on a lake (SPAPI_LAKEHOUSE a lake URL when
    the code location loads), whose accounts load at once (spapi_elt/lake.py). dbt keeps the pool either way."""
    return None if is_lake(os.environ.get("SPAPI_LAKEHOUSE")) else LAKEHOUSE_POOL


class LakehouseResource(dg.ConfigurableResource):
    """The lakehouse: `path`, else SPAPI_LAKEHOUSE, else data/lakehouse.duckdb. A DuckDB file, or a lake URL
    (`file:///...`, spapi_elt/lake.py): its raw tables are Parquet, its marts in `<lake>/warehouse.duckdb`."""

    path: str | None = None

    def setting(self) -> str | Path:
        """What ingest and the purge take: the lake's URL, or the DuckDB file's absolute path."""
        setting = lakehouse_setting(self.path)
        return str(setting) if is_lake(setting) else Path(setting).resolve()

    def resolved(self) -> Path:
        """The DuckDB file the marts are built in: the lakehouse file, or a lake's warehouse file."""
        setting = self.setting()
        return as_lake(setting).warehouse.resolve() if isinstance(setting, str) else setting

    @contextmanager
    def raw_tables(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only view of the raw dataset (schema raw_spapi) for the checks, holding the file's lock; None when
        nothing is loaded yet. A lake: views over its Parquet files, no lock (its loads only ever add files)."""
        setting = self.setting()
        if isinstance(setting, str):
            with duckdb.connect() as con:
                yield con if lake_views(as_lake(setting), con) else None
        elif not setting.exists():
            yield None
        else:
            with lakehouse_lock(setting, "dagster check", wait=True), \
                    duckdb.connect(str(setting), read_only=True) as con:
                yield con

    @contextmanager
    def dbt_environment(self) -> Iterator[Path]:
        """SPAPI_LAKEHOUSE (dbt_project/profiles.yml reads it) set to the marts' file for the dbt subprocess, and for a
        lake what `spapi-elt transform` sets too (dbt_runner.lake_environment: its Parquet for macros/raw_table.sql,
        Spark's folder); all restored afterwards."""
        setting, path = self.setting(), self.resolved()
        values: dict[str, str | None] = {"SPAPI_LAKEHOUSE": str(path), **dict.fromkeys(LAKE_VARIABLES)}
        if isinstance(setting, str):
            values.update(lake_environment(as_lake(setting)))
        before = {name: os.environ.get(name) for name in values}
        for name, value in values.items():
            _set_env(name, value)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield path
        finally:
            for name, value in before.items():
                _set_env(name, value)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


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
