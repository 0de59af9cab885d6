-- Every settlement report document was read. One that was not is missing from every mart until a run reads
-- it (finance.reconciliation_exceptions: settlement_unreadable says which and why). A warning, not an error:
-- the other settlements are whole and their reports should still go out.
-- In Dagster: a check on finance/settlements (meta.dagster.ref), where the missing settlement would be.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'settlements'}}}) }}
select report_id, seller_id, error
from {{ ref('stg_spapi__settlement_report_documents') }}
where content = 'unreadable'
