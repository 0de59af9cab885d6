"""`spapi-sandbox`: serve the local SP-API, write its ground truth, or demo it.

    spapi-sandbox serve --host 127.0.0.1 --port 0 --seed 7 --sellers 2 --start 2026-01-01 --days 90
    spapi-sandbox serve --sellers 3 --regions NA,EU,FE      # a third seller on Amazon.co.jp (JPY, Shift_JIS)
    spapi-sandbox truth --seed 7 --sellers 2 --start 2026-01-01 --days 90 --out truth.json
    spapi-sandbox demo

`serve` prints exactly one line, the base URL, once it accepts requests, and runs until SIGTERM or
SIGINT. Bad arguments exit with status 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from spapi_sandbox.faults import PROFILES
from spapi_sandbox.marketplaces import REGION_MARKETPLACES
from spapi_sandbox.world import DataArguments

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
DEMO_TIME_SCALE = 100.0  # the demo pages through throttled operations; a faster clock keeps it short


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD") from None


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _regions(text: str) -> tuple[str, ...]:
    regions = tuple(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = [r for r in regions if r not in REGION_MARKETPLACES]
    if not regions or unknown:
        raise argparse.ArgumentTypeError(f"invalid regions {text!r}: expected a comma-separated list of "
                                         f"{', '.join(REGION_MARKETPLACES)}")
    return regions


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DataArguments()
    group = parser.add_argument_group("data (same arguments, same bytes)")
    group.add_argument("--seed", type=int, default=defaults.seed)
    group.add_argument("--sellers", type=_at_least(1), default=defaults.sellers, help="seller accounts")
    group.add_argument("--start", type=_date, default=defaults.start, help="first day of orders, YYYY-MM-DD")
    group.add_argument("--days", type=_at_least(1), default=defaults.days, help="days of orders")
    group.add_argument("--orders-per-day", type=_at_least(1), default=defaults.orders_per_day,
                       help="orders per day and seller account")
    group.add_argument("--regions", type=_regions, default=defaults.regions,
                       help="regions of the seller accounts in turn, e.g. NA,EU,FE (FE: Amazon.co.jp); "
                            f"default {','.join(defaults.regions)}")
    group.add_argument("--no-fee-overcharges", dest="fee_overcharges", action="store_false",
                       help="charge every fee by its rule: plant no fee finding")


def _add_server_arguments(parser: argparse.ArgumentParser, time_scale: float) -> None:
    parser.add_argument("--time-scale", type=_positive_float, default=time_scale,
                        help="run the sandbox clock this many times faster (rate limits, reports, expiry)")
    parser.add_argument("--faults", choices=PROFILES, default="none", help="fault profile")
    parser.add_argument("--verbose", action="store_true", help="log one line per request to stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spapi-sandbox", description="A local Amazon SP-API sandbox.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the sandbox until SIGTERM/SIGINT")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_at_least(0), default=0, help="0 picks a free port")
    _add_data_arguments(serve)
    _add_server_arguments(serve, 1.0)

    truth = commands.add_parser("truth", help="write the ground truth of a data set as JSON")
    _add_data_arguments(truth)
    truth.add_argument("--out", type=Path, required=True, help="file to write ('-' for stdout)")

    demo = commands.add_parser("demo", help="start a sandbox, call it like a client, print what it serves")
    _add_data_arguments(demo)
    _add_server_arguments(demo, DEMO_TIME_SCALE)
    return parser


def data_arguments(ns: argparse.Namespace) -> DataArguments:
    return DataArguments(seed=ns.seed, sellers=ns.sellers, start=ns.start, days=ns.days,
                         orders_per_day=ns.orders_per_day, regions=ns.regions,
                         fee_overcharges=ns.fee_overcharges)


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    if ns.command == "serve":
        return serve(ns)
    if ns.command == "truth":
        return write_truth(ns)
    return demo(ns)


def serve(ns: argparse.Namespace) -> int:
    from spapi_sandbox.server import start_server, stop

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        server, base_url = start_server(ns.host, ns.port, data_arguments(ns), ns.time_scale, ns.faults,
                                        ns.verbose)
    except OSError as exc:
        print(f"spapi-sandbox: cannot listen on {ns.host}:{ns.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(base_url, flush=True)
    while not stopping.wait(0.5):
        pass
    stop(server)
    return 0


def write_truth(ns: argparse.Namespace) -> int:
    from spapi_sandbox.generate import build_world
    from spapi_sandbox.truth import truth_json

    text = truth_json(build_world(data_arguments(ns)))
    if str(ns.out) == "-":
        sys.stdout.write(text)
    else:
        ns.out.write_text(text, encoding="utf-8")
    return 0


# --- demo: a small client over real HTTP ----------------------------------------------------------

class DemoClient:
    """Just enough of an SP-API client for the demo: LWA token, retries on 429/5xx, paging."""

    def __init__(self, base_url: str, account: Any) -> None:
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.account = account
        self.token = ""

    def close(self) -> None:
        self.http.close()

    def login(self) -> None:
        response = self.http.post("/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": self.account.refresh_token,
            "client_id": self.account.lwa_client_id, "client_secret": self.account.lwa_client_secret})
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def get(self, path: str, params: dict[str, Any]) -> dict:
        import httpx

        for attempt in range(8):
            try:
                response = self.http.get(path, params=params, headers={"x-amz-access-token": self.token})
            except httpx.TransportError:
                time.sleep(0.1 * (attempt + 1))
                continue
            if response.status_code == 403 and attempt == 0:
                self.login()  # the token may have expired
                continue
            if response.status_code == 429 or response.status_code >= 500:
                rate = float(response.headers.get("x-amzn-RateLimit-Limit") or 1.0)
                time.sleep(min(5.0, 1.0 / rate) if response.status_code == 429 else 0.2)
                continue
            response.raise_for_status()
            return response.json()
        raise RuntimeError(f"{path}: no success after retries")

    def pages(self, path: str, params: dict[str, Any], items: Callable[[dict], list],
              next_token: Callable[[dict], str | None], token_params: Callable[[str], dict]) -> int:
        """Count the items over all pages of a listing operation."""
        body, count = self.get(path, params), 0
        while True:
            count += len(items(body))
            token = next_token(body)
            if not token:
                return count
            body = self.get(path, token_params(token))


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _account_summary(client: DemoClient, state: Any, args: DataArguments) -> dict[str, str]:
    """One row of the demo table; each cell says `missing`/`error` rather than failing the demo."""
    from spapi_sandbox.marketplaces import MARKETPLACES

    start = dt.datetime.fromisoformat(args.start).replace(tzinfo=dt.UTC).timestamp()
    marketplace_ids = ",".join(MARKETPLACES[c].marketplace_id for c in client.account.marketplace_codes)
    now = state.clock.now()
    calls: dict[str, Callable[[], object]] = {
        "marketplaces": lambda: ",".join(
            p["marketplace"]["countryCode"]
            for p in client.get("/sellers/v1/marketplaceParticipations", {})["payload"]),
        "orders": lambda: client.pages(
            "/orders/2026-01-01/orders",
            {"createdAfter": _iso(start), "marketplaceIds": marketplace_ids, "maxResultsPerPage": 100},
            lambda b: b.get("orders", []), lambda b: (b.get("pagination") or {}).get("nextToken"),
            lambda t: {"createdAfter": _iso(start), "marketplaceIds": marketplace_ids,
                       "maxResultsPerPage": 100, "paginationToken": t}),
        "settlement reports": lambda: client.pages(
            "/reports/2021-06-30/reports",
            {"reportTypes": SETTLEMENT_REPORT, "pageSize": 100,
             "createdSince": _iso(max(start - 14 * 86400, now - 89 * 86400))},
            lambda b: b.get("reports", []), lambda b: b.get("nextToken"), lambda t: {"nextToken": t}),
        "event groups": lambda: client.pages(
            "/finances/v0/financialEventGroups",
            {"MaxResultsPerPage": 100, "FinancialEventGroupStartedAfter": _iso(start - 30 * 86400)},
            lambda b: (b.get("payload") or {}).get("FinancialEventGroupList", []),
            lambda b: (b.get("payload") or {}).get("NextToken"), lambda t: {"NextToken": t}),
    }
    row = {"seller": client.account.seller_id, "region": client.account.region}
    for name, call in calls.items():
        try:
            row[name] = str(call())
        except Exception as exc:  # a missing API module answers 404; show it, keep going
            status = getattr(getattr(exc, "response", None), "status_code", None)
            row[name] = "missing (404)" if status == 404 else f"error ({status or type(exc).__name__})"
    return row


def _table(rows: list[dict[str, str]]) -> str:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns), "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def demo(ns: argparse.Namespace) -> int:
    from spapi_sandbox.http import ROUTES
    from spapi_sandbox.ratelimit import RATE_LIMITS, limit_key
    from spapi_sandbox.server import build_state, missing_api_modules, serve_state, stop

    args = data_arguments(ns)
    print(f"Generating the sandbox world: {args.as_dict()} ...", flush=True)
    state = build_state(args, ns.time_scale, ns.faults)
    server, base_url = serve_state(state, "127.0.0.1", 0, ns.verbose)
    try:
        print(f"Sandbox serving at {base_url} (clock x{ns.time_scale:g}, faults: {ns.faults})\n")
        rows = []
        for seller in state.world.sellers:
            client = DemoClient(base_url, seller.account)
            try:
                client.login()
                rows.append(_account_summary(client, state, args))
            finally:
                client.close()
        print(_table(rows))
        print("\nOperations served (rate rps / burst, as documented by Amazon):")
        for r in sorted(ROUTES, key=lambda r: r.template):
            limits = RATE_LIMITS.get(limit_key(r.operation, r.template))
            plan = f"{limits[0]:g} / {limits[1]}" if limits else "not rate-limited"
            print(f"  {r.method:<6} {r.template:<62} {r.operation:<30} {plan}")
        missing = missing_api_modules()
        if missing:
            print(f"\nAPI modules not available yet: {', '.join(missing)}")
    finally:
        stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
