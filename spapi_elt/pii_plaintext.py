"""Looking for buyer PII in plaintext in the lakehouse and in text a run leaves behind (logs).

Three kinds of evidence, so that a scan has something to find even when no canary is known:
- protected columns: the columns the PII policies hash or encrypt (spapi_elt.purge.PII_TABLES) hold only a
  hash, a ciphertext or a purge tombstone; any other value there is plaintext, whatever its shape;
- shapes: an e-mail address anywhere (buyer e-mails are only ever stored hashed); a phone number or a street
  address in any other text column of the tables that hold buyer data (a field Amazon adds to an order);
- canaries: known fake buyer values (the sandbox plants them in its orders), anywhere.

Findings are counted by place and kind, never quoted: the values are what must not be written anywhere.
Phones and addresses are only looked for where buyers' data lives, and the shapes leave alone what the raw
tables are full of (order ids such as 123-1234567-1234567, ISO and German dates, amounts, load ids, SKUs,
ASINs, hashes, ciphertext): tests/spapi_elt/test_pii_plaintext.py.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from dlt_sources.spapi.pii.crypto import ENCRYPTED_PREFIX, HASH_PATTERN, PURGED_PREFIX
from spapi_elt.lakehouse import DATASET
from spapi_elt.purge import PII_TABLES, STAGING_DATASET

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Starts at the '@' (Python's search then skips ahead to each '@': 100x faster on long logs than EMAIL).
_EMAIL_FROM_AT = re.compile(r"(?<=[A-Za-z0-9._%+-])@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# A run of digits with phone punctuation; phone_numbers() decides which runs are phone numbers.
_PHONE_CANDIDATE = re.compile(r"(?<![\w.:+/-])(?<!\d,)\+?\(?\d[\d ()./-]{5,22}\d(?![\w/-]|[.,:]\d)")
_NANP = re.compile(r"\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}")  # 206-555-0100, (206) 555-0100
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")  # 2026-01-31, 31.01.2026, 01/31/2026

_SUFFIXES = (r"street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|place|pl|way|court|ct|crescent"
             r"|close|terrace|square|sq|highway|hwy|wharf|parkway|pkwy")
_GERMAN = r"[^\W\d]*(?:straße|strasse|str\.|weg|allee|platz|gasse|damm|ring)"
STREET_ADDRESS = re.compile(
    rf"(?<!\w)\d{{1,5}}[a-z]?,?\s+(?:[^\W\d][\w'.-]*\s+){{0,4}}(?:{_SUFFIXES})\.?(?!\w)"  # 12 Maple Ave
    rf"|(?<!\w){_GERMAN}\s+\d{{1,4}}[a-z]?(?!\w)"  # Hauptstraße 12
    rf"|(?<!\w)\d{{1,5}}\s+{_GERMAN}(?!\w)"  # 12 Hauptstraße
    r"|(?<!\w)\d{1,4}(?:\s*(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|quai|route)\s",
    re.IGNORECASE)


def phone_numbers(text: str) -> list[str]:
    """Phone-shaped runs: 7 to 15 digits (ITU-T E.164's most) written as phones are, international
    (+44 20 7946 0958), national with a trunk 0 and 9 digits or more (030 901820 1234) or North American
    (206-555-0100); never a date."""
    found = []
    for match in _PHONE_CANDIDATE.finditer(text):
        candidate = match.group().strip()
        digits = sum(ch.isdigit() for ch in candidate)
        if not 7 <= digits <= 15 or _DATE.fullmatch(candidate):
            continue
        international = candidate.startswith("+")
        national = candidate.startswith(("(", "0")) and digits >= 9  # not a Japanese postal code: 060-0001
        if international or national or _NANP.fullmatch(candidate):
            found.append(candidate)
    return found


def shapes(value: str) -> list[str]:
    """The PII shapes in a value: 'email', 'phone', 'street address'."""
    return [name for name, present in (("email", EMAIL.search(value)), ("phone", phone_numbers(value)),
                                       ("street address", STREET_ADDRESS.search(value))) if present]


def text_findings(text: str, canaries: Sequence[str]) -> Counter[str]:
    """E-mail addresses and canaries in free text (a log): the shapes that do not occur in logs by chance."""
    found: Counter[str] = Counter()
    found["email"] = sum(1 for _ in _EMAIL_FROM_AT.finditer(text))
    # A canary as written, and as JSON writes it (Dagster's event log is JSON: 'ü' becomes '\u00fc').
    found["canary"] = sum(text.count(form) for c in canaries for form in {c, json.dumps(c)[1:-1]})
    return +found


@dataclass
class LakehouseScan:
    """What a scan looked at (so that a pass means something) and what it found, by place and kind."""

    tables: int = 0
    text_columns: int = 0
    protected_columns: int = 0
    protected_values: int = 0
    shape_columns: int = 0
    findings: dict[str, Counter[str]] = field(default_factory=dict)

    def found(self, place: str, kind: str, count: int = 1) -> None:
        if count:
            self.findings.setdefault(place, Counter())[kind] += count


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _text_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog') "
            "and table_name not like '\\_dlt%' escape '\\' order by all").fetchall():
        columns.setdefault((schema, table), []).append(column)
    return columns


def scan_lakehouse(con: duckdb.DuckDBPyConnection, canaries: Sequence[str]) -> LakehouseScan:
    """Every text column for e-mails and canaries, the buyer tables' columns for phones and street addresses,
    the protected columns for anything that is not a hash or a ciphertext."""
    scan = LakehouseScan()
    text_columns = _text_columns(con)
    scan.tables = len({key for key in text_columns})
    canary_pattern = "|".join(re.escape(c) for c in canaries)
    for (schema, table), columns in text_columns.items():
        scan.text_columns += len(columns)
        target = f"{_quote(schema)}.{_quote(table)}"
        text = " || chr(31) || ".join(f"coalesce({_quote(c)}, '')" for c in columns)
        canary_count = f"count(*) filter (where regexp_matches({text}, $canaries))" if canaries else "0"
        emails, canary_hits = con.execute(
            f"select count(*) filter (where regexp_matches({text}, $email)), {canary_count} from {target}",
            {"email": EMAIL.pattern} | ({"canaries": canary_pattern} if canaries else {})).fetchone()
        scan.found(f"{schema}.{table}", "email", emails)
        scan.found(f"{schema}.{table}", "canary", canary_hits)
    for pii in PII_TABLES:
        if pii.encrypted_only:  # the quarantine keeps plaintext lines of reports without buyer data too
            continue
        for schema in (DATASET, STAGING_DATASET):
            present = text_columns.get((schema, pii.table), [])
            for column in present:
                if column in pii.columns:
                    _scan_protected(con, schema, pii.table, column, scan)
                elif not column.startswith("_dlt"):
                    _scan_shapes(con, schema, pii.table, column, scan)
    return scan


def _scan_protected(con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str,
                    scan: LakehouseScan) -> None:
    scan.protected_columns += 1
    quoted = _quote(column)
    scan.protected_values += con.execute(
        f"select count({quoted}) from {_quote(schema)}.{_quote(table)}").fetchone()[0]
    plaintext = con.execute(
        f"select {quoted} from {_quote(schema)}.{_quote(table)} where {quoted} <> '' "
        f"and not (starts_with({quoted}, ?) or starts_with({quoted}, ?) or regexp_full_match({quoted}, ?))",
        [ENCRYPTED_PREFIX, PURGED_PREFIX, HASH_PATTERN.pattern]).fetchall()
    for (value,) in plaintext:
        for kind in shapes(value) or ["plaintext"]:
            scan.found(f"{schema}.{table}.{column}", kind)


def _scan_shapes(con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str,
                 scan: LakehouseScan) -> None:
    scan.shape_columns += 1
    quoted = _quote(column)
    for value, rows in con.execute(f"select {quoted}, count(*) from {_quote(schema)}.{_quote(table)} "
                                   f"where {quoted} is not null group by 1").fetchall():
        for kind in shapes(value):
            if kind != "email":  # counted by the e-mail scan of every column already
                scan.found(f"{schema}.{table}.{column}", kind, rows)
