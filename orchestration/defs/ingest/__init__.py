"""Ingest: one asset per dlt resource of the SP-API source, materialised by the product's own ingest."""

from orchestration.defs.ingest.assets import defs

__all__ = ["defs"]
