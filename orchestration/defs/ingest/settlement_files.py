"""Settlement files from the inbox (spapi_elt/settlement_inbox.py) as an asset: settlement files a finance
person downloaded from Seller Central and dropped in an account's inbox folder, imported into the same raw
settlement tables as the API's documents. The staging models of those tables depend on it (transform/assets.py),
so the marts and reports downstream follow an import, as they follow the API's settlements.

On a lake (SPAPI_LAKEHOUSE=file:///...) the same, and like the raw loads it takes no single-writer pool: the import
holds the lock of the account set whose pipeline knows the seller's settlements.

Its check fails, naming each file and why, when a file could not be read: the file waits in rejected/ with
its reason, and the other files are loaded.
"""

import dagster as dg

from orchestration.resources import LakehouseResource, SpApiResource, raw_load_pool
from spapi_elt.settlement_inbox import import_inbox, inbox_path

SETTLEMENT_FILES_KEY = dg.AssetKey(["raw_spapi", "settlement_files"])
READABLE_CHECK = "every_file_readable"


class InboxResource(dg.ConfigurableResource):
    """The settlement inbox folder: `folder`, else SPAPI_SETTLEMENT_INBOX, else inbox/ beside the lakehouse."""

    folder: str | None = None


@dg.asset(key=SETTLEMENT_FILES_KEY, group_name="ingest", pool=raw_load_pool(), kinds={"duckdb"},
          check_specs=[dg.AssetCheckSpec(READABLE_CHECK, asset=SETTLEMENT_FILES_KEY,
                                         description="Every settlement file dropped in the inbox could be read.")],
          description="Settlement files dropped in the inbox (one folder per account), imported like the API's.")
def settlement_files(context: dg.AssetExecutionContext, lakehouse: LakehouseResource, inbox: InboxResource,
                     spapi: SpApiResource):
    folder = inbox_path(lakehouse.resolved(), inbox.folder)
    # A lake: each account's files load under its account set's lock (spapi_elt/lake_settlements.py).
    imported = import_inbox(folder, spapi.accounts(), lakehouse.setting())
    for file in imported:
        context.log.info(f"{file.name}: {file.outcome}" + (f", settlement {file.settlement_id}, {file.lines} lines"
                                                           if file.settlement_id else ""))
    bad = [f"{file.name}: {file.error}" for file in imported if file.outcome == "unreadable"]
    outcomes = sorted({file.outcome for file in imported})
    yield dg.MaterializeResult(metadata={
        "inbox": dg.MetadataValue.path(str(folder)), "files": len(imported),
        **{f"files {outcome}": sum(f.outcome == outcome for f in imported) for outcome in outcomes},
        "lines loaded": sum(f.lines for f in imported)})
    yield dg.AssetCheckResult(check_name=READABLE_CHECK, passed=not bad, severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"unreadable files": dg.MetadataValue.md(
                                  "\n".join(f"- {line}" for line in bad) or "none")})
