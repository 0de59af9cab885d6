"""`spapi-elt` as a user meets it: exit codes and clear errors, credentials, the report command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from spapi_elt import demo
from spapi_sandbox.generate import build_world
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "accounts.example.toml"


def spapi_elt(*args: str, env: dict | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spapi_elt.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120)


def test_a_window_that_ends_before_it_starts_is_refused_before_any_call(tmp_path):
    done = spapi_elt("ingest", "--config", str(EXAMPLE), "--start", "2026-03-01", "--end", "2026-02-01",
                     "--lakehouse", str(tmp_path / "l.duckdb"))
    assert done.returncode == 2 and done.stderr.strip() == (
        "error: --start 2026-03-01 must be before --end 2026-02-01 (the end is exclusive)")
    assert not (tmp_path / "l.duckdb").exists()


def test_negative_days_are_refused(tmp_path):
    for args in (("purge-pii", "--retention-days", "-1"), ("ingest", "--buyer-days", "-3")):
        done = spapi_elt(*args, "--lakehouse", str(tmp_path / "l.duckdb"))
        assert done.returncode == 2 and "must be at least 0" in done.stderr, args


def test_a_duckdb_file_held_by_another_program_is_one_line_not_a_traceback(tmp_path):
    lakehouse = tmp_path / "l.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "c.execute('create table t (x int)'); print('open', flush=True); sys.stdin.read()",
                               str(lakehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        done = spapi_elt("purge-pii", "--lakehouse", str(lakehouse))
    finally:
        holder.communicate("")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "another program has the DuckDB file open" in lines[0] and "Traceback" not in done.stderr


def test_ingest_with_a_missing_configuration_exits_2_with_the_reason(tmp_path):
    done = spapi_elt("ingest", "--config", str(tmp_path / "none.toml"))
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_ingest_without_pii_keys_refuses_to_run(tmp_path):
    env = {k: "" for k in ("SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS", "SPAPI_PII_ACTIVE_KEY_ID")}
    done = spapi_elt("ingest", "--config", str(EXAMPLE), "--lakehouse", str(tmp_path / "l.duckdb"), env=env)
    assert done.returncode == 2 and "SPAPI_PII_HMAC_KEY" in done.stderr
    assert not (tmp_path / "l.duckdb").exists()


def test_a_run_without_buyer_data_needs_no_pii_keys_and_says_so(tmp_path):
    """Settlements only: no PII key is read (it was a refusal before). The endpoint is out of reach, so the run
    ends with its account failing (exit 1): after the point where the keys were refused."""
    facts = truth(build_world(DataArguments(seed=3, sellers=1, start="2026-01-01", days=10, orders_per_day=1)))
    config = demo.write_config(tmp_path / "accounts.toml", "http://127.0.0.1:1", facts)
    env = {**demo.demo_environment(facts),
           **{k: "" for k in ("SPAPI_PII_HMAC_KEY", "SPAPI_PII_KEYS", "SPAPI_PII_ACTIVE_KEY_ID")}}
    done = spapi_elt("ingest", "--config", str(config), "--resources", "settlements,financial_event_groups",
                     "--lakehouse", str(tmp_path / "l.duckdb"), env=env)
    assert done.returncode == 1 and "No buyer data selected: the PII keys are not needed" in done.stdout, done.stderr
    assert "SPAPI_PII" not in done.stderr
    refused = spapi_elt("ingest", "--config", str(config), "--resources", "settlements,order_buyers",
                        "--lakehouse", str(tmp_path / "m.duckdb"), env=env)
    assert refused.returncode == 2 and "SPAPI_PII_HMAC_KEY" in refused.stderr
    assert not (tmp_path / "m.duckdb").exists()


def test_unknown_resource_is_an_error(tmp_path):
    done = spapi_elt("ingest", "--config", str(EXAMPLE), "--resources", "ordres")
    assert done.returncode == 2 and "unknown resource(s) ordres" in done.stderr


def test_credentials_set_and_check(tmp_path):
    key = "V0I3UDNqV2x6M0o5c0V2Wm1hZmFQcHhBZ1pKb1VQd1M="  # base64 of 32 bytes
    env = {"SPAPI_CREDENTIALS_KEY": key, "SPAPI_CREDENTIALS_FILE": str(tmp_path / "credentials.enc.json")}
    stored = spapi_elt("credentials", "set", "northwind-na", env=env, stdin="Atzr|super-secret-refresh\n")
    assert stored.returncode == 0 and "super-secret" not in stored.stdout + stored.stderr
    assert b"super-secret" not in (tmp_path / "credentials.enc.json").read_bytes()
    # Settlements read no buyer data: the PII keys (not set here) are not needed for them.
    checked = spapi_elt("credentials", "check", "--config", str(EXAMPLE), "--resources", "settlements",
                        env={**env, "SPAPI_LWA_CLIENT_SECRET": "s", "SPAPI_REFRESH_TOKEN_NORTHWIND_EU": "t"})
    lines = checked.stdout.splitlines()
    assert any(line.startswith("ok") and "northwind-na: refresh_token" in line for line in lines)
    # Issued 2026-10-01: 180 days end 2027-03-30, so it is fine until 30 days before that.
    assert any("northwind-na: lwa_client_secret" in line and "expires 2027-03-30" in line for line in lines)
    assert checked.returncode in (0, 1)


def test_failures_are_one_line_per_account_and_error():
    from dlt_sources.spapi.extraction import AccountFailure
    from spapi_elt.commands import failure_lines

    unreachable = "listTransactions for acme: connection refused"
    failures = [AccountFailure("orders", "acme", unreachable), AccountFailure("settlements", "acme", unreachable),
                AccountFailure("orders", "beta", "403 Unauthorized")]
    assert failure_lines(failures) == [f"FAILED acme (orders, settlements): {unreachable}",
                                       "FAILED beta (orders): 403 Unauthorized"]
