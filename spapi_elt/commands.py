"""What each `spapi-elt` command does (cli.py parses the command line and turns errors into exit codes)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from dlt_sources.spapi import reads_buyer_data, resource_names
from dlt_sources.spapi.config import ConfigError, load_accounts, secret_resolver
from dlt_sources.spapi.credentials import CredentialsError
from spapi_elt.credentials_commands import (
    Finding,
    TrackedSecret,
    cli_check,
    credentials_file_findings,
    pii_key_findings,
    write_findings,
)


def utc_day(text: str) -> datetime:
    """A YYYY-MM-DD date as the start of that day in UTC (ValueError otherwise)."""
    return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)


def run_ingest(ns: argparse.Namespace) -> int:
    from dlt_sources.spapi.client import SpApiClient
    from dlt_sources.spapi.extraction import Extraction
    from dlt_sources.spapi.pii import Protector
    from spapi_elt.ingest import ingest

    if ns.start and ns.end and ns.start >= ns.end:
        raise ConfigError(f"--start {ns.start.date()} must be before --end {ns.end.date()} (the end is exclusive)")
    if ns.start and ns.start >= datetime.now(UTC):
        raise ConfigError(f"--start {ns.start.date()} is in the future: there is nothing to load yet")
    accounts = load_accounts(ns.config).select(ns.accounts)
    resources = resource_names(ns.resources)
    # Buyer data without the PII keys is an error, never a silent fallback to plaintext; a run that reads none
    # needs no keys.
    protector = Protector.from_env() if reads_buyer_data(resources) else None
    resolve = secret_resolver(accounts)
    ctx = Extraction(accounts=accounts, protector=protector, start=ns.start, end=ns.end,
                     buyer_days=ns.buyer_days,
                     client_factory=lambda a, audit, stats: SpApiClient(a, resolve, audit, stats=stats))
    print(f"Ingesting {len(accounts.accounts)} account(s), resources: {', '.join(resources)}", flush=True)
    if protector is None:
        print("No buyer data selected: the PII keys are not needed and not read.", flush=True)
    result = ingest(ctx, ns.lakehouse, resources, wait=ns.wait, on_wait=lambda line: print(line, flush=True))
    print(f"\nLakehouse: {result.lakehouse} (dataset raw_spapi)")
    print(f"API calls {result.calls:,}, throttled (429) {result.throttled:,}, retries {result.retries:,}, "
          f"quarantined lines {result.quarantined:,}, PII values purged {result.purged:,}")
    width = max((len(t) for t in result.rows), default=5)
    print(f"\n{'table':<{width}}  rows")
    for table, count in result.rows.items():
        print(f"{table:<{width}}  {count:,}")
    for line in failure_lines(result.failures):
        print(line, file=sys.stderr)
    if result.failures:
        print("What the failed accounts read before the error is loaded; their resume points did not move, so the "
              "next run reads it again.", file=sys.stderr)
    return 1 if result.failures else 0


def failure_lines(failures: list) -> list[str]:
    """One line per account and error: an endpoint out of reach fails every resource alike, and says so once."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for failure in failures:
        grouped.setdefault((failure.account, failure.error), []).append(failure.resource)
    return [f"FAILED {account} ({', '.join(resources)}): {error}" for (account, error), resources in grouped.items()]


def run_demo(ns: argparse.Namespace) -> int:
    from spapi_elt import demo
    from spapi_elt.dbt_runner import dbt_target
    from spapi_elt.lake import as_lake, is_lake, refuse_lake
    from spapi_sandbox.world import DataArguments

    lake = as_lake(ns.lakehouse) if is_lake(ns.lakehouse) else None
    if lake is not None and lake.local_root is None:
        refuse_lake(ns.lakehouse, "the demo on object storage (spapi-elt demo)")
    folder = lake.local_root if lake else ns.lakehouse.parent  # the accounts file goes there
    marts = lake.warehouse if lake else ns.lakehouse
    data = DataArguments(ns.seed, ns.sellers, ns.start, ns.days, ns.orders_per_day)
    if demo.clear_previous_run(ns.lakehouse):
        print(f"Removed the previous demo lakehouse {ns.lakehouse}: the demo starts fresh.")
    print(f"Starting the SP-API sandbox: {data} ...", flush=True)
    with demo.sandbox(data) as running:
        print(f"Sandbox at {running.base_url} (clock x{demo.DEMO_TIME_SCALE:g}); "
              f"{len(running.truth['accounts'])} seller accounts", flush=True)
        config_path = demo.write_config(folder / "accounts.toml", running.base_url, running.truth)
        os.environ.update(demo.demo_environment(running.truth))
        data_end = datetime.fromtimestamp(running.truth["now"], UTC)  # the sandbox's "now": its data ends there
        ingest_args = argparse.Namespace(config=config_path, accounts=None, start=utc_day(data.start), end=data_end,
                                         resources=None, lakehouse=ns.lakehouse, buyer_days=data.days, wait=False)
        code = run_ingest(ingest_args)
    if code:
        print("\nThe ingest failed: no marts are built over incomplete data.", file=sys.stderr)
        return code
    # The sandbox's data ends at its "now": that day is "today" for the marts' grace periods.
    code = run_transform(ns.lakehouse, data_end.date())
    print(f"\nAccounts configuration: {config_path}")
    if dbt_target() != "spark":  # Spark's marts are its own tables: run_transform printed where they are
        print(f"Inspect: duckdb {marts} \"select * from finance.reconciliation_exceptions\"")
    return code


def run_transform(lakehouse: Path | None, as_of: date | None, wait: bool = False) -> int:
    from spapi_elt.dbt_runner import build, dbt_target, default_as_of
    from spapi_elt.lake import as_lake, is_lake
    from spapi_elt.lakehouse import lakehouse_path, lakehouse_setting
    from spapi_elt.reports.summary import finance_summary

    setting = lakehouse_setting(lakehouse)
    lake = is_lake(setting)
    path = setting if lake else lakehouse_path(lakehouse)  # a lake: dbt reads its Parquet (dbt_runner.build)
    as_of = as_of or default_as_of(path)
    print(f"\nBuilding the marts (dbt build) over {path} as of {as_of} ...", flush=True)
    result = build(path, as_of, wait=wait)
    print(result.summary_line())
    if not result.ok:
        print(result.failures(), file=sys.stderr)
        return 2
    if dbt_target() == "spark":  # the summary reads a DuckDB warehouse; Spark's marts are Parquet tables
        print(f"Spark's tables: {as_lake(setting).local_root}/spark-warehouse (README: 'Running at scale')")
        return 0
    print(finance_summary(as_lake(setting).warehouse if lake else path))
    return 0


def _reports_inputs(ns: argparse.Namespace, what: str) -> tuple[Path, dict[str, str], Path]:
    """What `report` and `export-journals` both start from: the built lakehouse, the accounts' names by seller id
    (the accounts file's, when there is one) and the reports folder."""
    from spapi_elt.lake import as_lake, is_lake
    from spapi_elt.lakehouse import lakehouse_path, lakehouse_setting
    from spapi_elt.reports import reports_dir

    setting = lakehouse_setting(ns.lakehouse)  # a lake's marts are in its warehouse file (dbt_runner.build)
    path = as_lake(setting).warehouse if is_lake(setting) else lakehouse_path(ns.lakehouse, what)
    if not path.exists():
        raise ConfigError(f"no lakehouse at {path}: run `spapi-elt ingest` and `spapi-elt transform` first")
    names = {a.seller_id: a.name for a in load_accounts(ns.config).accounts} if ns.config.exists() else {}
    return path, names, reports_dir(str(ns.out) if ns.out else None, path)


def run_report(ns: argparse.Namespace) -> int:
    """The same workbook and page per account as the Dagster asset, for a cron user."""
    import duckdb

    from spapi_elt.reports import publish_reports, publish_rollup

    path, names, folder = _reports_inputs(ns, "the finance report (spapi-elt report)")
    try:
        published = publish_reports(path, folder, names, wait=ns.wait)
        rollup = publish_rollup(path, folder, names, wait=ns.wait)
    except duckdb.CatalogException as error:  # the marts are not there: say what to run, not a traceback
        raise ConfigError(f"the marts are not built in {path} ({str(error).splitlines()[0]}): "
                          "run `spapi-elt transform` first") from None
    for report in published:
        print(f"{report.account}: {report.settlements} settlements, {report.exceptions} exceptions\n"
              f"  {report.workbook}\n  {report.page}")
    if rollup:
        print(f"All accounts, per account and currency:\n  {rollup}")
    if not published:
        print(f"No settlements in {path}: no report written.")
    return 0


def run_export_journals(ns: argparse.Namespace) -> int:
    """finance.settlement_journals as ledger import files per account, currency and period (README "Posting to your
    books"), beside the reports."""
    import duckdb

    from spapi_elt.journal_exports import FORMATS, export_journals

    if ns.first_day and ns.last_day and ns.first_day > ns.last_day:
        raise ConfigError(f"--from {ns.first_day} is after --to {ns.last_day}")
    path, names, folder = _reports_inputs(ns, "journal exports (spapi-elt export-journals)")
    try:
        exported = export_journals(path, folder, names, ns.format or FORMATS, ns.account, ns.first_day,
                                   ns.last_day, wait=ns.wait)
    except duckdb.CatalogException as error:  # the marts are not there: say what to run, not a traceback
        raise ConfigError(f"the journals are not built in {path} ({str(error).splitlines()[0]}): "
                          "run `spapi-elt transform` first") from None
    for export in exported:
        print(f"{export.account} {export.currency}: {export.journals} journals, "
              f"{export.first_day} to {export.last_day}")
        for files in export.files.values():
            print("\n".join(f"  {file}" for file in files))
    if not exported:
        print(f"No journals in {path} for that selection: nothing written.")
    return 0


def run_import_settlements(ns: argparse.Namespace) -> int:
    """Settlement files into the lakehouse, a line per file; exit 1 when some could not be read."""
    from spapi_elt.settlement_import import ImportedFile, import_settlements

    def said(file: ImportedFile) -> None:
        if file.outcome == "unreadable":
            print(f"ERROR {file.name}: {file.error}", file=sys.stderr, flush=True)
            return
        what = {"loaded": "loaded", "changed": "loaded as a new version of the loaded settlement",
                "identical": "identical to the loaded settlement, nothing new",
                "already imported": "already imported, nothing new"}[file.outcome]
        settlement = f"settlement {file.settlement_id}, {file.lines:,} lines, " if file.settlement_id else ""
        quarantined = f"; {file.quarantined} lines quarantined ({file.error})" if file.quarantined else ""
        print(f"{file.name}: {settlement}{what}{quarantined}", flush=True)

    result = import_settlements(ns.paths, seller_id=ns.seller_id, account=ns.account,
                                marketplace_id=ns.marketplace_id, charset=ns.charset, lakehouse=ns.lakehouse,
                                wait=ns.wait, on_wait=lambda line: print(line, flush=True), on_file=said)
    bad = result.unreadable
    print(f"\n{len(result.files) - len(bad)} of {len(result.files)} files imported into {result.lakehouse}; "
          "build the marts with `spapi-elt transform`.")
    if bad:
        print(f"{len(bad)} files could not be read (named above); the others are loaded.", file=sys.stderr)
    return 1 if bad else 0


def run_purge(ns: argparse.Namespace) -> int:
    from spapi_elt.lakehouse import lakehouse_setting
    from spapi_elt.purge import purge_pii

    purged = purge_pii(ns.lakehouse, retention_days=ns.retention_days, wait=ns.wait)
    print(f"Purged {purged:,} PII values older than {ns.retention_days} days from {lakehouse_setting(ns.lakehouse)}")
    return 0


def run_rotate_keys(ns: argparse.Namespace) -> int:
    from dlt_sources.spapi.pii import Protector
    from spapi_elt.key_rotation import rotate_keys
    from spapi_elt.lake import as_lake, is_lake
    from spapi_elt.lake_key_rotation import rotate_lake
    from spapi_elt.lakehouse import lakehouse_path, lakehouse_setting
    from spapi_elt.lakehouse_lock import lakehouse_lock

    setting = lakehouse_setting(ns.lakehouse)
    if is_lake(setting):  # the lake's files are rewritten, under the lake's own lock (lake_key_rotation.py)
        result = rotate_lake(as_lake(setting), Protector.from_env(), wait=ns.wait)
    else:
        with lakehouse_lock(lakehouse_path(ns.lakehouse), "rotate-keys", wait=ns.wait):
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


def run_load_cost(ns: argparse.Namespace) -> int:
    from spapi_elt.load_cost import Volume, cost_table

    volume = Volume(accounts=ns.accounts, parallel_accounts=ns.parallel_accounts, marketplaces=ns.marketplaces,
                    orders_per_day=ns.orders_per_day, transactions_per_order=ns.transactions_per_order,
                    listings=ns.listings, buyer_days=ns.buyer_days, report_minutes=ns.report_minutes, days=ns.days)
    print(cost_table(volume))
    print(f"\nAssumed: {volume.describe()}.")
    return 0


def run_check(ns: argparse.Namespace) -> int:
    """Everything a run needs before its first call, every problem named: the credentials file, each account's
    secrets, the PII keys (only when the resources read buyer data), and with --online one LWA token request
    per account. 0 all good, 1 a secret expires soon or the file is readable by others, 2 anything missing,
    expired or refused."""
    from spapi_elt.lwa_check import check_lwa

    accounts = load_accounts(ns.config)
    tracked = []
    for a in accounts.accounts:
        tracked.append(TrackedSecret(f"{a.name}: lwa_client_secret", a.lwa_client_secret, rotates=True))
        tracked.append(TrackedSecret(f"{a.name}: refresh_token", a.refresh_token))
    store, file_findings = credentials_file_findings(t.ref for t in tracked)
    worst = write_findings(file_findings, sys.stdout)
    worst = max(worst, cli_check(tracked, sys.stdout, store=store))
    resources = resource_names(ns.resources)
    if reads_buyer_data(resources):
        worst = max(worst, write_findings(pii_key_findings(), sys.stdout))
    else:
        print("--    PII keys not checked: the selected resources read no buyer data")
    if ns.online:
        findings = []
        for account in accounts.accounts:
            label = f"{account.name}: LWA"
            try:
                for ref in (account.lwa_client_secret, account.refresh_token):
                    ref.resolve(None, store)
            except CredentialsError:
                findings.append(Finding(2, label, "not tried: its secrets are missing (above)"))
                continue
            outcome = check_lwa(account, lambda ref: ref.resolve(None, store))
            findings.append(Finding(0 if outcome.state == "ok" else 2, label, f"{outcome.state}: {outcome.detail}"))
        worst = max(worst, write_findings(findings, sys.stdout))
    if worst == 2:
        print("credentials check: FAIL (each problem is named above)", file=sys.stderr)
    return worst
