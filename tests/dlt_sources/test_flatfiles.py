"""Flat-file parsing: settlement files and the other reports the sandbox serves, as Amazon writes them.

Documents come from the sandbox (spapi_sandbox is a test peer: the product never imports it), so the
expectations are the generated world's own numbers: totals to the cent, line counts, UTC instants.
"""

from __future__ import annotations

import gzip
import io
import random
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from dlt_sources.spapi.flatfiles import (
    ALL_ORDERS,
    INVENTORY_LEDGER,
    MERCHANT_LISTINGS,
    SETTLEMENT,
    SPECS,
    FlatFileError,
    parse_report,
    parse_settlement,
)
from dlt_sources.spapi.locales import MARKETPLACE_NAMES
from spapi_sandbox import report_documents
from spapi_sandbox.generate import build_world
from spapi_sandbox.marketplaces import MARKETPLACES
from spapi_sandbox.settlement_file import COLUMNS, render_settlement
from spapi_sandbox.world import DataArguments, Settlement, World

ARGUMENTS = DataArguments(seed=7, sellers=2, start="2026-01-01", days=45, orders_per_day=10)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(ARGUMENTS)


def settlements(world: World, code: str) -> list[tuple[str, Settlement]]:
    return [(s.account.seller_id, st) for s in world.sellers for st in s.settlements
            if st.marketplace == code and st.closed]


def settlement(world: World, code: str) -> tuple[str, Settlement]:
    return max(settlements(world, code), key=lambda pair: pair[1].line_count)


def rows_of(parsed) -> list[dict]:
    return [row for table in parsed.lines for row in table.to_pylist()]


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def lines_of(data: bytes) -> list[str]:
    return data.decode("utf-8").split("\n")


def document(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8")


# --- settlements per marketplace ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["US", "CA", "UK", "DE"])
def test_settlement_totals_counts_and_instants_match_the_world(world: World, code: str) -> None:
    market = MARKETPLACES[code]
    assert settlements(world, code)
    for seller_id, st in settlements(world, code):
        parsed = parse_settlement(io.BytesIO(render_settlement(st)), charset=st.charset, seller_id=seller_id,
                                  marketplace_id=market.marketplace_id)
        summary = parsed.summary
        total = Decimal(st.total) / 100
        assert summary["settlement_id"] == st.settlement_id
        assert summary["total_amount"] == total
        assert summary["currency"] == market.currency
        assert summary["settlement_start_at"] == utc(st.start_at)
        assert summary["settlement_end_at"] == utc(st.end_at)
        assert summary["deposit_at"] == utc(st.deposit_at)
        assert parsed.locale.code == code
        rows = rows_of(parsed)
        assert parsed.quarantine == []
        assert len(rows) == st.line_count
        assert sum(r["amount"] for r in rows) == total  # exact: Decimal all the way
        assert parsed.stats.amount_sum == total
        expected = [(p, c) for p in st.postings for c in p.components]
        for number, (row, (posting, component)) in enumerate(zip(rows, expected, strict=True), start=3):
            assert row["line_number"] == number
            assert row["amount"] == Decimal(component.amount) / 100
            assert row["posted_at"] == utc(posting.posted_at)
            assert row["posted_date"] == utc(posting.posted_at).date()
            assert row["transaction_type"] == posting.transaction_type
            assert row["seller_id"] == seller_id
            assert row["currency"] == market.currency
            assert row["settlement_id"] == st.settlement_id
            principal = component.amount_type == "ItemPrice" and component.description == "Principal"
            principal = principal or (posting.marketplace_name or "").startswith("Non-Amazon")  # MCF: a fee line
            assert row["quantity_purchased"] == (posting.quantity if principal else None)
            named = MARKETPLACE_NAMES.get(posting.marketplace_name or "")  # Non-Amazon US lines
            # else the posting's own marketplace: an Amazon.fr order's in Amazon.de's settlement, the settlement's
            # own on an account-level line (the file names none there)
            assert row["marketplace_id"] == (named or MARKETPLACES[posting.marketplace].marketplace_id)


def test_settlement_types_are_exact(world: World) -> None:
    seller_id, st = settlement(world, "DE")
    table = next(iter(parse_settlement(io.BytesIO(render_settlement(st)), seller_id=seller_id).lines))
    schema = table.schema
    assert schema.field("amount").type == pa.decimal128(18, 2)
    assert schema.field("posted_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("posted_date").type == pa.date32()
    assert schema.field("quantity_purchased").type == pa.int64()
    assert schema.field("line_number").type == pa.int64()
    assert not any(pa.types.is_floating(f.type) for f in schema)
    # summary-only columns are not repeated on every line
    assert "total_amount" not in schema.names and "settlement_start_at" not in schema.names


def test_locale_is_detected_from_the_summary_row(world: World) -> None:
    detected = {}
    for code in ("US", "UK", "DE"):
        seller_id, st = settlement(world, code)
        detected[code] = parse_settlement(io.BytesIO(render_settlement(st)), seller_id=seller_id).locale
    assert detected["DE"].decimal_comma and detected["DE"].date_format == "%d.%m.%Y"
    # independent styles, as a real Amazon.co.uk file writes them: 15.11.2024 08:59:45 UTC with 253.43
    assert not detected["UK"].decimal_comma and detected["UK"].date_format == "%d.%m.%Y"
    assert detected["US"].date_format == "%Y-%m-%d"


def test_explicit_wrong_locale_quarantines_instead_of_misreading(world: World) -> None:
    """A DE file read with US rules must not turn 95,00 into 9500: the summary fails loudly."""
    seller_id, st = settlement(world, "DE")
    with pytest.raises(FlatFileError, match="settlement-start-date"):
        parse_settlement(io.BytesIO(render_settlement(st)), seller_id=seller_id, locale="US")


def test_stream_may_be_gzip_and_parsing_is_identical_without_threads(world: World) -> None:
    seller_id, st = settlement(world, "UK")
    data = render_settlement(st)
    with gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data))) as stream:
        threaded = pa.concat_tables(parse_settlement(stream, seller_id=seller_id, block_size=4096).lines)
    plain = pa.concat_tables(parse_settlement(io.BytesIO(data), seller_id=seller_id, threads=False).lines)
    assert threaded.equals(plain)
    assert threaded.num_rows == st.line_count


def test_line_keys_are_stable_for_a_reissued_identical_document(world: World) -> None:
    seller_id, st = settlement(world, "DE")
    data = render_settlement(st)
    first = pa.concat_tables(parse_settlement(io.BytesIO(data), seller_id=seller_id).lines)
    again = pa.concat_tables(parse_settlement(io.BytesIO(data), seller_id=seller_id, block_size=2048).lines)
    keys = list(zip(first["settlement_id"].to_pylist(), first["line_number"].to_pylist(), strict=True))
    assert len(set(keys)) == len(keys) == st.line_count
    keys_again = zip(again["settlement_id"].to_pylist(), again["line_number"].to_pylist(), strict=True)
    assert keys == list(keys_again)


# --- header tolerance ------------------------------------------------------------------------------------


def test_columns_are_found_by_header_name(world: World) -> None:
    seller_id, st = settlement(world, "DE")
    header, *body = [line.split("\t") for line in lines_of(render_settlement(st)) if line]
    order = list(range(len(header)))
    random.Random(3).shuffle(order)
    dropped = header.index("promotion-id")
    order.remove(dropped)  # an optional column Amazon stopped sending
    shuffled = [[row[i] for i in order] + ["extra-" + str(n)] for n, row in enumerate([header, *body])]
    shuffled[0][-1] = "New Column"  # and one Amazon added
    data = document(["\t".join(row) for row in shuffled] + [""])
    parsed = parse_settlement(io.BytesIO(data), seller_id=seller_id)
    table = pa.concat_tables(parsed.lines)
    assert parsed.quarantine == []
    assert parsed.stats.missing_columns == ("promotion-id",)
    assert parsed.stats.extra_columns == ("new_column",)
    assert table["promotion_id"].null_count == table.num_rows
    assert table["new_column"].to_pylist()[:2] == ["extra-2", "extra-3"]
    assert sum(table["amount"].to_pylist()) == Decimal(st.total) / 100
    assert table.num_rows == st.line_count


def test_a_missing_required_column_fails_the_document(world: World) -> None:
    seller_id, st = settlement(world, "US")
    rows = [line.split("\t") for line in lines_of(render_settlement(st)) if line]
    position = rows[0].index("amount")
    data = document(["\t".join(r[:position] + r[position + 1:]) for r in rows])
    with pytest.raises(FlatFileError, match="amount"):
        parse_settlement(io.BytesIO(data), seller_id=seller_id)


def test_header_names_match_regardless_of_case_and_separators() -> None:
    data = document(["Seller_SKU\tPRICE\tOpen Date", "SKU-1\t12.50\t2024-01-15 10:20:30 UTC", ""])
    parsed = parse_report(io.BytesIO(data), MERCHANT_LISTINGS, seller_id="S", marketplace_id="M")
    (row,) = [r for t in parsed.tables for r in t.to_pylist()]
    assert row["seller_sku"] == "SKU-1" and row["price"] == Decimal("12.50")
    assert row["opened_at"] == datetime(2024, 1, 15, 10, 20, 30, tzinfo=UTC)
    assert row["marketplace_id"] == "M" and row["seller_id"] == "S"


# --- malformed lines -------------------------------------------------------------------------------------


@pytest.mark.parametrize("block_size", [2048, 1 << 20])  # small batches, and one batch (converted per value)
def test_malformed_lines_are_quarantined_with_reason_and_raw_line(world: World, block_size: int) -> None:
    seller_id, st = settlement(world, "DE")
    lines = lines_of(render_settlement(st))
    amount_at, date_at = COLUMNS.index("amount"), COLUMNS.index("posted-date-time")

    def edited(number: int, position: int, value: str) -> str:
        fields = lines[number - 1].split("\t")
        fields[position] = value
        return "\t".join(fields)

    bad = {
        5: lines[4] + "\tunexpected",  # an extra tab: one field too many
        9: edited(9, amount_at, "12,3x"),
        14: edited(14, date_at, "32.13.2026 08:59:52 UTC"),
        20: edited(20, date_at, "31.02.2026 08:59:52 UTC"),  # arrow would roll this over to March
        25: edited(25, COLUMNS.index("settlement-id"), "99999999999"),
        30: edited(30, amount_at, ""),
    }
    for number, text in bad.items():
        lines[number - 1] = text
    lines.insert(40, "")  # a blank line: skipped, not data
    parsed = parse_settlement(io.BytesIO(document(lines)), seller_id=seller_id, block_size=block_size)
    rows = rows_of(parsed)
    quarantined = {q["line_number"]: q for q in parsed.quarantine}
    assert sorted(quarantined) == sorted(bad)
    for number, text in bad.items():
        assert quarantined[number]["raw_line"] == text
        assert quarantined[number]["seller_id"] == seller_id
        assert quarantined[number]["source"] == f"settlement {st.settlement_id}"
    assert "expected 24 fields, found 25" in quarantined[5]["reason"]
    assert "amount: not a valid decimal ('12,3x')" in quarantined[9]["reason"]
    assert "posted-date-time: not a valid timestamp" in quarantined[14]["reason"]
    assert "posted-date-time: not a valid timestamp" in quarantined[20]["reason"]
    assert "settlement-id: differs from the summary row" in quarantined[25]["reason"]
    assert "amount: missing" in quarantined[30]["reason"]
    assert parsed.stats.blank_lines == 1
    assert len(rows) == st.line_count - len(bad)
    # every loaded row keeps its physical line number: keys do not shift around bad or blank lines
    physical = {n: line for n, line in enumerate(lines, start=1)}
    for row in rows:
        assert physical[row["line_number"]].split("\t")[COLUMNS.index("order-id")] == (row["order_id"] or "")
    assert parsed.stats.data_lines == len([line for line in lines if line]) - 1 + 1  # + the blank line


def test_line_numbers_stay_exact_across_many_blocks_with_bad_lines(world: World) -> None:
    seller_id, st = settlement(world, "US")
    lines = lines_of(render_settlement(st))
    rng = random.Random(11)
    broken = sorted(rng.sample(range(3, len(lines) - 1), 25))
    width = len(lines[0].split("\t"))
    for number in broken:  # one field more than the header (a short Liquidations line is padded first)
        fields = lines[number - 1].split("\t")
        lines[number - 1] = "\t".join([*fields, *[""] * (width - len(fields)), "x"])
    parsed = parse_settlement(io.BytesIO(document(lines)), seller_id=seller_id, block_size=1024)
    rows = rows_of(parsed)
    assert [q["line_number"] for q in parsed.quarantine] == broken
    expected = [n for n in range(3, len(lines)) if n not in broken and lines[n - 1]]
    assert [r["line_number"] for r in rows] == expected
    for row in rows:
        assert lines[row["line_number"] - 1].split("\t")[COLUMNS.index("amount")] == f"{row['amount']:.2f}"


def test_a_missing_or_malformed_summary_fails_loudly(world: World) -> None:
    seller_id, st = settlement(world, "DE")
    lines = lines_of(render_settlement(st))
    without_summary = [lines[0], *lines[2:]]
    with pytest.raises(FlatFileError, match="summary"):
        parse_settlement(io.BytesIO(document(without_summary)), seller_id=seller_id, locale="DE")
    broken_total = lines[:]
    broken_total[1] = broken_total[1].replace("\tEUR", "x\tEUR", 1)
    with pytest.raises(FlatFileError, match="total-amount"):
        parse_settlement(io.BytesIO(document(broken_total)), seller_id=seller_id)
    with pytest.raises(FlatFileError, match="empty"):
        parse_settlement(io.BytesIO(b""), seller_id=seller_id)


# --- charsets --------------------------------------------------------------------------------------------


def _with_description(world: World, text: str) -> tuple[str, list[str]]:
    seller_id, st = settlement(world, "DE")
    lines = lines_of(render_settlement(st))
    fields = lines[2].split("\t")
    fields[COLUMNS.index("amount-description")] = text
    lines[2] = "\t".join(fields)
    return seller_id, lines


@pytest.mark.parametrize("charset", ["windows-1252", "cp1252", "ISO-8859-1", "latin-1"])
def test_a_single_byte_document_decodes_with_its_declared_charset(world: World, charset: str) -> None:
    seller_id, lines = _with_description(world, "Gebühr für Rücksendung € 5")
    data = "\n".join(lines).encode("cp1252")
    parsed = parse_settlement(io.BytesIO(data), charset=charset, seller_id=seller_id)
    rows = rows_of(parsed)
    assert parsed.quarantine == []
    assert rows[0]["amount_description"] == "Gebühr für Rücksendung € 5"


def test_utf8_is_the_default_and_bad_bytes_only_quarantine_their_line(world: World) -> None:
    seller_id, lines = _with_description(world, "Gebühr")
    data = bytearray("\n".join(lines).encode("utf-8"))
    parsed = parse_settlement(io.BytesIO(bytes(data)), seller_id=seller_id)
    assert rows_of(parsed)[0]["amount_description"] == "Gebühr"
    broken = bytes(data).replace("Gebühr".encode(), b"Geb\xfchr")  # latin-1 bytes in a UTF-8 document
    parsed = parse_settlement(io.BytesIO(broken), charset="utf-8", seller_id=seller_id)
    rows = rows_of(parsed)
    (entry,) = parsed.quarantine
    assert entry["line_number"] == 3 and "not valid in utf-8" in entry["reason"]
    assert rows[0]["line_number"] == 4 and len(rows) == len([line for line in lines if line]) - 3


def test_undecodable_bytes_in_a_declared_multibyte_charset_are_quarantined() -> None:
    text = "seller-sku\tprice\nSKU-Ä\t1.00\nSKU-2\t2.00\nSKU-\t3.00\n"
    data = text.encode("utf-16-le")
    lone_surrogate = b"\x00\xdc"  # half of a UTF-16 pair: not decodable
    data = data.replace("SKU-\t".encode("utf-16-le"), "SKU-".encode("utf-16-le") + lone_surrogate + b"\t\x00")
    parsed = parse_report(io.BytesIO(data), MERCHANT_LISTINGS, charset="utf-16-le", seller_id="S")
    rows = [r for t in parsed.tables for r in t.to_pylist()]
    assert [r["seller_sku"] for r in rows] == ["SKU-Ä", "SKU-2"]
    (entry,) = parsed.quarantine
    assert entry["line_number"] == 4 and "seller-sku: bytes not valid in utf_16_le" in entry["reason"]


# --- dates and numbers beyond settlements ----------------------------------------------------------------


def test_iso_timestamps_and_zone_abbreviations() -> None:
    values = {
        "2024-01-15T10:20:30+00:00": datetime(2024, 1, 15, 10, 20, 30, tzinfo=UTC),
        "2024-01-15T10:20:30Z": datetime(2024, 1, 15, 10, 20, 30, tzinfo=UTC),
        "2024-01-15T10:20:30+02:00": datetime(2024, 1, 15, 8, 20, 30, tzinfo=UTC),
        "2024-01-15T10:20:30.250-05:00": datetime(2024, 1, 15, 15, 20, 30, 250000, tzinfo=UTC),
        "2024-01-15 10:20:30 PDT": datetime(2024, 1, 15, 17, 20, 30, tzinfo=UTC),
        "2024-01-15 10:20:30 MEZ": datetime(2024, 1, 15, 9, 20, 30, tzinfo=UTC),
    }
    body = [f"SKU-{i}\t{text}" for i, text in enumerate(values)]
    body += ["SKU-naive\t2024-01-15T10:20:30", "SKU-zone\t2024-01-15 10:20:30 XYZ"]
    data = document(["seller-sku\topen-date", *body, ""])
    parsed = parse_report(io.BytesIO(data), MERCHANT_LISTINGS, seller_id="S")
    rows = [r for t in parsed.tables for r in t.to_pylist()]
    assert [r["opened_at"] for r in rows] == list(values.values())
    # a time without a zone is not guessed, an unknown zone is not ignored
    assert [q["line_number"] for q in parsed.quarantine] == [len(values) + 2, len(values) + 3]


def test_numbers_are_strict() -> None:
    good = ["1.00", "-0.50", "12", "+3.5", "0.05"]
    bad = ["1,234.00", "1e3", " 5", "1.234", "abc"]
    body = [f"S{i}\t{v}\t1" for i, v in enumerate(good + bad)]
    data = document(["seller-sku\tprice\tquantity", *body, ""])
    parsed = parse_report(io.BytesIO(data), MERCHANT_LISTINGS, seller_id="S")
    rows = [r for t in parsed.tables for r in t.to_pylist()]
    assert [r["price"] for r in rows] == [Decimal(v) for v in good]
    assert [q["line_number"] for q in parsed.quarantine] == list(range(len(good) + 2, len(good + bad) + 2))


# --- the other reports the sandbox serves ----------------------------------------------------------------


@pytest.mark.parametrize("report_type", sorted(report_documents.REQUESTABLE_REPORT_TYPES))
def test_sandbox_report_documents_parse_cleanly(world: World, report_type: str) -> None:
    spec = SPECS[report_type]
    for seller in world.sellers:
        market_ids = tuple(MARKETPLACES[c].marketplace_id for c in seller.account.marketplace_codes)
        scope = report_documents.DocumentScope(market_ids, 0, 2**40)
        data = report_documents.gzip_report(report_type, seller, scope)
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            parsed = parse_report(stream, spec, charset="UTF-8", seller_id=seller.account.seller_id,
                                  marketplace_id=market_ids[0] if len(market_ids) == 1 else None)
            tables = list(parsed.tables)
        plain = report_documents.render_report(report_type, seller, scope)
        expected_rows = plain.count(b"\n") - 1
        rows = sum(t.num_rows for t in tables)
        assert parsed.quarantine == []
        assert parsed.stats.missing_columns == () and parsed.stats.extra_columns == ()
        assert rows == expected_rows
        for table in tables:
            assert table["seller_id"].null_count == 0
            for column in spec.columns:
                assert table.schema.field(column.name).type == column.arrow_type
            if spec.marketplace_column is not None:
                assert table["marketplace_id"].null_count == 0
                assert set(table["marketplace_id"].to_pylist()) <= set(market_ids)


def test_all_orders_rows_match_the_world(world: World) -> None:
    seller = world.sellers[1]
    market_ids = tuple(MARKETPLACES[c].marketplace_id for c in seller.account.marketplace_codes)
    scope = report_documents.DocumentScope(market_ids, 0, 2**40)
    data = report_documents.render_report(ALL_ORDERS.report_type, seller, scope)
    parsed = parse_report(io.BytesIO(data), ALL_ORDERS, seller_id=seller.account.seller_id)
    rows = {(r["amazon_order_id"], r["sku"]): r for t in parsed.tables for r in t.to_pylist()}
    orders = {o.order_id: o for o in seller.orders}
    assert len(rows) == sum(len(o.items) for o in orders.values())
    for (order_id, sku), row in rows.items():
        order = orders[order_id]
        item = next(i for i in order.items if i.sku == sku)
        assert row["purchased_at"] == utc(order.purchased_at)
        assert row["item_price"] == Decimal(item.item_price) / 100
        assert row["quantity"] == item.quantity
        assert row["is_business_order"] is order.is_business
        assert row["marketplace_id"] == MARKETPLACES[order.marketplace].marketplace_id


def test_ledger_dates_are_month_first_in_every_marketplace(world: World) -> None:
    seller = world.sellers[1]
    market_ids = tuple(MARKETPLACES[c].marketplace_id for c in seller.account.marketplace_codes)
    scope = report_documents.DocumentScope(market_ids, 0, 2**40)
    data = report_documents.render_report(INVENTORY_LEDGER.report_type, seller, scope)
    parsed = parse_report(io.BytesIO(data), INVENTORY_LEDGER, seller_id=seller.account.seller_id)
    rows = [r for t in parsed.tables for r in t.to_pylist()]
    lost = {u.event_id: u for u in seller.lost_units}
    assert rows and parsed.quarantine == []
    for row in rows:
        unit = lost[row["reference_id"]]
        assert row["event_date"] == utc(unit.happened_at).date()
        assert row["event_at"] == utc(unit.happened_at)
        assert row["quantity"] == -unit.quantity


def test_reports_with_buyer_data_keep_no_plaintext_raw_line() -> None:
    header = "\t".join(report_documents.ALL_ORDERS_HEADER)
    data = document([header, "303-1234567-1234567\tBerlin\t10115", ""])
    parsed = parse_report(io.BytesIO(data), ALL_ORDERS, seller_id="S")
    assert list(parsed.tables) == []
    (entry,) = parsed.quarantine
    assert entry["raw_line"] is None and len(entry["raw_line_sha256"]) == 64
    assert "Berlin" not in repr(entry)
    protected = parse_report(io.BytesIO(data), ALL_ORDERS, seller_id="S",
                             protect_raw_line=lambda raw: "enc:x")
    list(protected.tables)
    assert protected.quarantine[0]["raw_line"] == "enc:x"


def test_unknown_columns_are_dropped_from_reports_with_buyer_data() -> None:
    header = "\t".join(report_documents.ALL_ORDERS_HEADER) + "\tbuyer-email"
    fields = ["303-1234567-1234567"] + [""] * (len(report_documents.ALL_ORDERS_HEADER) - 1) + ["a@b.example"]
    parsed = parse_report(io.BytesIO(document([header, "\t".join(fields), ""])), ALL_ORDERS, seller_id="S")
    (table,) = list(parsed.tables)
    assert "buyer_email" not in table.column_names
    assert parsed.stats.dropped_columns == ("buyer-email",)


def test_empty_and_header_only_documents_yield_nothing() -> None:
    for data in (b"", b"seller-sku\tprice\n", b"seller-sku\tprice"):
        parsed = parse_report(io.BytesIO(data), MERCHANT_LISTINGS, seller_id="S")
        assert list(parsed.tables) == [] and parsed.quarantine == []


def test_settlement_spec_names() -> None:
    names = [c.name for c in SETTLEMENT.columns]
    assert {"settlement_id", "settlement_start_at", "settlement_end_at", "deposit_at", "total_amount",
            "posted_date", "posted_at", "amount", "quantity_purchased"} <= set(names)
    assert SETTLEMENT.primary_key == ("settlement_id", "line_number")


# --- the reading pipeline --------------------------------------------------------------------------------


class _Failing(io.RawIOBase):
    """A download that breaks after `good` bytes."""

    def __init__(self, data: bytes, good: int) -> None:
        self._data, self._good, self._at = data, good, 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:  # type: ignore[no-untyped-def]
        if self._at >= self._good:
            raise OSError("connection reset")
        n = min(len(target), self._good - self._at, 4096)
        target[:n] = self._data[self._at:self._at + n]
        self._at += n
        return n


def test_a_broken_stream_raises_in_the_consumer(world: World) -> None:
    seller_id, st = settlement(world, "DE")
    data = render_settlement(st)
    with pytest.raises(OSError, match="connection reset"):  # at open (pyarrow reads ahead) or later
        parsed = parse_settlement(io.BufferedReader(_Failing(data, len(data) - 500)), seller_id=seller_id,
                                  block_size=4096)
        for _ in parsed.lines:
            pass


def test_stopping_early_stops_the_reading_threads(world: World) -> None:
    import threading
    import time

    seller_id, st = settlement(world, "US")
    parsed = parse_settlement(io.BytesIO(render_settlement(st)), seller_id=seller_id, block_size=1024)
    lines = parsed.lines
    next(lines)
    lines.close()  # type: ignore[attr-defined]
    del lines, parsed
    deadline = time.monotonic() + 5
    while any(t.name == "flatfile-prefetch" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "flatfile-prefetch" for t in threading.enumerate())
