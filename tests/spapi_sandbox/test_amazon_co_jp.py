"""An Amazon.co.jp seller, when a world asks for one (`--regions ... FE`): JPY in whole yen, settlement documents in
Shift_JIS (cp932) with year-first slashed dates, Japanese SKUs; and default worlds without one, as before."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from spapi_sandbox.cli import build_parser, data_arguments
from spapi_sandbox.generate import build_world
from spapi_sandbox.launcher import data_options
from spapi_sandbox.report_documents import (
    ALL_ORDERS,
    MERCHANT_LISTINGS,
    DocumentScope,
    document_charset,
    render_report,
)
from spapi_sandbox.settlement_file import content_type, render_settlement
from spapi_sandbox.truth import truth
from spapi_sandbox.world import DataArguments

JP = "A1VC38T7YXB528"
ARGS = DataArguments(seed=5, sellers=3, start="2026-01-01", days=45, orders_per_day=6, regions=("NA", "EU", "FE"))


@pytest.fixture(scope="module")
def world():
    return build_world(ARGS)


def settlement_rows(document: bytes) -> list[dict[str, str]]:
    text = document.decode("cp932")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


def test_the_third_seller_is_a_far_east_seller_and_the_others_are_those_of_the_default_world(world) -> None:
    default = build_world(DataArguments(seed=5, sellers=2, start="2026-01-01", days=45, orders_per_day=6))
    assert [s.account.region for s in world.sellers] == ["NA", "EU", "FE"]
    assert world.sellers[2].account.marketplace_codes == ("JP",)
    for mine, theirs in zip(world.sellers, default.sellers, strict=False):  # a seller's story is its own
        assert mine.account.seller_id == theirs.account.seller_id
        assert [o.order_id for o in mine.orders] == [o.order_id for o in theirs.orders]
        assert [render_settlement(s) for s in mine.settlements] == [render_settlement(s) for s in theirs.settlements]
    facts = truth(world)
    assert facts["accounts"][2]["region"] == "FE" and facts["accounts"][2]["marketplace_ids"] == [JP]
    assert facts["arguments"]["regions"] == ["NA", "EU", "FE"]


def test_a_jp_settlement_is_shift_jis_whole_yen_and_adds_up(world) -> None:
    seller = world.sellers[2]
    closed = [s for s in seller.settlements if s.closed]
    assert len(closed) >= 2
    skus = set()
    for settlement in closed:
        document = render_settlement(settlement)
        assert content_type(settlement) == "text/plain; charset=Shift_JIS"
        with pytest.raises(UnicodeDecodeError):
            document.decode("utf-8")  # Japanese SKUs in Shift_JIS bytes: not UTF-8
        summary, *lines = settlement_rows(document)
        assert summary["currency"] == "JPY" and summary["total-amount"] == str(settlement.total)
        for field in ("settlement-start-date", "settlement-end-date", "deposit-date"):
            assert re.fullmatch(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} UTC", summary[field])
        assert all(re.fullmatch(r"-?\d+", line["amount"]) for line in lines)  # whole yen, never "19.80"
        assert sum(int(line["amount"]) for line in lines) == settlement.total
        assert len(lines) == settlement.line_count
        assert {line["marketplace-name"] for line in lines} <= {"Amazon.co.jp", ""}
        skus |= {line["sku"] for line in lines if line["sku"]}
    assert skus and all(re.fullmatch(r"S2-[^\x00-\x7f]+-\d{3}(-Ⅱ)?", sku) for sku in skus)
    assert any(sku.endswith("Ⅱ") for sku in skus)  # a character only cp932 (Windows-31J) has
    with pytest.raises(UnicodeEncodeError):
        "Ⅱ".encode("shift_jis")


def test_jp_truth_and_reports_write_whole_yen(world) -> None:
    seller = world.sellers[2]
    facts = truth(world)
    jp = [s for s in facts["settlements"] if s["marketplace_id"] == JP]
    assert jp and all(s["currency"] == "JPY" and re.fullmatch(r"-?\d+", s["total"]) for s in jp)
    by_id = {s.settlement_id: s.total for s in seller.settlements}
    assert all(Decimal(s["total"]) == by_id[s["settlement_id"]] for s in jp)
    scope = DocumentScope((JP,), 0, world.now)
    orders = list(csv.DictReader(io.StringIO(render_report(ALL_ORDERS, seller, scope).decode()), delimiter="\t"))
    assert orders and {o["currency"] for o in orders} == {"JPY"} and {o["sales-channel"] for o in orders} == {
        "Amazon.co.jp"}
    prices = {(o["amazon-order-id"], o["sku"]): o["item-price"] for o in orders}
    expected = {(o.order_id, i.sku): str(i.item_price) for o in seller.orders for i in o.items}
    assert all(prices[key] == expected[key] for key in prices)
    listings = list(csv.DictReader(io.StringIO(render_report(MERCHANT_LISTINGS, seller, scope).decode("cp932")),
                                   delimiter="\t"))
    assert listings and all(re.fullmatch(r"\d+80", row["price"]) for row in listings)  # 1,980 yen, not 19.80


def test_a_jp_listings_report_is_shift_jis_and_other_reports_utf8(world) -> None:
    seller, jp, us = world.sellers[2], DocumentScope((JP,), 0, world.now), DocumentScope(("ATVPDKIKX0DER",), 0, 1)
    assert document_charset(MERCHANT_LISTINGS, jp) == "Shift_JIS"
    assert document_charset(ALL_ORDERS, jp) == document_charset(MERCHANT_LISTINGS, us) == "UTF-8"
    listings = render_report(MERCHANT_LISTINGS, seller, jp)
    with pytest.raises(UnicodeDecodeError):
        listings.decode("utf-8")
    assert {p.sku for p in seller.products} <= set(listings.decode("cp932").split("\t"))
    render_report(ALL_ORDERS, seller, jp).decode("utf-8")  # JP order reports are UTF-8 since 2021 (charsets.py)


def test_regions_on_the_command_line() -> None:
    ns = build_parser().parse_args(["truth", "--out", "-", "--sellers", "3", "--regions", "na,eu,FE"])
    assert data_arguments(ns).regions == ("NA", "EU", "FE")
    assert data_arguments(build_parser().parse_args(["truth", "--out", "-"])) == DataArguments()
    assert data_options(ARGS)[-2:] == ["--regions", "NA,EU,FE"]
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["truth", "--out", "-", "--regions", "NA,XX"])
    assert exited.value.code == 2
