"""PII protection: keyed hashes, envelope encryption, allow-list policies, arrow tables, purge."""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import subprocess
import sys
import threading

import pyarrow as pa
import pytest

from dlt_sources.spapi import pii
from dlt_sources.spapi.keys import (
    KeyInvalid,
    PiiKeyMissing,
    UnknownKeyId,
    load_hmac_key,
    load_keyring,
    new_key,
)
from dlt_sources.spapi.pii import (
    ORDER_REPORT_POLICY,
    ORDERS_POLICY,
    ORDERS_V0_POLICY,
    Action,
    PiiDecryptError,
    PiiError,
    PiiPolicy,
    Protector,
    decrypt,
    hash_value,
    rewrap,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HMAC_KEY = base64.b64encode(bytes(range(32))).decode()
K1 = base64.b64encode(bytes(range(1, 33))).decode()
K2 = base64.b64encode(bytes(range(2, 34))).decode()
SELLER = "A1SELLERTEST"

# Shaped like the sandbox's canary buyer: every PII value is unique, so a substring search proves absence.
CANARY = {
    "name": "Zebulon Quackenbush-T1",
    "email": "zq.canary.t1@marketplace.amazon.com",
    "phone": "+1 206-555-0000 ext T1",
    "line1": "T1 Canary Wharf Crescent",
    "city": "Canarytown-T1",
    "postal": "CT1 9QQ",
    "company": "Quackenbush Holdings T1",
    "gift": "Happy birthday Zebulon T1",
}


def env(**extra: str) -> dict[str, str]:
    base = {"SPAPI_PII_HMAC_KEY": HMAC_KEY, "SPAPI_PII_KEYS": f"k1:{K1}"}
    base.update(extra)
    return base


@pytest.fixture
def protector() -> Protector:
    return Protector.from_env(env())


def order_2026(buyer_extra: dict | None = None, address_extra: dict | None = None) -> dict:
    """An Orders 2026-01-01 order as the API returns it with BUYER and RECIPIENT included."""
    return {
        "orderId": "111-0000000-0000001",
        "createdTime": "2026-01-02T10:00:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER",
                         "marketplaceName": "Amazon.com"},
        "buyer": {"buyerName": CANARY["name"], "buyerEmail": CANARY["email"],
                  "buyerCompanyName": CANARY["company"], "buyerPurchaseOrderNumber": "PO-42",
                  **(buyer_extra or {})},
        "recipient": {
            "deliveryAddress": {"name": CANARY["name"], "addressLine1": CANARY["line1"],
                                "city": CANARY["city"], "stateOrRegion": "WA", "postalCode": CANARY["postal"],
                                "countryCode": "US", "phone": CANARY["phone"], "addressType": "RESIDENTIAL",
                                **(address_extra or {})},
            "deliveryPreference": {"addressInstruction": f"Leave with {CANARY['name']}"},
        },
        "proceeds": {"grandTotal": {"amount": "19.99", "currencyCode": "USD"}},
        "orderItems": [
            {"orderItemId": "1", "quantityOrdered": 1,
             "fulfillment": {"packing": {"giftOption": {"giftMessage": CANARY["gift"],
                                                        "giftWrapLevel": "Classic"}}}},
            {"orderItemId": "2", "quantityOrdered": 2},
        ],
    }


def assert_no_canary(protected: object) -> None:
    text = json.dumps(protected, ensure_ascii=False)
    for label, value in CANARY.items():
        assert value not in text, f"canary {label} leaked"
        assert value.lower() not in text.lower(), f"canary {label} leaked (case-folded)"


# --- hashing ------------------------------------------------------------------------------------------------


def test_hash_is_versioned_hmac_and_stable_across_processes(protector: Protector) -> None:
    here = protector.hash(CANARY["email"], "email")
    assert here.startswith("h1:") and len(here) == 3 + 64
    assert here == Protector.from_env(env()).hash(CANARY["email"], "email")  # a fresh protector, same key
    code = ("import sys; from dlt_sources.spapi.pii import Protector; "
            "sys.stdout.write(Protector.from_env().hash(sys.argv[1], 'email'))")
    child_env = {**os.environ, **env(), "PYTHONHASHSEED": "123"}
    other = subprocess.run([sys.executable, "-c", code, CANARY["email"]], cwd=ROOT, env=child_env,
                           capture_output=True, text=True, check=True, timeout=60).stdout
    assert other == here


def test_another_key_version_changes_prefix_and_digest() -> None:
    v1 = hash_value("a@b.c", load_hmac_key(env()), "email")
    v2 = hash_value("a@b.c", load_hmac_key(env(SPAPI_PII_HMAC_KEY=f"2:{K2}")), "email")
    same_key_v2 = hash_value("a@b.c", load_hmac_key(env(SPAPI_PII_HMAC_KEY=f"2:{HMAC_KEY}")), "email")
    assert v1.startswith("h1:") and v2.startswith("h2:") and same_key_v2.startswith("h2:")
    assert v1[3:] != v2[3:]
    assert v1 != same_key_v2  # a version number alone never makes two hashes compare equal


def test_normalisation_joins_spellings_of_one_buyer(protector: Protector) -> None:
    email = protector.hash("zq.canary@marketplace.amazon.com", "email")
    assert protector.hash("  ZQ.Canary@Marketplace.Amazon.COM\n", "email") == email
    assert protector.hash("ｚｑ.canary@marketplace.amazon.com", "email") == email  # full-width (NFKC)
    assert protector.hash("zq.canary2@marketplace.amazon.com", "email") != email
    assert protector.hash("+1 (206) 555-0100", "phone") == protector.hash("+12065550100", "phone")
    assert protector.hash("+12065550100", "phone") != protector.hash("12065550100", "phone")
    assert protector.hash("  Zebulon   QUACKENBUSH ") == protector.hash("zebulon quackenbush")
    assert protector.hash("Straße", "exact") != protector.hash("strasse", "exact")
    assert protector.hash("   ", "email") == ""  # nothing to hash: no shared hash for every blank


# --- encryption ---------------------------------------------------------------------------------------------


def test_encrypt_round_trip_is_randomised_and_self_describing(protector: Protector) -> None:
    value = "Zoë Müller-Côté, 12 Rue Principale"
    first = protector.encrypt(value, "buyer.buyerName", SELLER)
    second = protector.encrypt(value, "buyer.buyerName", SELLER)
    assert first.startswith("e1:k1:") and first != second
    assert value not in first
    keyring = load_keyring(env())
    assert decrypt(first, keyring, "buyer.buyerName", SELLER) == value
    assert protector.decrypt(second, "buyer.buyerName", SELLER) == value
    assert pii.key_id(first) == "k1"
    structured = protector.encrypt({"streetName": "Rua A", "streetNumber": "7"}, "x.extendedFields", SELLER)
    assert json.loads(decrypt(structured, keyring, "x.extendedFields", SELLER)) == {
        "streetName": "Rua A", "streetNumber": "7"}


def test_every_flipped_byte_is_detected(protector: Protector) -> None:
    value = protector.encrypt("secret name", "buyer.buyerName", SELLER)
    assert protector.decrypt(value, "buyer.buyerName", SELLER) == "secret name"
    keyring = load_keyring(env())
    raw = base64.b64decode(value.split(":", 2)[2])
    # wrap nonce, wrapped key, wrap tag, data nonce, ciphertext, data tag
    for position in (0, 20, 55, 62, 75, len(raw) - 1):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        forged = "e1:k1:" + base64.b64encode(bytes(tampered)).decode()
        with pytest.raises(PiiDecryptError) as caught:
            decrypt(forged, keyring, "buyer.buyerName", SELLER)
        assert "secret name" not in str(caught.value)
        with pytest.raises(PiiDecryptError):  # also with the data key already unwrapped and cached
            protector.decrypt(forged, "buyer.buyerName", SELLER)
    truncated = "e1:k1:" + base64.b64encode(raw[:80]).decode()
    with pytest.raises(PiiError):
        decrypt(truncated, keyring, "buyer.buyerName", SELLER)
    with pytest.raises(PiiError):
        decrypt("e1:k1:not base64!", keyring, "buyer.buyerName", SELLER)


def test_associated_data_binds_value_to_field_and_seller(protector: Protector) -> None:
    keyring = load_keyring(env())
    protected = ORDERS_POLICY.apply(order_2026(), protector, SELLER)
    name = protected["buyer"]["buyerName"]
    with pytest.raises(PiiDecryptError, match="recipient.deliveryAddress.addressLine1"):
        decrypt(name, keyring, "recipient.deliveryAddress.addressLine1", SELLER)
    with pytest.raises(PiiDecryptError):
        decrypt(name, keyring, "buyer.buyerName", "A2OTHERSELLER")
    # Swapping two encrypted fields inside a row: neither decrypts in its new place.
    swapped = copy.deepcopy(protected)
    address = swapped["recipient"]["deliveryAddress"]
    address["name"], address["addressLine1"] = address["addressLine1"], address["name"]
    for field in ("name", "addressLine1"):
        with pytest.raises(PiiDecryptError):
            decrypt(address[field], keyring, f"recipient.deliveryAddress.{field}", SELLER)
    assert decrypt(name, keyring, "buyer.buyerName", SELLER) == CANARY["name"]


def test_key_rotation_old_kid_decrypts_new_values_use_active_kid() -> None:
    old = Protector.from_env(env()).encrypt(CANARY["line1"], "a", SELLER)
    rotated_env = env(SPAPI_PII_KEYS=f"k1:{K1},k2:{K2}", SPAPI_PII_ACTIVE_KEY_ID="k2")
    rotated = Protector.from_env(rotated_env)
    new = rotated.encrypt(CANARY["line1"], "a", SELLER)
    assert old.startswith("e1:k1:") and new.startswith("e1:k2:")
    assert rotated.decrypt(old, "a", SELLER) == rotated.decrypt(new, "a", SELLER) == CANARY["line1"]
    # Rewrap moves the old value to k2; then k1 can be retired (crypto-shredding unrewrapped copies).
    moved = rewrap(old, rotated.keyring)
    assert moved.startswith("e1:k2:") and moved.split(":", 2)[2][-40:] == old.split(":", 2)[2][-40:]
    only_k2 = load_keyring(env(SPAPI_PII_KEYS=f"k2:{K2}"))
    assert decrypt(moved, only_k2, "a", SELLER) == CANARY["line1"]
    with pytest.raises(UnknownKeyId, match="'k1'"):
        decrypt(old, only_k2, "a", SELLER)
    # A different key under the same id does not unwrap.
    impostor = load_keyring(env(SPAPI_PII_KEYS=f"k1:{K2}"))
    with pytest.raises(PiiDecryptError):
        decrypt(old, impostor, "a", SELLER)


def test_data_key_is_reused_per_batch_then_renewed() -> None:
    protector = Protector(load_hmac_key(env()), load_keyring(env()), values_per_data_key=2)
    headers = [base64.b64decode(protector.encrypt("v", "f").split(":", 2)[2])[:pii.WRAPPED_DEK_BYTES]
               for _ in range(3)]
    assert headers[0] == headers[1] != headers[2]
    protector.new_data_key()
    assert base64.b64decode(protector.encrypt("v", "f").split(":", 2)[2])[:60] != headers[2]


def test_threads_encrypt_safely(protector: Protector) -> None:
    results: dict[int, list[str]] = {}

    def work(n: int) -> None:
        results[n] = [protector.encrypt(f"value {n} {i}", "f", SELLER) for i in range(200)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, values in results.items():
        assert [protector.decrypt(v, "f", SELLER) for v in values] == [f"value {n} {i}" for i in range(200)]


# --- keys ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variables", "missing"), [
    ({"SPAPI_PII_KEYS": f"k1:{K1}"}, "SPAPI_PII_HMAC_KEY"),
    ({"SPAPI_PII_HMAC_KEY": HMAC_KEY}, "SPAPI_PII_KEYS"),
    ({"SPAPI_PII_HMAC_KEY": HMAC_KEY, "SPAPI_PII_KEYS": "  "}, "SPAPI_PII_KEYS"),
    ({"SPAPI_PII_HMAC_KEY": HMAC_KEY, "SPAPI_PII_KEYS": f"k1:{K1},k2:{K2}"}, "SPAPI_PII_ACTIVE_KEY_ID"),
])
def test_missing_key_is_a_clear_error(variables: dict[str, str], missing: str) -> None:
    with pytest.raises(PiiKeyMissing) as caught:
        Protector.from_env(variables)
    assert caught.value.variable == missing and missing in str(caught.value)
    for key in (HMAC_KEY, K1, K2):
        assert key not in str(caught.value)


@pytest.mark.parametrize("variables", [
    env(SPAPI_PII_HMAC_KEY=base64.b64encode(b"short").decode()),
    env(SPAPI_PII_HMAC_KEY="x:" + HMAC_KEY),
    env(SPAPI_PII_KEYS=f"k1:{K1}!"),
    env(SPAPI_PII_KEYS=f"bad id:{K1}"),
    env(SPAPI_PII_KEYS=f"k1:{K1},k1:{K2}", SPAPI_PII_ACTIVE_KEY_ID="k1"),
    env(SPAPI_PII_KEYS=f"k1:{K1}", SPAPI_PII_ACTIVE_KEY_ID="k9"),
])
def test_malformed_keys_are_named_never_echoed(variables: dict[str, str]) -> None:
    with pytest.raises(KeyInvalid) as caught:
        Protector.from_env(variables)
    message = str(caught.value)
    assert caught.value.variable in message
    for key in (HMAC_KEY, K1, K2):
        assert key not in message


def test_key_material_never_in_reprs(protector: Protector) -> None:
    raw = [bytes(range(32)), bytes(range(1, 33))]
    text = " ".join([repr(protector), repr(protector.keyring), repr(protector.hmac_key),
                     str(protector.keyring), str(protector.hmac_key)])
    for key in raw:
        assert repr(key) not in text and base64.b64encode(key).decode() not in text
    assert "k1" in text
    assert len(base64.b64decode(new_key())) == 32 and new_key() != new_key()


# --- policies -----------------------------------------------------------------------------------------------


def test_orders_policy_protects_and_keeps_what_it_should(protector: Protector) -> None:
    order = order_2026()
    protected = ORDERS_POLICY.apply(order, protector, SELLER)
    assert order["buyer"]["buyerName"] == CANARY["name"]  # the input row is not modified
    buyer, address = protected["buyer"], protected["recipient"]["deliveryAddress"]
    assert buyer["buyerEmail"] == protector.hash(CANARY["email"], "email")
    assert buyer["buyerPurchaseOrderNumber"] == "PO-42"
    assert {k: address[k] for k in ("stateOrRegion", "countryCode", "addressType")} == {
        "stateOrRegion": "WA", "countryCode": "US", "addressType": "RESIDENTIAL"}
    for field in ("name", "addressLine1", "city", "postalCode", "phone"):
        assert address[field].startswith("e1:k1:")
    assert "deliveryPreference" not in protected["recipient"]
    assert protected["orderItems"][0]["fulfillment"]["packing"]["giftOption"] == {"giftWrapLevel": "Classic"}
    assert protected["orderItems"][1] == {"orderItemId": "2", "quantityOrdered": 2}
    assert protected["proceeds"] == order["proceeds"] and protected["orderId"] == order["orderId"]
    keyring = load_keyring(env())
    assert decrypt(address["postalCode"], keyring, "recipient.deliveryAddress.postalCode", SELLER) == \
        CANARY["postal"]
    assert_no_canary(protected)


def test_allow_list_drops_unknown_fields_under_pii_subtrees(protector: Protector,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    order = order_2026(buyer_extra={"buyerPhone": "+1 555 0199 canary", "buyerAlias": {"nick": "Zeb"}},
                       address_extra={"gateCode": "4242#canary", "addressLine2": "Apt 5"})
    order["recipient"]["giftRecipient"] = {"name": "Someone Else canary"}
    order["recipient"]["note"] = "Ring twice canary"
    order["newTopLevelField"] = "not personal"
    with caplog.at_level(logging.INFO, logger="dlt_sources.spapi.pii"):
        protected = ORDERS_POLICY.apply(order, protector, SELLER)
    assert "canary" not in json.dumps(protected).replace("zq.canary", "")
    assert set(protected["buyer"]) == {"buyerName", "buyerEmail", "buyerCompanyName",
                                       "buyerPurchaseOrderNumber"}
    assert protected["recipient"]["deliveryAddress"]["addressLine2"].startswith("e1:")
    assert "gateCode" not in protected["recipient"]["deliveryAddress"]
    assert set(protected["recipient"]) == {"deliveryAddress"}
    assert protected["newTopLevelField"] == "not personal"  # outside PII subtrees fields pass through
    assert "buyer.buyerPhone" in caplog.text and "recipient.deliveryAddress.gateCode" in caplog.text
    assert "canary" not in caplog.text.replace("zq.canary", "")


def test_unexpected_shapes_are_dropped_not_leaked(protector: Protector) -> None:
    order = order_2026()
    order["buyer"] = CANARY["name"]  # a scalar where the policy expects fields
    order["recipient"] = [{"deliveryAddress": {"name": CANARY["name"], "countryCode": "US"}}]  # a list
    protected = ORDERS_POLICY.apply(order, protector, SELLER)
    assert "buyer" not in protected
    assert protected["recipient"][0]["deliveryAddress"]["countryCode"] == "US"
    assert_no_canary(protected)
    assert ORDERS_POLICY.apply({"buyer": None}, protector) == {"buyer": None}


def test_orders_v0_policy(protector: Protector) -> None:
    order = {"AmazonOrderId": "1", "OrderStatus": "Shipped",
             "BuyerInfo": {"BuyerEmail": CANARY["email"], "BuyerName": CANARY["name"],
                           "BuyerTaxInfo": {"CompanyLegalName": CANARY["company"]},
                           "NewThing": CANARY["gift"]},
             "ShippingAddress": {"Name": CANARY["name"], "AddressLine1": CANARY["line1"],
                                 "City": CANARY["city"], "StateOrRegion": "WA",
                                 "PostalCode": CANARY["postal"], "CountryCode": "US",
                                 "Phone": CANARY["phone"], "AddressType": "Residential"}}
    protected = ORDERS_V0_POLICY.apply(order, protector, SELLER)
    assert_no_canary(protected)
    assert protected["BuyerInfo"]["BuyerEmail"] == protector.hash(CANARY["email"], "email")
    assert "NewThing" not in protected["BuyerInfo"]
    assert protected["ShippingAddress"]["CountryCode"] == "US" and protected["OrderStatus"] == "Shipped"
    tax = protector.decrypt(protected["BuyerInfo"]["BuyerTaxInfo"], "BuyerInfo.BuyerTaxInfo", SELLER)
    assert json.loads(tax) == {"CompanyLegalName": CANARY["company"]}
    # The same buyer hashes the same through the v0 and the 2026 API: joins across versions work.
    from_2026 = ORDERS_POLICY.apply(order_2026(), protector)
    assert protected["BuyerInfo"]["BuyerEmail"] == from_2026["buyer"]["buyerEmail"]


def report_row(**extra: str) -> dict[str, str]:
    return {"amazon-order-id": "111-1", "sku": "SKU-1", "item-price": "19.99",
            "ship-service-level": "Standard", "ship-city": CANARY["city"], "ship-state": "WA",
            "ship-postal-code": CANARY["postal"],
            "ship-country": "US", "ship-promotion-discount": "0.00", **extra}


def test_flat_report_rows_use_column_globs(protector: Protector) -> None:
    row = report_row(**{"ship-address-1": CANARY["line1"], "buyer-email": CANARY["email"],
                        "ship-gate-code": "canary 4242", "buyer-nickname": "Zebby canary"})
    protected = ORDER_REPORT_POLICY.apply(row, protector, SELLER)
    assert_no_canary(protected)
    assert "ship-gate-code" not in protected and "buyer-nickname" not in protected
    assert protected["ship-service-level"] == "Standard" and protected["item-price"] == "19.99"
    assert protected["ship-state"] == "WA" and protected["ship-country"] == "US"
    assert protected["buyer-email"] == protector.hash(CANARY["email"], "email")
    assert protector.decrypt(protected["ship-city"], "ship-city", SELLER) == CANARY["city"]


def test_policy_definition_errors_and_introspection() -> None:
    with pytest.raises(ValueError, match="lies under"):
        PiiPolicy("bad", {"a": "encrypt", "a.b": "hash"})
    with pytest.raises(ValueError, match="beneath"):
        PiiPolicy("bad", {"a.b": "hash", "a": "encrypt"})
    with pytest.raises(ValueError):
        PiiPolicy("bad", {"a": "encrypt:email"})
    with pytest.raises(ValueError):
        PiiPolicy("bad", {"a": "hash:soundex"})
    columns = ORDERS_POLICY.columns(Action.ENCRYPT)
    assert columns["recipient__delivery_address__postal_code"] == "recipient.deliveryAddress.postalCode"
    assert columns["buyer__buyer_name"] == "buyer.buyerName"
    assert "buyer__buyer_email" not in columns
    assert ORDER_REPORT_POLICY.columns(Action.HASH) == {"buyer_email": "buyer-email"}
    assert "ship-city" in ORDER_REPORT_POLICY.paths(Action.ENCRYPT)


# --- arrow tables -------------------------------------------------------------------------------------------


def test_arrow_table_application_matches_row_application(protector: Protector) -> None:
    rows = [report_row(), report_row(**{"ship-city": "Seattle"}), report_row(**{"ship-city": None}),
            report_row(**{"ship-city": "Seattle", "ship-postal-code": ""})]
    table = pa.Table.from_pylist(rows)
    table = table.append_column("buyer-email", pa.chunked_array(
        [[CANARY["email"], " ZQ.CANARY.T1@marketplace.amazon.com"], [None, "other@x.y"]]))
    table = table.append_column("ship-gate-code", pa.array(["canary"] * 4))
    table = table.append_column("quantity", pa.array([1, 2, 3, 4]))
    protected = ORDER_REPORT_POLICY.apply_table(table, protector, SELLER)
    assert "ship-gate-code" not in protected.column_names
    assert protected.column("quantity").to_pylist() == [1, 2, 3, 4]
    assert protected.column("ship-state").to_pylist() == ["WA"] * 4
    emails = protected.column("buyer-email").to_pylist()
    expected = protector.hash(CANARY["email"], "email")
    assert emails[:2] == [expected, expected] and emails[2] is None
    assert emails[3] == protector.hash("other@x.y", "email")
    cities = protected.column("ship-city").to_pylist()
    assert cities[2] is None and len(set(cities[1::2])) == 2  # randomised: equal cities, unequal ciphertexts
    keyring = load_keyring(env())
    assert [decrypt(c, keyring, "ship-city", SELLER) for c in (cities[0], cities[1], cities[3])] == [
        CANARY["city"], "Seattle", "Seattle"]
    assert protected.column("ship-postal-code").to_pylist()[3] == ""
    assert_no_canary(protected.to_pylist())
    # the row path and the table path agree on hashes (same normalisation)
    assert ORDER_REPORT_POLICY.apply({"buyer-email": CANARY["email"]}, protector)["buyer-email"] == expected


def test_flat_columns_match_under_snake_case_names(protector: Protector) -> None:
    table = pa.table({"ship_city": [CANARY["city"]], "Ship Postal Code": [CANARY["postal"]],
                      "ship_state": ["WA"], "ship_gate_code": ["canary"], "buyer_email": [CANARY["email"]],
                      "item_price": ["1.00"]})
    protected = ORDER_REPORT_POLICY.apply_table(table, protector, SELLER)
    assert protected.column_names == ["ship_city", "Ship Postal Code", "ship_state", "buyer_email",
                                      "item_price"]
    assert_no_canary(protected.to_pylist())
    city = protected.column("ship_city")[0].as_py()
    assert protector.decrypt(city, "ship-city", SELLER) == CANARY["city"]  # AAD: the rule's path
    assert protected.column("buyer_email")[0].as_py() == protector.hash(CANARY["email"], "email")
    row = ORDER_REPORT_POLICY.apply(table.to_pylist()[0], protector, SELLER)
    assert set(row) == set(protected.column_names)
    assert "canary" not in json.dumps(row).replace("zq.canary", "")


def test_arrow_non_string_and_nested_columns(protector: Protector) -> None:
    table = pa.table({"ship-postal-code": pa.array([98109, None]),
                      "buyer": pa.array([{"buyerName": CANARY["name"], "buyerEmail": CANARY["email"]}, None]),
                      "orderId": pa.array(["1", "2"])})
    protected = ORDERS_POLICY.apply_table(table, protector, SELLER)
    assert_no_canary(protected.to_pylist())
    buyer = protected.column("buyer").to_pylist()[0]
    assert protector.decrypt(buyer["buyerName"], "buyer.buyerName", SELLER) == CANARY["name"]
    postal = ORDER_REPORT_POLICY.apply_table(table.select(["ship-postal-code"]), protector, SELLER)
    values = postal.column("ship-postal-code").to_pylist()
    assert values[1] is None and protector.decrypt(values[0], "ship-postal-code", SELLER) == "98109"
