"""The reconciliation page: one self-contained HTML file that works offline.

No CDN, no font, no external URL: styles and the one small script are inline, charts are inline SVG
(spapi_elt.reports.charts), and a Content-Security-Policy forbids the browser from loading anything
else. Every text that comes from data is HTML-escaped. Every figure links to its settlement (the summary
table's rows are the anchors `#settlement-<id>`) or names it in its tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape
from typing import Any

from spapi_elt.reports.charts import Group, Mark, bar_chart, column_chart
from spapi_elt.reports.columns import EXCEPTIONS, SIGN_CONVENTION, SUMMARY, Column
from spapi_elt.reports.marts import ReportData, Row

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1f2933; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 14px; margin: 16px 0 4px; }
.meta { color: #52606d; margin: 0 0 16px; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; }
.scroll { overflow-x: auto; max-width: 100%; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 4px 8px; text-align: left; white-space: nowrap; }
th { background: #305496; color: #fff; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } td.neg { color: #b42318; }
td.wrap { white-space: normal; min-width: 320px; }
tr:target { background: #fff3c4; }
.status-reconciled td.status { color: #1e7b34; } .status-difference td.status,
.status-deposit-missing td.status { color: #b42318; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { background: #fafbfc; border: 1px solid #e4e7eb; }
svg .grid { stroke: #e4e7eb; } svg .axis { stroke: #52606d; }
svg text { font-size: 11px; fill: #3e4c59; } svg .tick { text-anchor: end; } svg .middle { text-anchor: middle; }
svg .label { text-anchor: end; } svg .note { text-anchor: start; }
svg .mark:hover { opacity: .75; } svg .hollow { fill: none !important; stroke-width: 2; stroke-dasharray: 4 2; }
.s0 { fill: #305496; stroke: #305496; } .s1 { fill: #d9822b; stroke: #d9822b; } .s2 { fill: #2f9e44; stroke: #2f9e44; }
.s3 { fill: #b42318; stroke: #b42318; } .s4 { fill: #7048e8; stroke: #7048e8; } .s5 { fill: #0c8599; stroke: #0c8599; }
.s6 { fill: #868e96; stroke: #868e96; } .s7 { fill: #e64980; stroke: #e64980; }
.empty { color: #52606d; font-style: italic; }
.note { color: #52606d; margin: 0 0 6px; max-width: 960px; }
td.no { color: #b42318; font-weight: 600; }
th[title] { text-decoration: underline dotted; cursor: help; }
/* Print: every column on the page (no scroll box clips a wide table), landscape, the header row repeated on every
   page, rows and charts never cut in half. */
@media print {
  @page { size: landscape; margin: 10mm; }
  body { margin: 0; font-size: 10px; }
  .scroll { overflow: visible; }
  table { width: 100%; font-size: 7.5px; table-layout: auto; }
  th, td { white-space: normal; padding: 2px 3px; overflow-wrap: anywhere; }
  td.wrap { min-width: 0; }
  th { position: static; color: #000; background: #dbe3f1; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; }
  tr:target { background: none; }
  svg.chart { max-width: 100%; height: auto; }
}
"""

# Stamps each chart's rendered size and mark count once the page has laid out (read by the tests; harmless
# for a reader).
SCRIPT = """
window.addEventListener('load', function () {
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    svg.setAttribute('data-rendered-width', Math.round(box.width));
    svg.setAttribute('data-rendered-height', Math.round(box.height));
    svg.setAttribute('data-marks', svg.querySelectorAll('.mark').length);
  });
  document.body.setAttribute('data-charts-ready', 'true');
});
"""


# The columns whose header carries the sign convention as its tooltip (the note above each table states it too).
SIGNED = {"deposit_minus_total_amount", "lines_minus_total_amount", "difference"}


def settlement_anchor(settlement_id: str) -> str:
    return f"settlement-{settlement_id}"


def money(value: Any, currency: str | None) -> str:
    return "" if value is None else f"{value:,.2f} {currency or ''}".strip()


def _text(column: Column, row: Row) -> str:
    value = row[column.key]
    if value is None:
        return ""
    if column.kind == "money":
        return money(value, row.get("currency"))
    if column.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "boolean":
        return "yes" if value else "no"
    if column.kind == "percent":
        return f"{value:,.2f} %"
    if column.kind == "integer":
        return f"{value:,}"
    return str(value)


def _td(column: Column, row: Row) -> str:
    value, text = row[column.key], escape(_text(column, row))
    classes = []
    if column.kind in ("money", "integer", "percent"):
        classes.append("num")
        if isinstance(value, int | float | Decimal) and value < 0:
            classes.append("neg")
    if column.key == "explanation":
        classes.append("wrap")
    if column.key == "reconciliation_status":
        classes.append("status")
    if column.key == "deposit_received" and value is False:
        classes.append("no")
    if column.key == "settlement_id" and value:
        text = f'<a href="#{escape(settlement_anchor(value))}">{text}</a>'
    css = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{css}>{text}</td>"


def _table(columns: Sequence[Column], rows: Iterable[Row], row_attributes: Callable[[Row], str]) -> str:
    head = "".join(f'<th title="{escape(SIGN_CONVENTION)}">{escape(c.header)}</th>' if c.key in SIGNED
                   else f"<th>{escape(c.header)}</th>" for c in columns)
    body = "".join(f"<tr{row_attributes(r)}>{''.join(_td(c, r) for c in columns)}</tr>" for r in rows)
    # Wide tables scroll inside their box, so the page's charts and headings keep the window's width.
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _summary_row(row: Row) -> str:
    status = str(row["reconciliation_status"]).replace(" ", "-")
    return f' id="{escape(settlement_anchor(row["settlement_id"]))}" class="status-{escape(status)}"'


def _exception_row(row: Row) -> str:
    return f' id="exception-{escape(row["reconciliation_exception_id"])}"'


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"


def _currencies(rows: Iterable[Row]) -> list[str]:
    return sorted({r["currency"] for r in rows})


def payout_charts(data: ReportData) -> list[str]:
    """Per currency, one column per settlement's payout at its deposit date: the amount transferred, or (an
    outline) the settlement total when the transfer failed or is still pending."""
    figures = []
    for currency in _currencies(data.payouts):
        groups = []
        for payout in (p for p in data.payouts if p["currency"] == currency):
            if payout["payout_status"] == "nothing due":  # a 0.00 settlement: nothing to transfer, nothing missing
                arrived, value = True, payout["settlement_total_amount"]
                when = payout["group_end_at"].date().isoformat()
                detail = "0.00, nothing to transfer"
            elif payout["transferred_amount"] is not None:
                arrived, value = True, payout["transferred_amount"]
                when = payout["deposit_date"].isoformat() if payout["deposit_date"] else "not paid"
                detail = f"{money(value, currency)} transferred on {when}"
            else:
                arrived, when, value = False, "not paid", payout["settlement_total_amount"]
                detail = (f"{money(value, currency)} expected, not transferred "
                          f"({payout['fund_transfer_status'] or 'no transfer'})")
            title = (f"Settlement {payout['settlement_id']} ({payout['marketplace_name']}): "
                     f"{payout['payout_status']}, {detail}")
            groups.append(Group(when, [Mark(value, title, "#" + settlement_anchor(payout["settlement_id"]),
                                            series=0 if arrived else 3, hollow=not arrived)]))
        chart = column_chart(f"chart-payouts-{currency}", f"Payouts in {currency} by deposit date", groups,
                             lambda v: f"{v:,.0f}")
        figures.append(_figure(f"Payouts over time ({currency}; outline: not transferred)", chart))
    return figures


def _settlements_by_marketplace(data: ReportData) -> dict[str, set[str]]:
    """marketplace id -> the settlements holding its lines. Not only those reported for it: an EUR settlement
    reported for Amazon.de also holds the seller's Amazon.fr lines."""
    found: dict[str, set[str]] = {}
    for line in data.lines:
        found.setdefault(line["marketplace_id"], set()).add(line["settlement_id"])
    return found


def _settlements_in(data: ReportData, holding: set[str], first: date, last: date) -> list[str]:
    """The settlements among `holding` (a marketplace's) whose period overlaps [first, last] (what a month's
    figure comes from)."""
    return [s["settlement_id"] for s in data.settlements if s["settlement_id"] in holding
            and s["settlement_start_at"].date() <= last and s["settlement_end_at"].date() >= first]


def _month_end(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def fee_share_chart(data: ReportData) -> list[str]:
    """Per month, one column per marketplace: Amazon's fees as a share of gross sales (roi.marketplace_pnl)."""
    marketplaces = sorted({m["marketplace_id"] for m in data.months})
    names = {m["marketplace_id"]: m["marketplace_name"] or m["marketplace_id"] for m in data.months}
    months = sorted({m["posted_month"] for m in data.months})
    holding = _settlements_by_marketplace(data)
    groups = []
    for month in months:
        marks = []
        for index, marketplace in enumerate(marketplaces):
            row = next((m for m in data.months if m["posted_month"] == month and m["marketplace_id"] == marketplace),
                       None)
            if row is None or row["fees_pct_of_sales"] is None:
                continue
            settled = _settlements_in(data, holding.get(marketplace, set()), month, _month_end(month))
            title = (f"{month:%Y-%m} {names[marketplace]}: fees {money(row['amazon_fees'], row['currency'])} are "
                     f"{row['fees_pct_of_sales']:.2f} % of gross sales {money(row['gross_sales'], row['currency'])}"
                     f"; from settlements {', '.join(settled) or 'none'}")
            marks.append(Mark(row["fees_pct_of_sales"], title,
                              "#" + settlement_anchor(settled[0]) if settled else None, series=index))
        if marks:
            groups.append(Group(f"{month:%Y-%m}", marks))
    if not groups:
        return []
    chart = column_chart("chart-fee-share", "Amazon fees as a share of gross sales, by month", groups,
                         lambda v: f"{v:.0f} %", legend=[names[m] for m in marketplaces])
    return [_figure("Fees as a share of sales by month", chart)]


def exception_charts(data: ReportData) -> list[str]:
    """Per currency, one bar per kind of finding, one segment per finding (its money at stake)."""
    figures = []
    for currency in _currencies(data.exceptions):
        rows = [e for e in data.exceptions if e["currency"] == currency]
        kinds = sorted({e["kind"] for e in rows})
        groups = []
        for index, kind in enumerate(kinds):
            marks = []
            for finding in (e for e in rows if e["kind"] == kind):
                where = f"settlement {finding['settlement_id']}" if finding["settlement_id"] else "no settlement"
                href = ("#" + settlement_anchor(finding["settlement_id"]) if finding["settlement_id"]
                        else f"#exception-{finding['reconciliation_exception_id']}")
                marks.append(Mark(finding["amount"], f"{kind} {finding['reference_id']} ({where}): "
                                  f"{money(finding['amount'], currency)}. {finding['explanation']}", href,
                                  series=index))
            groups.append(Group(kind, marks, note=f"{len(marks)} finding{'s' if len(marks) != 1 else ''}"))
        chart = bar_chart(f"chart-exceptions-{currency}", f"Exceptions in {currency} by kind and amount", groups,
                          lambda v: f"{v:,.0f}")
        figures.append(_figure(f"Exceptions by kind and amount ({currency}; one segment per finding)", chart))
    return figures


def sku_roi_chart(data: ReportData) -> list[str]:
    """The best and the worst SKUs by ROI over the period (roi.sku_profitability_to_date, ranked in SQL)."""
    seen: set[tuple[str, str]] = set()
    holding = _settlements_by_marketplace(data)
    groups = []
    for row in [*data.top_skus, *reversed(data.bottom_skus)]:
        key = (row["marketplace_id"], row["sku"])
        if key in seen:
            continue
        seen.add(key)
        settled = _settlements_in(data, holding.get(row["marketplace_id"], set()), row["first_posted_date"],
                                  row["last_posted_date"])
        liquidated = (f", liquidation proceeds {money(row['liquidation_proceeds'], row['currency'])}"
                      if row["liquidation_proceeds"] else "")
        title = (f"{row['sku']} ({row['marketplace_name']}): ROI {row['roi_pct']:.2f} %, contribution margin "
                 f"{money(row['contribution_margin'], row['currency'])} on COGS {money(row['cogs'], row['currency'])}"
                 f", {row['units_sold']} units{liquidated}, posted {row['first_posted_date']} to "
                 f"{row['last_posted_date']} in settlements {', '.join(settled) or 'none'}")
        groups.append(Group(f"{row['sku']} ({row['marketplace_name']})",
                            [Mark(row["roi_pct"], title, "#" + settlement_anchor(settled[-1]) if settled else None,
                                  series=2 if row["roi_pct"] >= 0 else 3)], note=f"{row['roi_pct']:.2f} %"))
    if not groups:
        return []
    chart = bar_chart("chart-sku-roi", "Top and bottom SKUs by ROI over the period", groups, lambda v: f"{v:.0f} %")
    return [_figure("Top and bottom SKUs by ROI (contribution margin / COGS)", chart)]


def _status_line(data: ReportData) -> str:
    statuses: dict[str, int] = {}
    for row in data.settlements:
        statuses[row["reconciliation_status"]] = statuses.get(row["reconciliation_status"], 0) + 1
    counts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    return f"{len(data.settlements)} settlements ({counts}); {len(data.exceptions)} exceptions"


def render_page(data: ReportData, generated_at: datetime | None = None) -> str:
    """The whole page as one HTML string."""
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    title = f"Settlement reconciliation: {data.account}, {data.first_day} to {data.last_day}"
    charts = [*payout_charts(data), *fee_share_chart(data), *exception_charts(data), *sku_roi_chart(data)]
    if not data.top_skus:
        charts.append('<p class="empty">No SKU has a known ROI yet: ROI needs unit costs '
                      "(dbt_project/seeds/unit_costs.csv, or your own seed through var unit_costs_seed).</p>")
    exceptions = (_table(EXCEPTIONS, data.exceptions, _exception_row) if data.exceptions
                  else '<p class="empty">No exceptions: every settlement reconciles.</p>')
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Account {escape(data.account)} (seller {escape(data.seller_id)}) &middot; '
        f"{escape(_status_line(data))} &middot; "
        f"generated {escape(generated)} from the finance and ROI marts</p>",
        "<h2>Settlements</h2>", f'<p class="note">{escape(SIGN_CONVENTION)}</p>',
        _table(SUMMARY, data.settlements, _summary_row),
        "<h2>Charts</h2>", f'<div class="charts">{"".join(charts)}</div>' if charts
        else '<p class="empty">Nothing to chart yet.</p>',
        "<h2>Exceptions</h2>", '<p class="note">Difference is actual - expected; money at stake is its size.</p>',
        exceptions,
        f"<script>{SCRIPT}</script>", "</body>", "</html>", ""])
