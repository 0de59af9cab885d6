-- Every settlement has exactly one deposit-clearing line, in its deposit journal, and that line (debit - credit)
-- equals the settlement's total: the bank deposit is matched against one entry, however many months it spans.
-- In Dagster: a check on finance/settlement_journals (meta.dagster.ref), the table a bookkeeper posts.
{{ config(meta={'dagster': {'ref': {'name': 'settlement_journals'}}}) }}
with clearing as (
    select seller_id, settlement_id, count(*) as clearing_lines, sum(debit - credit) as clearing_amount,
           min(case when is_deposit_journal then 1 else 0 end) as in_deposit_journal
    from {{ ref('settlement_journals') }}
    where line_role = 'deposit_clearing'
    group by seller_id, settlement_id
)

select settlements.seller_id, settlements.settlement_id, settlements.reported_total_amount,
       clearing.clearing_lines, clearing.clearing_amount
from {{ ref('settlements') }} as settlements
left join clearing
    on settlements.seller_id = clearing.seller_id
    and settlements.settlement_id = clearing.settlement_id
where clearing.clearing_lines is distinct from 1
   or clearing.clearing_amount is distinct from settlements.reported_total_amount
   or clearing.in_deposit_journal is distinct from 1
