"""Write a big Amazon.de settlement flat file (default 2,000,000 lines, about 380 MB) for the ingest bench.

The lines are the sandbox's own: postings of a generated DE settlement are repeated (with fresh order
ids and posting times spread over the period) and rendered by `spapi_sandbox.settlement_file`, so the
columns, the `95,00` amounts and the `11.10.2024 08:59:52 UTC` dates follow exactly the sandbox's
format rules. Written as a stream: postings are made one at a time and lines go out in batches, so the
file never sits in memory. The summary row's total is the exact sum of the detail lines.

Usage: python bench/big_settlement_file.py OUT.tsv [--lines 2000000]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from spapi_sandbox.generate import build_world
from spapi_sandbox.settlement_file import COLUMNS, settlement_rows
from spapi_sandbox.world import DataArguments, Posting, Settlement

DAY = 86_400
PERIOD = 14 * DAY
BATCH_LINES = 20_000


def template_settlement() -> Settlement:
    """The first closed DE settlement of a small generated world: the postings to repeat."""
    world = build_world(DataArguments(seed=11, sellers=2, start="2026-01-01", days=30, orders_per_day=40))
    return next(st for seller in world.sellers for st in seller.settlements
                if st.marketplace == "DE" and st.closed)


def _plan(template: Settlement, detail_lines: int) -> Iterator[tuple[int, Posting, int]]:
    """(repetition, template posting, components to keep) until exactly `detail_lines` lines."""
    left, rep = detail_lines, 0
    while left > 0:
        for posting in template.postings:
            keep = min(len(posting.components), left)
            yield rep, posting, keep
            left -= keep
            if left == 0:
                return
        rep += 1


def _postings(template: Settlement, detail_lines: int, start_at: int) -> Iterator[Posting]:
    """The repeated postings: unique order ids per repetition, times spread evenly over the period."""
    step = PERIOD / max(detail_lines, 1)
    made = 0
    for rep, posting, keep in _plan(template, detail_lines):
        order_id = posting.order_id
        if order_id:
            order_id = f"{order_id[:3]}-{rep:07d}-{order_id[-7:]}"
        yield dataclasses.replace(posting, order_id=order_id, components=posting.components[:keep],
                                  posted_at=start_at + int(made * step))
        made += keep


def write_big_settlement(path: Path, lines: int = 2_000_000) -> Path:
    """Write the file (header + summary + lines-2 detail lines) to `path` via a temp name; return it."""
    template = template_settlement()
    detail_lines = max(lines - 2, 1)
    total = sum(sum(c.amount for c in p.components[:keep]) for _, p, keep in _plan(template, detail_lines))
    start_at = template.start_at
    big = Settlement(
        settlement_id=template.settlement_id, seller_id=template.seller_id, marketplace="DE",
        start_at=start_at, end_at=start_at + PERIOD, deposit_at=start_at + PERIOD + 2 * DAY, total=total,
        line_count=detail_lines)
    big.postings = _postings(template, detail_lines, start_at)  # type: ignore[assignment]  # streamed
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("wb") as out:
        out.write(("\t".join(COLUMNS) + "\n").encode())
        batch: list[str] = []
        for row in settlement_rows(big):
            batch.append("\t".join(row))
            if len(batch) >= BATCH_LINES:
                out.write(("\n".join(batch) + "\n").encode())
                batch.clear()
        if batch:
            out.write(("\n".join(batch) + "\n").encode())
    partial.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=2_000_000)
    args = parser.parse_args()
    write_big_settlement(args.out, args.lines)


if __name__ == "__main__":
    main()
