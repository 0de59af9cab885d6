"""Journal exports: finance.settlement_journals as files a ledger imports, one per account, currency and period.

Folder: `<reports>/<account>/journals_<account>_<currency>_<first day>_<last day>_<format>.csv`, beside the
settlement reconciliation reports (spapi_elt.reports.generate.reports_dir), each written atomically (publish: a
temporary file renamed over the old one). A ledger journal holds one currency, hence a file per currency.

Formats:
- `xero`: Xero's manual journal import (help.xero.com/nz/ManualJournalsImport): columns Narration, Date (dd/mm/yyyy),
  Description, AccountCode, TaxRate, Amount (positive = debit, negative = credit), TrackingName1, TrackingOption1.
  Rows sharing Narration and Date form one journal; at most 300 lines per file, so a longer export is split into
  `_part-<n>` files, never inside a journal.
- `qbo`: QuickBooks Online's journal entry import (quickbooks.intuit.com learn-support "Import journal entries",
  en-AU): columns Journal No., Journal Date, Account Name, Description, Debits, Credits, Name. QBO matches accounts
  by name; dates are dd/mm/yyyy (pick that format on QBO's import screen).
- `csv`: every column of finance.settlement_journals, for any other ledger.

Amounts are written with the currency's minor digits (ISO 4217: 2, JPY 0), exactly (Decimal, never float).
A journal with an unmapped category (no general-ledger account) is never written: the export stops and names it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import duckdb

from dlt_sources.spapi.config import ConfigError
from dlt_sources.spapi.locales import MARKETPLACES
from spapi_elt.lakehouse_lock import lakehouse_lock
from spapi_elt.reports.generate import file_stem
from spapi_elt.reports.publish import publish

FORMATS = ("xero", "qbo", "csv")
PREFIX = "journals"
XERO_MAX_LINES = 300  # "You can import up to 300 lines in one template file" (help.xero.com/nz/ManualJournalsImport)
XERO_COLUMNS = ("Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount",
                "TrackingName1", "TrackingOption1")
QBO_COLUMNS = ("Journal No.", "Journal Date", "Account Name", "Description", "Debits", "Credits", "Name")
TRACKING_NAME = "Amazon marketplace"
MARKETPLACE_NAMES = {marketplace_id: name for marketplace_id, _, name in MARKETPLACES}
MINOR_DIGITS = {"JPY": 0}  # ISO 4217 minor units; every other currency the marketplaces settle in has 2


@dataclass(frozen=True)
class JournalLine:
    """One row of finance.settlement_journals (the columns the exports write, in the mart's order)."""

    journal_line_id: str
    journal_id: str
    journal_number: str
    line_number: int
    journal_kind: str
    seller_id: str
    marketplace_id: str | None
    account_name: str
    marketplace_name: str | None
    settlement_id: str | None
    journal_date: date
    is_deposit_journal: bool
    journal_time_zone: str
    narration: str
    line_role: str
    category: str
    ledger_account_code: str | None
    ledger_account_name: str
    tax_code: str | None
    description: str
    debit: Decimal
    credit: Decimal
    currency: str


COLUMNS = tuple(f.name for f in fields(JournalLine))


@dataclass(frozen=True)
class JournalExport:
    """What was written for one account and currency, for the command's printout and the asset's metadata."""

    seller_id: str
    account: str
    currency: str
    first_day: date
    last_day: date
    journals: int
    files: dict[str, list[Path]]  # format -> files


def amount_text(amount: Decimal, currency: str) -> str:
    """An exact amount with the currency's minor digits: 12.5 USD -> "12.50", 1980.00 JPY -> "1980"."""
    digits = MINOR_DIGITS.get(currency, 2)
    return f"{amount.quantize(Decimal(1).scaleb(-digits)):f}"


def read_journal_lines(con: duckdb.DuckDBPyConnection, seller_id: str, first_day: date | None,
                       last_day: date | None) -> list[JournalLine]:
    """The seller's journal lines dated within [first_day, last_day] (either open), journal by journal."""
    rows = con.execute(
        f"select {', '.join(COLUMNS)} from finance.settlement_journals "
        "where seller_id = ? and (? is null or journal_date >= ?) and (? is null or journal_date <= ?) "
        "order by currency, journal_date, journal_id, line_number",
        [seller_id, first_day, first_day, last_day, last_day]).fetchall()
    return [JournalLine(*row) for row in rows]


def unmapped_categories(con: duckdb.DuckDBPyConnection, seller_id: str) -> list[str]:
    """The categories the seller's journals post without a general-ledger account (finance.journal_unmapped_lines)."""
    rows = con.execute("select distinct category from finance.journal_unmapped_lines where seller_id = ? "
                       "order by category", [seller_id]).fetchall()
    return [row[0] for row in rows]


def journals_of(lines: Iterable[JournalLine]) -> list[list[JournalLine]]:
    """Lines grouped by journal, in order (the lines of a journal are adjacent: read_journal_lines sorts them)."""
    journals: list[list[JournalLine]] = []
    for line in lines:
        if journals and journals[-1][0].journal_id == line.journal_id:
            journals[-1].append(line)
        else:
            journals.append([line])
    return journals


def xero_rows(journal: Sequence[JournalLine]) -> list[list[str]]:
    """A journal's Xero rows; zero lines are left out (Xero rejects them, and they change nothing)."""
    rows = []
    for line in journal:
        amount = line.debit - line.credit
        if amount == 0:
            continue
        rows.append([line.narration, line.journal_date.strftime("%d/%m/%Y"), line.description,
                     line.ledger_account_code or "", line.tax_code or "", amount_text(amount, line.currency),
                     TRACKING_NAME if line.marketplace_id else "",
                     MARKETPLACE_NAMES.get(line.marketplace_id or "", line.marketplace_id or "")])
    return rows


def xero_files(journals: Sequence[Sequence[JournalLine]]) -> list[list[list[str]]]:
    """Journals' rows packed into files of at most XERO_MAX_LINES rows, a journal never split across two."""
    files: list[list[list[str]]] = [[]]
    for journal in journals:
        rows = xero_rows(journal)
        if len(rows) > XERO_MAX_LINES:
            raise ConfigError(f"journal {journal[0].journal_id} has {len(rows)} lines, more than Xero's "
                              f"{XERO_MAX_LINES} per file")
        if len(files[-1]) + len(rows) > XERO_MAX_LINES:
            files.append([])
        files[-1].extend(rows)
    return [rows for rows in files if rows] or [[]]


def qbo_rows(journals: Sequence[Sequence[JournalLine]]) -> list[list[str]]:
    rows = []
    for journal in journals:
        for line in journal:
            if line.debit == 0 and line.credit == 0:
                continue
            rows.append([line.journal_number, line.journal_date.strftime("%d/%m/%Y"), line.ledger_account_name,
                         line.description,
                         amount_text(line.debit, line.currency) if line.debit else "",
                         amount_text(line.credit, line.currency) if line.credit else "", ""])
    return rows


def plain_rows(journals: Sequence[Sequence[JournalLine]]) -> list[list[str]]:
    rows = []
    for journal in journals:
        for line in journal:
            values = [getattr(line, column) for column in COLUMNS]
            rows.append(["" if v is None else amount_text(v, line.currency) if isinstance(v, Decimal)
                         else str(v).lower() if isinstance(v, bool) else str(v) for v in values])
    return rows


def csv_writer(header: Sequence[str], rows: Sequence[Sequence[str]]):
    def write(file: BinaryIO) -> None:
        text = io.StringIO(newline="")
        out = csv.writer(text, lineterminator="\r\n")
        out.writerow(header)
        out.writerows(rows)
        file.write(text.getvalue().encode("utf-8"))

    return write


def write_format(target: Path, stem: str, fmt: str, journals: Sequence[Sequence[JournalLine]]) -> list[Path]:
    """One export format's file(s) for one account and currency."""
    if fmt == "xero":
        parts = xero_files(journals)
        names = [f"{stem}_xero.csv"] if len(parts) == 1 else \
            [f"{stem}_xero_part-{n}.csv" for n in range(1, len(parts) + 1)]
        return [publish(target / name, csv_writer(XERO_COLUMNS, rows)) for name, rows in zip(names, parts, strict=True)]
    if fmt == "qbo":
        return [publish(target / f"{stem}_qbo.csv", csv_writer(QBO_COLUMNS, qbo_rows(journals)))]
    return [publish(target / f"{stem}_csv.csv", csv_writer(COLUMNS, plain_rows(journals)))]


def export_journals(lakehouse: Path, folder: Path, names: Mapping[str, str], formats: Sequence[str] = FORMATS,
                    accounts: Sequence[str] | None = None, first_day: date | None = None,
                    last_day: date | None = None, wait: bool = False) -> list[JournalExport]:
    """Write the journals of every seller (or those `accounts` names by account name or seller id) dated in
    [first_day, last_day]; `names` maps seller id -> account name (the seller id when missing)."""
    exported = []
    with lakehouse_lock(lakehouse, "journal export", wait=wait), \
            duckdb.connect(str(lakehouse), read_only=True) as con:
        sellers = [row[0] for row in con.execute(
            "select distinct seller_id from finance.settlement_journals order by seller_id").fetchall()]
        if accounts:
            wanted = set(accounts)
            unknown = wanted - set(sellers) - {names.get(s) for s in sellers}
            if unknown:
                raise ConfigError(f"no journals for account(s) {', '.join(sorted(unknown))}")
            sellers = [s for s in sellers if s in wanted or names.get(s) in wanted]
        for seller_id in sellers:
            account = names.get(seller_id) or seller_id
            unmapped = unmapped_categories(con, seller_id)
            if unmapped:
                raise ConfigError(f"{account}: no general-ledger account for {', '.join(unmapped)} "
                                  "(finance.journal_unmapped_lines): add rows to "
                                  "dbt_project/seeds/journal_accounts.csv and run `spapi-elt transform`")
            lines = read_journal_lines(con, seller_id, first_day, last_day)
            for currency in sorted({line.currency for line in lines}):
                journals = journals_of(line for line in lines if line.currency == currency)
                first = first_day or journals[0][0].journal_date
                last = last_day or journals[-1][0].journal_date
                stem = f"{PREFIX}_{file_stem(account)}_{currency}_{first.isoformat()}_{last.isoformat()}"
                target = folder / file_stem(account)
                files = {fmt: write_format(target, stem, fmt, journals) for fmt in formats}
                exported.append(JournalExport(seller_id, account, currency, first, last, len(journals), files))
    return exported
