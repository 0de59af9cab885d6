"""The contract checker itself: it must catch what it is there to catch (no server needed)."""

from __future__ import annotations

import pytest

from tests.contract.checker import (
    ContractError,
    assert_matches_model,
    close_objects,
    contract_errors,
    convert,
    find_operation,
)

ORDERS_2026 = "orders_2026-01-01.json"
ORDER = {"orderId": "111-1234567-1234567", "createdTime": "2026-01-02T03:04:05Z",
         "lastUpdatedTime": "2026-01-02T03:04:05Z", "salesChannel": {"channelName": "AMAZON"},
         "orderItems": [{"orderItemId": "1", "quantityOrdered": 1, "product": {"sellerSku": "S-1"}}]}
TRANSACTION = {"transactionId": "T1", "postedDate": "2026-01-02T03:04:05Z",
               "totalAmount": {"currencyCode": "USD", "currencyAmount": 1.5}}


def test_a_matching_body_passes():
    assert contract_errors(ORDERS_2026, "getOrder", 200, {"order": ORDER}) == []
    assert_matches_model(ORDERS_2026, "getOrder", 200, {"order": ORDER})


def test_a_missing_required_field_fails():
    order = {k: v for k, v in ORDER.items() if k != "orderItems"}
    errors = contract_errors(ORDERS_2026, "getOrder", 200, {"order": order})
    assert len(errors) == 1 and "'orderItems' is a required property" in errors[0]
    assert errors[0].startswith("at /order:")


def test_a_wrong_type_fails_with_its_path():
    # Orders v0 Money.Amount is a string; a number is a contract break.
    body = {"payload": {"AmazonOrderId": "111-1234567-1234567", "PurchaseDate": "x", "LastUpdateDate": "x",
                        "OrderStatus": "Shipped", "OrderTotal": {"CurrencyCode": "USD", "Amount": 12.5}}}
    errors = contract_errors("ordersV0.json", "getOrder", 200, body)
    assert errors == ["at /payload/OrderTotal/Amount: 12.5 is not of type 'string'"]


def test_an_enum_value_outside_the_model_fails():
    order = {**ORDER, "fulfillment": {"fulfillmentStatus": "LOST"}}
    assert contract_errors(ORDERS_2026, "getOrder", 200, {"order": order})


def test_strict_mode_refuses_fields_the_model_does_not_define():
    order = {**ORDER, "salesChannel": {"channelName": "AMAZON", "storeName": "extra"}}
    errors = contract_errors(ORDERS_2026, "getOrder", 200, {"order": order})
    assert len(errors) == 1 and "'storeName' was unexpected" in errors[0]
    assert contract_errors(ORDERS_2026, "getOrder", 200, {"order": order}, strict=False) == []
    with pytest.raises(ContractError, match="storeName"):
        assert_matches_model(ORDERS_2026, "getOrder", 200, {"order": order})


def test_strict_mode_merges_allof_parts_before_closing_objects():
    # Finances 2024-06-19 Context is allOf(contextType, AmazonPayContext, ProductContext, ...).
    contexts = [{"contextType": "ProductContext", "sku": "S-1", "quantityShipped": 1},
                {"contextType": "DeferredContext", "deferralReason": "DD7", "maturityDate": "2026-01-09T00:00:00Z"}]
    body = {"payload": {"transactions": [{**TRANSACTION, "contexts": contexts}]}}
    assert contract_errors("finances_2024-06-19.json", "listTransactions", 200, body) == []
    contexts.append({"contextType": "ProductContext", "colour": "red"})
    errors = contract_errors("finances_2024-06-19.json", "listTransactions", 200, body)
    assert len(errors) == 1 and "'colour' was unexpected" in errors[0]
    contexts[-1] = {"sku": "S-2"}  # contextType is required by the allOf's first part
    assert contract_errors("finances_2024-06-19.json", "listTransactions", 200, body)


def test_free_form_objects_stay_open_in_strict_mode():
    item = {"asin": "B000000001", "attributes": {"anything": [{"value": 1}], "goes": "here"}}
    assert contract_errors("catalogItems_2022-04-01.json", "getCatalogItem", 200, item) == []


def test_date_time_format_is_checked():
    order = {**ORDER, "createdTime": "2026-01-02 03:04:05"}
    errors = contract_errors(ORDERS_2026, "getOrder", 200, {"order": order})
    assert len(errors) == 1 and "is not a 'date-time'" in errors[0]
    order["createdTime"] = "2026-01-02T03:04:05.123+01:00"
    assert contract_errors(ORDERS_2026, "getOrder", 200, {"order": order}) == []


def test_error_lists_follow_each_models_shape():
    body = {"errors": [{"code": "InvalidInput", "message": "bad"}]}
    assert contract_errors(ORDERS_2026, "searchOrders", 400, body) == []  # ErrorList is an object here
    assert contract_errors("sellers.json", "getMarketplaceParticipations", 400, body) == []  # an array here
    assert contract_errors(ORDERS_2026, "searchOrders", 400, {"errors": [{"code": "X"}]})  # message required


def test_responses_without_a_schema_must_have_no_body():
    assert contract_errors("reports_2021-06-30.json", "cancelReport", 200, None) == []
    assert contract_errors("reports_2021-06-30.json", "cancelReport", 200, {"x": 1})


def test_unknown_operations_and_statuses_are_reported():
    with pytest.raises(ContractError, match="no operation"):
        contract_errors("sellers.json", "getNothing", 200, {})
    with pytest.raises(ContractError, match="no response for HTTP 418"):
        contract_errors("sellers.json", "getMarketplaceParticipations", 418, {})


def test_operations_are_found_by_method_and_path():
    assert find_operation("GET", "/orders/2026-01-01/orders/{orderId}") == (ORDERS_2026, "getOrder")
    assert find_operation("GET", "/orders/v0/orders/{orderId}") == ("ordersV0.json", "getOrder")
    assert find_operation("POST", "/orders/v0/orders/{orderId}") is None
    assert find_operation("GET", "/auth/o2/token") is None


def test_conversion_drops_vendor_keys_but_keeps_property_names():
    schema = {"type": "object", "x-docgen": 1, "example": {}, "format": "int32",
              "properties": {"x-name": {"type": "string", "format": "date-time", "x-nullable": True}}}
    assert convert(schema) == {"type": "object",
                               "properties": {"x-name": {"type": "string", "format": "date-time"}}}
    closed = close_objects(convert(schema), {})
    assert closed["additionalProperties"] is False
