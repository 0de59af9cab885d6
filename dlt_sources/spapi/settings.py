"""Where SP-API lives and what each operation the source calls may cost: the one table of limits.

Rates and bursts are Amazon's documented defaults per operation, per seller account and
application. The client starts each token bucket from this table and then follows the
`x-amzn-RateLimit-Limit` header, which states the limit actually in force for the seller.
"""

from __future__ import annotations

from dataclasses import dataclass

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

REGION_ENDPOINTS: dict[str, str] = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ALL_ORDERS_REPORT = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
INVENTORY_REPORT = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
REIMBURSEMENTS_REPORT = "GET_FBA_REIMBURSEMENTS_DATA"
FEE_ESTIMATES_REPORT = "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA"
LEDGER_REPORT = "GET_LEDGER_DETAIL_VIEW_DATA"


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # with {placeholders}
    rate: float  # requests per second
    burst: int
    restricted: bool = False  # needs a Restricted Data Token instead of the access token


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", 0.016, 15),
        Operation("searchOrders", "GET", "/orders/2026-01-01/orders", 0.0056, 20),
        Operation("getOrder", "GET", "/orders/2026-01-01/orders/{orderId}", 0.5, 30),
        Operation("listFinancialEventGroups", "GET", "/finances/v0/financialEventGroups", 0.5, 30),
        Operation("listTransactions", "GET", "/finances/2024-06-19/transactions", 0.5, 10),
        Operation("createReport", "POST", "/reports/2021-06-30/reports", 0.0167, 15),
        Operation("getReports", "GET", "/reports/2021-06-30/reports", 0.0222, 10),
        Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}", 2.0, 15),
        Operation("cancelReport", "DELETE", "/reports/2021-06-30/reports/{reportId}", 0.0222, 10),
        Operation("getReportDocument", "GET", "/reports/2021-06-30/documents/{reportDocumentId}", 0.0167, 15),
        Operation("searchCatalogItems", "GET", "/catalog/2022-04-01/items", 2.0, 2),
        Operation("getInventorySummaries", "GET", "/fba/inventory/v1/summaries", 2.0, 2),
        Operation("createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken", 1.0, 10),
    )
}

CATALOG_BATCH = 20  # searchCatalogItems takes at most 20 identifiers per call
