"""The PII policies of the resources we know: orders and order items (Orders 2026-01-01 and v0), order reports.

Cities and postal codes are encrypted, states and countries kept: a full postal code (a UK postcode
covers about 15 homes) plus a purchase date and product narrows an order to a household, and a city
does too in a small town, while state and country are what tax and regional analytics need and
cover too many people to point at anyone.
"""

from __future__ import annotations

from collections.abc import Mapping

from dlt_sources.spapi.pii.policy import PiiPolicy

# Orders 2026-01-01 CustomerAddress: what a seller needs to ship or invoice is encrypted, what analytics
# need and points at no one (state, country, address type) is kept, anything new is dropped.
_ADDRESS_2026 = {
    "name": "encrypt", "companyName": "encrypt", "addressLine1": "encrypt", "addressLine2": "encrypt",
    "addressLine3": "encrypt", "city": "encrypt", "districtOrCounty": "encrypt", "municipality": "encrypt",
    "postalCode": "encrypt", "phone": "encrypt", "extendedFields": "encrypt",
    "stateOrRegion": "keep", "countryCode": "keep", "addressType": "keep",
}
# Orders v0 Address: the same decisions in v0's spelling.
_ADDRESS_V0 = {
    "Name": "encrypt", "CompanyName": "encrypt", "AddressLine1": "encrypt", "AddressLine2": "encrypt",
    "AddressLine3": "encrypt", "City": "encrypt", "County": "encrypt", "District": "encrypt",
    "Municipality": "encrypt", "PostalCode": "encrypt", "Phone": "encrypt", "ExtendedFields": "encrypt",
    "StateOrRegion": "keep", "CountryCode": "keep", "AddressType": "keep",
}


def _under(prefix: str, rules: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}.{path}": action for path, action in rules.items()}


# An order item of Orders 2026-01-01 (embedded in an order as `orderItems`, or yielded on its own).
_ORDER_ITEM_RULES = {
    "fulfillment.packing.giftOption.giftMessage": "drop",
    "fulfillment.packing.giftOption.giftWrapLevel": "keep",
}
ORDER_ITEMS_POLICY = PiiPolicy("order_items", _ORDER_ITEM_RULES,
                               allow_only=["fulfillment.packing.giftOption"])

ORDERS_POLICY = PiiPolicy(
    "orders",
    {
        "buyer.buyerEmail": "hash:email",
        "buyer.buyerName": "encrypt",
        "buyer.buyerCompanyName": "encrypt",
        "buyer.buyerPurchaseOrderNumber": "keep",
        **_under("recipient.deliveryAddress", _ADDRESS_2026),
        "recipient.deliveryPreference": "drop",
        # Business buyers' tax registrations: kept for invoicing, encrypted (a sole trader is a person).
        "tax.taxRegistrations.legalName": "encrypt",
        "tax.taxRegistrations.taxRegistrationNumber": "encrypt",
        "tax.taxRegistrations.entityType": "keep",
        "tax.taxRegistrations.taxRegistrationType": "keep",
        **_under("tax.taxRegistrations.taxRegistrationAddress", _ADDRESS_2026),
        **_under("orderItems", _ORDER_ITEM_RULES),
    },
    allow_only=["buyer", "recipient", "tax.taxRegistrations", "orderItems.fulfillment.packing.giftOption"],
)

ORDERS_V0_POLICY = PiiPolicy(
    "orders_v0",
    {
        "BuyerInfo.BuyerEmail": "hash:email",
        "BuyerInfo.BuyerName": "encrypt",
        "BuyerInfo.BuyerCounty": "encrypt",
        "BuyerInfo.BuyerTaxInfo": "encrypt",
        "BuyerInfo.PurchaseOrderNumber": "keep",
        **_under("ShippingAddress", _ADDRESS_V0),
        "BuyerTaxInformation": "encrypt",
    },
    allow_only=["BuyerInfo", "ShippingAddress", "BuyerTaxInformation"],
)

ORDER_ITEMS_V0_POLICY = PiiPolicy(
    "order_items_v0",
    {"BuyerInfo.GiftMessageText": "drop", "BuyerInfo.BuyerCustomizedInfo": "drop",
     "BuyerInfo.GiftWrapPrice": "keep", "BuyerInfo.GiftWrapTax": "keep", "BuyerInfo.GiftWrapLevel": "keep",
     "BuyerInfo.OrderItemId": "keep"},
    allow_only=["BuyerInfo"],
)

# Order flat files (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_*, and the ship-/bill-/buyer- columns other order
# reports carry). Every ship-*, bill-*, buyer-*, recipient-* column without a rule is dropped.
ORDER_REPORT_POLICY = PiiPolicy(
    "order_report",
    {
        "ship-city": "encrypt", "ship-postal-code": "encrypt", "ship-state": "keep", "ship-country": "keep",
        "ship-address-1": "encrypt", "ship-address-2": "encrypt", "ship-address-3": "encrypt",
        "ship-phone-number": "encrypt", "ship-service-level": "keep", "ship-promotion-discount": "keep",
        "ship-promotion-id": "keep",
        "bill-address-1": "encrypt", "bill-address-2": "encrypt", "bill-address-3": "encrypt",
        "bill-city": "encrypt", "bill-postal-code": "encrypt", "bill-state": "keep", "bill-country": "keep",
        "buyer-email": "hash:email", "buyer-name": "encrypt", "buyer-phone-number": "encrypt",
        "buyer-company-name": "encrypt", "recipient-name": "encrypt",
    },
    allow_only=["ship-*", "bill-*", "buyer-*", "recipient-*"],
)
