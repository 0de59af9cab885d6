"""Transform: one asset per dbt model and seed (dagster-dbt), dbt tests as asset checks."""

from orchestration.defs.transform.assets import defs

__all__ = ["defs"]
