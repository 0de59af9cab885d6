"""`spapi-elt`: load SP-API data into the lakehouse, build the marts, write reports, manage PII keys, purge PII,
run the demo.

    spapi-elt ingest [--config FILE] [--accounts A,B] [--start DATE] [--end DATE] [--resources R,S]
                     [--lakehouse PATH|URL] [--wait]
    spapi-elt demo [--seed N] [--sellers K] [--start DATE] [--days D] [--lakehouse PATH|URL]
    spapi-elt transform [--lakehouse PATH|URL] [--as-of DATE] [--wait]
    spapi-elt import-settlements PATH... --seller-id ID [--account NAME] [--marketplace-id ID] [--charset C]
                                 [--lakehouse PATH|URL] [--wait]
    spapi-elt report [--lakehouse PATH|URL] [--config FILE] [--out DIR] [--wait]
    spapi-elt export-journals [--account NAME] [--from DATE --to DATE] [--format xero|qbo|csv]
                              [--lakehouse PATH|URL] [--config FILE] [--out DIR] [--wait]
    spapi-elt purge-pii [--lakehouse PATH|URL] [--retention-days 30] [--wait]
    spapi-elt rotate-keys [--lakehouse PATH|URL] [--wait]
    spapi-elt load-cost [--days 90] [--accounts N] [--orders-per-day N] [--listings N] [--report-minutes M] ...
    spapi-elt credentials set NAME        (the value is read from stdin, never from the command line)
    spapi-elt credentials check [--config FILE] [--resources R,S] [--online]

One run at a time per lakehouse: a second one says who holds it and exits 2, or waits with --wait.

Exit codes:
  0  done;
  1  the run finished but some accounts failed (what they had read before the error is loaded, merged on its
     keys so a retry rewrites it; their resume points did not move, so the next run reads it again), or some
     settlement files could not be read (each named; the others loaded), or a secret expires soon;
  2  nothing done or the run stopped: bad input or configuration, or the environment (the lakehouse in use,
     a read-only or full disk, a failing dbt test, PII keys whose bytes differ from the ones the lakehouse
     recorded for their key id or HMAC version); one line says which.

PII keys (SPAPI_PII_KEYS `kid:base64,...`, SPAPI_PII_ACTIVE_KEY_ID, SPAPI_PII_HMAC_KEY `version:base64`)
come from the environment only. The lakehouse records a check value per key id and HMAC version the
first time a run uses it (raw_spapi.pii_key_checks); `ingest` and `rotate-keys` refuse other bytes under
a recorded id or version before they touch anything. A key id or version is never reused for new bytes.

Rotating the key-encryption key (say monthly, and at once if a key may have leaked):
  1. add a new key under a new id and make it active, keeping the old one:
       SPAPI_PII_KEYS=k1:<old>,k2:<new>  SPAPI_PII_ACTIVE_KEY_ID=k2
     (new values are wrapped with k2 from the next run on; k1 still decrypts older ones)
  2. spapi-elt rotate-keys: re-wraps every encrypted value in the lakehouse under k2 (only the wrapped
     data key changes; one transaction in a file, every new file written before any replaces its old one
     in a lake) and says which key ids no value uses any more;
  3. remove k1 from SPAPI_PII_KEYS (and the secret store): copies outside the lakehouse file (backups,
     dlt's load packages) are crypto-shredded with it.
Rotating the HMAC key: give the new key the next version (SPAPI_PII_HMAC_KEY=2:<new>). A hash cannot be
recomputed without its plaintext, which is never kept, so rows loaded before keep their h1: hashes (they
never compare equal to h2: ones) until the purge shreds them after the retention; `rotate-keys` reports
the hashes left per version. Keep the old HMAC key as long as h1: hashes must be looked up.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import httpx

from dlt_sources.spapi import UnknownResource
from dlt_sources.spapi.config import ConfigError
from dlt_sources.spapi.credentials import CredentialsError
from dlt_sources.spapi.keys import KeyMaterialError
from dlt_sources.spapi.pii import PiiError
from spapi_elt import commands
from spapi_elt.credentials_commands import cli_set_secret
from spapi_elt.lake import LakeNotSupported, is_lake
from spapi_elt.lakehouse_lock import LakehouseBusy
from spapi_elt.settlement_files import SettlementFileError

DEFAULT_CONFIG = Path("accounts.toml")
DEMO_DIR = Path("data/demo")
# Errors the user can act on from their message alone: printed as one line, exit code 2.
USER_ERRORS = (ConfigError, CredentialsError, KeyMaterialError, PiiError, UnknownResource, LakehouseBusy,
               SettlementFileError, LakeNotSupported)
# What the environment can do to a run (a full or read-only disk, a file held by another program, an endpoint
# out of reach), whatever layers of dlt wrap it: one line, exit code 2, never a traceback.
ENVIRONMENT_ERRORS = (OSError, duckdb.Error, httpx.TransportError)


def _date(text: str) -> datetime:
    try:
        return commands.utc_day(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD") from None


def _lakehouse(text: str) -> Path | str:
    """A DuckDB file's path, or a lake URL kept as it is (Path would turn `file:///x` into `file:/x`)."""
    return text if is_lake(text) else Path(text)


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spapi-elt", description="SP-API data into the lakehouse.")
    commands_ = parser.add_subparsers(dest="command", required=True)
    accounts_file = Path(os.environ.get("SPAPI_ACCOUNTS", DEFAULT_CONFIG))
    wait = {"action": "store_true", "help": "wait for another run on the lakehouse to finish (default: exit 2)"}

    ingest = commands_.add_parser("ingest", help="extract, protect PII and load into the lakehouse")
    ingest.add_argument("--config", type=Path, default=accounts_file)
    ingest.add_argument("--accounts", type=_names, help="account names or seller ids (default: all)")
    ingest.add_argument("--start", type=_date, help="window start, YYYY-MM-DD (default: resume per account)")
    ingest.add_argument("--end", type=_date, help="window end, YYYY-MM-DD, exclusive (default: now)")
    ingest.add_argument("--resources", type=_names, help="resources to run (default: all)")
    ingest.add_argument("--lakehouse", type=_lakehouse, help="DuckDB file (default data/lakehouse.duckdb) or a lake URL (file:///path/lake)")
    ingest.add_argument("--buyer-days", type=_at_least(0), default=7,
                        help="load buyer details for orders updated in the last N days of the window")
    ingest.add_argument("--wait", **wait)

    demo = commands_.add_parser("demo", help="the whole product on a local sandbox with generated sellers")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--sellers", type=_at_least(1), default=2)
    demo.add_argument("--start", default="2026-01-01", help="first day of the sandbox's data")
    demo.add_argument("--days", type=_at_least(1), default=90)
    demo.add_argument("--orders-per-day", type=_at_least(1), default=20)
    demo.add_argument("--lakehouse", type=_lakehouse, default=DEMO_DIR / "lakehouse.duckdb")

    transform = commands_.add_parser("transform", help="build the dbt marts over the lakehouse (dbt build)")
    transform.add_argument("--lakehouse", type=_lakehouse)
    transform.add_argument("--as-of", type=lambda t: _date(t).date(),
                           help="'today' for grace periods (default: today, or the day the loaded data reaches)")
    transform.add_argument("--wait", **wait)

    imports = commands_.add_parser(
        "import-settlements", help="load settlement files downloaded from Seller Central (V2 or Flat File layout)")
    imports.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                         help="settlement files (plain, .gz or .zip) or folders of them")
    imports.add_argument("--seller-id", required=True, help="the seller (merchant) id the files belong to")
    imports.add_argument("--account", help="the account's name in the audit log (default: the seller id)")
    imports.add_argument("--marketplace-id", help="the settlements' marketplace (default: the one their lines name, "
                                                  "else their currency's)")
    imports.add_argument("--charset", help="the files' charset (default: UTF-8 if valid, else Shift_JIS for "
                                           "Amazon.co.jp, windows-1252 otherwise)")
    imports.add_argument("--lakehouse", type=_lakehouse)
    imports.add_argument("--wait", **wait)

    report = commands_.add_parser("report", help="the settlement reconciliation workbook and page per account")
    report.add_argument("--lakehouse", type=_lakehouse)
    report.add_argument("--config", type=Path, default=accounts_file,
                        help="accounts file naming the reports (default: reports named by seller id without one)")
    report.add_argument("--out", type=Path, help="reports folder (default SPAPI_REPORTS_DIR, else reports/ "
                                                 "beside the lakehouse)")
    report.add_argument("--wait", **wait)

    journals = commands_.add_parser("export-journals",
                                     help="the accounting journals per account as Xero, QuickBooks Online or CSV files")
    journals.add_argument("--account", type=_names, help="account names or seller ids (default: all)")
    journals.add_argument("--from", dest="first_day", type=lambda t: _date(t).date(),
                          help="first journal date, YYYY-MM-DD (default: the first journal's)")
    journals.add_argument("--to", dest="last_day", type=lambda t: _date(t).date(),
                          help="last journal date, YYYY-MM-DD, inclusive (default: the last journal's)")
    journals.add_argument("--format", choices=("xero", "qbo", "csv"), action="append",
                          help="export format; repeat for several (default: all three)")
    journals.add_argument("--lakehouse", type=_lakehouse)
    journals.add_argument("--config", type=Path, default=accounts_file,
                          help="accounts file naming the files (default: named by seller id without one)")
    journals.add_argument("--out", type=Path, help="folder (default: the reports folder)")
    journals.add_argument("--wait", **wait)

    purge = commands_.add_parser("purge-pii", help="crypto-shred PII older than the retention window")
    purge.add_argument("--lakehouse", type=_lakehouse)
    purge.add_argument("--retention-days", type=_at_least(0), default=30)
    purge.add_argument("--wait", **wait)

    rotate = commands_.add_parser("rotate-keys", help="re-wrap every encrypted PII value under the active key id")
    rotate.add_argument("--lakehouse", type=_lakehouse)
    rotate.add_argument("--wait", **wait)

    cost = commands_.add_parser("load-cost", help="calls and wall-clock time of a first load and of a daily run "
                                                  "under Amazon's quotas, per resource, for stated volumes")
    cost.add_argument("--days", type=_at_least(1), default=90, help="the first load's window (default 90)")
    cost.add_argument("--accounts", type=_at_least(1), default=1)
    cost.add_argument("--parallel-accounts", type=_at_least(1), default=4,
                      help="[settings] max_parallel_accounts (default 4)")
    cost.add_argument("--marketplaces", type=_at_least(1), default=2, help="per account (default 2)")
    cost.add_argument("--orders-per-day", type=_at_least(0), default=100, help="per account (default 100)")
    cost.add_argument("--transactions-per-order", type=float, default=1.2,
                      help="Finances transactions per order (default 1.2)")
    cost.add_argument("--listings", type=_at_least(0), default=500, help="SKUs per marketplace (default 500)")
    cost.add_argument("--buyer-days", type=_at_least(0), default=7, help="as `ingest --buyer-days` (default 7)")
    cost.add_argument("--report-minutes", type=float, default=5.0,
                      help="minutes Amazon takes to finish a requested report (default 5)")

    credentials = commands_.add_parser("credentials", help="the encrypted credentials file")
    actions = credentials.add_subparsers(dest="action", required=True)
    set_secret = actions.add_parser("set", help="store a secret read from stdin")
    set_secret.add_argument("name")
    check = actions.add_parser("check", help="name every missing key or secret, LWA secrets due for rotation, "
                                              "and with --online whether LWA issues each account a token")
    check.add_argument("--config", type=Path, default=accounts_file)
    check.add_argument("--resources", type=_names,
                       help="the resources you will run (default: all); the PII keys are checked only when "
                            "they read buyer data")
    check.add_argument("--online", action="store_true",
                       help="request an access token from each account's LWA endpoint (ok / refused / unreachable)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ns = build_parser().parse_args(argv)
    try:
        if ns.command == "ingest":
            return commands.run_ingest(ns)
        if ns.command == "demo":
            return commands.run_demo(ns)
        if ns.command == "purge-pii":
            return commands.run_purge(ns)
        if ns.command == "rotate-keys":
            return commands.run_rotate_keys(ns)
        if ns.command == "transform":
            return commands.run_transform(ns.lakehouse, ns.as_of, ns.wait)
        if ns.command == "report":
            return commands.run_report(ns)
        if ns.command == "export-journals":
            return commands.run_export_journals(ns)
        if ns.command == "import-settlements":
            return commands.run_import_settlements(ns)
        if ns.command == "load-cost":
            return commands.run_load_cost(ns)
        if ns.action == "set":
            return cli_set_secret(ns.name, sys.stdin, sys.stdout)
        return commands.run_check(ns)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        cause = root_cause(error)
        if not isinstance(cause, ENVIRONMENT_ERRORS):
            raise  # a defect: the traceback is what a bug report needs
        logging.getLogger(__name__).debug("stopped", exc_info=True)
        print(f"error: {environment_error(cause)}", file=sys.stderr)
        return 2


def root_cause(error: BaseException) -> BaseException:
    """The innermost cause: dlt wraps a full disk or a read-only folder in several layers of its own."""
    cause = error
    while cause.__cause__ is not None or (cause.__context__ is not None and not cause.__suppress_context__):
        cause = cause.__cause__ or cause.__context__
    return cause


def environment_error(cause: BaseException) -> str:
    """The one line that says what in the environment stopped a run: the cause's first line and what it means."""
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    hints = {28: "the disk is full", 30: "the folder is read-only", 13: "permission denied"}
    hint = hints.get(getattr(cause, "errno", None) or 0, "")
    if "Could not set lock" in first:
        hint = "another program has the DuckDB file open (close it, e.g. a DuckDB shell or a notebook)"
    return f"{hint}: {type(cause).__name__}: {first}" if hint else f"{type(cause).__name__}: {first}"


if __name__ == "__main__":
    sys.exit(main())
