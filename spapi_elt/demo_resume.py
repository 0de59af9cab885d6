"""What `make demo` leaves for `make ui` to bring its world back: the sandbox's data arguments, clock and
days (sandbox.json), and the demo-only sandbox credentials and PII keys (demo.env, readable only by the user).

Both files live in the demo's folder (data/demo, git-ignored), never in the repository. demo.env holds only
what the demo made up: the local sandbox's generated LWA client secrets and refresh tokens, which open
nothing but a sandbox, and the demo's PII keys, which are public (spapi_elt.demo). A key the caller's own
environment supplied is never written there. The same data arguments generate the same world, so a sandbox
started again from them accepts the same credentials.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from spapi_sandbox.world import DataArguments

SANDBOX_FILE, ENV_FILE = "sandbox.json", "demo.env"
ENV_HEADER = """\
# Written by `make demo` (python -m orchestration.demo) for `make ui`: DEMO-ONLY SANDBOX CREDENTIALS.
# The local SP-API sandbox's generated LWA client secrets and refresh tokens, and the demo's public PII
# keys. They open nothing but the demo's sandbox and protect only generated data: never put a real
# secret here, and never use these keys for real buyer data. `make demo` rewrites this file.
"""


class NoDemo(FileNotFoundError):
    """The folder holds no demo to resume: `make demo` has not run there."""


@dataclass(frozen=True)
class DemoWorld:
    """The sandbox world a demo ran on: its data arguments, its clock, and the days its data covers."""

    data: DataArguments
    time_scale: float
    first_day: str  # YYYY-MM-DD, the first day of generated data
    last_day: str  # the last one (the sandbox's "now" is the midnight after it)


def save(workdir: Path, world: DemoWorld, secrets: dict[str, str]) -> None:
    """sandbox.json, and demo.env created with mode 0600 (never readable by others, even for a moment)."""
    workdir.mkdir(parents=True, exist_ok=True)
    facts = {"data": world.data.as_dict(), "time_scale": world.time_scale, "first_day": world.first_day,
             "last_day": world.last_day}
    (workdir / SANDBOX_FILE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    path = workdir / ENV_FILE
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)  # an older file keeps its mode on O_CREAT: set it anyway
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(ENV_HEADER + "".join(f"{name}={value}\n" for name, value in sorted(secrets.items())))


def load(workdir: Path) -> tuple[DemoWorld, dict[str, str]]:
    """The demo's world and secrets; NoDemo when either file is missing."""
    facts_path, env_path = workdir / SANDBOX_FILE, workdir / ENV_FILE
    if not (facts_path.is_file() and env_path.is_file()):
        raise NoDemo(f"no demo in {workdir}: run `make demo` first")
    facts = json.loads(facts_path.read_text(encoding="utf-8"))
    data = DataArguments(**{**facts["data"], "regions": tuple(facts["data"]["regions"])})
    world = DemoWorld(data, float(facts["time_scale"]), facts["first_day"], facts["last_day"])
    secrets = {}
    for line in env_path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            secrets[name.strip()] = value.strip()
    return world, secrets
