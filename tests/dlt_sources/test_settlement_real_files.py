"""Settlement documents shaped like real ones (the quirks come from real files described in the issue):
FBA Liquidations lines one field short, UK dot dates with dot decimals, an EU seller's EUR settlement
with Amazon.fr and Non-Amazon (Multi-Channel Fulfilment) lines, Cp1252 and UTF-8-with-BOM documents, and an
Amazon.co.jp JPY settlement (whole yen, `2026/09/07 00:20:09 UTC` dates) in Shift_JIS or UTF-8 with a BOM.

Each document is small and written by hand, field by field, as the real files lay them out: every line
loads, the lines sum to total-amount and each line gets its marketplace.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dlt_sources.spapi.flatfiles import parse_settlement

HEADER = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
    "currency", "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
    "marketplace-name", "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date",
    "posted-date-time", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku",
    "quantity-purchased", "promotion-id",
)
US, CA, UK, DE, FR = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"
JP = "A1VC38T7YXB528"


def summary(sid: str, start: str, end: str, deposit: str, total: str, currency: str) -> str:
    return "\t".join((sid, start, end, deposit, total, currency) + ("",) * 18)


def line(sid: str, ttype: str, order_id: str, marketplace: str, amount_type: str, description: str, amount: str,
         posted: str, posted_time: str, sku: str = "", quantity: str = "", fulfillment: str = "AFN",
         trailing: bool = True) -> str:
    """A detail line; trailing=False omits the last (promotion-id) field as FBA Liquidations lines do."""
    fields = [sid, "", "", "", "", "", ttype, order_id, "", "", "", marketplace, amount_type, description, amount,
              fulfillment, posted, posted_time, "", "", "", sku, quantity, ""]
    return "\t".join(fields if trailing else fields[:-1])


def document(*lines: str, encoding: str = "utf-8", bom: bool = False, newline: str = "\n") -> bytes:
    data = newline.join(("\t".join(HEADER), *lines)).encode(encoding) + newline.encode()
    return (b"\xef\xbb\xbf" if bom else b"") + data


def parse(data: bytes, **options):
    parsed = parse_settlement(io.BytesIO(data), seller_id="A1SELLER", **options)
    rows = [row for table in parsed.lines for row in table.to_pylist()]
    return parsed, rows


def assert_reconciles(parsed, rows, count: int) -> None:
    assert parsed.quarantine == []
    assert len(rows) == count
    assert sum(r["amount"] for r in rows) == parsed.summary["total_amount"] == parsed.stats.amount_sum


# --- Amazon.com: FBA Liquidations lines omit the trailing promotion-id field ---------------------------


def us_liquidations() -> bytes:
    sid = "24087615392"
    t = "2024-10-05 09:12:44 UTC"
    return document(
        summary(sid, "2024-09-25 14:28:38 UTC", "2024-10-09 14:28:38 UTC", "2024-10-11 14:28:38 UTC", "38.07",
                "USD"),
        line(sid, "Order", "113-1234567-1234567", "Amazon.com", "ItemPrice", "Principal", "24.99", "2024-10-01",
             "2024-10-01 17:03:11 UTC", "SKU-1", "1"),
        line(sid, "Order", "113-1234567-1234567", "Amazon.com", "ItemFees", "Commission", "-3.75", "2024-10-01",
             "2024-10-01 17:03:11 UTC", "SKU-1"),
        line(sid, "Liquidations", "", "", "ItemPrice", "Principal", "19.54", "2024-10-05", t, "SKU-2", "2",
             trailing=False),
        line(sid, "Liquidations", "", "", "ItemFees", "LiquidationsBrokerageFee", "-2.71", "2024-10-05", t,
             "SKU-2", trailing=False),
    )


def test_short_liquidations_lines_load_with_the_missing_field_empty() -> None:
    parsed, rows = parse(us_liquidations(), marketplace_id=US)
    assert_reconciles(parsed, rows, 4)
    assert parsed.stats.short_lines == 2
    liquidations = [r for r in rows if r["transaction_type"] == "Liquidations"]
    assert [(r["line_number"], r["amount"], r["promotion_id"]) for r in liquidations] == [
        (5, Decimal("19.54"), None), (6, Decimal("-2.71"), None)]
    assert {r["marketplace_id"] for r in rows} == {US}  # empty marketplace-name: the report's marketplace
    assert liquidations[0]["quantity_purchased"] == 2


def test_a_line_with_too_many_fields_or_a_bad_amount_is_still_quarantined() -> None:
    lines = us_liquidations().decode().rstrip("\n").split("\n")
    lines[3] += "\textra"  # 25 fields
    fields = lines[4].split("\t")
    fields[HEADER.index("amount")] = "19,5x"
    lines[4] = "\t".join(fields)  # a short line whose amount does not parse
    parsed, rows = parse(("\n".join(lines) + "\n").encode(), marketplace_id=US)
    reasons = {q["line_number"]: q["reason"] for q in parsed.quarantine}
    assert sorted(reasons) == [4, 5]
    assert "expected 24 fields, found 25" in reasons[4]
    assert "amount: not a valid decimal" in reasons[5]
    assert [r["line_number"] for r in rows] == [3, 6]


def test_a_short_line_that_lost_its_amount_is_quarantined() -> None:
    sid = "1"
    data = document(summary(sid, "2024-09-25 14:28:38 UTC", "2024-10-09 14:28:38 UTC", "", "0.00", "USD"),
                    "\t".join([sid, "", "", "", "", "", "Order", "113-1"]))
    parsed, rows = parse(data)
    assert rows == [] and "amount: missing" in parsed.quarantine[0]["reason"]


# --- Amazon.co.uk: dates with dots, amounts with a point ----------------------------------------------


def uk_file() -> bytes:
    sid = "13587246091"
    return document(
        summary(sid, "01.11.2024 08:59:45 UTC", "15.11.2024 08:59:45 UTC", "17.11.2024 08:59:45 UTC", "253.43",
                "GBP"),
        line(sid, "Order", "202-1234567-1234567", "Amazon.co.uk", "ItemPrice", "Principal", "289.99", "03.11.2024",
             "03.11.2024 21:14:02 UTC", "SKU-UK", "1"),
        line(sid, "Order", "202-1234567-1234567", "Amazon.co.uk", "ItemFees", "Commission", "-43.50", "03.11.2024",
             "03.11.2024 21:14:02 UTC", "SKU-UK"),
        line(sid, "other-transaction", "", "", "other-transaction", "Subscription Fee", "-30.00", "15.11.2024",
             "15.11.2024 08:59:44 UTC"),
        line(sid, "Order", "", "Non-Amazon UK", "FBA Fees", "FBAPerUnitFulfillmentFee", "-2.94", "04.11.2024",
             "04.11.2024 10:00:00 UTC", "SKU-UK", fulfillment="AFN"),
        line(sid, "Liquidations", "", "", "ItemPrice", "Principal", "40.00", "05.11.2024",
             "05.11.2024 11:00:00 UTC", "SKU-UK", "1", trailing=False),
        line(sid, "Liquidations", "", "", "ItemFees", "LiquidationsBrokerageFee", "-0.12", "05.11.2024",
             "05.11.2024 11:00:00 UTC", "SKU-UK", trailing=False),
    )


@pytest.mark.parametrize("marketplace_id", [UK, None])
def test_uk_dot_dates_with_point_decimals(marketplace_id: str | None) -> None:
    parsed, rows = parse(uk_file(), marketplace_id=marketplace_id)
    assert_reconciles(parsed, rows, 6)
    assert parsed.summary["total_amount"] == Decimal("253.43")
    assert parsed.summary["settlement_end_at"] == datetime(2024, 11, 15, 8, 59, 45, tzinfo=UTC)
    assert parsed.locale.code == "UK" and not parsed.locale.decimal_comma
    assert rows[0]["amount"] == Decimal("289.99") and rows[0]["posted_at"] == datetime(2024, 11, 3, 21, 14, 2,
                                                                                         tzinfo=UTC)
    assert {r["marketplace_id"] for r in rows if r["marketplace_name"] == "Non-Amazon UK"} == {UK}


# --- an EU seller's EUR settlement, reported for Amazon.de ---------------------------------------------


def de_file(**options) -> bytes:
    sid = "11650523611"
    t = "11.10.2024 08:59:52 UTC"
    return document(
        summary(sid, "27.09.2024 08:59:52 UTC", "11.10.2024 08:59:52 UTC", "13.10.2024 08:59:52 UTC", "95,00",
                "EUR"),
        line(sid, "Order", "302-1111111-1111111", "Amazon.de", "ItemPrice", "Principal", "59,90", "02.10.2024",
             "02.10.2024 12:00:00 UTC", "SKU-Ä", "1"),
        line(sid, "Order", "402-2222222-2222222", "Amazon.fr", "ItemPrice", "Principal", "49,90", "03.10.2024",
             "03.10.2024 12:00:00 UTC", "SKU-FR", "1"),
        line(sid, "Order", "402-2222222-2222222", "Amazon.fr", "ItemFees", "Commission", "-7,49", "03.10.2024",
             "03.10.2024 12:00:00 UTC", "SKU-FR"),
        line(sid, "Order", "171-3333333-3333333", "Non-Amazon US", "ItemFees", "FBAPerUnitFulfillmentFee", "-3,22",
             "04.10.2024", "04.10.2024 12:00:00 UTC", "SKU-FR"),
        line(sid, "Order", "", "Non-Amazon CA", "ItemFees", "FBAPerUnitFulfillmentFee", "-1,00", "04.10.2024",
             "04.10.2024 12:00:00 UTC", "SKU-FR"),
        line(sid, "Order", "", "amazon.it", "ItemPrice", "Principal", "10,00", "05.10.2024",
             "05.10.2024 12:00:00 UTC", "SKU-IT", "1"),
        line(sid, "other-transaction", "", "", "other-transaction", "Gebühr für Lagerung", "-13,19", "11.10.2024", t),
        line(sid, "Order", "", "Amazon.xx", "ItemPrice", "Principal", "0,10", "05.10.2024",
             "05.10.2024 12:00:00 UTC", "SKU-XX", "1"),
        **options,
    )


def test_de_file_lines_get_the_marketplace_they_name() -> None:
    parsed, rows = parse(de_file(), marketplace_id=DE)
    assert_reconciles(parsed, rows, 8)
    assert parsed.locale.code == "DE"
    by_name = {r["marketplace_name"]: r["marketplace_id"] for r in rows}
    assert by_name == {"Amazon.de": DE, "Amazon.fr": FR, "Non-Amazon US": US, "Non-Amazon CA": CA,
                       "amazon.it": "APJ6JRA9NG5V4",  # names match ignoring case
                       None: DE,  # an empty name: the report's marketplace
                       "Amazon.xx": None}  # a storefront we do not know: no marketplace rather than a wrong one
    assert [r["sku"] for r in rows[:1]] == ["SKU-Ä"]


# --- charsets ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["Cp1252", "windows-1252", "ISO-8859-1"])
def test_a_cp1252_document_with_non_ascii_sku_and_description(label: str) -> None:
    data = de_file(encoding="cp1252")
    assert "Ä".encode("cp1252") in data and "Ä".encode() not in data
    parsed, rows = parse(data, charset=label, marketplace_id=DE)
    assert_reconciles(parsed, rows, 8)
    assert rows[0]["sku"] == "SKU-Ä" and rows[-2]["amount_description"] == "Gebühr für Lagerung"


@pytest.mark.parametrize("label", ["utf-8", "Cp1252", None])
def test_a_utf8_document_with_a_byte_order_mark(label: str | None) -> None:
    """The BOM says UTF-8 whatever the label: without sniffing it the header's first name would not match."""
    parsed, rows = parse(de_file(bom=True, newline="\r\n"), charset=label, marketplace_id=DE)
    assert_reconciles(parsed, rows, 8)
    assert rows[0]["sku"] == "SKU-Ä" and rows[0]["settlement_id"] == "11650523611"


@pytest.mark.parametrize("label", ["Shift_JIS", "Windows-31J", "cp932"])
def test_an_amazon_co_jp_document_in_shift_jis(label: str) -> None:
    sid = "5012345678"
    data = document(
        summary(sid, "2024-10-01 00:00:00 UTC", "2024-10-15 00:00:00 UTC", "2024-10-17 00:00:00 UTC", "1980",
                "JPY"),
        line(sid, "Order", "250-1234567-1234567", "Amazon.co.jp", "ItemPrice", "Principal", "2200", "2024-10-02",
             "2024-10-02 03:00:00 UTC", "SKU-①-和", "1"),  # ① exists in cp932, not in plain Shift_JIS
        line(sid, "Order", "250-1234567-1234567", "Amazon.co.jp", "ItemFees", "Commission", "-220", "2024-10-02",
             "2024-10-02 03:00:00 UTC", "SKU-①-和"),
        encoding="cp932")
    parsed, rows = parse(data, charset=label)
    assert_reconciles(parsed, rows, 2)
    assert rows[0]["sku"] == "SKU-①-和" and rows[0]["marketplace_id"] == "A1VC38T7YXB528"


# Amazon.co.jp V2 files as a Japanese seller's ingest reads them (apps/warehouse/amazon-settlement-v2.js, public):
# dates `2026/09/07 00:20:09 UTC`, whole-yen amounts (`-115`), English amount descriptions (`Base fee`, `Points`),
# storefront Amazon.co.jp. Japanese text comes in where the seller writes it: the SKU. `～` (FULLWIDTH TILDE) and
# `Ⅱ` are Microsoft's cp932 (Windows-31J) forms, which plain Shift_JIS decodes differently or not at all.
JP_SKUS = ("手ぬぐい～紺", "湯のみⅡ-白")


def jp_file(dates: str = "%Y/%m/%d", **options) -> bytes:
    def at(day: int, time: str = "00:20:09") -> str:
        return datetime(2026, 9, day).strftime(dates) + f" {time} UTC"

    sid = "12318876543"
    order = "250-1234567-7654321"
    return document(
        summary(sid, at(7), at(21), at(23), "1297", "JPY"),
        line(sid, "Order", order, "Amazon.co.jp", "ItemPrice", "Principal", "1980", at(9)[:10], at(9, "03:12:45"),
             JP_SKUS[0], "1"),
        line(sid, "Order", order, "Amazon.co.jp", "ItemFees", "Commission", "-198", at(9)[:10], at(9, "03:12:45"),
             JP_SKUS[0]),
        line(sid, "Order", order, "Amazon.co.jp", "ItemFees", "FBAPerUnitFulfillmentFee", "-318", at(9)[:10],
             at(9, "03:12:45"), JP_SKUS[0]),
        line(sid, "Order", order, "Amazon.co.jp", "Points", "PointsGranted", "-20", at(9)[:10], at(9, "03:12:45"),
             JP_SKUS[0]),
        line(sid, "Order", "503-7654321-1234567", "Amazon.co.jp", "ItemPrice", "Principal", "4980", at(12)[:10],
             at(12, "11:00:00"), JP_SKUS[1], "2"),
        line(sid, "Order", "503-7654321-1234567", "Amazon.co.jp", "ItemFees", "Commission", "-498", at(12)[:10],
             at(12, "11:00:00"), JP_SKUS[1]),
        line(sid, "other-transaction", "", "", "other-transaction", "Subscription Fee", "-4900", at(20)[:10],
             at(20, "15:00:00")),
        line(sid, "FBAFees", "", "", "FBA Inventory Storage Fee", "Base fee", "-115", at(20)[:10],
             at(20, "15:00:00")),
        line(sid, "FBAFees", "", "", "FBA Inventory Storage Fee", "Tax on fee", "-12", at(20)[:10],
             at(20, "15:00:00")),
        line(sid, "other-transaction", "", "", "other-transaction", "Current Reserve Amount", "398", at(21)[:10],
             at(21, "00:20:08")),
        **options,
    )


def assert_jp_settlement(parsed, rows, marketplace_id: str | None = JP) -> None:
    assert_reconciles(parsed, rows, 10)
    assert parsed.summary["total_amount"] == Decimal("1297") and parsed.summary["currency"] == "JPY"
    assert [r["amount"] for r in rows[:4]] == [Decimal("1980"), Decimal("-198"), Decimal("-318"), Decimal("-20")]
    assert {r["sku"] for r in rows if r["sku"]} == set(JP_SKUS)  # the characters came out as they went in
    assert {r["marketplace_id"] for r in rows if r["marketplace_name"]} == {JP}  # Amazon.co.jp
    assert {r["marketplace_id"] for r in rows if not r["marketplace_name"]} == {marketplace_id}  # the report's
    assert all(r["currency"] == "JPY" for r in rows)
    assert rows[4]["quantity_purchased"] == 2


@pytest.mark.parametrize("label", ["Shift_JIS", "Windows-31J", "x-sjis", "MS932"])
@pytest.mark.parametrize("marketplace_id", [JP, None])
def test_an_amazon_co_jp_settlement_in_shift_jis_with_whole_yen(label: str, marketplace_id: str | None) -> None:
    data = jp_file(encoding="cp932")
    assert JP_SKUS[0].encode("cp932") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really Shift_JIS bytes, not UTF-8 under another label
    parsed, rows = parse(data, charset=label, marketplace_id=marketplace_id)
    assert_jp_settlement(parsed, rows, marketplace_id)
    assert parsed.locale.code == "JP"  # slashed year-first dates; no decimal mark shows: a point
    assert parsed.summary["settlement_start_at"] == datetime(2026, 9, 7, 0, 20, 9, tzinfo=UTC)
    assert rows[0]["posted_at"] == datetime(2026, 9, 9, 3, 12, 45, tzinfo=UTC)
    assert rows[0]["posted_date"] == datetime(2026, 9, 9).date()


@pytest.mark.parametrize("label", ["utf-8", "Shift_JIS", None])
def test_an_amazon_co_jp_settlement_in_utf8_with_a_byte_order_mark(label: str | None) -> None:
    """A JP document may also come as UTF-8 with a BOM (Shift_JIS has none): the BOM wins over any label."""
    parsed, rows = parse(jp_file(bom=True, newline="\r\n"), charset=label, marketplace_id=JP)
    assert_jp_settlement(parsed, rows)


def test_an_amazon_co_jp_settlement_with_amazon_com_style_dates() -> None:
    """Files of the Amazon.com shape (`2026-09-07 00:20:09 UTC`) with whole yen also load."""
    parsed, rows = parse(jp_file(dates="%Y-%m-%d", encoding="cp932"), charset="Shift_JIS", marketplace_id=JP)
    assert_jp_settlement(parsed, rows)
    assert parsed.summary["settlement_end_at"] == datetime(2026, 9, 21, 0, 20, 9, tzinfo=UTC)


# --- older files, and totals that show no decimal mark ---------------------------------------------------


def test_an_older_iso_8601_file() -> None:
    sid = "9001"
    data = document(
        summary(sid, "2025-05-22T22:07:18+00:00", "2025-06-05T22:07:18+00:00", "2025-06-07T22:07:18+00:00",
                "12.50", "USD"),
        line(sid, "Order", "111-1", "Amazon.com", "ItemPrice", "Principal", "12.50", "2025-06-01",
             "2025-06-01T10:00:00+00:00", "SKU", "1"))
    parsed, rows = parse(data, marketplace_id=US)
    assert_reconciles(parsed, rows, 1)
    assert rows[0]["posted_at"] == datetime(2025, 6, 1, 10, tzinfo=UTC)


def test_a_zero_total_takes_the_number_style_from_the_lines() -> None:
    sid = "9002"
    data = document(
        summary(sid, "01.11.2024 08:59:45 UTC", "15.11.2024 08:59:45 UTC", "", "0", "EUR"),
        line(sid, "other-transaction", "", "", "other-transaction", "Storage Fee", "-1,25", "03.11.2024",
             "03.11.2024 21:14:02 UTC"),
        line(sid, "other-transaction", "", "", "other-transaction", "Previous Reserve Amount Balance", "1,25",
             "03.11.2024", "03.11.2024 21:14:02 UTC"))
    parsed, rows = parse(data)  # no marketplace to fall back on: the lines show the decimal comma
    assert_reconciles(parsed, rows, 2)
    assert parsed.locale.decimal_comma


def test_every_amazon_marketplace_name_maps_to_its_marketplace_id() -> None:
    from dlt_sources.spapi.locales import MARKETPLACE_NAMES
    from dlt_sources.spapi.settings import MARKETPLACE_REGIONS

    storefronts = {name for name in MARKETPLACE_NAMES if name.startswith("Amazon.")}
    assert len(storefronts) == 23 and set(MARKETPLACE_NAMES.values()) == set(MARKETPLACE_REGIONS)
    assert MARKETPLACE_NAMES["Amazon.com.be"] == "AMEN7PMS3EDWL" and MARKETPLACE_NAMES["Amazon.sg"] == "A19VAU5U5O7RUS"
    assert MARKETPLACE_NAMES["Non-Amazon UK"] == MARKETPLACE_NAMES["Amazon.co.uk"]


def test_whole_yen_shows_no_decimal_mark_so_the_marketplace_decides() -> None:
    from dlt_sources.spapi.locales import DE, MARKETPLACE_LOCALES, MARKETPLACE_NAMES, detect_locale

    assert MARKETPLACE_NAMES["Amazon.co.jp"] == JP and MARKETPLACE_LOCALES[JP].code == "JP"
    assert detect_locale("2026/09/07 00:20:09 UTC", "1297", ("-198", "0")).code == "JP"
    # no amount shows a mark: the style comes from the marketplace (a point for JP, a comma for Amazon.de)
    assert not detect_locale("2026-09-07 00:20:09 UTC", "1297", ("-198",), MARKETPLACE_LOCALES[JP]).decimal_comma
    assert detect_locale("07.09.2026 00:20:09 UTC", "1297", ("-198",), DE).decimal_comma
