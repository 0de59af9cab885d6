"""SP-API values on the wire: Amazon's spelling of query values and times, reading a path in a JSON body, and
cutting a date range into the windows an operation or report accepts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any


def dig(body: Any, path: Sequence[str]) -> Any:
    """body[path[0]][path[1]]...; None where a level is missing."""
    for key in path:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


def iso_z(moment: datetime | date) -> str:
    """ISO-8601 in UTC with whole seconds and a Z (`2026-01-01T00:00:00Z`); naive means UTC."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_value(value: Any) -> str:
    """Amazon's spelling of a query value: lists comma-separated, booleans lower-case, times ISO Z."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return iso_z(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(query_value(v) for v in value)
    return str(value)


def encode_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    return {name: query_value(value) for name, value in (params or {}).items() if value is not None}


def date_windows(start: datetime, end: datetime, max_days: float) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive windows of at most `max_days` days (the last may be shorter)."""
    if max_days <= 0:
        raise ValueError("max_days must be positive")
    step = timedelta(days=max_days)
    windows, cursor = [], start
    while cursor < end:
        upper = min(cursor + step, end)
        windows.append((cursor, upper))
        cursor = upper
    return windows
