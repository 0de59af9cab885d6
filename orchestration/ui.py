"""The Dagster UI on the demo's instance and lakehouse, with the demo's world live: `python -m orchestration.ui`
(`make ui`).

`make demo` left in its folder what it takes to resume (spapi_elt.demo_resume): the sandbox's data arguments
and clock, and its demo-only credentials and PII keys. This starts that sandbox again (same arguments, same
world, same credentials) on a free loopback port, points the demo's accounts file at it, and runs `dagster dev`
with the demo's keys in its environment and the partitions ending with the demo's data. Ctrl-C stops the UI,
then the sandbox.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestration.demo import DEMO_DIR

ROOT = Path(__file__).resolve().parents[1]
SHUTDOWN_TIMEOUT = 60.0  # dagster dev stops its webserver and daemon within seconds


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM (args[0]: the signal): stop the UI, then the sandbox."""


def _interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m orchestration.ui", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEMO_DIR, help="the folder `make demo` wrote (--dir there)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    return parser


def dagster_environment(workdir: Path, secrets: dict[str, str], first_day: str, last_day: str) -> dict[str, str]:
    """The demo's instance, lakehouse, accounts and days, and its sandbox secrets (which win over the caller's:
    the lakehouse was protected with the demo's keys)."""
    return {**os.environ, "DAGSTER_HOME": str(workdir / "dagster"),
            "SPAPI_LAKEHOUSE": str(workdir / "lakehouse.duckdb"), "SPAPI_ACCOUNTS": str(workdir / "accounts.toml"),
            "SPAPI_PARTITIONS_START": first_day, "SPAPI_PARTITIONS_END": last_day, "SPAPI_SCHEDULES_RUNNING": "1",
            "DO_NOT_TRACK": "1", "DAGSTER_DISABLE_TELEMETRY": "1", **secrets}


def main(argv: Sequence[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    workdir = ns.dir.resolve()

    from spapi_elt import demo, demo_resume
    from spapi_sandbox import launcher

    try:
        world, secrets = demo_resume.load(workdir)
    except demo_resume.NoDemo as missing:
        print(f"{missing}.", file=sys.stderr)
        return 2
    home = workdir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).with_name("dagster.yaml"), home / "dagster.yaml")
    # SIGTERM (a supervisor, a test) stops the UI and the sandbox as Ctrl-C does. Handling SIGINT explicitly
    # also undoes an inherited "ignore SIGINT" (a shell's background job), which dagster dev would inherit
    # and, as it maps SIGTERM to SIGINT's handler, then ignore both.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _interrupted)
    print(f"Starting the demo's SP-API sandbox: {world.data} ...", flush=True)
    with launcher.running(world.data, world.time_scale) as sandbox:
        demo.point_config_at(workdir / "accounts.toml", sandbox.base_url)
        env = dagster_environment(workdir, secrets, world.first_day, world.last_day)
        command = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(ROOT / "workspace.yaml"),
                   "-h", ns.host, "-p", str(ns.port)]
        print(f"Sandbox at {sandbox.base_url}; partitions {world.first_day} .. {world.last_day}; the UI on "
              f"http://{ns.host}:{ns.port} (Ctrl-C stops both)", flush=True)
        ui = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
        try:
            return ui.wait()
        except Interrupted as stop:
            _stop_ui(ui, from_terminal=stop.args[0] == signal.SIGINT)
            return 0


def _stop_ui(ui: subprocess.Popen, from_terminal: bool) -> None:
    """Let dagster dev shut its services down. Ctrl-C in a terminal reached it too (same process group): a
    second interrupt would cut its shutdown short, so it gets one only if it is still up after a while."""
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)  # a second Ctrl-C must not skip stopping the sandbox
    for attempt in range(2):
        if attempt or not from_terminal:
            ui.send_signal(signal.SIGINT)
        try:
            ui.wait(timeout=SHUTDOWN_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue
    ui.kill()
    ui.wait()


if __name__ == "__main__":
    sys.exit(main())
