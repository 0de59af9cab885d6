"""Benchmark: requests per second the sandbox serves on loopback, against a bare stdlib HTTP server
answering a fixed JSON body, measured in the same run with the same client.

The sandbox runs in its own process with rate limits lifted (the point is the server's own cost,
not Amazon's quotas); the client runs keep-alive connections from threads in this process.
Reported: median requests/s over --repeat rounds per endpoint, and the ratio sandbox/bare.
Usage: python bench/sandbox_requests.py [--seconds 3 --threads 4 --repeat 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

SERVER = r"""
import sys, time, json
mode = sys.argv[1]
if mode == "bare":
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    body = json.dumps({"payload": {"orders": [{"orderId": "111-0000000-0000000"}] * 8}}).encode()
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
else:
    from spapi_sandbox.ratelimit import RATE_LIMITS, RateLimiter
    from spapi_sandbox.server import build_state, serve_state
    from spapi_sandbox.world import DataArguments
    state = build_state(DataArguments(seed=1, sellers=1, days=90, orders_per_day=100))
    state.rate_limiter = RateLimiter(state.clock, {op: (1e9, 10**9) for op in RATE_LIMITS})
    server, url = serve_state(state)
    seller = state.world.sellers[0]
    print(url, flush=True)
    print(json.dumps({"account": {"client_id": seller.account.lwa_client_id,
                                  "client_secret": seller.account.lwa_client_secret,
                                  "refresh_token": seller.account.refresh_token},
                      "order_ids": [o.order_id for o in seller.orders[:500]]}), flush=True)
    while True:
        time.sleep(3600)
"""

US = "ATVPDKIKX0DER"


def start(mode: str) -> tuple[subprocess.Popen, str, dict]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, mode], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    info = json.loads(proc.stdout.readline()) if mode == "sandbox" else {}
    return proc, url, info


def access_token(url: str, account: dict) -> str:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    form = (f"grant_type=refresh_token&refresh_token={account['refresh_token']}"
            f"&client_id={account['client_id']}&client_secret={account['client_secret']}")
    conn.request("POST", "/auth/o2/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    return json.loads(conn.getresponse().read())["access_token"]


def load(url: str, paths: list[str], headers: dict, seconds: float, threads: int) -> float:
    """Requests per second completed by `threads` keep-alive clients cycling through `paths`."""
    parts = urlsplit(url)
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        i = n
        while time.perf_counter() < deadline:
            conn.request("GET", paths[i % len(paths)], headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{paths[i % len(paths)]} -> {response.status}")
            counts[n] += 1
            i += threads

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sandbox, sandbox_url, info = start("sandbox")
    bare, bare_url, _ = start("bare")
    try:
        headers = {"x-amz-access-token": access_token(sandbox_url, info["account"])}
        endpoints = {
            "getOrder (2026-01-01)": [f"/orders/2026-01-01/orders/{o}" for o in info["order_ids"]],
            "searchOrders, 100 per page": [f"/orders/2026-01-01/orders?marketplaceIds={US}"
                                           f"&createdAfter=2026-01-01T00:00:00Z&maxResultsPerPage=100"],
            "listTransactions page": [f"/finances/2024-06-19/transactions?postedAfter=2026-01-01T00:00:00Z"
                                      f"&marketplaceId={US}"],
            "getReports": ["/reports/2021-06-30/reports?reportTypes=GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"],
        }
        bare_rps = statistics.median(load(bare_url, ["/"], {}, args.seconds, args.threads)
                                     for _ in range(args.repeat))
        print(f"bare stdlib server, fixed JSON: median {bare_rps:,.0f} req/s ({args.threads} client threads)")
        for name, paths in endpoints.items():
            rps = statistics.median(load(sandbox_url, paths, headers, args.seconds, args.threads)
                                    for _ in range(args.repeat))
            print(f"sandbox {name:<28} median {rps:,.0f} req/s   ratio to bare {rps / bare_rps:.2f}")
    finally:
        for proc in (sandbox, bare):
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
