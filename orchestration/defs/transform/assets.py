"""One asset per dbt model and seed, keyed <schema>/<name> (finance/settlements), grouped by area.

dbt sources resolve to the ingest assets through `meta.dagster.asset_key` in the sources yml; dbt tests
become asset checks (dagster-dbt's default). A run is `dbt build` over the configured lakehouse with the
window's `as_of` var: the same project `spapi-elt transform` builds.
"""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.transform.project import dbt_cli, dbt_project
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource


class SpApiDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)  # sources: meta.dagster.asset_key

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
    """`as_of` (YYYY-MM-DD) is "today" for the marts' grace periods; empty: the current date."""

    as_of: str | None = None


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="spapi_dbt",
            dagster_dbt_translator=DBT_TRANSLATOR, pool=LAKEHOUSE_POOL)
def spapi_dbt(context: dg.AssetExecutionContext, config: TransformConfig, dbt: DbtCliResource,
              lakehouse: LakehouseResource):
    variables = {"as_of": config.as_of} if config.as_of else {}
    with lakehouse.dbt_environment() as path:
        # dbt's artifacts and logs beside the lakehouse, as `spapi-elt transform` keeps them.
        target = path.parent / "dbt" / "dagster"
        yield from dbt.cli(["build", "--vars", json.dumps(variables)], context=context, target_path=target).stream()


defs = dg.Definitions(assets=[spapi_dbt], resources={"dbt": dbt_cli(dbt_project)})
