"""Checks beyond dbt tests: freshness of every raw table, and settlements that reconcile or say why not."""

from orchestration.defs.checks.checks import defs

__all__ = ["defs"]
