"""Ingest: one asset per dlt resource of the SP-API source, materialised by the product's own ingest; and the
settlement files a finance person drops in the inbox."""

import dagster as dg

from orchestration.defs.ingest.assets import defs as api_defs
from orchestration.defs.ingest.settlement_files import InboxResource, settlement_files

defs = dg.Definitions.merge(api_defs, dg.Definitions(assets=[settlement_files], resources={"inbox": InboxResource()}))

__all__ = ["defs"]
