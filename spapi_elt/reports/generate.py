"""One report pair (workbook + page) per seller account in the marts, published into the reports folder.

Folder: `<reports>/<account>/settlement-reconciliation_<account>_<first day>_<last day>.{xlsx,html}`, where
`<reports>` is the configured folder, else SPAPI_REPORTS_DIR, else `reports/` beside the lakehouse (so
data/reports/ for the default data/lakehouse.duckdb, and the demo's reports stay in the demo's folder).
The period runs from the first settlement's start to the last settlement's end: a re-run over the same
settlements replaces the pair; a new settlement starts a new pair and leaves the previous one as it was
handed out. For aggregators, `<reports>/all-accounts/settlement-reconciliation_all-accounts_<first>_<last>.xlsx`
sums every account per currency (its own folder: an account's report never shows another account's figures).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from spapi_elt.lakehouse_lock import lakehouse_lock
from spapi_elt.reports.marts import connect, read_report, read_rollup, sellers
from spapi_elt.reports.page import render_page
from spapi_elt.reports.publish import publish
from spapi_elt.reports.workbook import write_rollup, write_workbook

REPORTS_DIR_ENV = "SPAPI_REPORTS_DIR"
PREFIX = "settlement-reconciliation"
ROLLUP_NAME = "all-accounts"


@dataclass(frozen=True)
class PublishedReport:
    """What was written for one account, for the run's metadata and the demo's printout."""

    seller_id: str
    account: str
    workbook: Path
    page: Path
    settlements: int
    exceptions: int


def reports_dir(configured: str | None, lakehouse: Path) -> Path:
    """The configured folder, else SPAPI_REPORTS_DIR, else `reports/` beside the lakehouse file."""
    chosen = configured or os.environ.get(REPORTS_DIR_ENV)
    return (Path(chosen) if chosen else lakehouse.parent / "reports").resolve()


def file_stem(account: str) -> str:
    """An account name made safe as one path component (names come from a configuration file)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", account).strip(".-") or "account"


def publish_reports(lakehouse: Path, folder: Path, names: Mapping[str, str], wait: bool = False
                    ) -> list[PublishedReport]:
    """Write every seller's pair; `names` maps seller id -> account name (the seller id when missing)."""
    published = []
    with lakehouse_lock(lakehouse, "report", wait=wait), connect(str(lakehouse)) as con:
        for seller_id, first_day, last_day in sellers(con):
            account = names.get(seller_id) or seller_id
            data = read_report(con, seller_id, account, first_day, last_day)
            stem = f"{PREFIX}_{file_stem(account)}_{first_day.isoformat()}_{last_day.isoformat()}"
            target = folder / file_stem(account)
            workbook = publish(target / f"{stem}.xlsx", lambda file, d=data: write_workbook(d, file))
            page = publish(target / f"{stem}.html", lambda file, d=data: file.write(render_page(d).encode("utf-8")))
            published.append(PublishedReport(seller_id, account, workbook, page, len(data.settlements),
                                             len(data.exceptions)))
    return published


def publish_rollup(lakehouse: Path, folder: Path, names: Mapping[str, str], wait: bool = False) -> Path | None:
    """The all-accounts workbook (None without settlements), named by the period all accounts' settlements cover."""
    with lakehouse_lock(lakehouse, "report", wait=wait), connect(str(lakehouse)) as con:
        periods = sellers(con)
        if not periods:
            return None
        first_day, last_day = min(p[1] for p in periods), max(p[2] for p in periods)
        rows = read_rollup(con, names)
    stem = f"{PREFIX}_{ROLLUP_NAME}_{first_day.isoformat()}_{last_day.isoformat()}"
    return publish(folder / ROLLUP_NAME / f"{stem}.xlsx",
                   lambda file: write_rollup(rows, first_day.isoformat(), last_day.isoformat(), file))
