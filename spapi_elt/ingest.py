"""One ingest run: extract every selected resource of every account, protect PII, load into the lakehouse;
then replace an explicit window's rows, write the run's audit trail and quarantine, and purge expired PII.

`spapi-elt ingest` and the Dagster raw assets both call `ingest`, so a cron user and the UI run the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import duckdb

from dlt_sources.spapi import resource_names, spapi_source
from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.call_stats import OperationStats
from dlt_sources.spapi.extraction import AccountFailure, Extraction
from dlt_sources.spapi.tables import to_table
from spapi_elt.key_checks import verify_pii_keys
from spapi_elt.lake import Lake, as_lake, is_lake
from spapi_elt.lakehouse import (
    DATASET,
    finish_interrupted_loads,
    lakehouse_path,
    lakehouse_setting,
    load_facts,
    pipeline,
    recovery_event,
    table_counts,
)
from spapi_elt.lakehouse_lock import lakehouse_lock
from spapi_elt.lakehouse_upgrades import upgrade_tables
from spapi_elt.purge import purge_pii
from spapi_elt.window_replace import WINDOW_COLUMNS, replace_window


@dataclass
class IngestResult:
    lakehouse: Path | str  # the DuckDB file, or the lake's URL
    rows: dict[str, int]  # table -> rows in the lakehouse after the run
    calls: int
    throttled: int
    retries: int
    failures: list[AccountFailure] = field(default_factory=list)
    quarantined: int = 0
    purged: int = 0
    per_resource: dict[str, OperationStats] = field(default_factory=dict)  # calls, throttles, retries
    seconds: dict[str, float] = field(default_factory=dict)  # per resource, extraction's first to last item


def ingest(ctx: Extraction, lakehouse: str | Path | None = None, resources: Sequence[str] | None = None,
           purge: bool = True, wait: bool = False, on_wait: Callable[[str], None] | None = None) -> IngestResult:
    """Finish what an interrupted run left; extract, protect and load; replace an explicit window; then the
    audit trail and quarantine; then purge expired PII.

    The purge runs after every ingest so that a backfill never leaves PII older than the retention. The whole
    run holds the lakehouse's lock (lakehouse_lock.py): `wait` for another run to finish, else LakehouseBusy.
    A lake (spapi_elt/lake.py) is locked per set of accounts only: other accounts load into it meanwhile.
    """
    setting = lakehouse_setting(lakehouse)
    if is_lake(setting):
        return _ingest_lake(ctx, as_lake(setting), resources, purge, wait, on_wait)
    with lakehouse_lock(lakehouse_path(lakehouse), "ingest", wait=wait, on_wait=on_wait):
        return _ingest(ctx, lakehouse, resources, purge)


def _ingest(ctx: Extraction, lakehouse: str | Path | None, resources: Sequence[str] | None,
            purge: bool) -> IngestResult:
    path = lakehouse_path(lakehouse)
    if ctx.protector is not None:
        verify_pii_keys(path, ctx.protector)  # other key bytes under a recorded id or version: refuse
    pipe = pipeline(path)
    try:
        recovered = finish_interrupted_loads(pipe, path)
        if recovered:
            ctx.audit(recovery_event(recovered))
        upgrade_tables(path)  # key columns a lakehouse loaded by an older version lacks (lakehouse_upgrades.py)
        info = pipe.run(spapi_source(ctx, resources), loader_file_format="parquet")
        if ctx.start is not None:  # an explicit window (a backfill, a partition): replace it, don't just merge
            _replace_windows(path, ctx, info.loads_ids, resource_names(resources))
    finally:
        ctx.close()
        # The audit trail is written even when the run failed: that is when it matters most.
        _record_run(pipe, ctx)
    purged = purge_pii(path) if purge else 0
    totals = ctx.stats.totals()
    return IngestResult(path, table_counts(path), totals.calls, totals.throttled,
                        totals.retries, list(ctx.failures), len(ctx.quarantine), purged,
                        ctx.stats.by_resource(), dict(ctx.seconds))


def _ingest_lake(ctx: Extraction, lake: Lake, resources: Sequence[str] | None, purge: bool, wait: bool,
                 on_wait: Callable[[str], None] | None) -> IngestResult:
    """The same run into a Parquet lake: dlt appends each load's files; what a DuckDB file does in place
    (merge, the recovered loads' duplicate lines, window replacement) staging does on read, from the
    `window_replacements` facts this run appends (macros/raw_table.sql)."""
    pipe = pipeline(lake.url, [a.seller_id for a in ctx.accounts.accounts])
    own = lake.workdir / pipe.pipeline_name  # this account set's working directory: its lock and recovery marker
    with lakehouse_lock(own, "ingest", wait=wait, on_wait=on_wait):
        if ctx.protector is not None:
            with lakehouse_lock(lake.key_checks, "PII key check", wait=True):  # one registry for every account set
                verify_pii_keys(lake.key_checks, ctx.protector)
        facts: list[Any] = []
        try:
            recovered = finish_interrupted_loads(pipe, own, dedupe=False)
            if recovered:
                ctx.audit(recovery_event(recovered))
            info = pipe.run(spapi_source(ctx, resources), loader_file_format="parquet")
            if ctx.start is not None:
                facts = _window_replacements(ctx, info.loads_ids, resource_names(resources))
        finally:
            ctx.close()
            _record_run(pipe, ctx, facts)
        purged = purge_pii(lake.url, wait=True) if purge else 0  # one purge of the lake at a time: others wait
    totals = ctx.stats.totals()
    return IngestResult(lake.url, table_counts(lake.url), totals.calls, totals.throttled, totals.retries,
                        list(ctx.failures), len(ctx.quarantine), purged, ctx.stats.by_resource(), dict(ctx.seconds))


def _completed_sellers(ctx: Extraction, resource: str) -> list[str]:
    """The accounts whose extraction of `resource` ran to its end in this run: only their windows are replaced."""
    return [a.seller_id for a in ctx.accounts.accounts if (resource, a.seller_id) in ctx.completed]


def _window_replacements(ctx: Extraction, load_ids: Sequence[str], resources: Sequence[str]) -> list[Any]:
    """The lake's window replacement: one fact per (table, account) saying "rows of [start, end) loaded before
    these loads and not by them are gone", which staging applies on read. Audited like the DuckDB deletion."""
    start, end = ctx.start, ctx.window_end()
    by_seller = {a.seller_id: a.name for a in ctx.accounts.accounts}
    rows = []
    for resource in resources:
        for seller_id in _completed_sellers(ctx, resource) if load_ids else []:
            if resource not in WINDOW_COLUMNS:
                continue
            rows.append({"table_name": resource, "seller_id": seller_id, "window_start": start, "window_end": end,
                         "load_ids": ",".join(load_ids), "replaced_by": max(load_ids)})
            ctx.audit(AuditEvent(kind=AuditKind.WINDOW_REPLACE, account=by_seller[seller_id], seller_id=seller_id,
                                 operation=resource, outcome="recorded",
                                 detail=f"rows of [{start.isoformat()}, {end.isoformat()}) not returned any more "
                                        "are left out by staging"))
    return [to_table("window_replacements", rows)] if rows else []


def _replace_windows(path: Path, ctx: Extraction, load_ids: Sequence[str], resources: Sequence[str]) -> None:
    """Delete what the window held and this load did not re-read (window_replace.py), per resource, for the
    accounts whose extraction of it ran to its end in this run (never against a failed, interrupted or
    skipped one: its rows were not all re-read); each deletion is audited."""
    by_seller = {a.seller_id: a.name for a in ctx.accounts.accounts}
    start, end = ctx.start, ctx.window_end()
    with duckdb.connect(str(path)) as con:
        for resource in resources:
            sellers = _completed_sellers(ctx, resource)
            if not sellers or not load_ids:
                continue
            for done in replace_window(con, DATASET, load_ids, [resource], sellers, start, end):
                ctx.audit(AuditEvent(kind=AuditKind.WINDOW_REPLACE, account=by_seller[done.seller_id],
                                     seller_id=done.seller_id, operation=done.table, outcome="deleted",
                                     detail=f"{done.rows} rows of [{start.isoformat()}, {end.isoformat()}) "
                                            "not returned any more"))


def _record_run(pipe: dlt.Pipeline, ctx: Extraction, facts: Sequence[Any] = ()) -> None:
    events = [e.as_row() for e in ctx.audit.drain()]
    rows: list[Any] = list(facts)
    if events:
        rows.append(to_table("api_audit_log", events))
    if ctx.quarantine:
        rows.append(to_table("flat_file_quarantine", list(ctx.quarantine)))
    load_facts(pipe, rows)
