"""Vectorised value conversion: a column of strings to its Arrow type, and the rows that did not convert.

Typed and exact: amounts are decimal128(18, 2) parsed from the marketplace's format (`95,00` on
Amazon.de), never floats; dates and times are parsed with the marketplace's format or ISO-8601 into
date32 and timestamp[us, UTC]. Conversions are vectorised with pyarrow.compute; a value that does not
convert is reported in the failed mask (its row is quarantined), never guessed.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from dlt_sources.spapi.flatfiles.specs import TIMESTAMP, Column
from dlt_sources.spapi.locales import ZONE_OFFSETS, Locale

_TRUE = pa.array(["true", "yes", "y", "1"])
_FALSE = pa.array(["false", "no", "n", "0"])
_ZONE_NAMES = pa.array(list(ZONE_OFFSETS))
_ZONE_MICROS = pa.array([v * 1_000_000 for v in ZONE_OFFSETS.values()], pa.int64())
_LATE_DAYS = pa.array(["29", "30", "31"])

Converted = tuple[pa.Array, pa.Array | None]  # (values, failed mask or None when nothing failed)


def _failed(source: pa.Array, result: pa.Array) -> pa.Array | None:
    """Rows with a value in the source that did not convert."""
    if result.null_count == source.null_count:
        return None
    return pc.and_(source.is_valid(), result.is_null())


def _validated_cast(source: pa.Array, pattern: str, to: pa.DataType) -> Converted:
    """Cast the values that match `pattern`; the others fail (a regex first, so a cast never raises)."""
    ok = pc.match_substring_regex(source, pattern)
    if (pc.sum(ok).as_py() or 0) + source.null_count == len(source):
        return source.cast(to), None
    kept = pc.if_else(ok, source, pa.scalar(None, pa.string()))
    result = kept.cast(to)
    return result, _failed(source, result)


def _to_decimal(source: pa.Array, scale: int, comma: bool) -> Converted:
    text = pc.replace_substring(source, ",", ".") if comma else source
    return _validated_cast(text, rf"^[+-]?\d{{1,{18 - scale}}}(\.\d{{0,{scale}}})?$",
                           pa.decimal128(18, scale))


def _to_integer(source: pa.Array) -> Converted:
    return _validated_cast(source, r"^[+-]?\d{1,18}$", pa.int64())


def _to_boolean(source: pa.Array) -> Converted:
    lower = pc.utf8_lower(pc.utf8_trim_whitespace(source))
    unknown = pc.if_else(pc.is_in(lower, value_set=_FALSE), pa.scalar(False), pa.scalar(None, pa.bool_()))
    result = pc.if_else(pc.is_in(lower, value_set=_TRUE), pa.scalar(True), unknown)
    return result, _failed(source, result)


def _day_offset(fmt: str) -> int | None:
    """Where the day of month sits in values of `fmt`, if every field before it has a fixed width."""
    widths = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
    offset, i = 0, 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            if fmt[i + 1] == "d":
                return offset
            if fmt[i + 1] not in widths:
                return None
            offset, i = offset + widths[fmt[i + 1]], i + 2
        else:
            offset, i = offset + 1, i + 1
    return None


def _strptime(source: pa.Array, fmt: str) -> pa.Array:
    """Parse with `fmt` (nulls where it does not match); timestamps in UTC.

    Arrow rolls impossible dates over (31.02. becomes 03.03.): a value written with day 29-31 that
    parsed to day 1-3 rolled over, and is rejected.
    """
    parsed = pc.strptime(source, format=fmt, unit="us", error_is_null=True)
    if parsed.type.tz is None:
        parsed = parsed.cast(TIMESTAMP)
    offset = _day_offset(fmt)
    if offset is None or parsed.null_count == len(parsed):
        return parsed
    late = pc.is_in(pc.utf8_slice_codeunits(source, offset, offset + 2), value_set=_LATE_DAYS)
    rolled = pc.and_(late, pc.fill_null(pc.less_equal(pc.day(parsed), 3), False))
    if not pc.any(rolled).as_py():
        return parsed
    return pc.if_else(rolled, pa.scalar(None, TIMESTAMP), parsed)


def _with_zone(source: pa.Array, date_formats: tuple[str, ...]) -> pa.Array:
    """`<date> HH:MM:SS <zone>` with a zone abbreviation (PDT, MEZ, ...): local time minus its offset."""
    parts = pc.extract_regex(source, r"^(?P<local>.+\d) (?P<zone>[A-Za-z]{1,5})$")
    local, zone = pc.struct_field(parts, "local"), pc.utf8_upper(pc.struct_field(parts, "zone"))
    offsets = pc.take(_ZONE_MICROS, pc.index_in(zone, value_set=_ZONE_NAMES))
    result = pa.nulls(len(source), TIMESTAMP)
    for date_format in date_formats:
        result = pc.coalesce(result, _strptime(local, date_format + " %H:%M:%S"))
    micros = pc.subtract(result.cast(pa.int64()), offsets)
    return micros.cast(TIMESTAMP)


def _iso_fallback(source: pa.Array, result: pa.Array) -> pa.Array:
    """Last resort for the few rows no format matched: Python's ISO-8601 parser (fractions, offsets).

    A time without an offset stays unparsed: guessing its zone would silently shift it.
    """
    from datetime import datetime

    missing = pc.indices_nonzero(pc.and_(source.is_valid(), result.is_null())).to_pylist()
    if not missing:
        return result
    values = result.to_pylist()
    texts = source.take(pa.array(missing)).to_pylist()
    for row, text in zip(missing, texts, strict=True):
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError:
            continue
        if parsed.tzinfo is not None:
            values[row] = parsed
    return pa.array(values, TIMESTAMP)


def _to_timestamp(source: pa.Array, formats: tuple[str, ...], date_formats: tuple[str, ...]) -> Converted:
    result = _strptime(source, formats[0])
    for fmt in formats[1:]:
        if result.null_count == source.null_count:
            break
        result = pc.coalesce(result, _strptime(source, fmt))
    if result.null_count != source.null_count:
        result = pc.coalesce(result, _with_zone(source, date_formats))
    if result.null_count != source.null_count:
        result = _iso_fallback(source, result)
    return result, _failed(source, result)


def _to_date(source: pa.Array, formats: tuple[str, ...]) -> Converted:
    result = _strptime(source, formats[0])
    for fmt in formats[1:]:
        if result.null_count == source.null_count:
            break
        result = pc.coalesce(result, _strptime(source, fmt))
    dates = result.cast(pa.date32())
    return dates, _failed(source, dates)


def convert(source: pa.Array, column: Column, locale: Locale) -> Converted:
    """One column of strings to its type: (values, mask of rows whose value did not convert).

    Flat files repeat values a lot (dates, prices, a posting's time on each of its lines): when fewer
    than half the values are distinct, each distinct value is converted once and the results are
    taken back to the rows.
    """
    if column.kind == "string":
        return source, None
    if len(source) >= 64:
        encoded = pc.dictionary_encode(source)
        if 2 * len(encoded.dictionary) < len(source):
            values, failed = _convert_values(encoded.dictionary, column, locale)
            rows = encoded.indices
            return values.take(rows), None if failed is None else pc.fill_null(failed.take(rows), False)
    return _convert_values(source, column, locale)


def _convert_values(source: pa.Array, column: Column, locale: Locale) -> Converted:
    if column.kind == "decimal":
        return _to_decimal(source, column.scale, locale.decimal_comma)
    if column.kind == "integer":
        return _to_integer(source)
    if column.kind == "boolean":
        return _to_boolean(source)
    if column.kind == "date":
        return _to_date(source, column.formats or locale.date_formats())
    date_formats = tuple(f.split(" ")[0] for f in column.formats) or locale.date_formats()
    return _to_timestamp(source, column.formats or locale.datetime_formats(), date_formats)
