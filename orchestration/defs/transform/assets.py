"""One asset per dbt model and seed, keyed <schema>/<name> (finance/settlements), grouped by area.

dbt sources resolve to the ingest assets through `meta.dagster.asset_key` in the sources yml; dbt tests
become asset checks (dagster-dbt's default). A run is `dbt build` over the configured lakehouse, the same
project `spapi-elt transform` builds, with the run's vars: `as_of`, and for a partitioned run (a backfill,
the daily schedule, the settlement sensor) its days and sellers, whose settlements the incremental models
rebuild however old they are (spapi_elt.dbt_runner.RunWindow).
"""

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.ingest.partitions import partition_window, run_partition_keys
from orchestration.defs.ingest.settlement_files import SETTLEMENT_FILES_KEY
from orchestration.defs.transform.project import dbt_cli, dbt_project
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource, SpApiResource
from spapi_elt.dbt_runner import RunWindow, dbt_target, dbt_vars, default_as_of
from spapi_elt.lakehouse_lock import lakehouse_lock

SETTLEMENT_STAGING = ("stg_spapi__settlement_reports", "stg_spapi__settlement_report_documents",
                      "stg_spapi__settlement_lines")


class SpApiDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)  # sources: meta.dagster.asset_key

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        """The staging models of the settlement tables also read what the settlement inbox imports."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if manifest["nodes"].get(unique_id, {}).get("name") in SETTLEMENT_STAGING:
            spec = spec.merge_attributes(deps=[SETTLEMENT_FILES_KEY])
        return spec

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """staging, seeds, or the area (finance, roi, operations, catalog) for intermediate models and marts."""
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        if len(fqn) >= 4 and fqn[1] in ("intermediate", "marts"):
            return fqn[2]
        return fqn[1] if len(fqn) >= 3 else None


DBT_TRANSLATOR = SpApiDbtTranslator(settings=DagsterDbtTranslatorSettings(
    enable_asset_checks=True,
    # Several raw tables come from one dlt resource (settlements: summaries, documents, lines): their dbt
    # sources share that resource's asset key.
    enable_duplicate_source_asset_keys=True))


class TransformConfig(dg.Config):
    """`as_of` (YYYY-MM-DD) is "today" for the marts' grace periods; empty: today, or the day the loaded data
    reaches if that is earlier (the sandbox's world)."""

    as_of: str | None = None


def run_window(context: dg.AssetExecutionContext, spapi: SpApiResource) -> RunWindow | None:
    """The days and sellers of the run's partitions; None for an unpartitioned run."""
    keys = run_partition_keys(dict(context.run.tags), context.instance)
    if not keys:
        return None
    names, start, end = partition_window(keys)
    sellers = tuple(account.seller_id for account in spapi.accounts(names).accounts)
    return RunWindow(start.date(), end.date(), sellers)


def with_row_counts(context: dg.AssetExecutionContext, events: Iterable[Any], lakehouse: Path) -> Iterator[Any]:
    """Each built table's (marts, intermediate tables, seeds) materialisation with `dagster/row_count`.
    Counted after the build: while dbt runs it holds the DuckDB file, so nothing else may open it. Views
    (staging) are not counted: counting one runs its whole query. On Spark (SPAPI_DBT_TARGET=spark) the tables are
    Spark's, not in a DuckDB file: no counts."""
    if dbt_target() != "local":
        yield from events
        return
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        relations = {(schema, name) for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
        for event in events:
            key = context.asset_key_for_output(event.output_name) if isinstance(event, dg.Output) else None
            if key and tuple(key.path) in relations:
                schema, name = key.path
                rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
                event = event.with_metadata({**event.metadata, "dagster/row_count": dg.MetadataValue.int(rows)})
            yield event


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="spapi_dbt",
            dagster_dbt_translator=DBT_TRANSLATOR, pool=LAKEHOUSE_POOL)
def spapi_dbt(context: dg.AssetExecutionContext, config: TransformConfig, dbt: DbtCliResource,
              lakehouse: LakehouseResource, spapi: SpApiResource):
    window = run_window(context, spapi)
    # The lakehouse's lock (spapi_elt/lakehouse_lock.py) keeps a CLI run out while dbt builds and counts.
    with lakehouse.dbt_environment() as path, lakehouse_lock(path, "dagster dbt build", wait=True,
                                                               on_wait=context.log.info):
        as_of = date.fromisoformat(config.as_of) if config.as_of else default_as_of(lakehouse.setting())
        context.log.info(f"dbt build as of {as_of}" + (f"; rebuilding settlements documented in "
                         f"[{window.start}, {window.end}) of {', '.join(window.seller_ids)}" if window else ""))
        # dbt's artifacts and logs beside the lakehouse, as `spapi-elt transform` keeps them.
        invocation = dbt.cli(["build", "--target", dbt_target(), "--vars", json.dumps(dbt_vars(as_of, window))],
                             context=context, target_path=path.parent / "dbt" / "dagster")
        events, failure = [], None
        try:
            events.extend(invocation.stream())
        except Exception as exc:  # report what was built, then the failure
            failure = exc
        yield from with_row_counts(context, events, path)
        if failure:
            raise failure


defs = dg.Definitions(assets=[spapi_dbt], resources={"dbt": dbt_cli(dbt_project)})
