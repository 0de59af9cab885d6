"""Find every copy of protected PII in a data folder, in every format the product writes, and decrypt it.

The scan looks at a folder the way an attacker with the disk and the (still active) keys would: not at the
tables the purge knows, but at every file under the folder.

- every file's raw bytes, gzip members decompressed: the `e1:` pattern (catches DuckDB's freed pages and
  WAL, dlt's pickles, jsonl and insert files, logs) and every canary plaintext;
- Parquet files: every string value, nested ones included;
- DuckDB files: a copy opened read-only (its WAL copied beside it), every VARCHAR column of every table of
  every schema (dlt's staging dataset included).

Each distinct candidate is tried with the product's own Protector under every field path the policies use
and every seller id (decrypt binds both as associated data): a value that decrypts is PII still readable.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from dlt_sources.spapi.pii import PiiError, Protector
from dlt_sources.spapi.pii.policies import (
    ORDER_ITEMS_POLICY,
    ORDER_ITEMS_V0_POLICY,
    ORDER_REPORT_POLICY,
    ORDERS_POLICY,
    ORDERS_V0_POLICY,
)
from dlt_sources.spapi.pii.policy import Action

# DuckDB's uncompressed string heap packs values back to back: a body ends where the next `e1:` begins.
CIPHERTEXT = re.compile(rb"e1:[A-Za-z0-9_-]+:[A-Za-z0-9+/=]{16,}?(?=e1:|[^A-Za-z0-9+/=]|$)")
CIPHERTEXT_TEXT = re.compile(CIPHERTEXT.pattern.decode())
DUCKDB_MAGIC = b"DUCK"  # at offset 8 of a DuckDB database file
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"

# Every field path a value is encrypted under: the policies' encrypt rules, and the quarantine's raw lines.
FIELD_PATHS: tuple[str, ...] = tuple(dict.fromkeys(
    [path for policy in (ORDERS_POLICY, ORDERS_V0_POLICY, ORDER_REPORT_POLICY, ORDER_ITEMS_POLICY,
                         ORDER_ITEMS_V0_POLICY) for path in policy.paths(Action.ENCRYPT)]
    + ["flat_file_quarantine.raw_line"]))


@dataclass
class Finding:
    """Where candidates were found: `where` is `bytes`, `parquet` or `duckdb:<schema>.<table>.<column>`."""

    path: Path
    where: str
    values: set[str] = field(default_factory=set)


@dataclass
class ScanResult:
    findings: list[Finding]
    decryptable: dict[str, str]  # candidate -> the plaintext it decrypts to
    canary_hits: list[tuple[Path, str]]  # (file, canary) for a canary found in a file's bytes

    def decryptable_by_place(self, root: Path) -> Counter[str]:
        """Distinct decryptable values per place (file relative to `root`, and where in it)."""
        counts: Counter[str] = Counter()
        for f in self.findings:
            hits = sum(1 for v in f.values if v in self.decryptable)
            if hits:
                counts[f"{f.path.relative_to(root)} [{f.where}]"] += hits
        return counts

    @property
    def clean(self) -> bool:
        return not self.decryptable and not self.canary_hits


def scan(root: Path, protector: Protector, seller_ids: Iterable[str | None],
         canaries: Iterable[str] = ()) -> ScanResult:
    """Scan every file under `root` (see the module docstring)."""
    canary_bytes = [(c, c.encode("utf-8")) for c in canaries if c]
    findings: list[Finding] = []
    canary_hits: list[tuple[Path, str]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        blobs = [data, *_gunzipped(data)]
        found = {m.decode("ascii") for blob in blobs for m in CIPHERTEXT.findall(blob)}
        if found:
            findings.append(Finding(path, "bytes", found))
        canary_hits += [(path, c) for c, b in canary_bytes if any(b in blob for blob in blobs)]
        if data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC:
            findings.append(Finding(path, "parquet", set(_parquet_candidates(path))))
        elif data[8:12] == DUCKDB_MAGIC:
            findings += _duckdb_findings(path)
    candidates = {v for f in findings for v in f.values}
    return ScanResult(findings, _decryptable(candidates, protector, list(seller_ids)), canary_hits)


def _gunzipped(data: bytes) -> Iterator[bytes]:
    """Every gzip stream found in `data` (a .gz file, or members embedded in another file), decompressed."""
    start = data.find(GZIP_MAGIC)
    while start >= 0:
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            yield inflater.decompress(data[start:])
        except zlib.error:
            pass
        start = data.find(GZIP_MAGIC, start + 2)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _parquet_candidates(path: Path) -> Iterator[str]:
    table = pq.read_table(path)
    for column in table.columns:
        for value in column.to_pylist():
            for text in _strings(value):
                yield from CIPHERTEXT_TEXT.findall(text)


def _duckdb_findings(path: Path) -> list[Finding]:
    """Every VARCHAR column of every table in every schema of a copy of the DuckDB file (WAL included)."""
    findings = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        with duckdb.connect(str(copy), read_only=True) as con:
            columns = con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "join information_schema.tables using (table_catalog, table_schema, table_name) "
                "where data_type = 'VARCHAR' and table_type = 'BASE TABLE'").fetchall()
            for schema, table, column in columns:
                rows = con.execute(f'select distinct "{column}" from "{schema}"."{table}" '
                                   f'where "{column}" like \'%e1:%\'').fetchall()
                values = {m for (v,) in rows for m in CIPHERTEXT_TEXT.findall(v)}
                if values:
                    findings.append(Finding(path, f"duckdb:{schema}.{table}.{column}", values))
    return findings


def _decryptable(candidates: set[str], protector: Protector, seller_ids: list[str | None]) -> dict[str, str]:
    """candidate -> plaintext for each candidate some (field path, seller id) decrypts. The pair that worked
    last is tried first: values of one column share it."""
    pairs = [(f, s) for f in FIELD_PATHS for s in seller_ids]
    out: dict[str, str] = {}
    for value in sorted(candidates):
        for i, (field_path, seller_id) in enumerate(pairs):
            try:
                out[value] = protector.decrypt(value, field_path, seller_id)
            except PiiError:
                continue
            pairs.insert(0, pairs.pop(i))
            break
    return out
