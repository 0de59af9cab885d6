"""The main job through Dagster on the local sandbox: `python -m orchestration.demo`.

Starts the sandbox (spapi_elt.demo), writes its accounts configuration and what `make ui` needs to start the
same sandbox again (spapi_elt.demo_resume: data/demo/sandbox.json and the 0600 demo.env), lets the accounts sensor add
the seller-account partitions, materialises every asset and check for every account over the sandbox's
whole window in one run (a single-run backfill), printing a line per step as it goes
(orchestration/run_progress.py), prints the finance summary, and how to open the UI on the same Dagster
instance and lakehouse.
"""

import argparse
import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DEMO_DIR = Path("data/demo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m orchestration.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sellers", type=int, default=2)
    parser.add_argument("--start", default="2026-01-01", help="first day of the sandbox's data")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--orders-per-day", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=DEMO_DIR, help="lakehouse, accounts file and Dagster home")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    workdir = ns.dir.resolve()
    home = workdir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).with_name("dagster.yaml"), home / "dagster.yaml")
    lakehouse, accounts = workdir / "lakehouse.duckdb", workdir / "accounts.toml"
    run_log = workdir / "run-output.log"
    os.environ.update({"DAGSTER_HOME": str(home), "SPAPI_LAKEHOUSE": str(lakehouse), "SPAPI_ACCOUNTS": str(accounts),
                       "SPAPI_PARTITIONS_START": ns.start,
                       "DO_NOT_TRACK": "1", "DAGSTER_DISABLE_TELEMETRY": "1"})

    import dagster as dg

    from spapi_elt import demo, demo_resume
    from spapi_elt.reports.summary import finance_summary
    from spapi_sandbox.world import DataArguments

    data = DataArguments(ns.seed, ns.sellers, ns.start, ns.days, ns.orders_per_day)
    if demo.clear_previous_run(lakehouse):
        print(f"Removed the previous demo lakehouse {lakehouse}: the demo starts fresh.")
    print(f"Starting the SP-API sandbox: {data} ...", flush=True)
    with demo.sandbox(data) as running:
        demo.write_config(accounts, running.base_url, running.truth)
        now = datetime.fromtimestamp(running.truth["now"], UTC)
        last_day = (now - timedelta(days=1)).date().isoformat()
        secrets = demo.demo_environment(running.truth)
        # What `make ui` needs to bring this world back; demo.env holds only the demo's own sandbox secrets.
        demo_resume.save(workdir, demo_resume.DemoWorld(data, demo.DEMO_TIME_SCALE, ns.start, last_day), secrets)
        # The canaries (fake buyers' names and streets) stay in this process: never written to disk.
        os.environ["SPAPI_PII_CANARY_VALUES"] = "\n".join(running.truth["pii_canaries"])
        os.environ.update(secrets)
        os.environ["SPAPI_PARTITIONS_END"] = last_day  # before the definitions are imported: they read it
        from orchestration.definitions import defs
        from orchestration.defs.ingest.partitions import partition_range_tags
        from orchestration.resources import SpApiResource
        from orchestration.run_progress import printing_steps

        with dg.DagsterInstance.get() as instance:
            sensor = defs.resolve_sensor_def("seller_accounts_sensor")
            tick = sensor(dg.build_sensor_context(instance=instance, resources={"spapi": SpApiResource()}))
            for request in getattr(tick, "dynamic_partitions_requests", None) or []:
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            names = list(instance.get_dynamic_partitions("seller_accounts"))
            print(f"Sandbox at {running.base_url}; accounts {', '.join(names)}; "
                  f"materialising {ns.start} .. {last_day} through Dagster ...", flush=True)
            # dbt's console lines (dagster-dbt echoes them to stdout) go to a file; a line per step to the screen.
            days = (date.fromisoformat(last_day) - date.fromisoformat(ns.start)).days + 1
            scope = f"{len(names)} account{'s'[:len(names) != 1]} x {days} days: {len(names) * days} partitions"
            run_id, terminal = str(uuid.uuid4()), sys.stdout
            with (run_log.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log),
                  printing_steps(instance, run_id, terminal, scope)):
                result = defs.resolve_job_def("daily_lakehouse").execute_in_process(
                    instance=instance, run_id=run_id, raise_on_error=False,
                    tags=partition_range_tags(names, ns.start, last_day),
                    run_config={"ops": {"spapi_raw": {"config": {"buyer_days": ns.days}},
                                        "spapi_dbt": {"config": {"as_of": now.date().isoformat()}}},
                                "loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    checks = result.get_asset_check_evaluations()
    failed = sorted(e.asset_check_key.to_user_string() for e in checks if not e.passed)
    print(f"\nRun {result.run_id}: {'success' if result.success else 'FAILED'}; "
          f"{len(result.get_asset_materialization_events())} materialisations, {len(checks)} checks, "
          f"{len(failed)} failed{': ' + ', '.join(failed) if failed else ''}")
    print(f"Lakehouse: {lakehouse}\ndbt's output: {run_log}\n")
    print(finance_summary(lakehouse))
    from orchestration.defs.reports.assets import report_paths

    print("\nReports:\n" + ("\n".join(f"  {path}" for path in report_paths(result)) or "  none written"))
    from orchestration.defs.reports.journals import journal_paths

    print("\nJournal exports (Xero, QuickBooks Online, CSV; README \"Posting to your books\"):\n"
          + ("\n".join(f"  {path}" for path in journal_paths(result)) or "  none written"))
    print(f"\nOpen the UI on this run and lakehouse, with the demo's sandbox started again: make ui   "
          f"(that is: .venv/bin/python -m orchestration.ui --dir {workdir}; the demo's sandbox credentials "
          f"are in {workdir / demo_resume.ENV_FILE})")
    return 0 if result.success and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
