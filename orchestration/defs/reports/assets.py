"""The settlement reconciliation report as an asset: after the marts are built, one workbook and one offline
page per seller account (spapi_elt.reports does the work; this module only wires it).

Unpartitioned, like the marts it reads: every run rewrites each account's report from the marts as they are.
It reads the DuckDB file, so it takes the lakehouse pool's slot. Being downstream of finance/settlements, it
is part of the daily job (every asset) and of the settlement sensor's job (settlements and downstream).
"""

import dagster as dg

from dlt_sources.spapi.config import ConfigError
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource, SpApiResource
from spapi_elt.reports import publish_reports, publish_rollup, reports_dir

REPORT_KEY = dg.AssetKey(["reports", "settlement_reconciliation"])
# The marts the report reads (spapi_elt/reports/marts.py).
MARTS = [dg.AssetKey(key) for key in (["finance", "settlements"], ["finance", "settlement_lines"],
                                      ["finance", "reconciliation_exceptions"], ["finance", "payouts"],
                                      ["roi", "sku_profitability_to_date"], ["roi", "marketplace_pnl"])]


class ReportsResource(dg.ConfigurableResource):
    """Where reports land: `folder`, else SPAPI_REPORTS_DIR, else reports/ beside the lakehouse file."""

    folder: str | None = None


def account_names(spapi: SpApiResource, log: dg.DagsterLogManager) -> dict[str, str]:
    """seller id -> account name from the accounts file; empty (reports named by seller id) without one."""
    try:
        return {a.seller_id: a.name for a in spapi.accounts().accounts}
    except ConfigError as exc:
        log.warning(f"reports named by seller id: {exc}")
        return {}


@dg.asset(key=REPORT_KEY, group_name="reports", deps=MARTS, pool=LAKEHOUSE_POOL, kinds={"excel", "html"},
          description="Per seller account: the settlement reconciliation workbook (.xlsx) and offline HTML page; "
                      "and an all-accounts workbook (per account and currency).")
def settlement_reconciliation(context: dg.AssetExecutionContext, lakehouse: LakehouseResource,
                              reports: ReportsResource, spapi: SpApiResource) -> dg.MaterializeResult:
    path = lakehouse.resolved()
    folder = reports_dir(reports.folder, path)
    names = account_names(spapi, context.log)
    published = publish_reports(path, folder, names, wait=True)
    rollup = publish_rollup(path, folder, names, wait=True)
    metadata: dict[str, dg.RawMetadataValue] = {"folder": dg.MetadataValue.path(str(folder)),
                                                "accounts": len(published)}
    for report in published:
        metadata |= {f"{report.account}/workbook": dg.MetadataValue.path(str(report.workbook)),
                     f"{report.account}/page": dg.MetadataValue.path(str(report.page)),
                     f"{report.account}/settlements": report.settlements,
                     f"{report.account}/exceptions": report.exceptions}
    if rollup:  # the aggregator's workbook: every account per currency
        metadata["all-accounts/workbook"] = dg.MetadataValue.path(str(rollup))
    return dg.MaterializeResult(metadata=metadata)


def report_paths(result: dg.ExecuteInProcessResult) -> list[str]:
    """The files a run's report materialisation lists (the demo prints them)."""
    return [str(value.value) for event in result.get_asset_materialization_events() if event.asset_key == REPORT_KEY
            for name, value in event.materialization.metadata.items()
            if name.endswith(("/workbook", "/page"))]


defs = dg.Definitions(assets=[settlement_reconciliation], resources={"reports": ReportsResource()})
