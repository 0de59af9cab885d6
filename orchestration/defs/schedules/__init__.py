"""Schedules: the whole graph daily for yesterday (UTC), and the daily PII purge; the new-settlement sensor."""

from orchestration.defs.schedules.schedules import defs

__all__ = ["defs"]
