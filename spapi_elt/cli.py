"""`spapi-elt`: load SP-API data into the lakehouse, manage credentials and PII keys, purge PII, run the demo.

    spapi-elt ingest [--config FILE] [--accounts A,B] [--start DATE] [--end DATE] [--resources R,S]
    spapi-elt demo [--seed N] [--sellers K] [--start DATE] [--days D] [--lakehouse PATH]
    spapi-elt transform [--lakehouse PATH] [--as-of DATE]
    spapi-elt report [--lakehouse PATH] [--config FILE] [--out DIR]
    spapi-elt purge-pii [--lakehouse PATH] [--retention-days 30]
    spapi-elt rotate-keys [--lakehouse PATH]
    spapi-elt credentials set NAME        (the value is read from stdin, never from the command line)
    spapi-elt credentials check [--config FILE]

Exit codes: 0 done; 1 the run finished but some accounts failed (their data is not loaded and
their cursors did not move) or a secret expires soon; 2 bad input or configuration, including PII
keys whose bytes differ from the ones the lakehouse recorded for their key id or HMAC version.

PII keys (SPAPI_PII_KEYS `kid:base64,...`, SPAPI_PII_ACTIVE_KEY_ID, SPAPI_PII_HMAC_KEY `version:base64`)
come from the environment only. The lakehouse records a check value per key id and HMAC version the
first time a run uses it (raw_spapi.pii_key_checks); `ingest` and `rotate-keys` refuse other bytes under
a recorded id or version before they touch anything. A key id or version is never reused for new bytes.

Rotating the key-encryption key (say monthly, and at once if a key may have leaked):
  1. add a new key under a new id and make it active, keeping the old one:
       SPAPI_PII_KEYS=k1:<old>,k2:<new>  SPAPI_PII_ACTIVE_KEY_ID=k2
     (new values are wrapped with k2 from the next run on; k1 still decrypts older ones)
  2. spapi-elt rotate-keys: re-wraps every encrypted value in the lakehouse under k2 (only the wrapped
     data key changes; one transaction) and says which key ids no value uses any more;
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
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from dlt_sources.spapi import UnknownResource, resource_names
from dlt_sources.spapi.config import ConfigError, credentials_store, load_accounts, secret_resolver
from dlt_sources.spapi.credentials import CredentialsError
from dlt_sources.spapi.keys import KeyMaterialError
from dlt_sources.spapi.pii import PiiError
from spapi_elt.credentials_commands import TrackedSecret, cli_check, cli_set_secret

DEFAULT_CONFIG = Path("accounts.toml")
DEMO_DIR = Path("data/demo")


def _date(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD") from None


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spapi-elt", description="SP-API data into the lakehouse.")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="extract, protect PII and load into the lakehouse")
    ingest.add_argument("--config", type=Path, default=Path(os.environ.get("SPAPI_ACCOUNTS", DEFAULT_CONFIG)))
    ingest.add_argument("--accounts", type=_names, help="account names or seller ids (default: all)")
    ingest.add_argument("--start", type=_date, help="window start, YYYY-MM-DD (default: resume per account)")
    ingest.add_argument("--end", type=_date, help="window end, YYYY-MM-DD, exclusive (default: now)")
    ingest.add_argument("--resources", type=_names, help="resources to run (default: all)")
    ingest.add_argument("--lakehouse", type=Path, help="DuckDB file (default data/lakehouse.duckdb)")
    ingest.add_argument("--buyer-days", type=int, default=7,
                        help="load buyer details for orders updated in the last N days of the window")

    demo = commands.add_parser("demo", help="the whole product on a local sandbox with generated sellers")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--sellers", type=int, default=2)
    demo.add_argument("--start", default="2026-01-01", help="first day of the sandbox's data")
    demo.add_argument("--days", type=int, default=90)
    demo.add_argument("--orders-per-day", type=int, default=20)
    demo.add_argument("--lakehouse", type=Path, default=DEMO_DIR / "lakehouse.duckdb")

    transform = commands.add_parser("transform", help="build the dbt marts over the lakehouse (dbt build)")
    transform.add_argument("--lakehouse", type=Path)
    transform.add_argument("--as-of", type=lambda t: _date(t).date(),
                           help="'today' for grace periods (default: today, or the day the loaded data reaches)")

    report = commands.add_parser("report", help="the settlement reconciliation workbook and page per account")
    report.add_argument("--lakehouse", type=Path)
    report.add_argument("--config", type=Path, default=Path(os.environ.get("SPAPI_ACCOUNTS", DEFAULT_CONFIG)),
                        help="accounts file naming the reports (default: reports named by seller id without one)")
    report.add_argument("--out", type=Path, help="reports folder (default SPAPI_REPORTS_DIR, else reports/ "
                                                 "beside the lakehouse)")

    purge = commands.add_parser("purge-pii", help="crypto-shred PII older than the retention window")
    purge.add_argument("--lakehouse", type=Path)
    purge.add_argument("--retention-days", type=int, default=30)

    rotate = commands.add_parser("rotate-keys", help="re-wrap every encrypted PII value under the active key id")
    rotate.add_argument("--lakehouse", type=Path)

    credentials = commands.add_parser("credentials", help="the encrypted credentials file")
    actions = credentials.add_subparsers(dest="action", required=True)
    set_secret = actions.add_parser("set", help="store a secret read from stdin")
    set_secret.add_argument("name")
    check = actions.add_parser("check", help="report missing secrets and LWA secrets due for rotation")
    check.add_argument("--config", type=Path, default=Path(os.environ.get("SPAPI_ACCOUNTS", DEFAULT_CONFIG)))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ns = build_parser().parse_args(argv)
    try:
        if ns.command == "ingest":
            return run_ingest(ns)
        if ns.command == "demo":
            return run_demo(ns)
        if ns.command == "purge-pii":
            return run_purge(ns)
        if ns.command == "rotate-keys":
            return run_rotate_keys(ns)
        if ns.command == "transform":
            return run_transform(ns.lakehouse, ns.as_of)
        if ns.command == "report":
            return run_report(ns)
        if ns.action == "set":
            return cli_set_secret(ns.name, sys.stdin, sys.stdout)
        return run_check(ns)
    except (ConfigError, CredentialsError, KeyMaterialError, PiiError, UnknownResource) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run_ingest(ns: argparse.Namespace) -> int:
    from dlt_sources.spapi.client import SpApiClient
    from dlt_sources.spapi.extraction import Extraction
    from dlt_sources.spapi.pii import Protector
    from spapi_elt.ingest import ingest

    accounts = load_accounts(ns.config).select(ns.accounts)
    resources = resource_names(ns.resources)
    protector = Protector.from_env()  # no PII key, no run: never a silent fallback to plaintext
    resolve = secret_resolver(accounts)
    ctx = Extraction(accounts=accounts, protector=protector, start=ns.start, end=ns.end,
                     buyer_days=ns.buyer_days,
                     client_factory=lambda a, audit, stats: SpApiClient(a, resolve, audit, stats=stats))
    print(f"Ingesting {len(accounts.accounts)} account(s), resources: {', '.join(resources)}", flush=True)
    result = ingest(ctx, ns.lakehouse, resources)
    print(f"\nLakehouse: {result.lakehouse} (dataset raw_spapi)")
    print(f"API calls {result.calls:,}, throttled (429) {result.throttled:,}, retries {result.retries:,}, "
          f"quarantined lines {result.quarantined:,}, PII values purged {result.purged:,}")
    width = max((len(t) for t in result.rows), default=5)
    print(f"\n{'table':<{width}}  rows")
    for table, count in result.rows.items():
        print(f"{table:<{width}}  {count:,}")
    for failure in result.failures:
        print(f"FAILED {failure.account} {failure.resource}: {failure.error}", file=sys.stderr)
    return 1 if result.failures else 0


def run_demo(ns: argparse.Namespace) -> int:
    from spapi_elt import demo
    from spapi_sandbox.world import DataArguments

    data = DataArguments(ns.seed, ns.sellers, ns.start, ns.days, ns.orders_per_day)
    if demo.clear_previous_run(ns.lakehouse):
        print(f"Removed the previous demo lakehouse {ns.lakehouse}: the demo starts fresh.")
    print(f"Starting the SP-API sandbox: {data} ...", flush=True)
    with demo.sandbox(data) as running:
        print(f"Sandbox at {running.base_url} (clock x{demo.DEMO_TIME_SCALE:g}); "
              f"{len(running.truth['accounts'])} seller accounts", flush=True)
        config_path = demo.write_config(ns.lakehouse.parent / "accounts.toml", running.base_url, running.truth)
        os.environ.update(demo.demo_environment(running.truth))
        data_end = _date(data.start) + (datetime.fromtimestamp(running.truth["now"], UTC) - _date(data.start))
        ingest_args = argparse.Namespace(config=config_path, accounts=None, start=_date(data.start), end=data_end,
                                         resources=None, lakehouse=ns.lakehouse, buyer_days=data.days)
        code = run_ingest(ingest_args)
    # The sandbox's data ends at its "now": that day is "today" for the marts' grace periods.
    code = max(code, run_transform(ns.lakehouse, data_end.date()))
    print(f"\nAccounts configuration: {config_path}\nInspect: duckdb {ns.lakehouse} "
          f"\"select * from finance.reconciliation_exceptions\"")
    return code


def run_transform(lakehouse: Path | None, as_of: date | None) -> int:
    from spapi_elt.dbt_runner import build, default_as_of
    from spapi_elt.lakehouse import lakehouse_path
    from spapi_elt.reports.summary import finance_summary

    path = lakehouse_path(lakehouse)
    as_of = as_of or default_as_of(path)
    print(f"\nBuilding the marts (dbt build) over {path} as of {as_of} ...", flush=True)
    result = build(path, as_of)
    print(result.summary_line())
    if not result.ok:
        print(result.output[-4000:], file=sys.stderr)
        return 2
    print(finance_summary(path))
    return 0


def run_report(ns: argparse.Namespace) -> int:
    """The same workbook and page per account as the Dagster asset, for a cron user."""
    import duckdb

    from spapi_elt.lakehouse import lakehouse_path
    from spapi_elt.reports import publish_reports, reports_dir

    path = lakehouse_path(ns.lakehouse)
    if not path.exists():
        raise ConfigError(f"no lakehouse at {path}: run `spapi-elt ingest` and `spapi-elt transform` first")
    names = {a.seller_id: a.name for a in load_accounts(ns.config).accounts} if ns.config.exists() else {}
    folder = reports_dir(str(ns.out) if ns.out else None, path)
    try:
        published = publish_reports(path, folder, names)
    except duckdb.CatalogException as error:  # the marts are not there: say what to run, not a traceback
        raise ConfigError(f"the marts are not built in {path} ({str(error).splitlines()[0]}): "
                          "run `spapi-elt transform` first") from None
    for report in published:
        print(f"{report.account}: {report.settlements} settlements, {report.exceptions} exceptions\n"
              f"  {report.workbook}\n  {report.page}")
    if not published:
        print(f"No settlements in {path}: no report written.")
    return 0


def run_purge(ns: argparse.Namespace) -> int:
    from spapi_elt.lakehouse import lakehouse_path
    from spapi_elt.purge import purge_pii

    purged = purge_pii(ns.lakehouse, retention_days=ns.retention_days)
    print(f"Purged {purged:,} PII values older than {ns.retention_days} days from {lakehouse_path(ns.lakehouse)}")
    return 0


def run_rotate_keys(ns: argparse.Namespace) -> int:
    from dlt_sources.spapi.pii import Protector
    from spapi_elt.key_rotation import rotate_keys

    result = rotate_keys(ns.lakehouse, Protector.from_env())
    for use in result.recorded:
        print(f"Recorded the check value of {use.kind} {use.key_id} (first use on this lakehouse)")
    print(f"Re-wrapped {sum(result.rewrapped.values()):,} encrypted values under key id {result.active!r} "
          f"in {result.lakehouse}")
    for column, count in result.rewrapped.items():
        print(f"  {column}  {count:,}")
    by_key = ", ".join(f"{kid} {n:,}" for kid, n in result.after.by_key_id().items()) or "none"
    print(f"Encrypted values by key id: {by_key}")
    for kid in result.removable:
        print(f"No value in the lakehouse is wrapped with key id {kid!r} any more: remove it from SPAPI_PII_KEYS.")
    hashes = ", ".join(f"h{v}: {n:,}" for v, n in result.after.by_hmac_version().items()) or "none"
    print(f"Hashes by HMAC version (not re-computable: they age out with the purge): {hashes}")
    return 0


def run_check(ns: argparse.Namespace) -> int:
    accounts = load_accounts(ns.config)
    tracked = []
    for a in accounts.accounts:
        tracked.append(TrackedSecret(f"{a.name}: lwa_client_secret", a.lwa_client_secret, rotates=True))
        tracked.append(TrackedSecret(f"{a.name}: refresh_token", a.refresh_token))
    return cli_check(tracked, sys.stdout, store=credentials_store(t.ref for t in tracked))


if __name__ == "__main__":
    sys.exit(main())
