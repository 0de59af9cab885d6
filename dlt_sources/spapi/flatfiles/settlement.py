"""Settlement reports: the summary row at once, the detail lines as a stream, and the file's locale.

A V2 settlement flat file's first data row is the summary (settlement id, start, end, deposit date,
total-amount, currency); the lines follow. Number style and date style differ by marketplace and age,
independently of each other (`95,00` with `11.10.2024 08:59:52 UTC` on Amazon.de, `253.43` with
`15.11.2024 08:59:45 UTC` on Amazon.co.uk, ISO-8601 in older files), so each is read from the summary
row itself when the caller does not name a locale. Seller Central downloads also come in Amazon's older
"Flat File" layout (one amount column per kind of amount): the header tells which, and an older file loads
as the V2 lines it holds (`legacy_settlement`).

Usage (from a dlt resource; `stream` is any binary file-like, e.g. a GzipFile over the download):

    parsed = parse_settlement(stream, charset="utf-8", seller_id=seller_id)
    summary = parsed.summary          # available at once
    for table in parsed.lines: ...    # pyarrow Tables of settlement lines
    parsed.quarantine                 # complete once `lines` is exhausted
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyarrow as pa

from dlt_sources.spapi.flatfiles.conversion import convert
from dlt_sources.spapi.flatfiles.legacy_settlement import LegacyLines
from dlt_sources.spapi.flatfiles.parse import Converter, FlatFileParse, layout_stats, typed_tables
from dlt_sources.spapi.flatfiles.reader import DEFAULT_BLOCK_SIZE, FlatFileError, RawBatch, Reader
from dlt_sources.spapi.flatfiles.specs import LEGACY_AMOUNTS, LEGACY_SETTLEMENT, SETTLEMENT, settlement_spec, snake_case
from dlt_sources.spapi.locales import ISO, MARKETPLACE_LOCALES, Locale, detect_locale, resolve_locale


@dataclass
class SettlementParse(FlatFileParse):
    """A settlement: `summary` at once (one settlement_reports row), then `lines` (settlement_lines)."""

    summary: dict[str, Any] = field(default_factory=dict)
    locale: Locale = ISO
    layout: str = "v2"  # or "flat": Amazon's older Flat File layout, loaded as the same lines

    @property
    def lines(self) -> Iterator[pa.Table]:
        return self.tables


def parse_settlement(stream: BinaryIO, *, seller_id: str, charset: str | None = "utf-8",
                     locale: str | Locale | None = None, marketplace_id: str | None = None,
                     source: str | None = None, block_size: int = DEFAULT_BLOCK_SIZE,
                     threads: bool = True) -> SettlementParse:
    """Parse a settlement flat file: the summary row at once, then the detail lines as a stream.

    V2 files and Amazon's older Flat File layout (one amount column per kind, as Seller Central downloads
    give) are told apart by their header; both give the same summary and the same V2 lines
    (`legacy_settlement`).

    The locale is `locale` if given, else detected: the date style from the summary row's start date,
    the number style from its total (or the first lines' amounts), the marketplace's where the file
    shows neither. Every detail line must carry the summary's settlement-id (others
    are quarantined), gets the summary's currency, and is keyed by (settlement_id, line_number).
    Raises FlatFileError when there is no usable summary row: without it nothing can be reconciled.
    """
    reader = Reader(stream, SETTLEMENT, charset, block_size, spec_for_header=settlement_spec)
    legacy = reader.spec is LEGACY_SETTLEMENT
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
    stats, quarantine = layout_stats(reader), []
    converter = Converter(
        reader, chosen, seller_id, marketplace_id, source or f"settlement {summary['settlement_id']}",
        quarantine, stats, constants={"currency": pa.scalar(summary["currency"], pa.string())},
        expected={"settlement_id": pa.scalar(summary["settlement_id"], pa.string())},
        reshape=LegacyLines() if legacy else None)
    lines = typed_tables(reader, converter, first.slice(1), threads)
    return SettlementParse(lines, quarantine, stats, summary, chosen, "flat" if legacy else "v2")


def _settlement_locale(first: RawBatch, reader: Reader, locale: str | Locale | None,
                       marketplace_id: str | None) -> Locale:
    explicit = resolve_locale(locale)
    if explicit is not None:
        return explicit
    positions = reader.layout.positions if reader.layout else {}
    start, total = (positions.get(name) for name in ("settlement_start_at", "total_amount"))
    start_text = first.fields[start][0].as_py() if start is not None else None
    total_text = first.fields[total][0].as_py() if total is not None else None
    # A total such as `0` shows no decimal mark: the first block's line amounts may.
    names = [snake_case(a) for a, _ in LEGACY_AMOUNTS] if reader.spec is LEGACY_SETTLEMENT else ["amount"]
    columns = [first.fields[p] for p in (positions.get(name) for name in names) if p is not None]
    amounts = tuple(a for column in columns for a in column.slice(1, 1000).to_pylist() if a)
    detected = detect_locale(start_text or "", total_text or "", amounts,
                             fallback=MARKETPLACE_LOCALES.get(marketplace_id or ""))
    if detected is None:
        raise FlatFileError("cannot tell the settlement's number and date format: pass locale=")
    return detected


def _summary(first: RawBatch, reader: Reader, locale: Locale) -> dict[str, Any]:
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
