"""Where SP-API lives and everything the source knows per operation and report type: one table each.

Per operation: method and path, Amazon's documented default rate and burst (per seller account and
application; the client starts each token bucket from it and then follows the `x-amzn-RateLimit-Limit`
header, which states the limit in force for the seller), whether it needs a Restricted Data Token, how it
pages, and the longest date window it answers. Per report type: the longest data window Amazon accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

REGION_ENDPOINTS: dict[str, str] = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}

# Every SP-API marketplace id and the region whose endpoint serves it (Amazon, "Marketplace IDs",
# developer-docs.amazon.com/sp-api/docs/marketplace-ids, as listed on 2026-12-01). A configured id that is not
# here, or not in the account's region, is a typo found before the first call, not after eighty.
MARKETPLACE_REGIONS: dict[str, str] = {
    "A2EUQ1WTGCTBG2": "NA", "ATVPDKIKX0DER": "NA", "A1AM78C64UM0Y8": "NA", "A2Q3Y263D00KWC": "NA",
    "A28R8C7NBKEWEA": "EU", "A1RKKUPIHCS9HS": "EU", "A1F83G8C2ARO7P": "EU", "A13V1IB3VIYZZH": "EU",
    "AMEN7PMS3EDWL": "EU", "A1805IZSGTT6HS": "EU", "A1PA6795UKMFR9": "EU", "APJ6JRA9NG5V4": "EU",
    "A2NODRKZP88ZB9": "EU", "AE08WJ6YKNBMC": "EU", "A1C3SOZRARQ6R3": "EU", "ARBP9OOSHTCHU": "EU",
    "A33AVAJ2PDY3EV": "EU", "A17E79C6D8DWNP": "EU", "A2VIGQ35RCS4UG": "EU", "A21TJRUUN4KGV": "EU",
    "A19VAU5U5O7RUS": "FE", "A39IBJ37TRP1C6": "FE", "A1VC38T7YXB528": "FE",
}

# The only marketplaces Transfers 2024-06-01 (listPayouts, listExpectedPayouts) serves: "This API supports the
# following marketplaces: DE, FR, IT, ES, SE, NL, PL, and BE." (transfers_2024-06-01.json, info.description), by
# their ids above. An account is asked about these alone; one with none of them makes no Transfers call.
TRANSFERS_MARKETPLACE_IDS: frozenset[str] = frozenset({
    "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1RKKUPIHCS9HS",  # DE, FR, IT, ES
    "A2NODRKZP88ZB9", "A1805IZSGTT6HS", "A1C3SOZRARQ6R3", "AMEN7PMS3EDWL",  # SE, NL, PL, BE
})

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ALL_ORDERS_REPORT = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
INVENTORY_REPORT = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
REIMBURSEMENTS_REPORT = "GET_FBA_REIMBURSEMENTS_DATA"
FEE_ESTIMATES_REPORT = "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA"
LEDGER_REPORT = "GET_LEDGER_DETAIL_VIEW_DATA"

# Data windows Amazon accepts per report request, in days (longer windows are refused or truncated).
REPORT_MAX_WINDOW_DAYS: dict[str, int] = {ALL_ORDERS_REPORT: 30}

SETTLE_MARGIN = timedelta(minutes=5)  # Amazon wants time bounds at least 2 minutes in the past


@dataclass(frozen=True)
class Paging:
    """Where an operation's page token lives in the answer and how the next request sends it."""

    token_path: tuple[str, ...]  # path of the token in the response body
    token_param: str  # query parameter that carries it on the next request
    items_path: tuple[str, ...]  # path of the list of items
    token_alone: bool = False  # send the token as the ONLY parameter (getReports)


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # with {placeholders}
    rate: float  # requests per second
    burst: int
    restricted: bool = False  # needs a Restricted Data Token instead of the access token
    paging: Paging | None = None  # None: one page
    max_window_days: int | None = None  # a longer date window answers empty


# Paging read from each model: Finances v0/2024-06-19 and FBA inventory repeat the arguments with the token;
# Orders 2026-01-01 sends `pagination.nextToken` back as `paginationToken` with the same arguments; Catalog
# Items sends `pagination.nextToken` as `pageToken`; getReports wants `nextToken` alone.
# Windows: listTransactions and listFinancialEventGroups: "If PostedAfter and PostedBefore are more than 180
# days apart, the response is empty".


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", 0.016, 15),
        Operation("searchOrders", "GET", "/orders/2026-01-01/orders", 0.0056, 20,
                  paging=Paging(("pagination", "nextToken"), "paginationToken", ("orders",))),
        Operation("getOrder", "GET", "/orders/2026-01-01/orders/{orderId}", 0.5, 30),
        Operation("listFinancialEventGroups", "GET", "/finances/v0/financialEventGroups", 0.5, 30,
                  paging=Paging(("payload", "NextToken"), "NextToken", ("payload", "FinancialEventGroupList")),
                  max_window_days=180),
        Operation("listTransactions", "GET", "/finances/2024-06-19/transactions", 0.5, 10,
                  paging=Paging(("payload", "nextToken"), "nextToken", ("payload", "transactions")),
                  max_window_days=180),
        # Finances 2024-06-19 balances and summaries, Transfers 2024-06-01 payouts: bare `nextToken` repeated with
        # the arguments; role Finance and Accounting, no Restricted Data Token.
        Operation("listBalances", "GET", "/finances/2024-06-19/balances", 0.5, 10,
                  paging=Paging(("nextToken",), "nextToken", ("balances",))),
        Operation("listSummary", "GET", "/finances/2024-06-19/summary", 0.5, 10,
                  paging=Paging(("nextToken",), "nextToken", ("summaries",))),
        Operation("listPayouts", "GET", "/finances/transfers/2024-06-01/payouts", 0.5, 10,
                  paging=Paging(("nextToken",), "nextToken", ("payouts",))),
        Operation("listExpectedPayouts", "GET", "/finances/transfers/2024-06-01/payouts/expected", 0.5, 10,
                  paging=Paging(("nextToken",), "nextToken", ("expectedPayouts",))),
        Operation("createReport", "POST", "/reports/2021-06-30/reports", 0.0167, 15),
        Operation("getReports", "GET", "/reports/2021-06-30/reports", 0.0222, 10,
                  paging=Paging(("nextToken",), "nextToken", ("reports",), token_alone=True)),
        Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}", 2.0, 15),
        Operation("cancelReport", "DELETE", "/reports/2021-06-30/reports/{reportId}", 0.0222, 10),
        Operation("getReportDocument", "GET", "/reports/2021-06-30/documents/{reportDocumentId}", 0.0167, 15),
        Operation("searchCatalogItems", "GET", "/catalog/2022-04-01/items", 2.0, 2,
                  paging=Paging(("pagination", "nextToken"), "pageToken", ("items",))),
        Operation("getInventorySummaries", "GET", "/fba/inventory/v1/summaries", 2.0, 2,
                  paging=Paging(("pagination", "nextToken"), "nextToken", ("payload", "inventorySummaries"))),
        Operation("createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken", 1.0, 10),
    )
}

CATALOG_BATCH = 20  # searchCatalogItems takes at most 20 identifiers per call
