"""Reading a flat file: its header layout, then raw string batches with line numbers, and bad lines.

- Streaming, bounded memory: pyarrow's CSV reader reads the document in blocks (`block_size`); every
  block becomes one batch that is converted and handed on before the next is read. Peak memory is a
  few blocks, whatever the document's size. `prefetch` runs a stage a block ahead in its own thread.
- By header name: columns are found by their header (case, spaces, '-' and '_' do not matter), so
  Amazon adding, dropping or reordering columns does not break a load. A missing optional column
  becomes an all-null column of its type; a missing required column is an error (the document is not
  what it claims to be). Unknown extra columns are kept as strings under their snake_case name (dlt
  evolves the table), except in reports that carry buyer data (`ReportSpec.keep_extra_columns=False`,
  the all-orders report): there an unknown column could be new PII, so it is dropped (data
  minimisation) and only its name is reported in `ParseStats.dropped_columns`.

Line numbers are the 1-based physical line of a row in the document (the header is line 1, a
settlement's summary row line 2). For a given document they are stable, so (settlement_id,
line_number) is a stable key of a settlement line: a settlement re-issued with identical content
yields the same keys. Quoted reports (the inventory ledger) count rows, which equal lines as long as no
value holds a line break (a broken row is quarantined, so the numbering stays exact).
"""

from __future__ import annotations

import csv
import io
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from queue import Full, Queue
from typing import Any, BinaryIO, TypeVar

import numpy as np
import pyarrow as pa
from pyarrow import csv as pacsv

from dlt_sources.spapi.flatfiles.charset import Utf8Transcoder, codec_for, sniff_bom
from dlt_sources.spapi.flatfiles.specs import ReportSpec, header_key, snake_case

T = TypeVar("T")

DEFAULT_BLOCK_SIZE = 2 << 20  # 2 MiB: as fast as larger blocks here; memory grows with the block size


class FlatFileError(ValueError):
    """The document cannot be parsed at all (not a line: the whole document, e.g. a missing column)."""


# --- header ----------------------------------------------------------------------------------------------


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


# --- the reader --------------------------------------------------------------------------------------------


@dataclass
class RawBatch:
    """Rows as read: one string column per field of the header, and each row's line number."""

    fields: list[pa.Array]
    lines: np.ndarray
    invalid_utf8: dict[int, pa.Array] = field(default_factory=dict)  # field position -> rows with bad bytes

    def __len__(self) -> int:
        return len(self.lines)

    def slice(self, start: int) -> RawBatch:
        return RawBatch([f.slice(start) for f in self.fields], self.lines[start:],
                        {k: v.slice(start) for k, v in self.invalid_utf8.items()})


class Reader:
    """Reads a flat file block by block: header, layout, raw batches with line numbers, bad lines."""

    def __init__(self, stream: BinaryIO, spec: ReportSpec, charset: str | None, block_size: int,
                 spec_for_header: Callable[[list[str]], ReportSpec] | None = None) -> None:
        stream, self.bom = sniff_bom(stream)
        codec, errors = ("utf_8", "strict") if self.bom else codec_for(charset)  # a BOM wins over the label
        self.transcoded = codec != "utf_8"
        self.codec = codec
        self.replaces = errors == "replace"  # undecodable bytes become U+FFFD (and their rows quarantined)
        if self.transcoded:
            transcoder = Utf8Transcoder(stream, codec, errors)
            stream = io.BufferedReader(transcoder, 1 << 20)  # type: ignore[assignment]
        self.spec = spec
        first_line = stream.readline()
        self.header = _split_header(first_line.decode("utf-8", "replace"), spec.quoted) if first_line else []
        if spec_for_header is not None and self.header:  # a report that comes in more than one layout
            self.spec = spec = spec_for_header(self.header)
        self.layout = _layout(self.header, spec) if self.header else None
        self.bad_lines: deque[tuple[int | None, str, str]] = deque()  # (line, reason, raw text), as read
        self.short_lines: deque[tuple[int, str]] = deque()  # (line, raw text): fewer fields than the header
        self.short_count = 0
        self._pending: list[int] = []  # line numbers of bad lines not yet placed among the good ones
        self._next_line = 2
        self._last_bad_line = 0
        self._reader = self._open(stream, block_size) if self.header else None

    def _on_invalid(self, row: Any) -> str:
        line = row.number + 1 if row.number is not None and row.number >= 0 else None
        if line is not None and row.actual_columns < row.expected_columns and row.text is not None:
            # Amazon omits trailing empty fields (FBA Liquidations settlement lines lack the last,
            # promotion-id): the missing fields are empty. The row is read here and merged back into
            # its batch; whether it is good is decided by its values, like any other row.
            self.short_lines.append((line, row.text))
            self.short_count += 1
            self._pending.append(line)
            self._last_bad_line = max(self._last_bad_line, line)
            return "skip"
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

    def batches(self) -> Iterator[RawBatch]:
        if self._reader is None:
            return
        for batch in self._reader:
            raw = RawBatch([], self._line_numbers(batch.num_rows))
            for position, column in enumerate(batch.columns):
                try:
                    raw.fields.append(column.cast(pa.string()))
                except pa.ArrowInvalid:
                    text, bad = _decode_replacing(column)
                    raw.fields.append(text)
                    raw.invalid_utf8[position] = bad
            raw = self._with_short_lines(raw, int(raw.lines[-1]) if len(raw) else 0)
            if len(raw):
                yield raw
        rest = self._with_short_lines(RawBatch([pa.array([], pa.string()) for _ in self.header],
                                               np.arange(0, dtype=np.int64)), None)
        if len(rest):
            yield rest

    def _with_short_lines(self, raw: RawBatch, last_line: int | None) -> RawBatch:
        """The batch with the short lines up to its last line (all: None) merged in, padded with empty
        fields, in line order. pyarrow may already have reported the next block's short lines: those wait
        for their own batch, so batches are the same whether the reading thread runs ahead or not."""
        short: list[tuple[int, str]] = []
        while self.short_lines and (last_line is None or self.short_lines[0][0] <= last_line):
            short.append(self.short_lines.popleft())
        if not short:
            return raw
        width = len(self.header)
        rows = [_split_line(text, self.spec.quoted) for _, text in short]
        padded = [pa.array([row[i] if i < len(row) and row[i] != "" else None for row in rows], pa.string())
                  for i in range(width)]
        lines = np.concatenate([raw.lines, np.array([line for line, _ in short], dtype=np.int64)])
        order = pa.array(np.argsort(lines, kind="stable"))
        n = len(short)
        fields = [pa.concat_arrays([f, p]).take(order) for f, p in zip(raw.fields, padded, strict=True)]
        invalid = {k: pa.concat_arrays([v, pa.array([False] * n)]).take(order) for k, v in raw.invalid_utf8.items()}
        return RawBatch(fields, lines[order.to_numpy()], invalid)


def _split_line(text: str, quoted: bool) -> list[str]:
    text = text.rstrip("\r\n")
    if quoted:
        return next(csv.reader([text], delimiter="\t", quotechar='"'), [])
    return text.split("\t")


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


# --- prefetch ----------------------------------------------------------------------------------------------

_DONE = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
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
