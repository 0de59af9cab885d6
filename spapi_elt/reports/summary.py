"""The finance summary the demo and `spapi-elt transform` print: settlements by reconciliation status and
findings by kind, straight from the finance marts."""

from __future__ import annotations

from pathlib import Path

import duckdb


def finance_summary(lakehouse: Path) -> str:
    """Settlements by reconciliation status and findings by kind, from the finance marts."""
    with duckdb.connect(str(lakehouse), read_only=True) as con:
        statuses = con.execute("select reconciliation_status, count(*) from finance.settlements "
                               "group by 1 order by 2 desc").fetchall()
        findings = con.execute("select kind, currency, count(*), sum(amount) from finance.reconciliation_exceptions "
                               "group by 1, 2 order by 1, 2").fetchall()
    settled = ", ".join(f"{n} {status}" for status, n in statuses) or "none yet (Amazon issues one about every 14 days)"
    lines = ["Settlements: " + settled, "Findings:"]
    lines += [f"  {kind:<28} {n:>4}  {total:>12,.2f} {currency}" for kind, currency, n, total in findings]
    if not findings:
        lines.append("  none")
    return "\n".join(lines)
