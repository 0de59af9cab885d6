-- Every journal balances: its debits equal its credits.
select journal_id, sum(debit) as debits, sum(credit) as credits
from {{ ref('settlement_journals') }}
group by journal_id
having sum(debit) <> sum(credit)
