"""What every resource of one extraction run shares, and how it runs the accounts in parallel.

Accounts are independent: each has its own quota (the client's throttle is per seller), its own
incremental state, and its own failure. A failing account is recorded and the others load; the
run reports it at the end and that account's cursor does not move, so nothing is skipped.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from queue import Queue
from typing import Any, TextIO

import dlt
import pyarrow as pa

from dlt_sources.spapi.audit import MemoryAuditSink
from dlt_sources.spapi.call_stats import CURRENT_RESOURCE, CallStats
from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import AccountConfig, AccountsConfig
from dlt_sources.spapi.keys import PiiKeyMissing
from dlt_sources.spapi.pii import Protector
from dlt_sources.spapi.settings import SETTLE_MARGIN
from dlt_sources.spapi.tables import to_table

logger = logging.getLogger(__name__)

DEFAULT_HISTORY_DAYS = 90  # how far back a first load reaches when no --start is given
_DONE = object()


@dataclass
class AccountFailure:
    resource: str
    account: str
    error: str  # the exception's message: clients never put secrets or PII in them


PROGRESS_PREFIX = "..."  # how a progress line begins (orchestration/run_progress.py picks them out by it)


@dataclass
class Progress:
    """Rows per (resource, account), told every few seconds with the client's call counters: printed to `out`, or
    handed to `emit` (Dagster's run log)."""

    stats: CallStats
    out: TextIO | None = sys.stderr
    every_seconds: float = 5.0
    emit: Callable[[str], None] | None = None
    rows: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _last: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, resource: str, account: str, rows: int) -> None:
        with self._lock:
            self.rows[(resource, account)] += rows
        if (self.out is not None or self.emit is not None) and time.monotonic() - self._last >= self.every_seconds:
            self._last = time.monotonic()
            self.print_line()

    def print_line(self) -> None:
        """One line per account: rows per resource so far, and the account's calls, 429s and retries."""
        with self._lock:
            rows = dict(self.rows)
        for account in sorted({a for _, a in rows}):
            calls = self.stats.totals(account)
            parts = ", ".join(f"{r} {n:,}" for (r, a), n in sorted(rows.items()) if a == account)
            line = (f"  {PROGRESS_PREFIX} {account}: {parts} | calls {calls.calls:,}, "
                    f"throttled {calls.throttled:,}, "
                    f"retries {calls.retries:,}")
            if self.emit is not None:
                self.emit(line.strip())
            else:
                print(line, file=self.out, flush=True)


@dataclass
class Extraction:
    """The run's shared context: accounts, window, clients, PII protector, audit and quarantine."""

    accounts: AccountsConfig
    protector: Protector | None  # None: the run reads no buyer data (see pii_protector)
    start: datetime | None = None  # explicit window start; None: each account resumes from its state
    end: datetime | None = None  # explicit window end; None: now
    history_days: int = DEFAULT_HISTORY_DAYS
    buyer_days: int = 7  # buyer details (searchOrders + RDT) only for the last N days of a window
    client_factory: Callable[[AccountConfig, MemoryAuditSink, CallStats], SpApiClient] | None = None
    audit: MemoryAuditSink = field(default_factory=MemoryAuditSink)
    stats: CallStats = field(default_factory=CallStats)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    failures: list[AccountFailure] = field(default_factory=list)
    # (resource, seller id) whose extraction ran to its end in this run: only those may replace a window.
    completed: set[tuple[str, str]] = field(default_factory=set)
    progress: Progress | None = None
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # per resource, first to last item
    _default_end: datetime | None = None
    _clients: dict[str, SpApiClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.progress is None:
            self.progress = Progress(self.stats)

    def pii_protector(self) -> Protector:
        """The PII keys, for a resource that reads buyer data; a run built without them (reads_buyer_data said
        none was selected) must not reach one."""
        if self.protector is None:
            raise PiiKeyMissing("this run reads buyer data but was started without the PII keys "
                                "(SPAPI_PII_HMAC_KEY, SPAPI_PII_KEYS, SPAPI_PII_ACTIVE_KEY_ID)")
        return self.protector

    def window_end(self) -> datetime:
        """An explicit --end, else a few minutes before the run first asked: Amazon wants time bounds at least
        2 minutes old. One end for the whole run, so every resource, its cursor and the window replacement
        after the load (window_replace.py) agree on it."""
        if self.end is None:
            with self._lock:
                if self._default_end is None:
                    self._default_end = (datetime.now(UTC) - SETTLE_MARGIN).replace(microsecond=0)
            return self._default_end
        return self.end

    def window_start(self, cursor: str | None, lookback: timedelta = timedelta(0)) -> datetime:
        """An explicit --start wins; else the account's cursor minus a lookback; else the history depth."""
        if self.start is not None:
            return self.start
        if cursor:
            return datetime.fromisoformat(cursor) - lookback
        return self.window_end() - timedelta(days=self.history_days)

    def client(self, account: AccountConfig) -> SpApiClient:
        with self._lock:
            if account.seller_id not in self._clients:
                factory = self.client_factory or (lambda a, audit, stats: SpApiClient(a, audit=audit, stats=stats))
                self._clients[account.seller_id] = factory(account, self.audit, self.stats)
            return self._clients[account.seller_id]

    def add_quarantine(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self.quarantine.extend(rows)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def per_account(self, resource: str,
                    work: Callable[[AccountConfig, SpApiClient], Iterator[Any]]) -> Iterator[tuple[AccountConfig, Any]]:
        """Run `work` for every account, at most max_parallel_accounts at once; yield (account, item).

        An item `None` marks the successful end of an account's work (so the caller can move its
        cursor). A failing account is logged and recorded in `failures`; the others carry on.
        """
        accounts = self.accounts.accounts
        queue: Queue[tuple[AccountConfig, Any]] = Queue(maxsize=8)

        def run(account: AccountConfig) -> None:
            CURRENT_RESOURCE.set(resource)  # this pool thread's calls count for `resource`
            try:
                for item in work(account, self.client(account)):
                    queue.put((account, item))
                queue.put((account, None))
            except Exception as exc:  # one account's failure must not lose the others' data
                logger.error("%s: %s failed: %s", account.name, resource, exc)
                with self._lock:
                    self.failures.append(AccountFailure(resource, account.name, str(exc)))
            finally:
                queue.put((account, _DONE))

        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=self.accounts.max_parallel_accounts,
                                thread_name_prefix=f"spapi-{resource}") as pool:
            for account in accounts:
                pool.submit(run, account)
            finished = 0
            while finished < len(accounts):
                account, item = queue.get()
                if item is _DONE:
                    finished += 1
                    continue
                if item is None:
                    self.completed.add((resource, account.seller_id))
                else:
                    assert self.progress is not None
                    self.progress.add(resource, account.name, _row_count(item))
                yield account, item
        self.seconds[resource] += time.monotonic() - began


RowSource = Callable[[AccountConfig, SpApiClient, datetime, datetime], Iterator[Any]]
BATCH_ROWS = 500


def windowed_resource(ctx: Extraction, name: str, lookback: timedelta, rows: RowSource) -> Any:
    """A dlt resource that reads [cursor - lookback, end) per account and moves the cursor to `end`.

    `rows` yields dict rows for the table `name` (batched here) or items already marked for a table
    (Arrow tables, other tables of the same resource), which pass through.
    """

    @dlt.resource(name=name, write_disposition="merge")
    def resource() -> Iterator[Any]:
        cursors: dict[str, str] = dlt.current.resource_state().setdefault("cursors", {})
        end = ctx.window_end()
        starts = {a.seller_id: ctx.window_start(cursors.get(a.seller_id), lookback) for a in ctx.accounts.accounts}

        def work(account: AccountConfig, client: SpApiClient) -> Iterator[Any]:
            return _batched(name, rows(account, client, starts[account.seller_id], end))

        for account, item in ctx.per_account(name, work):
            if item is None:
                cursors[account.seller_id] = forward(cursors.get(account.seller_id), end)
            else:
                yield item

    return resource


def forward(cursor: str | None, candidate: datetime) -> str:
    """A cursor only moves forward: a backfill of an older window must not make the next run re-read."""
    if cursor and datetime.fromisoformat(cursor) >= candidate:
        return cursor
    return candidate.isoformat()


def snapshot_resource(ctx: Extraction, name: str, rows: Callable[[AccountConfig, SpApiClient], Iterator[Any]]) -> Any:
    """A dlt resource for current-state data (listings, inventory, catalog): read it all, merge on the key."""

    @dlt.resource(name=name, write_disposition="merge")
    def resource() -> Iterator[Any]:
        def work(account: AccountConfig, client: SpApiClient) -> Iterator[Any]:
            return _batched(name, rows(account, client))

        for _, item in ctx.per_account(name, work):
            if item is not None:
                yield item

    return resource


def _batched(name: str, rows: Iterator[Any]) -> Iterator[Any]:
    """Dict rows grouped into lists for the table `name`; anything already marked passes through."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        if not isinstance(row, dict):
            yield row
            continue
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield to_table(name, batch)
            batch = []
    if batch:
        yield to_table(name, batch)


def _row_count(item: Any) -> int:
    if isinstance(item, tuple):  # a marker for the resource (e.g. a report seen), not a row
        return 0
    data = getattr(item, "data", item)  # dlt's DataItemWithMeta wraps the payload
    if isinstance(data, pa.Table):
        return data.num_rows
    return len(data) if isinstance(data, list) else 1
