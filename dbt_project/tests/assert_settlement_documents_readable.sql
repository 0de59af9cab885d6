-- Every settlement report document was read. One that was not is missing from every mart until a run reads
-- it (finance.reconciliation_exceptions: settlement_unreadable says which and why). A warning, not an error:
-- the other settlements are whole and their reports should still go out.
-- In Dagster: a check on the staged documents (meta.dagster.ref: a test's check must sit on a model it reads).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_spapi__settlement_report_documents'}}}) }}
select report_id, seller_id, error
from {{ ref('stg_spapi__settlement_report_documents') }}
where content = 'unreadable'
