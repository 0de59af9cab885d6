"""The page in Debian's headless Chromium, as a reader opens it from disk: every chart renders (an SVG
with marks and a laid-out size), and no request leaves the machine."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shutil
import socket
import subprocess
import threading
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from spapi_elt.reports.marts import ReportData, read_report
from spapi_elt.reports.page import CSP, render_page
from tests.published_reports import Published

BROWSER_TIMEOUT = 120
# Chromium's own calls home (seen through the listener), never anything a page asks for.
BROWSER_SERVICES = ";".join(["update.googleapis.com", "accounts.google.com", "clients2.google.com",
                             "clients2.googleusercontent.com", "*.gvt1.com"])


class Listener:
    """A local TCP listener standing in for every proxy and host: it counts the connections it receives."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []  # the first line of each, for the failure message
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.settimeout(2)
            with contextlib.suppress(OSError):
                self.requests.append(connection.recv(200).split(b"\r\n")[0])
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def listener():
    running = Listener()
    yield running
    running.close()


def browse(url: str, listener: Listener, profile: Path) -> str:
    """The DOM after headless Chromium loaded `url` and ran its scripts.

    Every request the page could make goes through the listener as proxy, and no host name resolves. Two
    details keep that honest: the proxy's own address is excluded from the resolver rule (`MAP * ~NOTFOUND`
    alone also blocks 127.0.0.1, so nothing would ever reach the listener and "zero" would prove nothing:
    test_the_listener_would_see_a_request is the control); and the browser's own background services
    (component and extension updates, network time, account lookup, which Debian's chromium calls whatever
    the flags) bypass the proxy, so they are not counted as the page's, and fail to resolve, so they do not
    leave the machine either.
    """
    browser = shutil.which("chromium")
    assert browser, "the page test needs Debian's chromium (make test installs it when run as root)"
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update", "--disable-domain-reliability",
         f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{listener.port}",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--proxy-bypass-list={BROWSER_SERVICES}",
         "--virtual-time-budget=10000",
         "--window-size=1400,1000", "--dump-dom", url], capture_output=True, text=True, timeout=BROWSER_TIMEOUT)
    assert done.stdout.strip(), done.stderr[-3000:]
    return done.stdout


class Charts(HTMLParser):
    """Each <svg class="chart">: its attributes and the marks (rect.mark) inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "svg" and "chart" in (attributes.get("class") or "").split():
            self.charts.append({**attributes, "marks": 0})
            self._inside = True
        elif self._inside and tag == "rect" and "mark" in (attributes.get("class") or "").split():
            self.charts[-1]["marks"] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._inside = False


def charts_of(html: str) -> list[dict]:
    parser = Charts()
    parser.feed(html)
    return parser.charts


def expected_charts(published: Published, seller_id: str) -> set[str]:
    """Payouts and exceptions per currency, the fee share and the SKU ROI chart: from the marts."""
    with duckdb.connect(str(published.lakehouse.path), read_only=True) as con:
        payouts = {c for (c,) in con.execute("select distinct currency from finance.payouts where seller_id = ? "
                                             "and settlement_id is not null", [seller_id]).fetchall()}
        findings = {c for (c,) in con.execute("select distinct currency from finance.reconciliation_exceptions "
                                              "where seller_id = ?", [seller_id]).fetchall()}
        (ranked,) = con.execute("select count(roi_pct) > 0 from roi.sku_profitability_to_date where seller_id = ?",
                                [seller_id]).fetchone()
    assert payouts and findings
    return ({f"chart-payouts-{c}" for c in payouts} | {f"chart-exceptions-{c}" for c in findings}
            | {"chart-fee-share"} | ({"chart-sku-roi"} if ranked else set()))


def with_ranked_skus(data: ReportData) -> ReportData:
    """The report with ROI rankings, for worlds whose SKUs have no unit cost (the oracle's do not): the top
    and bottom SKUs by ROI as the mart would rank them, with made-up ROIs on either side of zero."""
    rows = [s for s in data.skus if s["sku"] != "(unallocated)"][:6]
    assert len(rows) == 6
    ranked = [{**row, "roi_pct": Decimal(roi), "cogs": Decimal("10.00"), "contribution_margin": Decimal(roi) / 10}
              for row, roi in zip(rows, ("180.50", "95.00", "12.25", "-3.10", "-40.00", "-75.75"), strict=True)]
    return dataclasses.replace(data, top_skus=ranked[:3], bottom_skus=ranked[:2:-1])


def report_data(published: Published, index: int = 0) -> ReportData:
    report = published.reports[index]
    with duckdb.connect(str(published.lakehouse.path), read_only=True) as con:
        first, last = con.execute("select min(settlement_start_at)::date, max(settlement_end_at)::date "
                                  "from finance.settlements where seller_id = ?", [report.seller_id]).fetchone()
        return read_report(con, report.seller_id, report.account, first, last)


def test_every_chart_renders_in_chromium_and_nothing_leaves_the_machine(
        published: Published, listener: Listener, tmp_path: Path) -> None:
    for report in published.reports:
        dom = browse(report.page.as_uri(), listener, tmp_path / f"profile-{report.seller_id}")
        assert 'data-charts-ready="true"' in dom, "the page's inline script did not run"
        charts = charts_of(dom)
        assert {c["id"] for c in charts} == expected_charts(published, report.seller_id)
        for chart in charts:
            assert chart["marks"] > 0, chart["id"]
            assert int(chart["data-marks"]) == chart["marks"], chart["id"]
            assert int(chart["data-rendered-width"]) > 0 and int(chart["data-rendered-height"]) > 0, chart
    assert listener.connections == 0, f"the page made requests: {listener.requests}"


def test_the_sku_roi_chart_renders_in_chromium(published: Published, listener: Listener, tmp_path: Path) -> None:
    page = tmp_path / "ranked.html"
    page.write_text(render_page(with_ranked_skus(report_data(published))), encoding="utf-8")
    dom = browse(page.as_uri(), listener, tmp_path / "profile")
    (chart,) = [c for c in charts_of(dom) if c["id"] == "chart-sku-roi"]
    assert chart["marks"] == 6 and int(chart["data-marks"]) == 6
    assert int(chart["data-rendered-width"]) > 0 and int(chart["data-rendered-height"]) > 0
    assert listener.connections == 0, listener.requests


def test_the_listener_would_see_a_request(listener: Listener, tmp_path: Path) -> None:
    """The control: a page that does load an external image reaches the listener, so zero above means zero."""
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.com/pixel.png"></body></html>')
    browse(page.as_uri(), listener, tmp_path / "profile-control")
    assert listener.connections > 0


def test_the_page_is_self_contained(published: Published) -> None:
    for report in published.reports:
        html = report.page.read_text(encoding="utf-8")
        assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
        assert not re.search(r"https?://", html), "no URL anywhere: no CDN, no font, no link out"
        assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?!#)[^"'\s>]+""", html), "only in-page links"


def test_every_settlement_has_an_anchor_and_every_link_lands(published: Published) -> None:
    for report in published.reports:
        html = report.page.read_text(encoding="utf-8")
        ids = set(re.findall(r'\bid="([^"]+)"', html))
        settlements = {s for (s,) in published.lakehouse.query(
            f"select settlement_id from finance.settlements where seller_id = '{report.seller_id}'")}
        assert {f"settlement-{s}" for s in settlements} <= ids
        links = re.findall(r'href="#([^"]+)"', html)
        assert links and set(links) <= ids
        marks = re.findall(r'(?:<a href="#([^"]+)">)?<rect class="mark[^"]*"[^>]*><title>([^<]*)</title>', html)
        assert marks
        for href, title in marks:  # every figure links to its settlement (or its finding), or names it
            assert href.startswith(("settlement-", "exception-")) or "settlement" in title.lower(), title


def test_amazon_fr_figures_link_to_the_amazon_de_settlements_holding_their_lines(published: Published) -> None:
    """Amazon.fr's lines are in the EUR settlements reported for Amazon.de: its figures link there, not nowhere."""
    de = "A1PA6795UKMFR9"
    de_settlements = {s for (s,) in published.lakehouse.query(
        f"select settlement_id from finance.settlements where marketplace_id = '{de}'")}
    linked = []
    for report in published.reports:
        html = report.page.read_text(encoding="utf-8")
        marks = re.findall(r'(?:<a href="#settlement-([^"]+)">)?<rect class="mark[^"]*"[^>]*><title>([^<]*)</title>',
                           html)
        linked += [(settlement, title) for settlement, title in marks if " Amazon.fr: fees " in title]
    assert linked, "the fee-share chart should show Amazon.fr months"
    for settlement, title in linked:
        assert settlement in de_settlements and "from settlements none" not in title, title


def test_every_text_is_escaped(published: Published) -> None:
    data = with_ranked_skus(report_data(published))
    evil = '<script>alert("x")</script>'
    exceptions = [{**data.exceptions[0], "explanation": evil, "reference_id": evil}, *data.exceptions[1:]]
    skus = [{**data.top_skus[0], "sku": evil}, *data.top_skus[1:]]
    html = render_page(dataclasses.replace(data, account=evil, exceptions=exceptions, top_skus=skus),
                       generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert evil not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # the page's own


def test_the_page_holds_no_buyer_pii(published: Published) -> None:
    canaries = published.lakehouse.truth["pii_canaries"]
    for report in published.reports:
        html = report.page.read_text(encoding="utf-8")
        assert not [c for c in canaries if c in html]


def test_the_summary_opens_with_status_and_deposit_and_states_the_sign(published: Published) -> None:
    """The page's settlement table reads as the workbook's Summary: status, deposit received and the two
    differences first, the sign convention above it; a failed transfer shows "no", never "yes"."""
    from spapi_elt.reports.columns import SIGN_CONVENTION, SUMMARY

    failed = 0
    for report in published.reports:
        html = report.page.read_text(encoding="utf-8")
        table = html[html.index("<h2>Settlements</h2>"):html.index("<h2>Charts</h2>")]
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
        assert headers == [c.header for c in SUMMARY]
        assert headers[:5] == ["Settlement id", "Status", "Deposit received", "Deposit - total", "Lines - total"]
        assert SIGN_CONVENTION in table.replace("&#x27;", "'")
        for (settlement, total) in published.lakehouse.query(
                f"select settlement_id, reported_total_amount from finance.settlements "
                f"where seller_id = '{report.seller_id}' and fund_transfer_status = 'Failed'"):
            row = re.search(rf'<tr id="settlement-{settlement}"[^>]*>(.*?)</tr>', table).group(1)
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            assert cells[1] == "deposit missing" and cells[2] == "no", cells[:5]
            assert cells[3] == f"{-total:,.2f} {cells[6]}", cells[:7]
            failed += 1
    assert failed


def test_the_print_stylesheet_keeps_every_column(published: Published) -> None:
    """Printed, no table is clipped by its scroll box, cells wrap instead of running off the page, the header row
    repeats on every page, and the page is landscape."""
    html = published.reports[0].page.read_text(encoding="utf-8")
    printed = html[html.index("@media print"):html.index("</style>")]
    for rule in (".scroll { overflow: visible; }", "thead { display: table-header-group; }",
                 "@page { size: landscape;", "white-space: normal;", "table { width: 100%;"):
        assert rule in printed, rule


def test_a_settlement_of_nothing_is_not_drawn_as_an_unpaid_payout(published: Published) -> None:
    """A closed 0.00 period transfers nothing (payout status 'nothing due'): its column is dated by the period's
    end and drawn as settled, not as a hollow 'not paid' one (the chart showed it as a missing payment before)."""
    from spapi_elt.reports.page import payout_charts

    data = report_data(published)
    paid = next(p for p in data.payouts if p["payout_status"] == "paid")
    nothing = {**paid, "settlement_id": "0000000001", "payout_status": "nothing due", "transferred_amount": None,
               "settlement_total_amount": Decimal("0.00"), "fund_transfer_status": "Unknown", "deposit_date": None,
               "group_end_at": datetime(2026, 2, 27, 7, 21)}
    (chart,) = [c for c in payout_charts(dataclasses.replace(data, payouts=[nothing])) if paid["currency"] in c]
    assert "not paid" not in chart and "2026-02-27" in chart and "nothing to transfer" in chart
    failed = {**nothing, "payout_status": "failed", "settlement_total_amount": Decimal("12.00")}
    (chart,) = [c for c in payout_charts(dataclasses.replace(data, payouts=[failed])) if paid["currency"] in c]
    assert "not paid" in chart
