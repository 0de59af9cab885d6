"""`spapi-elt report`: a cron user gets the same workbook and page per account as the Dagster asset writes,
and a lakehouse without marts is a clear error, not a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from spapi_elt import demo
from spapi_elt.lakehouse import DATASET
from tests.published_reports import Published, account_names

ROOT = Path(__file__).resolve().parents[3]


def spapi_elt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spapi_elt.cli", *args], text=True, capture_output=True, cwd=ROOT,
                          env={**os.environ, "DO_NOT_TRACK": "1"}, timeout=300)


def sheets(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def without_generated_at(page: Path) -> str:
    """The page's text without the minute it was generated at (the two writers run minutes apart)."""
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC from", "<generated> from", page.read_text(encoding="utf-8"))


def test_the_report_command_writes_what_the_asset_writes(published: Published, tmp_path: Path) -> None:
    accounts = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", published.lakehouse.truth)
    done = spapi_elt("report", "--lakehouse", str(published.lakehouse.path), "--config", str(accounts),
                     "--out", str(tmp_path / "reports"), "--wait")  # the session's lakehouse: other tests read it
    assert done.returncode == 0, done.stderr
    names = account_names(published.lakehouse)
    counts = dict(published.lakehouse.query("select seller_id, count(*) from finance.settlements group by 1"))
    for report in published.reports:  # the pairs publish_reports wrote for the same lakehouse
        name = names[report.seller_id]
        assert f"{name}: {counts[report.seller_id]} settlements" in done.stdout
        workbook = tmp_path / "reports" / name / report.workbook.name
        page = tmp_path / "reports" / name / report.page.name
        assert sheets(workbook) == sheets(report.workbook)
        assert without_generated_at(page) == without_generated_at(report.page)


def test_the_report_command_without_marts_says_to_build_them(published: Published, tmp_path: Path) -> None:
    raw_only = tmp_path / "raw.duckdb"
    import duckdb

    with duckdb.connect(str(raw_only)) as con:
        con.execute(f"create schema {DATASET}")
    done = spapi_elt("report", "--lakehouse", str(raw_only), "--config", str(tmp_path / "none.toml"))
    assert done.returncode == 2
    assert "run `spapi-elt transform` first" in done.stderr and "Traceback" not in done.stderr
    missing = spapi_elt("report", "--lakehouse", str(tmp_path / "absent.duckdb"))
    assert missing.returncode == 2 and "no lakehouse at" in missing.stderr
