{#- What the journals cannot post: settlement lines (and the journals' own accounts) whose category has no
    general-ledger account in the journal_accounts seed. Empty when every category is mapped; a row here fails the
    test assert_journal_accounts_mapped, and its journal line carries account name `UNMAPPED: <category>` and no
    account code (the exports refuse such journals). Add a journal_accounts row to fix it. -#}
with accounts as (
    select * from {{ ref('int_journal_accounts_resolved') }}
    where account_code is null
),

lines as (
    select seller_id, settlement_id, category, amount_type, amount_description, amount, currency
    from {{ ref('int_settlement_lines_categorised') }}
)

select
    accounts.seller_id,
    accounts.category,
    accounts.amount_type,
    accounts.amount_description,
    count(lines.settlement_id) as line_count,
    count(distinct lines.settlement_id) as settlement_count,
    {{ money('coalesce(sum(lines.amount), 0)') }} as amount,
    min(lines.currency) as currency
from accounts
left join lines
    on accounts.seller_id = lines.seller_id
    and accounts.category = lines.category
    and accounts.amount_type = lines.amount_type
    and accounts.amount_description = lines.amount_description
group by accounts.seller_id, accounts.category, accounts.amount_type, accounts.amount_description
