"""The embedded default: a local sandbox with generated sellers, configured like real Amazon accounts.

The demo starts `spapi-sandbox serve` as its own process through the sandbox's launcher (the dlt source
never imports the sandbox: to it the sandbox is just another SP-API endpoint), reads the accounts' sandbox
credentials from `spapi-sandbox truth`, and writes an accounts configuration whose secrets are references to
environment variables set inside the demo's own process. `make demo` also leaves them, with the sandbox's
data arguments, in data/demo/demo.env (mode 0600, spapi_elt.demo_resume) for `make ui` to start the same
sandbox again: they are the sandbox's generated credentials and the demo's public PII keys, never a real secret.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spapi_elt.lake import DATASET, as_lake, is_lake
from spapi_sandbox import launcher
from spapi_sandbox.world import DataArguments

DEMO_TIME_SCALE = 60.0  # quotas and report processing 60x faster than Amazon, faithfully scaled
CONFIG_HEADER = "# Written by `spapi-elt demo`"
DEMO_DATA = DataArguments(seed=7, sellers=2, start="2026-01-01", days=90, orders_per_day=20)


@dataclass
class DemoSandbox:
    """The demo's running sandbox and its ground truth (accounts, credentials, canaries, "now")."""

    base_url: str
    truth: dict


@contextmanager
def sandbox(data: DataArguments, time_scale: float = DEMO_TIME_SCALE, faults: str = "none") -> Iterator[DemoSandbox]:
    """A sandbox server on a free loopback port for the demo data (spapi_sandbox.launcher); stopped on exit."""
    facts = launcher.truth(data)
    with launcher.running(data, time_scale, faults) as running:
        yield DemoSandbox(running.base_url, facts)


def env_name(index: int, what: str) -> str:
    return f"SPAPI_DEMO_{what}_{index}"


def accounts_toml(base_url: str, truth: dict) -> str:
    """An accounts configuration for the sandbox; secrets are env references (see demo_environment)."""
    lines = [CONFIG_HEADER + " for the local sandbox. Secrets are environment references.",
             "[settings]", "max_parallel_accounts = 4", f'endpoint = "{base_url}"',
             f'lwa_token_url = "{base_url}/auth/o2/token"', ""]
    for i, account in enumerate(truth["accounts"]):
        marketplaces = ", ".join(f'"{m}"' for m in account["marketplace_ids"])
        issued = account.get("lwa_client_secret_issued", "")
        lines += ["[[accounts]]", f'name = "{account["name"].lower().replace(" ", "-")}"',
                  f'seller_id = "{account["seller_id"]}"', f'region = "{account["region"]}"',
                  f"marketplace_ids = [{marketplaces}]", f'lwa_client_id = "{account["lwa_client_id"]}"',
                  f'lwa_client_secret = {{ env = "{env_name(i, "LWA_CLIENT_SECRET")}", issued = "{issued}" }}',
                  f'refresh_token = {{ env = "{env_name(i, "REFRESH_TOKEN")}" }}', ""]
    return "\n".join(lines)


def demo_environment(truth: dict) -> dict[str, str]:
    """The sandbox credentials as the environment variables the demo configuration refers to, plus
    PII keys derived from a fixed label: the demo's keys are public, so never use them for real data."""
    env = {}
    for i, account in enumerate(truth["accounts"]):
        env[env_name(i, "LWA_CLIENT_SECRET")] = account["lwa_client_secret"]
        env[env_name(i, "REFRESH_TOKEN")] = account["refresh_token"]
    if not os.environ.get("SPAPI_PII_HMAC_KEY"):
        env["SPAPI_PII_HMAC_KEY"] = "1:" + _demo_key("hmac")
    if not os.environ.get("SPAPI_PII_KEYS"):
        env["SPAPI_PII_KEYS"] = "demo1:" + _demo_key("kek")
        env["SPAPI_PII_ACTIVE_KEY_ID"] = "demo1"
    return env


def _demo_key(purpose: str) -> str:
    return base64.b64encode(hashlib.sha256(f"spapi-lakehouse demo key: {purpose}".encode()).digest()).decode()


def clear_previous_run(lakehouse: Path | str) -> bool:
    """Remove what an earlier demo left beside `lakehouse` (the file, dlt's and dbt's folders; a file:// lake's raw
    tables and warehouse), so every demo is the same reproducible run whatever the project's schema was then. Only
    demo data: it is generated again from the seed."""
    if is_lake(lakehouse):
        lake = as_lake(lakehouse)
        folder, marts = lake.local_root, lake.warehouse
        if folder is None:
            return False
        # Spark's tables and catalog too (SPAPI_DBT_TARGET=spark): an old catalog would hand the new demo old tables
        written = [folder / name for name in (DATASET, f"{DATASET}_staging", "spark-warehouse", "spark-metastore")]
    else:
        folder, marts = Path(lakehouse).parent, Path(lakehouse)
        written = []
    marker = folder / "accounts.toml"
    if not (marker.exists() and marker.read_text(encoding="utf-8").startswith(CONFIG_HEADER)):
        return False  # not a folder an earlier demo wrote: never delete anyone's data
    found = False
    for leftover in (marts, marts.with_suffix(marts.suffix + ".wal"), folder / ".dlt", folder / "dbt", *written):
        if leftover.is_dir():
            shutil.rmtree(leftover)
            found = True
        elif leftover.exists():
            leftover.unlink()
            found = True
    return found


def write_config(path: Path, base_url: str, truth: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(accounts_toml(base_url, truth), encoding="utf-8")
    return path


def point_config_at(path: Path, base_url: str) -> None:
    """Point a demo accounts file at a sandbox started again (`make ui`): same accounts, another port."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith(CONFIG_HEADER):
        raise ValueError(f"{path} was not written by the demo: not rewriting it")
    text = re.sub(r'(?m)^endpoint = ".*"$', f'endpoint = "{base_url}"', text)
    text = re.sub(r'(?m)^lwa_token_url = ".*"$', f'lwa_token_url = "{base_url}/auth/o2/token"', text)
    path.write_text(text, encoding="utf-8")
