"""The PII shapes find what buyers' data looks like and nothing else the raw tables hold; the lakehouse scan finds
no plaintext in a lakehouse the product built (no false positives on real ids, dates, amounts, ciphertext)."""

from __future__ import annotations

import random

import duckdb
import pytest

from spapi_elt.pii_plaintext import scan_lakehouse, shapes
from spapi_sandbox import people
from tests.built_lakehouse import BuiltLakehouse


@pytest.mark.parametrize("country", sorted(people.PHONE_PREFIX))
def test_every_phone_and_street_the_sandbox_writes_has_its_shape(country: str) -> None:
    rng = random.Random(5)
    for _ in range(200):
        buyer, _ = people.buyer(rng, country)
        assert shapes(buyer.phone) == ["phone"], buyer.phone
        assert shapes(buyer.address_line1) == ["street address"], buyer.address_line1
        assert shapes(buyer.email) == ["email"]
        assert shapes(buyer.name) == [] and shapes(buyer.postal_code) == []


@pytest.mark.parametrize("value", [
    "112-3590044-3641144", "303-1234567-1234567", "2026-01-31", "2026-01-31T07:55:34+00:00", "31.01.2026",
    "11.10.2024 08:59:52 UTC", "01/31/2026", "1977.17", "95,00", "-1.234,56", "1796160803.209607", "S0-BEA-007",
    "B024VQYYJD", "X00ABC1234", "FBA15ABCDE", "150-0002", "M5H 2N2", "SW1A 1AA", "1234567890123456789",
    "h1:" + "0123456789abcdef" * 4, "e1:k1:AbC+0301234567/206-555-0100==", "purged:2026-12-01",
    "Tidewater Shaving Kit, 12 Pack", "Amazon.de", "A1F83G8C2ARO7P", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
])
def test_what_raw_tables_hold_has_no_pii_shape(value: str) -> None:
    assert shapes(value) == []


@pytest.mark.parametrize("value", ["call (206) 555-0100 before noon", "030 9018201234, ask for Jo",
                                   "deliver to 7 Canary Wharf Crescent", "Bahnhofstraße 3a, Berlin",
                                   "12 rue de la Paix"])
def test_shapes_inside_free_text(value: str) -> None:
    assert shapes(value)


def test_a_lakehouse_the_product_built_has_no_plaintext_pii(built_lakehouse: BuiltLakehouse) -> None:
    canaries = built_lakehouse.truth["pii_canaries"]
    with duckdb.connect(str(built_lakehouse.path), read_only=True) as con:
        scan = scan_lakehouse(con, canaries)
        ciphertext = con.execute("select count(*) from raw_spapi.order_buyers "
                                 "where starts_with(buyer__buyer_name, 'e1:')").fetchone()[0]
    assert scan.findings == {}
    assert len(canaries) > 0 and ciphertext > 0  # there was protected PII to mistake for plaintext
    assert scan.protected_columns >= 10 and scan.protected_values > ciphertext and scan.shape_columns > 10
