"""Shared pieces of the API handlers: renderers, page tokens and parameter validation (no server)."""

from __future__ import annotations

import pytest

from spapi_sandbox.api.paging import decode_token, encode_token, paginate, scan_page
from spapi_sandbox.api.params import enum_list, integer, marketplaces, timestamp, window
from spapi_sandbox.http import ApiError, Request
from spapi_sandbox.render import (
    currency_finances_2024,
    currency_finances_v0,
    decimal_num,
    decimal_str,
    iso,
    money_fees_v0,
    money_orders_2026,
    money_orders_v0,
    parse_iso,
    to_minor,
)
from spapi_sandbox.world import Account, SellerWorld


def request(**query: str) -> Request:
    return Request("GET", "/x", {k: [v] for k, v in query.items()}, {}, b"", seller_id="A1")


def seller(codes: tuple[str, ...] = ("US", "CA")) -> SellerWorld:
    account = Account(0, "A1", "Shop", "NA", codes, "id", "secret", "Atzr|x", "2026-01-01")
    return SellerWorld(account, [], [], [], [], [], [])


def test_times_render_as_amazons_utc_iso_8601():
    assert iso(1767322800 + 3845) == "2026-01-02T04:04:05Z"
    for text in ("2026-01-02T04:04:05Z", "2026-01-02T05:04:05+01:00", "2026-01-02T04:04:05.250Z",
                 "2026-01-02T04:04:05", "2026-01-02T04:04:05+0000"):
        assert parse_iso(text) == 1767322800 + 3845, text
    assert parse_iso("2026-01-02") == 1767312000
    for bad in ("yesterday", "2026-13-01", "02.01.2026", "2026-01-02T25:00:00Z", ""):
        with pytest.raises(ValueError):
            parse_iso(bad)


def test_amounts_render_exactly_in_each_models_money_shape():
    assert decimal_str(1234, "USD") == "12.34"
    assert decimal_str(-5, "EUR") == "-0.05"
    assert decimal_str(0, "GBP") == "0.00"
    assert decimal_str(1234, "JPY") == "1234"
    assert decimal_num(1999, "USD") == 19.99 and decimal_num(-1, "USD") == -0.01
    assert money_orders_v0(1999, "USD") == {"CurrencyCode": "USD", "Amount": "19.99"}
    assert money_orders_2026(1999, "CAD") == {"amount": "19.99", "currencyCode": "CAD"}
    assert currency_finances_v0(-250, "GBP") == {"CurrencyCode": "GBP", "CurrencyAmount": -2.5}
    assert currency_finances_2024(250, "EUR") == {"currencyCode": "EUR", "currencyAmount": 2.5}
    assert money_fees_v0(30, "USD") == {"CurrencyCode": "USD", "Amount": 0.3}


def test_amounts_parse_back_to_minor_units_or_fail():
    assert to_minor(19.99, "USD") == 1999
    assert to_minor("0.1", "USD") == 10
    assert to_minor(25, "EUR") == 2500
    for bad in ("1.234", "abc", float("nan")):
        with pytest.raises(ValueError):
            to_minor(bad, "USD")


def test_page_tokens_are_deterministic_opaque_and_checked():
    query = {"after": 1, "markets": ["US"]}
    token = encode_token("searchOrders", query, 100)
    assert token == encode_token("searchOrders", dict(reversed(query.items())), 100)
    assert "markets" not in token and "=" not in token
    assert decode_token("searchOrders", token) == (query, 100)
    with pytest.raises(ApiError) as other_operation:
        decode_token("getOrders", token, "NextToken")
    assert other_operation.value.status == 400 and "NextToken" in other_operation.value.message
    mine = encode_token("searchOrders", query, 100, "A1")
    assert decode_token("searchOrders", mine, owner="A1") == (query, 100)
    with pytest.raises(ApiError):  # another seller's token
        decode_token("searchOrders", mine, owner="A2")
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    for bad in (tampered, "not a token", ""):
        with pytest.raises(ApiError):
            decode_token("searchOrders", bad)


def test_pages_cover_every_item_once():
    items = list(range(25))
    first = paginate("op", {}, items, 0, 10)
    assert first.items == list(range(10)) and first.previous_token is None
    _, offset = decode_token("op", first.next_token)
    last = paginate("op", {}, items, 20, 10)
    assert offset == 10 and last.items == list(range(20, 25)) and last.next_token is None
    with pytest.raises(ApiError):
        paginate("op", {}, items, 26, 10)


def test_scan_pages_stop_at_the_next_match():
    items = list(range(20))
    page, resume = scan_page(items, 0, 20, lambda n: n % 3 == 0, 3)
    assert page == [0, 3, 6] and resume == 9
    page, resume = scan_page(items, resume, 20, lambda n: n % 3 == 0, 3)
    assert page == [9, 12, 15] and resume == 18
    page, resume = scan_page(items, resume, 20, lambda n: n % 3 == 0, 3)
    assert page == [18] and resume is None
    assert scan_page(items, 0, 10, lambda n: n > 15, 5) == ([], None)


def test_marketplaces_must_exist_and_belong_to_the_seller():
    us = marketplaces(request(marketplaceIds="ATVPDKIKX0DER,A2EUQ1WTGCTBG2"), seller(), "marketplaceIds")
    assert [m.code for m in us] == ["US", "CA"]
    assert [m.code for m in marketplaces(request(), seller(), "marketplaceIds", required=False)] == ["US", "CA"]
    for value, message in (("NOPE", "not a valid marketplace"),
                           ("A1PA6795UKMFR9", "not registered in marketplace")):
        with pytest.raises(ApiError) as error:
            marketplaces(request(marketplaceIds=value), seller(), "marketplaceIds")
        assert error.value.status == 400 and error.value.code == "InvalidInput" and message in error.value.message
    with pytest.raises(ApiError, match="Missing required parameter: MarketplaceIds"):
        marketplaces(request(), seller(), "MarketplaceIds")
    with pytest.raises(ApiError, match="at most 1"):
        marketplaces(request(m="x", marketplaceIds="ATVPDKIKX0DER,A2EUQ1WTGCTBG2"), seller(), "marketplaceIds",
                     max_items=1)


def test_parameters_are_validated_with_amazon_like_messages():
    assert integer(request(), "maxResultsPerPage", 100, 1, 100) == 100
    assert integer(request(maxResultsPerPage="7"), "maxResultsPerPage", 100, 1, 100) == 7
    for value in ("0", "101", "ten"):
        with pytest.raises(ApiError, match="maxResultsPerPage"):
            integer(request(maxResultsPerPage=value), "maxResultsPerPage", 100, 1, 100)
    assert enum_list(request(s="A,B,A"), "s", ("A", "B")) == ["A", "B"]
    with pytest.raises(ApiError, match="'C' is not one of A, B"):
        enum_list(request(s="A,C"), "s", ("A", "B"))
    assert timestamp(request(), "createdAfter") is None
    with pytest.raises(ApiError, match="createdAfter"):
        timestamp(request(createdAfter="2026-02-30"), "createdAfter")


def test_time_windows_are_capped_at_the_sandbox_clock():
    assert window(100, None, 1000, "a", "b") == 1000
    assert window(100, 5000, 1000, "a", "b") == 1000  # a bound in the sandbox's future is capped
    assert window(100, 500, 1000, "a", "b") == 500
    with pytest.raises(ApiError, match="b: it must be equal to or after a"):
        window(600, 500, 1000, "a", "b")
    with pytest.raises(ApiError, match="a: the date is in the future"):
        window(2000, None, 1000, "a", "b")
