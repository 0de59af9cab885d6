"""The journal exports read back with the csv module: every journal in every format balances, and each settlement's
deposit line ties to the truth's total; Xero files hold at most 300 lines and never split a journal."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from spapi_elt import journal_exports
from spapi_elt.cli import main
from spapi_elt.journal_exports import amount_text, export_journals
from tests.built_lakehouse import BuiltLakehouse

pytestmark = pytest.mark.integration

CLEARING_CODE, CLEARING_NAME = "1200", "Amazon Settlement Clearing"  # seeds/journal_accounts.csv


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def truth_totals(built: BuiltLakehouse) -> dict[str, Decimal]:
    return {s["settlement_id"]: Decimal(s["total"]) for s in built.truth["settlements"]}


def exported_files(built: BuiltLakehouse, folder: Path, fmt: str) -> list[Path]:
    exports = export_journals(built.path, folder, {}, [fmt], wait=True)  # the session's lakehouse: others read it
    assert {e.currency for e in exports} == {"USD", "CAD", "GBP", "EUR"}
    return [file for e in exports for file in e.files[fmt]]


def test_xero_journals_balance_and_tie_to_each_deposit(built_lakehouse: BuiltLakehouse, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_exports, "XERO_MAX_LINES", 40)  # the oracle's files are short: force the split
    files = exported_files(built_lakehouse, tmp_path, "xero")
    journals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    file_of: dict[tuple[str, str], set[Path]] = defaultdict(set)
    deposits: dict[str, Decimal] = defaultdict(Decimal)
    for path in files:
        rows = read(path)
        assert list(rows[0]) == ["Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount",
                                 "TrackingName1", "TrackingOption1"]
        assert 0 < len(rows) <= 40, path
        for row in rows:
            key = (row["Narration"], row["Date"])
            journals[key] += Decimal(row["Amount"])
            file_of[key].add(path)
            assert date(*reversed([int(p) for p in row["Date"].split("/")]))  # dd/mm/yyyy
            if row["AccountCode"] == CLEARING_CODE:
                deposits[row["Description"].removeprefix("Deposit of settlement ")] += Decimal(row["Amount"])
    assert any("_part-2" in path.name for path in files)
    assert {key: total for key, total in journals.items() if total != 0} == {}
    assert {key: paths for key, paths in file_of.items() if len(paths) > 1} == {}, "a journal split across files"
    totals = truth_totals(built_lakehouse)
    # A 0.00 settlement has no non-zero line to write; every other deposit is one line equal to the total.
    assert deposits == {s: t for s, t in totals.items() if t != 0}


def test_qbo_journals_balance_and_tie_to_each_deposit(built_lakehouse: BuiltLakehouse, tmp_path: Path) -> None:
    balance: dict[str, Decimal] = defaultdict(Decimal)
    deposits: dict[str, Decimal] = defaultdict(Decimal)
    for path in exported_files(built_lakehouse, tmp_path, "qbo"):
        rows = read(path)
        assert list(rows[0]) == ["Journal No.", "Journal Date", "Account Name", "Description", "Debits", "Credits",
                                 "Name"]
        for row in rows:
            debit, credit = Decimal(row["Debits"] or 0), Decimal(row["Credits"] or 0)
            assert (debit > 0) != (credit > 0), row
            balance[row["Journal No."]] += debit - credit
            if row["Account Name"] == CLEARING_NAME:
                deposits[row["Journal No."].split("-")[0]] += debit - credit
    assert len(balance) > 30 and {j: b for j, b in balance.items() if b != 0} == {}
    assert deposits == {s: t for s, t in truth_totals(built_lakehouse).items() if t != 0}


def test_plain_csv_holds_every_journal_line(built_lakehouse: BuiltLakehouse, tmp_path: Path) -> None:
    rows = [row for path in exported_files(built_lakehouse, tmp_path, "csv") for row in read(path)]
    assert len(rows) == built_lakehouse.query("select count(*) from finance.settlement_journals")[0][0]
    balance: dict[str, Decimal] = defaultdict(Decimal)
    deposits: dict[str, Decimal] = {}
    for row in rows:
        balance[row["journal_id"]] += Decimal(row["debit"]) - Decimal(row["credit"])
        if row["line_role"] == "deposit_clearing":
            assert row["settlement_id"] not in deposits
            deposits[row["settlement_id"]] = Decimal(row["debit"]) - Decimal(row["credit"])
    assert {j: b for j, b in balance.items() if b != 0} == {}
    assert deposits == truth_totals(built_lakehouse)


def test_cli_exports_one_account_and_period(built_lakehouse: BuiltLakehouse, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    seller = built_lakehouse.truth["settlements"][0]["seller_id"]
    code = main(["export-journals", "--lakehouse", str(built_lakehouse.path), "--out", str(tmp_path),
                 "--config", str(tmp_path / "none.toml"), "--account", seller,
                 "--from", "2026-02-01", "--to", "2026-02-28", "--format", "csv", "--wait"])
    assert code == 0, capsys.readouterr()
    files = sorted((tmp_path / seller).glob("journals_*_csv.csv"))
    assert files and all("_2026-02-01_2026-02-28_" in f.name for f in files)
    dates = {row["journal_date"] for f in files for row in read(f)}
    assert dates and all("2026-02-01" <= d <= "2026-02-28" for d in dates)
    assert {row["seller_id"] for f in files for row in read(f)} == {seller}
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*")), "temporary files left behind"


def test_amounts_use_the_currency_minor_digits() -> None:
    assert amount_text(Decimal("12.5"), "USD") == "12.50"
    assert amount_text(Decimal("-1980.00"), "JPY") == "-1980"
    assert amount_text(Decimal("0.10"), "EUR") == "0.10"
