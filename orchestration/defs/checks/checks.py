"""Asset checks on the lakehouse itself (dbt tests arrive as checks through dagster-dbt).

- raw freshness: every table a raw asset writes has rows loaded within `max_age_hours` (from dlt's load
  ids, so it measures the data, not only that a run happened);
- API throttle rate: the share of calls answered 429 in the latest ingest run (from the materialisation's
  metadata), a warning above `max_share`: quotas are paced, so a high rate means the pacing is off;
- PII in plaintext: no e-mail address appears in any text column of the lakehouse (buyer e-mails are only
  ever stored hashed), and no known buyer value (canaries: names, streets, phones; one per line in the file
  SPAPI_PII_CANARIES, or the value of SPAPI_PII_CANARY_VALUES, e.g. the sandbox truth's `pii_canaries`) does
  either. The e-mail pattern always has something to look for, so the check never passes by having nothing
  to check.

What the marts promise (every settlement reconciles or has its exceptions recorded, ...) are dbt tests,
which dagster-dbt turns into checks on the marts they guard (error severity: blocking).
"""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from dlt_sources.spapi import RESOURCE_TABLES
from orchestration.defs.ingest.assets import RAW_ASSET_KEYS
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource
from spapi_elt.lakehouse import DATASET
from spapi_elt.lakehouse_lock import lakehouse_lock


class FreshnessConfig(dg.Config):
    max_age_hours: float = 36.0


def _newest_loads(con: duckdb.DuckDBPyConnection) -> dict[str, datetime | None]:
    """The newest dlt load time per raw table (None: the table is empty or absent)."""
    columns: dict[str, set[str]] = {}
    for table, column in con.execute("select table_name, column_name from information_schema.columns "
                                     "where table_schema = ?", [DATASET]).fetchall():
        columns.setdefault(table, set()).add(column)
    newest: dict[str, datetime | None] = {}
    for tables in RESOURCE_TABLES.values():
        for table in tables:
            newest[table] = None
            if table not in columns:
                continue
            if "_dlt_load_id" in columns[table]:
                load_id = con.execute(f'select max("_dlt_load_id") from {DATASET}."{table}"').fetchone()[0]
            else:  # Arrow loads may carry no load id: the newest completed load that had rows for it
                has_rows = con.execute(f'select count(*) > 0 from {DATASET}."{table}"').fetchone()[0]
                load_id = con.execute(f"select max(load_id) from {DATASET}._dlt_loads where status = 0"
                                      ).fetchone()[0] if has_rows else None
            newest[table] = datetime.fromtimestamp(float(load_id), UTC) if load_id else None
    return newest


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec("raw_tables_fresh", asset=key,
                             description="Every table this resource writes has rows from a recent load.")
           for key in RAW_ASSET_KEYS.values()],
    can_subset=True, pool=LAKEHOUSE_POOL)
def raw_tables_fresh(context: dg.AssetCheckExecutionContext, config: FreshnessConfig,
                     lakehouse: LakehouseResource):
    path = lakehouse.resolved()
    now = datetime.now(UTC)
    newest: dict[str, datetime | None] = {}
    if path.exists():
        with lakehouse_lock(path, "dagster check", wait=True), duckdb.connect(str(path), read_only=True) as con:
            newest = _newest_loads(con)
    for resource, key in RAW_ASSET_KEYS.items():
        check_key = dg.AssetCheckKey(key, "raw_tables_fresh")
        if check_key not in context.selected_asset_check_keys:
            continue
        ages = {t: (now - newest[t]).total_seconds() / 3600 if newest.get(t) else None
                for t in RESOURCE_TABLES[resource]}
        stale = [t for t, age in ages.items() if age is None or age > config.max_age_hours]
        yield dg.AssetCheckResult(
            asset_key=key, check_name="raw_tables_fresh", passed=not stale,
            description=f"stale or empty: {', '.join(stale)}" if stale else None,
            metadata={f"age_hours/{t}": round(age, 2) if age is not None else -1.0 for t, age in ages.items()}
            | {"max_age_hours": config.max_age_hours})


class ThrottleConfig(dg.Config):
    max_share: float = 0.2


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec("api_throttle_rate", asset=key,
                             description="Share of SP-API calls answered 429 in the latest ingest run.")
           for key in RAW_ASSET_KEYS.values()],
    can_subset=True)
def api_throttle_rate(context: dg.AssetCheckExecutionContext, config: ThrottleConfig):
    for key in RAW_ASSET_KEYS.values():
        if dg.AssetCheckKey(key, "api_throttle_rate") not in context.selected_asset_check_keys:
            continue
        event = context.instance.get_latest_materialization_event(key)
        metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
        calls = metadata["api_calls"].value if "api_calls" in metadata else 0
        throttled = metadata["throttled"].value if "throttled" in metadata else 0
        share = throttled / calls if calls else 0.0
        yield dg.AssetCheckResult(
            asset_key=key, check_name="api_throttle_rate", passed=share <= config.max_share,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"api_calls": calls, "throttled": throttled, "share": round(share, 4),
                      "max_share": config.max_share})


class CanaryConfig(dg.Config):
    canaries_file: str | None = None  # else SPAPI_PII_CANARIES (a file), else SPAPI_PII_CANARY_VALUES (the values)


# An e-mail address: the one kind of buyer PII with a shape no other value in the lakehouse has.
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"


def canaries(config: CanaryConfig) -> list[str]:
    source = config.canaries_file or os.environ.get("SPAPI_PII_CANARIES")
    text = Path(source).read_text(encoding="utf-8") if source else os.environ.get("SPAPI_PII_CANARY_VALUES", "")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _text_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog') "
            "and table_name not like '_dlt%'").fetchall():
        columns.setdefault((schema, table), []).append(column)
    return columns


@dg.asset_check(asset=RAW_ASSET_KEYS["order_buyers"], pool=LAKEHOUSE_POOL,
                description="No e-mail address and no known buyer value (canary) in plaintext in any lakehouse table.")
def pii_canary_scan(config: CanaryConfig, lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    known = canaries(config)
    pattern = "|".join([EMAIL_PATTERN, *(re.escape(c) for c in known)])
    found: dict[str, int] = {}
    path = lakehouse.resolved()
    with lakehouse_lock(path, "dagster check", wait=True), duckdb.connect(str(path), read_only=True) as con:
        for (schema, table), columns in _text_columns(con).items():
            text = " || chr(31) || ".join(f'coalesce("{c}", \'\')' for c in columns)
            hits = con.execute(f'select count(*) from "{schema}"."{table}" where regexp_matches({text}, ?)',
                               [pattern]).fetchone()[0]
            if hits:
                found[f"{schema}.{table}"] = hits
    return dg.AssetCheckResult(
        passed=not found, description=f"plaintext PII in {', '.join(found)}" if found else None,
        metadata={"canaries": len(known), "email_pattern": True, "tables_with_hits": dg.MetadataValue.json(found)})


defs = dg.Definitions(asset_checks=[raw_tables_fresh, api_throttle_rate, pii_canary_scan])
