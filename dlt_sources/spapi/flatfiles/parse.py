"""Parsing a report: raw batches to typed Arrow tables of good rows, and the quarantine of bad ones.

Never silently dropped: a line with more fields than the header, a value that does not convert, a
missing required value or undecodable bytes goes to `quarantine` (a list of dict rows: source,
report_type, seller_id, marketplace_id, line_number, reason, raw_line), and the rest loads. Only blank
lines are skipped (counted in `ParseStats.blank_lines`). A line with fewer fields than the header is
not bad in itself: Amazon omits trailing empty fields (real FBA Liquidations settlement lines carry 23
of 24), so the missing fields are empty and its values decide, like any line's (`ParseStats.short_lines`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from dlt_sources.spapi.flatfiles.conversion import convert
from dlt_sources.spapi.flatfiles.reader import DEFAULT_BLOCK_SIZE, RawBatch, Reader, prefetch
from dlt_sources.spapi.flatfiles.specs import ReportSpec
from dlt_sources.spapi.locales import Locale, resolve_locale


@dataclass
class ParseStats:
    """What a parse saw: for logs and for reconciling line counts (no values, so no PII)."""

    data_lines: int = 0  # lines after the header, blank ones included
    rows: int = 0  # rows yielded
    blank_lines: int = 0
    short_lines: int = 0  # lines with fewer fields than the header, read with the missing ones empty
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


def parse_report(stream: BinaryIO, spec: ReportSpec, *, seller_id: str, charset: str | None = "utf-8",
                 marketplace_id: str | None = None, locale: str | Locale | None = None,
                 source: str | None = None, protect_raw_line: Callable[[str], str | None] | None = None,
                 block_size: int = DEFAULT_BLOCK_SIZE, threads: bool = True) -> FlatFileParse:
    """Parse a report document as a stream of typed tables (see the flatfiles package docstring).

    `stream` is binary (decompress gzip with a streaming reader first); `charset` is the one the
    download declared. `source` names the document in quarantine rows (e.g. the reportDocumentId).
    """
    reader = Reader(stream, spec, charset, block_size)
    stats, quarantine = layout_stats(reader), []
    converter = Converter(reader, resolve_locale(locale) or spec.locale, seller_id, marketplace_id,
                          source or spec.report_type, quarantine, stats, protect_raw_line)
    tables = typed_tables(reader, converter, None, threads) if reader.header else iter(())
    return FlatFileParse(tables, quarantine, stats)


def layout_stats(reader: Reader) -> ParseStats:
    """The stats a parse starts from: what the header already tells (missing, extra, dropped columns)."""
    layout = reader.layout
    if layout is None:
        return ParseStats()
    missing = tuple(c.header for c in reader.spec.columns if layout.positions[c.name] is None)
    return ParseStats(missing_columns=missing, extra_columns=tuple(name for name, _ in layout.extras),
                      dropped_columns=layout.dropped)


# --- batch conversion --------------------------------------------------------------------------------------

Problem = tuple[str, pa.Array, pa.Array | None]  # (reason, rows it applies to, the offending values)


class Reshape(Protocol):
    """Turns a batch's good rows into the rows to load, where a layout's rows are not those rows (the older
    settlement layout: one row, several lines). It may quarantine rows through the converter."""

    def __call__(self, table: pa.Table, batch: RawBatch, converter: Converter) -> pa.Table: ...

    def finish(self, converter: Converter) -> None:
        """The document has ended: settle what was waiting for a next row."""


@dataclass
class Converter:
    """Turns raw batches into typed tables of good rows; puts bad rows into the quarantine."""

    reader: Reader
    locale: Locale
    seller_id: str
    marketplace_id: str | None
    source: str
    quarantine: list[dict[str, Any]]
    stats: ParseStats
    protect_raw_line: Callable[[str], str | None] | None = None
    constants: dict[str, pa.Scalar] = field(default_factory=dict)  # e.g. a settlement's currency
    expected: dict[str, pa.Scalar] = field(default_factory=dict)  # column -> value every row must have
    reshape: Reshape | None = None

    @property
    def spec(self) -> ReportSpec:
        return self.reader.spec

    def convert(self, batch: RawBatch) -> pa.Table | None:
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
        if self.reshape is not None:
            table = self.reshape(table, batch, self)
        self.stats.rows += table.num_rows
        if "amount" in table.column_names and table.num_rows:
            self.stats.amount_sum += pc.sum(table["amount"]).as_py() or 0
        return table if table.num_rows else None

    def _quarantine(self, batch: RawBatch, problems: list[Problem],
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
            self.add(int(batch.lines[row]), "; ".join(reasons), reassembled_line(batch, row, self.spec.quoted))
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
        """Lines pyarrow rejected (more fields than the header) since the last call."""
        for line, reason, raw in self.reader.take_bad_lines():
            self.add(line, reason, raw)

    def _assemble(self, batch: RawBatch, out: dict[str, pa.Array], extras: dict[str, pa.Array]) -> pa.Table:
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
        """The row's marketplace from its own column where the report has one (names matched ignoring
        case), else the caller's: for an empty value always, for a name we do not know only where the
        spec says so (a settlement line naming an unknown storefront gets none rather than a wrong one)."""
        fallback = pa.scalar(self.marketplace_id, pa.string())
        if self.spec.marketplace_column is None or self.spec.marketplace_column[0] not in out:
            return pa.repeat(fallback, n)
        name, mapping = self.spec.marketplace_column
        keys, ids = pa.array([key.lower() for key in mapping]), pa.array(list(mapping.values()))
        values = pc.utf8_lower(pc.utf8_trim_whitespace(out[name]))
        found = pc.take(ids, pc.index_in(values, value_set=keys))
        if not self.marketplace_id:
            return found
        if self.spec.unknown_marketplace_fallback:
            return pc.coalesce(found, fallback)
        return pc.if_else(pc.fill_null(pc.equal(values, ""), True), fallback, found)


def _blank_rows(batch: RawBatch) -> pa.Array | None:
    """Rows where every field is empty (blank lines), or None when there are none."""
    if not batch.fields or not batch.fields[0].null_count:
        return None
    blank = batch.fields[0].is_null()
    for f in batch.fields[1:]:
        blank = pc.and_(blank, f.is_null())
    return blank if pc.any(blank).as_py() else None


def reassembled_line(batch: RawBatch, row: int, quoted: bool) -> str:
    """The line as read, re-assembled from its fields (byte-identical for unquoted reports)."""
    values = ["" if f[row].as_py() is None else f[row].as_py() for f in batch.fields]
    if quoted:
        return "\t".join('"' + v.replace('"', '""') + '"' for v in values)
    return "\t".join(values)


def _converted(reader: Reader, converter: Converter,
               batches: Iterator[RawBatch]) -> Iterator[pa.Table | None]:
    for batch in batches:
        yield converter.convert(batch)
        converter.add_bad_lines()
    converter.add_bad_lines()
    if converter.reshape is not None:
        converter.reshape.finish(converter)
    converter.stats.data_lines = reader.lines_read()
    converter.stats.short_lines = reader.short_count
    converter.quarantine.sort(key=lambda row: row["line_number"] or 0)


def typed_tables(reader: Reader, converter: Converter, first: RawBatch | None,
                 threads: bool) -> Iterator[pa.Table]:
    """Read, convert and hand on in a pipeline: with `threads`, reading and converting each run a block
    ahead in their own thread (pyarrow releases the GIL), overlapping with the consumer's work."""
    batches: Iterator[RawBatch] = itertools.chain([first] if first is not None and len(first) else [],
                                                  reader.batches())
    tables = _converted(reader, converter, prefetch(batches) if threads else batches)
    for table in prefetch(tables) if threads else tables:
        if table is not None:
            yield table
    pa.default_memory_pool().release_unused()  # give the blocks' memory back before the load starts
