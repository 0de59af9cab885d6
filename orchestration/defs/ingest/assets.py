"""One Dagster asset per dlt resource (dagster-dlt), keyed raw_spapi/<resource>.

A resource can write several tables (settlements: summaries, documents, lines): its asset stands for all
of them, and the dbt sources point at it (dbt_project/models/staging/spapi/_spapi__sources.yml,
`meta.dagster.asset_key`), so lineage runs from each resource through every model.

The run itself is the product's ingest (spapi_elt.ingest.ingest): the same extraction, PII
protection, audit trail and purge as `spapi-elt ingest`, restricted to the selected resources.
"""

import time
from datetime import UTC, datetime

import dagster as dg
import dlt
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from dlt_sources.spapi import RESOURCE_TABLES, RESOURCES, spapi_source
from dlt_sources.spapi.call_stats import OperationStats
from dlt_sources.spapi.config import AccountsConfig
from dlt_sources.spapi.extraction import Extraction, Progress
from dlt_sources.spapi.settings import SETTLE_MARGIN
from orchestration.defs.ingest.partitions import partition_window, raw_partitions
from orchestration.resources import LakehouseResource, SpApiResource, raw_load_pool
from spapi_elt.ingest import ingest
from spapi_elt.lakehouse import DATASET, PIPELINE_NAME

GROUP = "raw_spapi"


def raw_asset_key(resource: str) -> dg.AssetKey:
    return dg.AssetKey([DATASET, resource])


RAW_ASSET_KEYS: dict[str, dg.AssetKey] = {name: raw_asset_key(name) for name in RESOURCES}


class SpApiDltTranslator(DagsterDltTranslator):
    """raw_spapi/<resource>, in the raw group, with the tables it writes; no upstream placeholder assets."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        tables = RESOURCE_TABLES.get(name, (name,))
        written = ", ".join(f"{DATASET}.{t}" for t in tables)
        return spec.replace_attributes(
            key=raw_asset_key(name), group_name=GROUP, deps=[],
            description=f"SP-API `{name}` resource of the dlt source; writes {written}.",
        ).merge_attributes(metadata={"spapi/tables": ", ".join(tables)}, kinds={"duckdb"})


class IngestConfig(dg.Config):
    """How a run reads its partitions' window. `resume`: start from each account's cursor (with each
    resource's lookback, for data that changes late) instead of the window's first day; the daily schedule
    sets it, a backfill leaves it off to load exactly its days."""

    resume: bool = False
    buyer_days: int = 7
    purge_pii: bool = True


def _specs_source() -> dlt.sources.DltSource:
    """The source with an empty context: enough to list its resources (nothing runs at load time)."""
    return spapi_source(Extraction(accounts=AccountsConfig(accounts=()), protector=None))  # type: ignore[arg-type]


def _specs_pipeline() -> dlt.Pipeline:
    """The pipeline's name, dataset and destination kind, for the specs; runs use the configured lakehouse."""
    return dlt.pipeline(pipeline_name=PIPELINE_NAME, destination="duckdb", dataset_name=DATASET, progress=None)


@dlt_assets(dlt_source=_specs_source(), dlt_pipeline=_specs_pipeline(), name="spapi_raw",
            dagster_dlt_translator=SpApiDltTranslator(), pool=raw_load_pool(), partitions_def=raw_partitions,
            backfill_policy=dg.BackfillPolicy.single_run())
def spapi_raw(context: dg.AssetExecutionContext, config: IngestConfig, spapi: SpApiResource,
              lakehouse: LakehouseResource):
    """Extract, protect and load the selected resources for the partitions' accounts and days."""
    selected = [name for name, key in RAW_ASSET_KEYS.items() if key in context.selected_asset_keys]
    accounts, start, end = partition_window(list(context.partition_keys))
    end = min(end, datetime.now(UTC) - SETTLE_MARGIN)
    context.log.info(f"accounts {', '.join(accounts)}; window [{start.isoformat()}, {end.isoformat()})"
                     + ("; resuming from each account's cursor" if config.resume else ""))
    ctx = spapi.extraction(None if config.resume else start, end, accounts, config.buyer_days, selected)
    ctx.progress = Progress(ctx.stats, out=None, emit=context.log.info)  # rows, calls, 429s into the run's log
    began = time.monotonic()
    result = ingest(ctx, lakehouse.setting(), selected, purge=config.purge_pii, wait=True, on_wait=context.log.info)
    ctx.progress.print_line()  # the final counts, however short the run
    run_seconds = round(time.monotonic() - began, 1)
    for name in selected:
        rows = {f"rows/{t}": dg.MetadataValue.int(result.rows.get(t, 0)) for t in RESOURCE_TABLES[name]}
        calls = result.per_resource.get(name, OperationStats())
        yield dg.MaterializeResult(asset_key=RAW_ASSET_KEYS[name], metadata={
            **rows, "dagster/row_count": sum(result.rows.get(t, 0) for t in RESOURCE_TABLES[name]),
            "api_calls": calls.calls, "throttled": calls.throttled, "retries": calls.retries,
            "extract_seconds": round(result.seconds.get(name, 0.0), 1),
            # Shared by the run's resources: loading, quarantine and purge are per run, not per resource.
            "run_seconds": run_seconds, "run_quarantined_lines": result.quarantined,
            "run_pii_values_purged": result.purged, "lakehouse": str(result.lakehouse)})
    if result.failures:
        # The other accounts loaded; the failed ones kept their cursors, so a retry picks them up.
        raise dg.Failure(description="; ".join(f"{f.account} {f.resource}: {f.error}" for f in result.failures))


ingest_job = dg.define_asset_job(
    "ingest_spapi", selection=dg.AssetSelection.groups(GROUP),
    description="Only the raw SP-API assets, for the selected accounts and days.")

defs = dg.Definitions(assets=[spapi_raw], jobs=[ingest_job])
