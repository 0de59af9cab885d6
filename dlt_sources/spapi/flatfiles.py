"""Amazon flat files (tab-separated reports) as a stream of typed Arrow tables, with a quarantine.

Why this shape: a settlement report can hold millions of lines, and the common approach (decode the
whole document as latin-1, csv.DictReader, float amounts) is slow, memory-hungry and wrong. Here:

- Streaming, bounded memory: pyarrow's CSV reader reads the document in blocks (`block_size`); every
  block becomes one Arrow table that is converted and handed on before the next is read. Peak memory
  is a few blocks, whatever the document's size.
- By header name: columns are found by their header (case, spaces, '-' and '_' do not matter), so
  Amazon adding, dropping or reordering columns does not break a load. A missing optional column
  becomes an all-null column of its type; a missing required column is an error (the document is not
  what it claims to be). Unknown extra columns are kept as strings under their snake_case name (dlt
  evolves the table), except in reports that carry buyer data (`ReportSpec.keep_extra_columns=False`,
  the all-orders report): there an unknown column could be new PII, so it is dropped (data
  minimisation) and only its name is reported in `ParseStats.dropped_columns`.
- Charset from the caller (the HTTP response), UTF-8 by default, never a hard-coded latin-1. Labels
  of latin-1/ASCII are decoded as windows-1252, as browsers do (WHATWG Encoding Standard).
- Typed and exact: amounts are decimal128(18, 2) parsed from the marketplace's format (`95,00` on
  Amazon.de), never floats; dates and times are parsed with the marketplace's format or ISO-8601
  into date32 and timestamp[us, UTC]. Conversions are vectorised with pyarrow.compute.
- Never silently dropped: a line with the wrong number of fields, a value that does not convert, a
  missing required value or undecodable bytes goes to `quarantine` (a list of dict rows: source,
  report_type, seller_id, marketplace_id, line_number, reason, raw_line), and the rest loads. Only blank
  lines are skipped (counted in `ParseStats.blank_lines`).

Line numbers are the 1-based physical line of a row in the document (the header is line 1, a
settlement's summary row line 2). For a given document they are stable, so (settlement_id,
line_number) is a stable key of a settlement line: a settlement re-issued with identical content
yields the same keys. Quoted reports (the inventory ledger) count rows, which equal lines as long as no
value holds a line break (a broken row is quarantined, so the numbering stays exact).

Usage (from a dlt resource; `stream` is any binary file-like, e.g. a GzipFile over the download):

    parsed = parse_settlement(stream, charset="utf-8", seller_id=seller_id)
    summary = parsed.summary          # available at once
    for table in parsed.lines: ...    # pyarrow Tables of settlement lines
    parsed.quarantine                 # complete once `lines` is exhausted

    parsed = parse_report(stream, SPECS[report_type], charset=..., seller_id=..., marketplace_id=...)
    for table in parsed.tables: ...
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from queue import Full, Queue
from typing import Any, BinaryIO, Literal, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from dlt_sources.spapi.locales import (
    ISO,
    MARKETPLACE_IDS_BY_CODE,
    MARKETPLACE_LOCALES,
    MARKETPLACE_NAMES,
    ZONE_OFFSETS,
    Locale,
    detect_locale,
    resolve_locale,
)

T = TypeVar("T")
Kind = Literal["string", "decimal", "integer", "date", "timestamp", "boolean"]

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
DEFAULT_BLOCK_SIZE = 2 << 20  # 2 MiB: as fast as larger blocks here; memory grows with the block size
TIMESTAMP = pa.timestamp("us", tz="UTC")
_TRUE = pa.array(["true", "yes", "y", "1"])
_FALSE = pa.array(["false", "no", "n", "0"])
_ZONE_NAMES = pa.array(list(ZONE_OFFSETS))
_ZONE_MICROS = pa.array([v * 1_000_000 for v in ZONE_OFFSETS.values()], pa.int64())
_LATE_DAYS = pa.array(["29", "30", "31"])
_WHATWG_LATIN1 = {"latin_1", "iso8859_1", "ascii", "cp1252"}


class FlatFileError(ValueError):
    """The document cannot be parsed at all (not a line: the whole document, e.g. a missing column)."""


@dataclass(frozen=True)
class Column:
    """One column of a report: its header as Amazon writes it, our name for it, and its type."""

    header: str
    name: str
    kind: Kind = "string"
    required: bool = False  # a row without a value is quarantined; a document without the column fails
    formats: tuple[str, ...] = ()  # strptime formats that replace the locale's (e.g. "%m/%d/%Y")
    scale: int = 2  # decimal places of a decimal column (money: 2)
    summary: bool = False  # settlement summary-row field: not part of the detail lines

    @property
    def arrow_type(self) -> pa.DataType:
        return {"string": pa.string(), "decimal": pa.decimal128(18, self.scale), "integer": pa.int64(),
                "date": pa.date32(), "timestamp": TIMESTAMP, "boolean": pa.bool_()}[self.kind]


@dataclass(frozen=True)
class ReportSpec:
    """How to read one report type: its columns, quoting and what to do with columns we do not know."""

    report_type: str
    table: str  # the resource/table name the product loads it into
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()  # output column names that identify a row
    locale: Locale = ISO  # reports other than settlements write '.' decimals and ISO-8601
    quoted: bool = False  # fields wrapped in double quotes (the inventory ledger)
    keep_extra_columns: bool = True
    contains_pii: bool = False  # raw lines in the quarantine would carry buyer data
    # (output column, value -> marketplace id): where a row names its own marketplace (settlement lines'
    # marketplace-name, the fee report's amazon-store); the caller's marketplace_id fills the gaps.
    marketplace_column: tuple[str, dict[str, str]] | None = None


@dataclass
class ParseStats:
    """What a parse saw: for logs and for reconciling line counts (no values, so no PII)."""

    data_lines: int = 0  # lines after the header, blank ones included
    rows: int = 0  # rows yielded
    blank_lines: int = 0
    quarantined: int = 0
    missing_columns: tuple[str, ...] = ()  # optional columns absent from the header (null-filled)
    extra_columns: tuple[str, ...] = ()  # unknown columns kept as strings
    dropped_columns: tuple[str, ...] = ()  # unknown columns dropped (reports with buyer data)
    amount_sum: Decimal = Decimal(0)  # sum of the `amount` column of yielded rows, if there is one


@dataclass
class FlatFileParse:
    """A parse in progress: iterate `tables`; `quarantine` and `stats` are complete afterwards."""

    tables: Iterator[pa.Table]
    quarantine: list[dict[str, Any]]
    stats: ParseStats

    def __iter__(self) -> Iterator[pa.Table]:
        return self.tables


@dataclass
class SettlementParse(FlatFileParse):
    """A settlement: `summary` at once (one settlement_reports row), then `lines` (settlement_lines)."""

    summary: dict[str, Any] = field(default_factory=dict)
    locale: Locale = ISO

    @property
    def lines(self) -> Iterator[pa.Table]:
        return self.tables


# --- charset ---------------------------------------------------------------------------------------------


def _c1_fallback(error: UnicodeError) -> tuple[str, int]:
    """windows-1252 leaves five bytes undefined; WHATWG (and latin-1) map them to U+0080..U+009F."""
    assert isinstance(error, UnicodeDecodeError)
    return "".join(chr(b) for b in error.object[error.start:error.end]), error.end


codecs.register_error("spapi-c1", _c1_fallback)


def _codec(charset: str | None) -> tuple[str, str]:
    """(Python codec, error handler) for a declared charset; UTF-8 when none is declared."""
    name = codecs.lookup((charset or "utf-8").strip().strip('"')).name.replace("-", "_")
    if name in _WHATWG_LATIN1:
        return "cp1252", "spapi-c1"
    if name in ("utf_8", "utf_8_sig"):
        return "utf_8", "strict"
    return name, "replace"  # U+FFFD marks undecodable bytes; such rows are quarantined


class _Utf8Transcoder(io.RawIOBase):
    """A binary stream re-encoded to UTF-8 on the fly, so pyarrow only ever sees UTF-8."""

    def __init__(self, raw: BinaryIO, codec: str, errors: str, chunk: int = 1 << 20) -> None:
        self._raw, self._chunk = raw, chunk
        self._decoder = codecs.getincrementaldecoder(codec)(errors)
        self._buffer, self._eof = b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        while not self._buffer and not self._eof:
            data = self._raw.read(self._chunk)
            self._eof = not data
            self._buffer = self._decoder.decode(data or b"", final=self._eof).encode("utf-8")
        n = min(len(view), len(self._buffer))
        view[:n], self._buffer = self._buffer[:n], self._buffer[n:]
        return n


# --- header ----------------------------------------------------------------------------------------------


def header_key(name: str) -> str:
    """How headers are matched: "Event Type", "event-type" and "event_type" are the same column."""
    return re.sub(r"[\s_\-]+", "-", name.strip().strip('"').strip().lower())


def snake_case(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header_key(name)).strip("_") or "column"


def _split_header(line: str, quoted: bool) -> list[str]:
    line = line.lstrip("\ufeff").rstrip("\r\n")
    if quoted:
        return next(csv.reader([line], delimiter="\t", quotechar='"'))
    return line.split("\t")


@dataclass(frozen=True)
class _Layout:
    """Where each spec column sits in the document (None: missing), and the unknown extra columns."""

    positions: dict[str, int | None]  # column name -> field index
    extras: tuple[tuple[str, int], ...]  # (output name, field index)
    dropped: tuple[str, ...]


def _layout(header: list[str], spec: ReportSpec) -> _Layout:
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(header_key(name), i)
    positions = {c.name: index.get(header_key(c.header)) for c in spec.columns}
    missing_required = [c.header for c in spec.columns if c.required and positions[c.name] is None]
    if missing_required:
        raise FlatFileError(f"{spec.report_type}: required column(s) missing from the header: "
                            f"{', '.join(missing_required)}")
    known = {i for i in positions.values() if i is not None}
    taken = {c.name for c in spec.columns} | {"seller_id", "marketplace_id", "line_number", "currency"}
    extras, dropped = [], []
    for i, name in enumerate(header):
        if i in known or not name.strip():
            continue
        if not spec.keep_extra_columns:
            dropped.append(name)
            continue
        out = snake_case(name)
        while out in taken:
            out += "_extra"
        taken.add(out)
        extras.append((out, i))
    return _Layout(positions, tuple(extras), tuple(dropped))


# --- value conversion (vectorised) -------------------------------------------------------------------------

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


# --- the reader --------------------------------------------------------------------------------------------


@dataclass
class _RawBatch:
    """Rows as read: one string column per field of the header, and each row's line number."""

    fields: list[pa.Array]
    lines: np.ndarray
    invalid_utf8: dict[int, pa.Array] = field(default_factory=dict)  # field position -> rows with bad bytes

    def __len__(self) -> int:
        return len(self.lines)

    def slice(self, start: int) -> _RawBatch:
        return _RawBatch([f.slice(start) for f in self.fields], self.lines[start:],
                         {k: v.slice(start) for k, v in self.invalid_utf8.items()})


class _Reader:
    """Reads a flat file block by block: header, layout, raw batches with line numbers, bad lines."""

    def __init__(self, stream: BinaryIO, spec: ReportSpec, charset: str | None, block_size: int) -> None:
        codec, errors = _codec(charset)
        self.transcoded = codec != "utf_8"
        self.codec = codec
        self.replaces = errors == "replace"  # undecodable bytes become U+FFFD (and their rows quarantined)
        if self.transcoded:
            transcoder = _Utf8Transcoder(stream, codec, errors)
            stream = io.BufferedReader(transcoder, 1 << 20)  # type: ignore[assignment]
        self.spec = spec
        first_line = stream.readline()
        self.header = _split_header(first_line.decode("utf-8", "replace"), spec.quoted) if first_line else []
        self.layout = _layout(self.header, spec) if self.header else None
        self.bad_lines: deque[tuple[int | None, str, str]] = deque()  # (line, reason, raw text), as read
        self._pending: list[int] = []  # line numbers of bad lines not yet placed among the good ones
        self._next_line = 2
        self._last_bad_line = 0
        self._reader = self._open(stream, block_size) if self.header else None

    def _on_invalid(self, row: Any) -> str:
        line = row.number + 1 if row.number is not None and row.number >= 0 else None
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        self.bad_lines.append((line, reason, row.text))
        if line is not None:
            self._pending.append(line)
            self._last_bad_line = max(self._last_bad_line, line)
        return "skip"

    def take_bad_lines(self) -> Iterator[tuple[int | None, str, str]]:
        """Bad lines reported so far (the reading thread may add more meanwhile: deque is thread-safe)."""
        while self.bad_lines:
            yield self.bad_lines.popleft()

    def lines_read(self) -> int:
        """Data lines so far (after the header), good, blank and bad."""
        return max(self._next_line - 1, self._last_bad_line) - 1

    def _open(self, stream: BinaryIO, block_size: int) -> pacsv.CSVStreamingReader | None:
        names = [f"f{i}" for i in range(len(self.header))]
        try:
            return pacsv.open_csv(
                stream,
                # Single-threaded parsing: here as fast as threaded, and it numbers the rows it rejects.
                read_options=pacsv.ReadOptions(column_names=names, block_size=block_size, use_threads=False),
                parse_options=pacsv.ParseOptions(
                    delimiter="\t", quote_char='"' if self.spec.quoted else False, double_quote=True,
                    newlines_in_values=False, ignore_empty_lines=False, invalid_row_handler=self._on_invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.binary()), strings_can_be_null=True,
                    quoted_strings_can_be_null=True, null_values=[""]),
            )
        except pa.ArrowInvalid as error:
            if "Empty CSV file" in str(error):
                return None
            raise

    def _line_numbers(self, n: int) -> np.ndarray:
        """The physical lines of the next n good rows: consecutive, except where bad lines were skipped."""
        lines = np.arange(self._next_line, self._next_line + n, dtype=np.int64)
        if self._pending and n:
            self._pending.sort()
            while self._pending and self._pending[0] <= lines[-1]:
                bad = self._pending.pop(0)
                lines[lines >= bad] += 1
        if n:
            self._next_line = int(lines[-1]) + 1
        return lines

    def batches(self) -> Iterator[_RawBatch]:
        if self._reader is None:
            return
        for batch in self._reader:
            if batch.num_rows == 0:
                continue
            raw = _RawBatch([], self._line_numbers(batch.num_rows))
            for position, column in enumerate(batch.columns):
                try:
                    raw.fields.append(column.cast(pa.string()))
                except pa.ArrowInvalid:
                    text, bad = _decode_replacing(column)
                    raw.fields.append(text)
                    raw.invalid_utf8[position] = bad
            yield raw


def _decode_replacing(column: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Binary with invalid UTF-8 (rare) to strings with U+FFFD, and the rows that had bad bytes.

    Read as strings, one bad byte would fail the whole document; this way only its line is quarantined.
    """
    text, bad = [], []
    for value in column.to_pylist():
        try:
            text.append(None if value is None else value.decode("utf-8"))
            bad.append(False)
        except UnicodeDecodeError:
            text.append(value.decode("utf-8", "replace"))
            bad.append(True)
    return pa.array(text, pa.string()), pa.array(bad)


# --- batch conversion --------------------------------------------------------------------------------------

Problem = tuple[str, pa.Array, pa.Array | None]  # (reason, rows it applies to, the offending values)


@dataclass
class _Converter:
    """Turns raw batches into typed tables of good rows; puts bad rows into the quarantine."""

    reader: _Reader
    locale: Locale
    seller_id: str
    marketplace_id: str | None
    source: str
    quarantine: list[dict[str, Any]]
    stats: ParseStats
    protect_raw_line: Callable[[str], str | None] | None = None
    constants: dict[str, pa.Scalar] = field(default_factory=dict)  # e.g. a settlement's currency
    expected: dict[str, pa.Scalar] = field(default_factory=dict)  # column -> value every row must have

    @property
    def spec(self) -> ReportSpec:
        return self.reader.spec

    def convert(self, batch: _RawBatch) -> pa.Table | None:
        layout = self.reader.layout
        assert layout is not None
        n = len(batch)
        out: dict[str, pa.Array] = {}
        problems: list[Problem] = []
        for column in self.spec.columns:
            if column.summary:
                continue
            position = layout.positions[column.name]
            if position is None:
                out[column.name] = pa.nulls(n, column.arrow_type)
                continue
            source = batch.fields[position]
            values, failed = convert(source, column, self.locale)
            out[column.name] = values
            if failed is not None:
                problems.append((f"{column.header}: not a valid {column.kind}", failed, source))
            if column.required and source.null_count:
                problems.append((f"{column.header}: missing", source.is_null(), None))
            expected = self.expected.get(column.name)
            if expected is not None and source.null_count < n:
                differs = pc.fill_null(pc.not_equal(source, expected), False)
                if pc.any(differs).as_py():
                    problems.append((f"{column.header}: differs from the summary row", differs, source))
        if self.reader.replaces:  # U+FFFD marks bytes the declared charset could not decode
            for position, source in enumerate(batch.fields):
                undecodable = pc.fill_null(pc.match_substring(source, "\ufffd"), False)
                if pc.any(undecodable).as_py():
                    problems.append((f"{self.reader.header[position]}: bytes not valid in "
                                     f"{self.reader.codec}", undecodable, None))
        for position, rows in batch.invalid_utf8.items():
            problems.append((f"{self.reader.header[position]}: bytes not valid in utf-8", rows, None))
        table = self._assemble(batch, out, {name: batch.fields[i] for name, i in layout.extras})
        blank = _blank_rows(batch)
        drop = self._quarantine(batch, problems, blank)
        if blank is not None:
            self.stats.blank_lines += pc.sum(blank).as_py()
            drop = blank if drop is None else pc.or_(drop, blank)
        if drop is not None:
            table = table.filter(pc.invert(drop))
        self.stats.rows += table.num_rows
        if "amount" in out and table.num_rows:
            self.stats.amount_sum += pc.sum(table["amount"]).as_py() or 0
        return table if table.num_rows else None

    def _quarantine(self, batch: _RawBatch, problems: list[Problem],
                    blank: pa.Array | None) -> pa.Array | None:
        """Quarantine the rows with problems (not blank lines: they hold nothing); the mask of those rows."""
        bad = None
        for _, rows, _ in problems:
            bad = rows if bad is None else pc.or_(bad, rows)
        if bad is not None and blank is not None:
            bad = pc.and_(bad, pc.invert(blank))
        if bad is None or not pc.any(bad).as_py():
            return None
        for row in pc.indices_nonzero(bad).to_pylist():
            reasons = []
            for reason, rows, values in problems:
                if rows[row].as_py():
                    show = values is not None and not self.spec.contains_pii
                    reasons.append(f"{reason} ({values[row].as_py()!r})" if show else reason)
            self.add(int(batch.lines[row]), "; ".join(reasons), _raw_line(batch, row, self.spec.quoted))
        return bad

    def add(self, line: int | None, reason: str, raw: str) -> None:
        """One quarantine row. Reports with buyer data keep no plaintext line unless `protect_raw_line`
        turns it into something safe (e.g. ciphertext); the hash still identifies the line."""
        raw_line: str | None = raw
        if self.spec.contains_pii:
            raw_line = self.protect_raw_line(raw) if self.protect_raw_line else None
        self.quarantine.append({
            "source": self.source, "report_type": self.spec.report_type, "seller_id": self.seller_id,
            "marketplace_id": self.marketplace_id, "line_number": line, "reason": reason,
            "raw_line": raw_line, "raw_line_sha256": hashlib.sha256(raw.encode("utf-8")).hexdigest()})
        self.stats.quarantined += 1

    def add_bad_lines(self) -> None:
        """Lines pyarrow rejected (wrong field count) since the last call."""
        for line, reason, raw in self.reader.take_bad_lines():
            self.add(line, reason, raw)

    def _assemble(self, batch: _RawBatch, out: dict[str, pa.Array], extras: dict[str, pa.Array]) -> pa.Table:
        n = len(batch)
        columns: dict[str, pa.Array] = {
            "seller_id": pa.repeat(pa.scalar(self.seller_id, pa.string()), n),
            "marketplace_id": self._marketplace(out, n),
            "line_number": pa.array(batch.lines),
        }
        columns.update(out)
        for name, value in self.constants.items():
            columns[name] = pa.repeat(value, n)
        columns.update(extras)
        # Keys and required columns are declared non-null (they are, once bad rows are filtered out), so
        # dlt's primary-key hints and the Arrow schema agree.
        required = {"seller_id", "line_number", *(c.name for c in self.spec.columns if c.required)}
        schema = pa.schema([pa.field(name, array.type, nullable=name not in required)
                            for name, array in columns.items()])
        return pa.Table.from_arrays(list(columns.values()), schema=schema)

    def _marketplace(self, out: dict[str, pa.Array], n: int) -> pa.Array:
        """The row's marketplace from its own column where the report has one, else the caller's."""
        fallback = pa.scalar(self.marketplace_id, pa.string())
        if self.spec.marketplace_column is None or self.spec.marketplace_column[0] not in out:
            return pa.repeat(fallback, n)
        name, mapping = self.spec.marketplace_column
        keys, ids = pa.array(list(mapping)), pa.array(list(mapping.values()))
        found = pc.take(ids, pc.index_in(out[name], value_set=keys))
        return pc.coalesce(found, fallback) if self.marketplace_id else found


def _blank_rows(batch: _RawBatch) -> pa.Array | None:
    """Rows where every field is empty (blank lines), or None when there are none."""
    if not batch.fields or not batch.fields[0].null_count:
        return None
    blank = batch.fields[0].is_null()
    for f in batch.fields[1:]:
        blank = pc.and_(blank, f.is_null())
    return blank if pc.any(blank).as_py() else None


def _raw_line(batch: _RawBatch, row: int, quoted: bool) -> str:
    """The line as read, re-assembled from its fields (byte-identical for unquoted reports)."""
    values = ["" if f[row].as_py() is None else f[row].as_py() for f in batch.fields]
    if quoted:
        return "\t".join('"' + v.replace('"', '""') + '"' for v in values)
    return "\t".join(values)


def _converted(reader: _Reader, converter: _Converter,
               batches: Iterator[_RawBatch]) -> Iterator[pa.Table | None]:
    for batch in batches:
        yield converter.convert(batch)
        converter.add_bad_lines()
    converter.add_bad_lines()
    converter.stats.data_lines = reader.lines_read()
    converter.quarantine.sort(key=lambda row: row["line_number"] or 0)


def _tables(reader: _Reader, converter: _Converter, first: _RawBatch | None,
            threads: bool) -> Iterator[pa.Table]:
    """Read, convert and hand on in a pipeline: with `threads`, reading and converting each run a block
    ahead in their own thread (pyarrow releases the GIL), overlapping with the consumer's work."""
    batches: Iterator[_RawBatch] = itertools.chain([first] if first is not None and len(first) else [],
                                                   reader.batches())
    tables = _converted(reader, converter, _prefetch(batches) if threads else batches)
    for table in _prefetch(tables) if threads else tables:
        if table is not None:
            yield table
    pa.default_memory_pool().release_unused()  # give the blocks' memory back before the load starts


_DONE = object()


def _prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items` produced by a background thread, at most `depth` ahead of the consumer.

    Errors are re-raised in the consumer; when the consumer stops early, the thread stops too.
    """
    queue: Queue[tuple[Any, BaseException | None]] = Queue(depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            put((_DONE, error))

    thread = threading.Thread(target=produce, name="flatfile-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()


# --- public API --------------------------------------------------------------------------------------------


def parse_report(stream: BinaryIO, spec: ReportSpec, *, seller_id: str, charset: str | None = "utf-8",
                 marketplace_id: str | None = None, locale: str | Locale | None = None,
                 source: str | None = None, protect_raw_line: Callable[[str], str | None] | None = None,
                 block_size: int = DEFAULT_BLOCK_SIZE, threads: bool = True) -> FlatFileParse:
    """Parse a report document as a stream of typed tables (see the module docstring).

    `stream` is binary (decompress gzip with a streaming reader first); `charset` is the one the
    download declared. `source` names the document in quarantine rows (e.g. the reportDocumentId).
    """
    reader = _Reader(stream, spec, charset, block_size)
    stats, quarantine = _stats(reader), []
    converter = _Converter(reader, resolve_locale(locale) or spec.locale, seller_id, marketplace_id,
                           source or spec.report_type, quarantine, stats, protect_raw_line)
    tables = _tables(reader, converter, None, threads) if reader.header else iter(())
    return FlatFileParse(tables, quarantine, stats)


def parse_settlement(stream: BinaryIO, *, seller_id: str, charset: str | None = "utf-8",
                     locale: str | Locale | None = None, marketplace_id: str | None = None,
                     source: str | None = None, block_size: int = DEFAULT_BLOCK_SIZE,
                     threads: bool = True) -> SettlementParse:
    """Parse a V2 settlement flat file: the summary row at once, then the detail lines as a stream.

    The locale is `locale` if given, else detected from the summary row's date format (and decimal
    mark), else the marketplace's. Every detail line must carry the summary's settlement-id (others
    are quarantined), gets the summary's currency, and is keyed by (settlement_id, line_number).
    Raises FlatFileError when there is no usable summary row: without it nothing can be reconciled.
    """
    spec = SETTLEMENT
    reader = _Reader(stream, spec, charset, block_size)
    if not reader.header:
        raise FlatFileError("empty settlement document (no header)")
    batches = reader.batches()
    first = next(batches, None)
    if first is None or first.lines[0] != 2:
        bad = [reason for line, reason, _ in reader.bad_lines if line == 2]
        raise FlatFileError("settlement summary row (line 2) is missing or malformed"
                            + (f": {bad[0]}" if bad else ""))
    chosen = _settlement_locale(first, reader, locale, marketplace_id)
    summary = _summary(first, reader, chosen)
    summary.update(seller_id=seller_id, marketplace_id=marketplace_id, locale=chosen.code)
    stats, quarantine = _stats(reader), []
    converter = _Converter(
        reader, chosen, seller_id, marketplace_id, source or f"settlement {summary['settlement_id']}",
        quarantine, stats, constants={"currency": pa.scalar(summary["currency"], pa.string())},
        expected={"settlement_id": pa.scalar(summary["settlement_id"], pa.string())})
    lines = _tables(reader, converter, first.slice(1), threads)
    return SettlementParse(lines, quarantine, stats, summary, chosen)


def _stats(reader: _Reader) -> ParseStats:
    layout = reader.layout
    if layout is None:
        return ParseStats()
    missing = tuple(c.header for c in reader.spec.columns if layout.positions[c.name] is None)
    return ParseStats(missing_columns=missing, extra_columns=tuple(name for name, _ in layout.extras),
                      dropped_columns=layout.dropped)


def _settlement_locale(first: _RawBatch, reader: _Reader, locale: str | Locale | None,
                       marketplace_id: str | None) -> Locale:
    explicit = resolve_locale(locale)
    if explicit is not None:
        return explicit
    positions = reader.layout.positions if reader.layout else {}
    start, total = positions.get("settlement_start_at"), positions.get("total_amount")
    start_text = first.fields[start][0].as_py() if start is not None else None
    total_text = first.fields[total][0].as_py() if total is not None else None
    detected = detect_locale(start_text or "", total_text or "")
    known = MARKETPLACE_LOCALES.get(marketplace_id or "")
    if detected is None or (known and (known.decimal_comma, known.date_format)
                            == (detected.decimal_comma, detected.date_format)):
        detected = known or detected  # the same convention: name it after the marketplace (CA, not US)
    if detected is None:
        raise FlatFileError("cannot tell the settlement's number and date format: pass locale=")
    return detected


def _summary(first: _RawBatch, reader: _Reader, locale: Locale) -> dict[str, Any]:
    """The summary row's fields, typed; a field that does not convert fails the document."""
    assert reader.layout is not None
    summary: dict[str, Any] = {}
    for column in reader.spec.columns:
        if not (column.summary or column.name == "settlement_id"):
            continue
        position = reader.layout.positions[column.name]
        source = first.fields[position].slice(0, 1) if position is not None else pa.nulls(1, pa.string())
        values, failed = convert(source, column, locale)
        if failed is not None or (column.required and source.null_count):
            problem = "not a valid " + column.kind if failed is not None else "missing"
            raise FlatFileError(f"settlement summary row: {column.header} {problem} "
                                f"({source[0].as_py()!r}, locale {locale.code})")
        summary[column.name] = values[0].as_py()
    return summary


def _s(header: str, name: str | None = None, kind: Kind = "string", **options: Any) -> Column:
    """A column whose output name is its header in snake_case unless given."""
    return Column(header, name or snake_case(header), kind, **options)


SETTLEMENT = ReportSpec(
    SETTLEMENT_REPORT_TYPE, "settlement_lines", primary_key=("settlement_id", "line_number"),
    marketplace_column=("marketplace_name", MARKETPLACE_NAMES),
    columns=(
        _s("settlement-id", required=True),
        _s("settlement-start-date", "settlement_start_at", "timestamp", required=True, summary=True),
        _s("settlement-end-date", "settlement_end_at", "timestamp", required=True, summary=True),
        _s("deposit-date", "deposit_at", "timestamp", summary=True),
        _s("total-amount", "total_amount", "decimal", required=True, summary=True),
        _s("currency", required=True, summary=True),
        _s("transaction-type"), _s("order-id"), _s("merchant-order-id"), _s("adjustment-id"),
        _s("shipment-id"), _s("marketplace-name"), _s("amount-type"), _s("amount-description"),
        _s("amount", kind="decimal", required=True), _s("fulfillment-id"),
        _s("posted-date", kind="date"), _s("posted-date-time", "posted_at", "timestamp"),
        _s("order-item-code"), _s("merchant-order-item-id"), _s("merchant-adjustment-item-id"), _s("sku"),
        _s("quantity-purchased", kind="integer"), _s("promotion-id"),
    ),
)

_MONEY = "decimal"
ALL_ORDERS = ReportSpec(
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", "order_items_report",
    primary_key=("amazon_order_id", "sku"), contains_pii=True, keep_extra_columns=False,
    marketplace_column=("sales_channel", MARKETPLACE_NAMES),
    columns=(
        _s("amazon-order-id", required=True), _s("merchant-order-id"),
        _s("purchase-date", "purchased_at", "timestamp"),
        _s("last-updated-date", "last_updated_at", "timestamp"),
        _s("order-status"), _s("fulfillment-channel"), _s("sales-channel"), _s("order-channel"),
        _s("ship-service-level"), _s("product-name"), _s("sku"), _s("asin"), _s("item-status"),
        _s("quantity", kind="integer"), _s("currency"), _s("item-price", kind=_MONEY),
        _s("item-tax", kind=_MONEY), _s("shipping-price", kind=_MONEY), _s("shipping-tax", kind=_MONEY),
        _s("gift-wrap-price", kind=_MONEY),
        _s("gift-wrap-tax", kind=_MONEY), _s("item-promotion-discount", kind=_MONEY),
        _s("ship-promotion-discount", kind=_MONEY), _s("ship-city"), _s("ship-state"), _s("ship-postal-code"),
        _s("ship-country"), _s("promotion-ids"), _s("is-business-order", kind="boolean"),
        _s("purchase-order-number"), _s("price-designation"),
    ),
)

MERCHANT_LISTINGS = ReportSpec(
    "GET_MERCHANT_LISTINGS_ALL_DATA", "listings", primary_key=("marketplace_id", "seller_sku"),
    columns=(
        _s("item-name"), _s("item-description"), _s("listing-id"), _s("seller-sku", required=True),
        _s("price", kind=_MONEY), _s("quantity", kind="integer"), _s("open-date", "opened_at", "timestamp"),
        _s("image-url"), _s("item-is-marketplace", kind="boolean"), _s("product-id-type"),
        _s("zshop-shipping-fee"), _s("item-note"), _s("item-condition"), _s("zshop-category1"),
        _s("zshop-browse-path"), _s("zshop-storefront-feature"), _s("asin1"), _s("asin2"), _s("asin3"),
        _s("will-ship-internationally"), _s("expedited-shipping"), _s("zshop-boldface"), _s("product-id"),
        _s("bid-for-featured-placement"), _s("add-delete"), _s("pending-quantity", kind="integer"),
        _s("fulfillment-channel"), _s("merchant-shipping-group"), _s("status"),
    ),
)

_QUANTITIES = ("mfn-fulfillable-quantity", "afn-warehouse-quantity", "afn-fulfillable-quantity",
               "afn-unsellable-quantity", "afn-reserved-quantity", "afn-total-quantity")
_INBOUND = ("afn-inbound-working-quantity", "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity",
            "afn-researching-quantity", "afn-reserved-future-supply", "afn-future-supply-buyable")
FBA_INVENTORY = ReportSpec(
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "inventory", primary_key=("marketplace_id", "sku"),
    columns=(
        _s("sku", required=True), _s("fnsku"), _s("asin"), _s("product-name"), _s("condition"),
        _s("your-price", kind=_MONEY), _s("mfn-listing-exists", kind="boolean"),
        _s(_QUANTITIES[0], kind="integer"),
        _s("afn-listing-exists", kind="boolean"), *(_s(h, kind="integer") for h in _QUANTITIES[1:]),
        _s("per-unit-volume", kind="decimal", scale=4), *(_s(h, kind="integer") for h in _INBOUND),
    ),
)

FBA_REIMBURSEMENTS = ReportSpec(
    "GET_FBA_REIMBURSEMENTS_DATA", "fba_reimbursements", primary_key=("reimbursement_id", "sku"),
    columns=(
        _s("approval-date", "approved_at", "timestamp"), _s("reimbursement-id", required=True), _s("case-id"),
        _s("amazon-order-id"), _s("reason"), _s("sku"), _s("fnsku"), _s("asin"), _s("product-name"),
        _s("condition"), _s("currency-unit", "currency"), _s("amount-per-unit", kind=_MONEY),
        _s("amount-total", kind=_MONEY), _s("quantity-reimbursed-cash", kind="integer"),
        _s("quantity-reimbursed-inventory", kind="integer"), _s("quantity-reimbursed-total", kind="integer"),
        _s("original-reimbursement-id"), _s("original-reimbursement-type"),
    ),
)

_MEASURE = {"kind": "decimal", "scale": 4}
FBA_ESTIMATED_FEES = ReportSpec(
    "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA", "fee_estimates", primary_key=("marketplace_id", "sku"),
    marketplace_column=("amazon_store", MARKETPLACE_IDS_BY_CODE),
    columns=(
        _s("sku", required=True), _s("fnsku"), _s("asin"), _s("amazon-store"), _s("product-name"),
        _s("product-group"), _s("brand"), _s("fulfilled-by"), _s("your-price", kind=_MONEY),
        _s("sales-price", kind=_MONEY), _s("longest-side", **_MEASURE), _s("median-side", **_MEASURE),
        _s("shortest-side", **_MEASURE), _s("length-and-girth", **_MEASURE), _s("unit-of-dimension"),
        _s("item-package-weight", **_MEASURE), _s("unit-of-weight"), _s("product-size-tier"), _s("currency"),
        *(_s(h, kind=_MONEY) for h in (
            "estimated-fee-total", "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
            "estimated-order-handling-fee-per-unit", "estimated-pick-pack-fee-per-unit",
            "estimated-weight-handling-fee-per-unit", "expected-fulfillment-fee-per-unit")),
    ),
)

INVENTORY_LEDGER = ReportSpec(
    "GET_LEDGER_DETAIL_VIEW_DATA", "inventory_ledger", quoted=True,
    primary_key=("reference_id", "event_type", "msku", "fulfillment_center", "disposition"),
    marketplace_column=("country", MARKETPLACE_IDS_BY_CODE),
    columns=(
        _s("Date", "event_date", "date", formats=("%m/%d/%Y",)), _s("FNSKU"), _s("ASIN"),
        _s("MSKU", required=True), _s("Title"), _s("Event Type"), _s("Reference ID"),
        _s("Quantity", kind="integer"), _s("Fulfillment Center"), _s("Disposition"), _s("Reason"),
        _s("Country"), _s("Reconciled Quantity", kind="integer"), _s("Unreconciled Quantity", kind="integer"),
        _s("Date and Time", "event_at", "timestamp"),
    ),
)

SPECS: dict[str, ReportSpec] = {spec.report_type: spec for spec in (
    SETTLEMENT, ALL_ORDERS, MERCHANT_LISTINGS, FBA_INVENTORY, FBA_REIMBURSEMENTS, FBA_ESTIMATED_FEES,
    INVENTORY_LEDGER)}
