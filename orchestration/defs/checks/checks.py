"""Asset checks on the lakehouse itself (dbt tests arrive as checks through dagster-dbt).

- raw freshness: every table a raw asset writes has rows loaded within `max_age_hours` (from dlt's load
  ids, so it measures the data, not only that a run happened);
- API throttle rate: the share of calls answered 429 in the latest ingest run (from the materialisation's
  metadata), a warning above `max_share`: quotas are paced, so a high rate means the pacing is off;
- PII in plaintext (spapi_elt.pii_plaintext): the columns the PII policies protect hold only hashes and
  ciphertext, no e-mail address appears in any text column or in Dagster's recent event and compute logs, no
  phone number or street address in the buyer tables' other columns, and no known fake buyer value (canaries,
  in memory: run config or SPAPI_PII_CANARY_VALUES) anywhere of these. It fails on a finding, warns (skipped)
  when the lakehouse has nothing to scan, and its metadata says how much it read, so a pass means something.

What the marts promise (every settlement reconciles or has its exceptions recorded, ...) are dbt tests,
which dagster-dbt turns into checks on the marts they guard (error severity: blocking).
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from dlt_sources.spapi import RESOURCE_TABLES
from orchestration.defs.checks.dagster_storage import recent_texts
from orchestration.defs.ingest.assets import RAW_ASSET_KEYS
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource
from spapi_elt.lakehouse import DATASET
from spapi_elt.pii_plaintext import LakehouseScan, scan_lakehouse, text_findings


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
    now = datetime.now(UTC)
    newest: dict[str, datetime | None] = {}
    with lakehouse.raw_tables() as con:
        if con is not None:
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
    # Known fake buyer values, in memory only: these, else SPAPI_PII_CANARY_VALUES (one per line). Dagster keeps
    # a run's config in its run storage, so only ever fake values here (the sandbox truth's `pii_canaries`).
    canaries: list[str] = []
    dagster_history_days: float = 2.0  # the Dagster event and compute logs changed this recently are read


def canaries(config: CanaryConfig) -> list[str]:
    values = config.canaries or os.environ.get("SPAPI_PII_CANARY_VALUES", "").splitlines()
    return [value.strip() for value in values if value.strip()]


SHAPES = ("email (every text column, Dagster's logs), phone and street address (buyer tables' other columns), "
          "any value but a hash or ciphertext (protected columns)")


@dg.asset_check(asset=RAW_ASSET_KEYS["order_buyers"], pool=LAKEHOUSE_POOL,
                description="No buyer PII in plaintext: protected columns hold only hashes and ciphertext, no e-mail "
                            "address anywhere, no phone or street address in the buyer tables, no known canary in "
                            "the lakehouse or Dagster's event and compute logs.")
def pii_canary_scan(context: dg.AssetCheckExecutionContext, config: CanaryConfig,
                    lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    known = canaries(config)
    scan = LakehouseScan()
    with lakehouse.raw_tables() as con:
        if con is not None:
            scan = scan_lakehouse(con, known)
    root = Path(context.instance.root_directory)
    files: set[Path] = set()
    for file, text in recent_texts(root, config.dagster_history_days):
        files.add(file)
        for kind, count in text_findings(text, known).items():
            scan.found(str(file.relative_to(root)), kind, count)
    findings = {place: dict(kinds) for place, kinds in scan.findings.items()}
    metadata = {"canaries": len(known), "shapes": SHAPES, "lakehouse_tables": scan.tables,
                "text_columns": scan.text_columns, "protected_columns": scan.protected_columns,
                "protected_values": scan.protected_values, "buyer_columns_shape_scanned": scan.shape_columns,
                "dagster_files": len(files), "dagster_history_days": config.dagster_history_days,
                "findings": dg.MetadataValue.json(findings)}
    if not scan.text_columns:  # nothing to look at is not a pass: say so, as a warning the UI shows
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
                                   description=f"Skipped: the lakehouse {lakehouse.setting()} has no text columns to "
                                               "scan yet.")
    if findings:
        description = "Plaintext PII: " + "; ".join(
            f"{place}: {', '.join(f'{n} {kind}' for kind, n in kinds.items())}" for place, kinds in findings.items())
    else:
        description = (f"No plaintext PII in {scan.tables} tables ({scan.protected_values} protected values) and "
                       f"{len(files)} Dagster log files; {len(known)} canaries.")
    return dg.AssetCheckResult(passed=not findings, description=description, metadata=metadata)


defs = dg.Definitions(asset_checks=[raw_tables_fresh, api_throttle_rate, pii_canary_scan])
