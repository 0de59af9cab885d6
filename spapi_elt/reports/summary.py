"""The finance summary the demo and `spapi-elt transform` print: settlements by reconciliation status, findings
by kind, and how much of the fee audit could judge what it read (a line it could not judge is said, never hidden
behind "no finding"), straight from the marts."""

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
        coverage = fee_audit_coverage(con)
    settled = ", ".join(f"{n} {status}" for status, n in statuses) or "none yet (Amazon issues one about every 14 days)"
    lines = ["Settlements: " + settled, "Findings:"]
    lines += [f"  {kind:<28} {n:>4}  {total:>12,.2f} {currency}" for kind, currency, n, total in findings]
    if not findings:
        lines.append("  none")
    return "\n".join(lines + coverage)


# The fee audit's verdict per settled order item and fee (int_order_item_fees_expected): 'audited', or why not.
AUDIT_COLUMNS = {"referral fee": "referral_fee_audit", "FBA fee": "fba_fee_audit"}


def fee_audit_coverage(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One line per fee: order items audited of those that carry it, and the reasons the others were not."""
    lines = []
    for fee, column in AUDIT_COLUMNS.items():
        counts = dict(con.execute(f"select {column}, count(*) from intermediate.int_order_item_fees_expected "
                                  f"where {column} <> 'not FBA' group by 1").fetchall())
        if not counts:
            continue
        audited = counts.pop("audited", 0)
        reasons = "; ".join(f"{n:,} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {fee}: {audited:,} of {audited + sum(counts.values()):,} order items audited"
                     + (f" (not audited: {reasons})" if reasons else ""))
    return ["Fee audit:", *lines] if lines else []
