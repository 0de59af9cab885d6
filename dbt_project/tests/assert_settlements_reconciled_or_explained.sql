-- Every settlement reconciles (or is still open, awaiting its deposit, or has no deposit data to be checked
-- against: an imported settlement file older than the Finances API's data) or has its exceptions recorded in
-- finance.reconciliation_exceptions: a status that says something is wrong is never left unexplained to the
-- finance people who read it (rows = failures).
-- In Dagster: a blocking check on finance/settlements (meta.dagster.ref; severity error makes it blocking).
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'settlements'}}}) }}
select settlements.seller_id, settlements.settlement_id, settlements.reconciliation_status
from {{ ref('settlements') }} as settlements
where settlements.reconciliation_status not in ('reconciled', 'open', 'no deposit data')
    and not exists (
        select 1
        from {{ ref('reconciliation_exceptions') }} as exceptions
        where exceptions.seller_id = settlements.seller_id
            and exceptions.settlement_id = settlements.settlement_id
    )
