"""A real S3 server on loopback for the tests of a lake on object storage: moto's server (moto[s3]: an HTTP server
speaking S3's REST API, keeping its objects in memory) in a process of its own, and the settings that point dlt and
fsspec at it. Nothing leaves 127.0.0.1; the credentials are moto's throwaway ones."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

BUCKET = "spapi-lake"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_environment(endpoint: str) -> dict[str, str]:
    """What points dlt's filesystem destination (and so the product's fsspec filesystem, spapi_elt/lake.py) at the
    server."""
    return {"DESTINATION__FILESYSTEM__CREDENTIALS__AWS_ACCESS_KEY_ID": "testing",
            "DESTINATION__FILESYSTEM__CREDENTIALS__AWS_SECRET_ACCESS_KEY": "testing",
            "DESTINATION__FILESYSTEM__CREDENTIALS__REGION_NAME": "us-east-1",
            "DESTINATION__FILESYSTEM__CREDENTIALS__ENDPOINT_URL": endpoint}


@contextmanager
def running_s3_server() -> Iterator[str]:
    """An S3 server with the bucket BUCKET for the body of the `with`; yields its endpoint URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the S3 server (moto) did not start on {endpoint}") from None
                time.sleep(0.2)
        created = httpx.put(f"{endpoint}/{BUCKET}", timeout=10)  # S3's CreateBucket (us-east-1 needs no body)
        created.raise_for_status()
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)
