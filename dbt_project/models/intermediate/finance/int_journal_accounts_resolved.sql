{#- The general-ledger account of everything the journals post, per seller: each settlement line label
    (category, amount-type, amount-description) and the journals' own accounts (deposit clearing, carried forward,
    deferred balance and its other side, the suspense account that takes a settlement's unexplained difference).
    The most specific journal_accounts row wins: the seller's own row over the default (empty seller_id), an exact
    amount-type over `*`, an exact description over `*`. Without a row the account is null: the journal line stays
    (so the journal still balances), finance.journal_unmapped_lines shows it and assert_journal_accounts_mapped
    fails. Nothing is lumped into another account. -#}
with sellers as (
    select seller_id from {{ ref('stg_spapi__settlement_reports') }}
    union
    select seller_id from {{ ref('stg_spapi__financial_transactions') }}
),

own_accounts as (
    select 'deposit_clearing' as category
    union all select 'carried_forward'
    union all select 'deferred_balance'
    union all select 'deferred_pending'
    union all select 'unmapped'
),

labels as (
    select distinct seller_id, category, amount_type, amount_description
    from {{ ref('int_settlement_lines_categorised') }}
    union
    select sellers.seller_id, own_accounts.category, '*' as amount_type, '*' as amount_description
    from sellers
    cross join own_accounts
),

accounts as (
    select * from {{ ref('journal_accounts') }}
),

ranked as (
    select
        labels.seller_id,
        labels.category,
        labels.amount_type,
        labels.amount_description,
        accounts.account_code,
        accounts.account_name,
        accounts.tax_code,
        row_number() over (
            partition by labels.seller_id, labels.category, labels.amount_type, labels.amount_description
            order by
                case when accounts.seller_id is null then 1 else 0 end,
                case when accounts.amount_type = '*' then 1 else 0 end,
                case when accounts.amount_description = '*' then 1 else 0 end
        ) as match_rank
    from labels
    left join accounts
        on accounts.category = labels.category
        and (accounts.seller_id = labels.seller_id or accounts.seller_id is null)
        and accounts.amount_type in (labels.amount_type, '*')
        and accounts.amount_description in (labels.amount_description, '*')
)

select seller_id, category, amount_type, amount_description, account_code, account_name, tax_code
from ranked
where match_rank = 1
