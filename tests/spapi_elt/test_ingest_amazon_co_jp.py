"""An Amazon.co.jp seller end to end: the sandbox serves its settlement documents in Shift_JIS (cp932 bytes, not
UTF-8) with whole-yen amounts, and the product's ingest of its settlements loads every line, in JPY, with each
settlement's lines summing to its total, Japanese SKUs intact and nothing quarantined; its Shift_JIS listings
report loads too."""

from __future__ import annotations

import gzip
from decimal import Decimal
from urllib.parse import quote

import httpx
import pytest

from spapi_elt.lakehouse import DATASET
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments
from tests.conftest import running_sandbox
from tests.spapi_elt.ingest_helpers import data_tables, query, run_ingest

pytestmark = pytest.mark.integration

JP = "A1VC38T7YXB528"
SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ARGS = DataArguments(seed=5, sellers=1, start="2026-01-01", days=45, orders_per_day=6, regions=("FE",))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One FE sandbox: a settlement document fetched as a client would, then the ingest of `settlements`."""
    lakehouse = tmp_path_factory.mktemp("jp") / "lakehouse.duckdb"
    with running_sandbox(ARGS, time_scale=300.0) as sandbox:
        with sandbox.client(headers={"x-amz-access-token": sandbox.access_token()}) as http:
            listed = http.get("/reports/2021-06-30/reports", params={
                "reportTypes": SETTLEMENT_REPORT, "createdSince": "2025-12-01T00:00:00Z"}).json()["reports"]
            document = http.get(f"/reports/2021-06-30/documents/{listed[-1]['reportDocumentId']}").json()
            participations = http.get("/sellers/v1/marketplaceParticipations").json()["payload"]
            product = sandbox.world.sellers[0].products[0]
            fees = http.post(f"/products/fees/v0/listings/{quote(product.sku, safe='')}/feesEstimate", json={
                "FeesEstimateRequest": {"MarketplaceId": JP, "Identifier": "jp-1", "PriceToEstimateFees": {
                    "ListingPrice": {"CurrencyCode": "JPY", "Amount": product.prices["JP"]}}}}).json()
        download = httpx.get(document["url"], timeout=30)
        result = run_ingest(sandbox, lakehouse, resources=["settlements", "listings"])
        yield {"listed": listed, "document": document, "download": download, "participations": participations,
               "fees": fees, "product": product,
               "result": result, "lakehouse": lakehouse, "truth": truth(sandbox.world), "world": sandbox.world}


def test_the_jp_settlement_document_is_served_in_shift_jis(loaded) -> None:
    assert [p["marketplace"]["id"] for p in loaded["participations"]] == [JP]
    assert loaded["participations"][0]["marketplace"]["defaultCurrencyCode"] == "JPY"
    assert {tuple(r["marketplaceIds"]) for r in loaded["listed"]} == {(JP,)}
    assert loaded["document"]["reportDocumentId"].startswith("amzn1.spdoc.1.4.fe.")
    download = loaded["download"]
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/plain; charset=Shift_JIS"
    body = gzip.decompress(download.content)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # really Shift_JIS: Japanese SKUs are not valid UTF-8 bytes
    text = body.decode("cp932")
    summary = text.split("\n")[1].split("\t")
    assert summary[5] == "JPY" and summary[4].lstrip("-").isdigit()  # whole yen
    assert "Amazon.co.jp" in text and any("\u3000" < ch < "\u9fff" for ch in text)  # kana/kanji came through


def test_a_fees_estimate_for_a_japanese_sku_in_whole_yen(loaded) -> None:
    result = loaded["fees"]["payload"]["FeesEstimateResult"]
    assert result["Status"] == "Success", result  # the percent-encoded SKU in the path found its product
    assert result["FeesEstimateIdentifier"]["IdValue"] == loaded["product"].sku
    total = result["FeesEstimate"]["TotalFeesEstimate"]
    assert total["CurrencyCode"] == "JPY" and isinstance(total["Amount"], int)


def test_the_ingest_loads_every_jp_settlement_line_and_each_adds_up(loaded) -> None:
    lakehouse, facts = loaded["lakehouse"], loaded["truth"]
    assert loaded["result"].failures == []
    expected = {s["settlement_id"]: (Decimal(s["total"]), s["lines"]) for s in facts["settlements"]}
    assert len(expected) >= 2 and all(s["currency"] == "JPY" for s in facts["settlements"])
    reports = {sid: (total, lines) for sid, total, lines in query(
        lakehouse, f"select settlement_id, total_amount, line_count from {DATASET}.settlement_reports")}
    assert reports == expected
    sums = dict(query(lakehouse, f"select settlement_id, sum(amount) from {DATASET}.settlement_lines group by 1"))
    assert sums == {sid: total for sid, (total, _) in expected.items()}
    formats = query(lakehouse, f"select distinct currency, number_format, quarantined_lines "
                               f"from {DATASET}.settlement_reports")
    assert formats == [("JPY", "JP", 0)]
    assert "flat_file_quarantine" not in data_tables(lakehouse) or query(
        lakehouse, f"select count(*) from {DATASET}.flat_file_quarantine") == [(0,)]


def test_japanese_skus_and_jp_lines_come_out_as_the_sandbox_wrote_them(loaded) -> None:
    lakehouse, seller = loaded["lakehouse"], loaded["world"].sellers[0]
    loaded_skus = {r[0] for r in query(lakehouse, f"select distinct sku from {DATASET}.settlement_lines "
                                                  "where sku is not null")}
    settled = {p.sku for s in seller.settlements if s.closed for p in s.postings if p.sku}
    assert loaded_skus == settled and any(sku.endswith("Ⅱ") for sku in loaded_skus)
    marketplaces = query(lakehouse, f"select distinct marketplace_id from {DATASET}.settlement_lines")
    assert marketplaces == [(JP,)]
    principal = query(lakehouse, f"select amount from {DATASET}.settlement_lines where amount_type = 'ItemPrice' "
                                 "and amount_description = 'Principal' order by posted_at limit 1")[0][0]
    first = min((p for s in seller.settlements if s.closed for p in s.postings if p.transaction_type == "Order"
                 and any(c.description == "Principal" for c in p.components)), key=lambda p: p.posted_at)
    assert principal == Decimal(next(c.amount for c in first.components if c.description == "Principal"))


def test_the_shift_jis_listings_report_loads_with_japanese_skus_and_yen_prices(loaded) -> None:
    seller = loaded["world"].sellers[0]
    rows = dict(query(loaded["lakehouse"], f"select seller_sku, price from {DATASET}.listings "
                                           "where marketplace_id = ?", [JP]))
    assert rows == {p.sku: Decimal(p.prices["JP"]) for p in seller.products}  # 1980 yen, not 19.80
