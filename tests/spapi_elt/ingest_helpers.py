"""Run the real ingest against a real sandbox server into a real DuckDB file, and read the result."""

from __future__ import annotations

import hashlib
import logging
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from dlt_sources.spapi.config import parse_accounts
from dlt_sources.spapi.extraction import Extraction, Progress
from dlt_sources.spapi.pii import Protector
from dlt_sources.spapi.pii.crypto import PURGED_PREFIX
from spapi_elt import demo
from spapi_elt.ingest import IngestResult, ingest
from spapi_elt.lakehouse import DATASET
from spapi_sandbox.generate import epoch_of
from spapi_sandbox.truth import truth

# Tables whose rows record how a run went (or when a key was first used) rather than what Amazon holds: they
# differ between runs.
RUN_FACT_TABLES = ("api_audit_log", "flat_file_quarantine", "pii_purges", "pii_key_checks")


def run_ingest(sandbox, lakehouse: Path | str, log_file: Path | None = None, resources=None,
               accounts: list[str] | None = None, purge: bool = False) -> IngestResult:
    """Ingest the sandbox's whole data window (of `accounts`, names or seller ids: default all) into a DuckDB file
    or a lake URL, logging (at DEBUG) to `log_file` if given; ending with the PII purge if `purge`."""
    facts = truth(sandbox.world)
    env = demo.demo_environment(facts)
    handler = None
    if log_file is not None:
        handler = logging.FileHandler(log_file)
        handler.setLevel(logging.DEBUG)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.DEBUG)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            configured = parse_accounts(tomllib.loads(demo.accounts_toml(sandbox.base_url, facts))).select(accounts)
            ctx = Extraction(accounts=configured, protector=Protector.from_env(),
                             start=datetime.fromtimestamp(epoch_of(sandbox.arguments.start), UTC),
                             end=datetime.fromtimestamp(sandbox.world.now, UTC),
                             buyer_days=sandbox.arguments.days)
            ctx.progress = Progress(ctx.stats, out=None)
            return ingest(ctx, lakehouse, resources, purge=purge)
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()


def protector_for(sandbox) -> Protector:
    return Protector.from_env({k: v for k, v in demo.demo_environment(truth(sandbox.world)).items()
                               if k.startswith("SPAPI_PII")} or os.environ)


def query(lakehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def data_tables(lakehouse: Path) -> list[str]:
    rows = query(lakehouse, "select table_name from information_schema.tables where table_schema = ? "
                 "and table_name not like '_dlt%' order by 1", [DATASET])
    return [r[0] for r in rows if r[0] not in RUN_FACT_TABLES]


# Columns that say on which day a run took a snapshot (fee_estimates): two runs of the same world on different days of
# the sandbox's fast clock (a test suite under load crosses midnight there) hold the same estimates under other days,
# and a run killed on one day and finished on the next holds them twice.
RUN_DAY_COLUMNS = {"snapshot_date"}


def checksum(lakehouse: Path, table: str) -> tuple[int, str]:
    """(rows, digest of the sorted rows) over the data columns: dlt's bookkeeping and ciphertexts left out
    (encryption draws a fresh nonce every time, so the same plaintext never gives the same bytes), and a snapshot's
    day left out with the repeats it leaves (RUN_DAY_COLUMNS)."""
    columns = [c for c, t in query(lakehouse, "select column_name, data_type from information_schema.columns "
                                   "where table_schema = ? and table_name = ? order by column_name", [DATASET, table])
               if not c.startswith("_dlt")]
    encrypted = {c for c in columns if query(
        lakehouse, f'select count(*) from {DATASET}."{table}" where cast("{c}" as varchar) like \'e1:%\'')[0][0]}
    # A purge tombstone says the day it was written (`purged:<date>`): two runs either side of midnight differ there.
    kept = [f"""case when cast("{c}" as varchar) like '{PURGED_PREFIX}%' then '{PURGED_PREFIX}'
                else cast("{c}" as varchar) end""" for c in columns if c not in encrypted | RUN_DAY_COLUMNS]
    distinct = "distinct " if RUN_DAY_COLUMNS & set(columns) else ""
    rows = sorted(query(lakehouse, f'select {distinct}{", ".join(kept)} from {DATASET}."{table}"'), key=repr)
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()
