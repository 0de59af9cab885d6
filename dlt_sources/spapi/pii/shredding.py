"""Crypto-shredding: replacing stored PII values with a tombstone once their retention has passed.

`purge_value` replaces a stored value with `purged:<date>`, and `purge_sql` builds the idempotent
DuckDB UPDATE for a retention window. Copies that an UPDATE cannot reach (backups, old load packages)
are shredded by retiring the KEK: rotate keys (say monthly), `rewrap` what must be kept, then delete
the old key id from SPAPI_PII_KEYS.

Self-contained on purpose (only the tombstone prefix comes from `crypto`): it is the application's
purge, kept here until it moves there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from dlt_sources.spapi.pii.crypto import PURGED_PREFIX


def purge_value(value: Any, on: date) -> Any:
    """The tombstone `purged:<date>` for a stored PII value; None stays None; a tombstone stays as it is."""
    if value is None or (isinstance(value, str) and value.startswith(PURGED_PREFIX)):
        return value
    return f"{PURGED_PREFIX}{on.isoformat()}"


def retention_cutoff(today: date, retention_days: int = 30) -> date:
    """Rows whose retention date is before this day are due: Amazon allows 30 days after delivery."""
    return today - timedelta(days=retention_days)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def purge_sql(table: str, columns: Sequence[str], date_sql: str, cutoff: date, today: date,
              schema: str | None = None) -> tuple[str, list[Any]]:
    """An idempotent DuckDB UPDATE that tombstones `columns` of rows whose `date_sql` is before `cutoff`.

    `date_sql` is an expression the product writes (never user input), e.g.
    `COALESCE(delivered_at, last_updated_at)`. Rows already purged are not touched again, so the
    statement's row count is what this run shredded. Returns (sql, parameters).
    """
    if not columns:
        raise ValueError("purge_sql needs at least one column")
    target = f"{_quote(schema)}.{_quote(table)}" if schema else _quote(table)
    tombstone = f"{PURGED_PREFIX}{today.isoformat()}"
    quoted = [_quote(c) for c in columns]
    pending = [f"({c} IS NOT NULL AND NOT starts_with({c}, '{PURGED_PREFIX}'))" for c in quoted]
    sets = [f"{c} = CASE WHEN {p} THEN ? ELSE {c} END" for c, p in zip(quoted, pending, strict=True)]
    sql = (f"UPDATE {target} SET {', '.join(sets)} "
           f"WHERE ({date_sql}) < ? AND ({' OR '.join(pending)})")
    return sql, [tombstone] * len(columns) + [cutoff]
