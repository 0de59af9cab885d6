"""Amazon marketplaces the sandbox serves, with the formats their flat files use.

Marketplace ids are Amazon's real ones (https://developer-docs.amazon.com/sp-api/docs/marketplace-ids),
so a client configured for the sandbox needs no changes to talk to Amazon.

Settlement formats come from real V2 settlement files described in the issue (see DESIGN.md, "Amazon
facts to build on"): the number style and the date style are independent. Amazon.com writes `1977.17`
with `2024-10-09 14:28:38 UTC`; Amazon.de `95,00` with `11.10.2024 08:59:52 UTC`; Amazon.co.uk `253.43`
with `15.11.2024 08:59:45 UTC` (dots in the date, a point in the amount: not `15/11/2024`, which the
sandbox used to write without a source). Amazon.ca is assumed to write as Amazon.com (no real file yet).

Amazon.co.jp (FE region, served by sellingpartnerapi-fe.amazon.com: https://developer-docs.amazon.com/sp-api/docs/
sp-api-endpoints) settles in JPY, which has no minor unit (ISO 4217): whole yen, `-115`. Its V2 settlement files
write `2026/09/07 00:20:09 UTC`, as a Japanese seller's public ingest code reads them
(apps/warehouse/amazon-settlement-v2.js, `v2DateTimeToV1`). A world has a JP seller only when asked (`--regions`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    code: str  # two-letter country code
    name: str  # as Amazon writes it in the settlement report's marketplace-name
    region: str  # NA, EU or FE: which SP-API endpoint serves it
    currency: str
    language: str  # defaultLanguageCode in getMarketplaceParticipations
    domain: str
    decimal_comma: bool  # settlement amounts written as 95,00
    date_order: str  # settlement dates: "ymd" 2024-10-11, "dmy." 11.10.2024, "ymd/" 2024/10/11
    sales_tax_withheld: bool  # marketplace facilitator tax collected and withheld by Amazon


MARKETPLACES: dict[str, Marketplace] = {
    m.code: m
    for m in (
        Marketplace("ATVPDKIKX0DER", "US", "Amazon.com", "NA", "USD", "en_US", "www.amazon.com",
                    False, "ymd", True),
        Marketplace("A2EUQ1WTGCTBG2", "CA", "Amazon.ca", "NA", "CAD", "en_CA", "www.amazon.ca",
                    False, "ymd", True),
        Marketplace("A1VC38T7YXB528", "JP", "Amazon.co.jp", "FE", "JPY", "ja_JP", "www.amazon.co.jp",
                    False, "ymd/", False),  # consumption tax is in the price: nothing withheld
        Marketplace("A1F83G8C2ARO7P", "UK", "Amazon.co.uk", "EU", "GBP", "en_GB", "www.amazon.co.uk",
                    False, "dmy.", False),  # real Amazon.co.uk file: 15.11.2024 08:59:45 UTC, 253.43
        Marketplace("A1PA6795UKMFR9", "DE", "Amazon.de", "EU", "EUR", "de_DE", "www.amazon.de",
                    True, "dmy.", False),
    )
}

BY_ID: dict[str, Marketplace] = {m.marketplace_id: m for m in MARKETPLACES.values()}

# Which marketplaces a seller account of each region sells in (a unified regional account).
REGION_MARKETPLACES: dict[str, tuple[str, ...]] = {"NA": ("US", "CA"), "EU": ("UK", "DE")}

# Share of a seller's daily orders that each marketplace receives.
ORDER_SHARE: dict[str, float] = {"US": 0.7, "CA": 0.3, "UK": 0.45, "DE": 0.55}

# Amazon.co.jp: the Far East account sells only there. No default world has one (DataArguments.regions).
REGION_MARKETPLACES["FE"] = ("JP",)
ORDER_SHARE["JP"] = 1.0
