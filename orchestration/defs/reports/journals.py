"""The journal exports as an asset: after finance.settlement_journals is built, each account's journals as Xero,
QuickBooks Online and plain CSV files beside the reports (spapi_elt.journal_exports does the work; this module only
wires it). Unpartitioned like the marts: every run rewrites each account's files from the mart as it is.
"""

import dagster as dg

from orchestration.defs.reports.assets import ReportsResource, account_names
from orchestration.resources import LAKEHOUSE_POOL, LakehouseResource, SpApiResource
from spapi_elt.journal_exports import export_journals
from spapi_elt.reports import reports_dir

JOURNALS_KEY = dg.AssetKey(["reports", "journal_exports"])
# The marts the export reads (spapi_elt/journal_exports.py).
JOURNAL_MARTS = [dg.AssetKey(["finance", "settlement_journals"]), dg.AssetKey(["finance", "journal_unmapped_lines"])]


@dg.asset(key=JOURNALS_KEY, group_name="reports", deps=JOURNAL_MARTS, pool=LAKEHOUSE_POOL, kinds={"csv"},
          description="Per seller account and currency: the accounting journals as Xero manual journal, QuickBooks "
                      "Online journal and plain CSV import files.")
def journal_exports(context: dg.AssetExecutionContext, lakehouse: LakehouseResource, reports: ReportsResource,
                    spapi: SpApiResource) -> dg.MaterializeResult:
    path = lakehouse.resolved()
    folder = reports_dir(reports.folder, path)
    exported = export_journals(path, folder, account_names(spapi, context.log), wait=True)
    metadata: dict[str, dg.RawMetadataValue] = {"folder": dg.MetadataValue.path(str(folder)),
                                                "journals": sum(e.journals for e in exported)}
    for export in exported:
        for fmt, files in export.files.items():
            for number, file in enumerate(files, start=1):
                part = f"/{number}" if len(files) > 1 else ""
                metadata[f"{export.account}/{export.currency}/{fmt}{part}"] = dg.MetadataValue.path(str(file))
    return dg.MaterializeResult(metadata=metadata)


def journal_paths(result: dg.ExecuteInProcessResult) -> list[str]:
    """The files a run's journal export lists (the demo prints them)."""
    return [str(value.value) for event in result.get_asset_materialization_events()
            if event.asset_key == JOURNALS_KEY
            for name, value in event.materialization.metadata.items() if name != "folder"
            and isinstance(value, dg.PathMetadataValue)]


defs = dg.Definitions(assets=[journal_exports])
