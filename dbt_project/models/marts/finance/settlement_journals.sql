{#- Accounting journals, one row per journal line, ready to post (spapi_elt/journal_exports.py writes them as
    Xero, QuickBooks Online or plain CSV files; README "Posting to your books").

    Settlement journals (journal_kind `settlement`): each settlement's lines grouped by general-ledger account
    (int_journal_accounts_resolved) and category. A positive settlement amount (money to the seller) is a credit, a
    negative one a debit. Month-end split: lines go to the journal of the month they were posted in (local time of
    the seller's journal time zone, int_settlement_journal_dates); a month before the deposit's is closed against
    `carried_forward` (journal dated the month's last day), which the deposit journal (dated the settlement's end)
    releases again. So every journal balances and the deposit journal's `deposit_clearing` line (debit - credit)
    equals the settlement's total: the bank deposit is matched against that one entry. A settlement whose lines do
    not add up to its total puts the difference on the suspense account (`settlement_difference`), visibly.

    Deferred journals (journal_kind `deferred`, and `deferred_reversal` the next day): money Amazon has posted but
    defers (Finances 2024-06-19 transactionStatus DEFERRED, not yet in any settlement) sits on `deferred_balance`
    against `deferred_pending` on the as-of date; the reversal takes it off again, and the settlement that releases
    the money recognises it line by line. Settlement files never carry deferred money (a settlement only holds
    released postings), hence the transactions. -#}
with settlements as (
    select seller_id, settlement_id, marketplace_id, currency, settlement_start_at, settlement_end_at,
           reported_total_amount, lines_amount
    from {{ ref('settlements') }}
),

dates as (
    select * from {{ ref('int_settlement_journal_dates') }}
),

accounts as (
    select * from {{ ref('int_journal_accounts_resolved') }}
),

-- The journals' own accounts (clearing, carried forward, deferred, ...): matched by category alone.
own_accounts as (
    select * from accounts where amount_type = '*' and amount_description = '*'
),

lines as (
    select
        lines.seller_id,
        lines.settlement_id,
        lines.category,
        lines.amount_type,
        lines.amount_description,
        lines.amount,
        -- A line's month, never after the deposit's (a line stamped after the settlement's end belongs to it).
        least(
            cast({{ dbt.date_trunc('month', "coalesce(" ~ utc_to_local('lines.posted_at', 'dates.journal_time_zone')
                 ~ ", cast(lines.posted_date as timestamp))") }} as date),
            dates.deposit_journal_month
        ) as journal_month
    from {{ ref('int_settlement_lines_categorised') }} as lines
    inner join dates
        on lines.seller_id = dates.seller_id
        and lines.settlement_id = dates.settlement_id
),

category_lines as (
    select
        lines.seller_id,
        lines.settlement_id,
        lines.journal_month,
        'category' as line_role,
        lines.category,
        accounts.account_code,
        accounts.account_name,
        accounts.tax_code,
        -sum(lines.amount) as signed_amount
    from lines
    left join accounts
        on lines.seller_id = accounts.seller_id
        and lines.category = accounts.category
        and lines.amount_type = accounts.amount_type
        and lines.amount_description = accounts.amount_description
    group by 1, 2, 3, 4, 5, 6, 7, 8
),

month_totals as (
    select seller_id, settlement_id, journal_month, sum(amount) as amount
    from lines
    group by seller_id, settlement_id, journal_month
),

-- Every journal of a settlement: the months its lines were posted in, and the deposit's month.
journals as (
    select seller_id, settlement_id, journal_month from month_totals
    union
    select seller_id, settlement_id, deposit_journal_month from dates
),

-- Own lines: carried forward (earlier months: debit what they earned; deposit month: release it all), the deposit,
-- and any difference between the settlement's total and its lines.
own_lines as (
    select month_totals.seller_id, month_totals.settlement_id, month_totals.journal_month,
           'carried_forward' as line_role, 'carried_forward' as category, month_totals.amount as signed_amount
    from month_totals
    inner join dates
        on month_totals.seller_id = dates.seller_id and month_totals.settlement_id = dates.settlement_id
    where month_totals.journal_month < dates.deposit_journal_month
    union all
    select month_totals.seller_id, month_totals.settlement_id, dates.deposit_journal_month,
           'carried_forward', 'carried_forward', -sum(month_totals.amount)
    from month_totals
    inner join dates
        on month_totals.seller_id = dates.seller_id and month_totals.settlement_id = dates.settlement_id
    where month_totals.journal_month < dates.deposit_journal_month
    group by month_totals.seller_id, month_totals.settlement_id, dates.deposit_journal_month
    union all
    select settlements.seller_id, settlements.settlement_id, dates.deposit_journal_month,
           'deposit_clearing', 'deposit_clearing', settlements.reported_total_amount
    from settlements
    inner join dates
        on settlements.seller_id = dates.seller_id and settlements.settlement_id = dates.settlement_id
    union all
    select settlements.seller_id, settlements.settlement_id, dates.deposit_journal_month,
           'settlement_difference', 'unmapped', settlements.lines_amount - settlements.reported_total_amount
    from settlements
    inner join dates
        on settlements.seller_id = dates.seller_id and settlements.settlement_id = dates.settlement_id
    where settlements.lines_amount <> settlements.reported_total_amount
),

own_lines_accounted as (
    select
        own_lines.seller_id, own_lines.settlement_id, own_lines.journal_month, own_lines.line_role,
        own_lines.category, accounts.account_code, accounts.account_name, accounts.tax_code, own_lines.signed_amount
    from own_lines
    left join own_accounts as accounts
        on own_lines.seller_id = accounts.seller_id
        and own_lines.category = accounts.category
),

settlement_lines as (
    select * from category_lines where signed_amount <> 0
    union all
    select * from own_lines_accounted where signed_amount <> 0 or line_role = 'deposit_clearing'
),

settlement_journal_lines as (
    select
        settlement_lines.seller_id,
        settlements.marketplace_id,
        settlement_lines.settlement_id,
        'settlement' as journal_kind,
        settlement_lines.settlement_id || '-' || {{ yyyymmdd('settlement_lines.journal_month', 6) }} as journal_number,
        case when settlement_lines.journal_month = dates.deposit_journal_month then dates.deposit_journal_date
             else cast({{ dbt.last_day('settlement_lines.journal_month', 'month') }} as date) end as journal_date,
        settlement_lines.journal_month = dates.deposit_journal_month as is_deposit_journal,
        dates.journal_time_zone,
        'Amazon settlement ' || settlement_lines.settlement_id || ' ('
            || {{ to_text('cast(settlements.settlement_start_at as date)') }} || ' to '
            || {{ to_text('cast(settlements.settlement_end_at as date)') }} || ')'
            || case when settlement_lines.journal_month = dates.deposit_journal_month then ''
                    else ', posted in ' || left({{ to_text('settlement_lines.journal_month') }}, 7) end as narration,
        settlement_lines.line_role,
        settlement_lines.category,
        settlement_lines.account_code,
        settlement_lines.account_name,
        settlement_lines.tax_code,
        case settlement_lines.line_role
            when 'category' then replace(settlement_lines.category, '_', ' ') || ', settlement '
                || settlement_lines.settlement_id
            when 'carried_forward' then 'Balance carried forward to the deposit of settlement '
                || settlement_lines.settlement_id
            when 'deposit_clearing' then 'Deposit of settlement ' || settlement_lines.settlement_id
            else 'Settlement ' || settlement_lines.settlement_id || ' total differs from its lines'
        end as description,
        settlement_lines.signed_amount,
        settlements.currency
    from settlement_lines
    inner join settlements
        on settlement_lines.seller_id = settlements.seller_id
        and settlement_lines.settlement_id = settlements.settlement_id
    inner join dates
        on settlement_lines.seller_id = dates.seller_id
        and settlement_lines.settlement_id = dates.settlement_id
),

deferred as (
    select seller_id, currency, sum(total_amount) as amount
    from {{ ref('stg_spapi__financial_transactions') }}
    where transaction_status = 'DEFERRED' and settlement_id is null
    group by seller_id, currency
    having sum(total_amount) <> 0
),

-- The deferred balance on the as-of date (journal_kind deferred) and its reversal the next day.
deferred_lines as (
    select deferred.*, kinds.journal_kind, kinds.day_offset, kinds.direction, own.category
    from deferred
    cross join (
        select 'deferred' as journal_kind, 0 as day_offset, 1 as direction
        union all select 'deferred_reversal', 1, -1
    ) as kinds
    cross join (select 'deferred_balance' as category union all select 'deferred_pending') as own
),

deferred_journal_lines as (
    select
        deferred_lines.seller_id,
        cast(null as {{ dbt.type_string() }}) as marketplace_id,
        cast(null as {{ dbt.type_string() }}) as settlement_id,
        deferred_lines.journal_kind,
        case deferred_lines.journal_kind when 'deferred' then 'D' else 'R' end
            || {{ yyyymmdd(dbt.dateadd('day', 'deferred_lines.day_offset', as_of_date())) }} || '-'
            || deferred_lines.currency as journal_number,
        cast({{ dbt.dateadd('day', 'deferred_lines.day_offset', as_of_date()) }} as date) as journal_date,
        false as is_deposit_journal,
        'UTC' as journal_time_zone,
        case deferred_lines.journal_kind
            when 'deferred' then 'Amazon deferred balance on '
            else 'Reversal of the Amazon deferred balance of ' end
            || {{ to_text(as_of_date()) }} || ' (' || deferred_lines.currency || ')' as narration,
        deferred_lines.category as line_role,
        deferred_lines.category,
        accounts.account_code,
        accounts.account_name,
        accounts.tax_code,
        case deferred_lines.category when 'deferred_balance' then 'Money Amazon defers until released'
             else 'Deferred money not yet recognised by a settlement' end as description,
        deferred_lines.amount * deferred_lines.direction
            * case deferred_lines.category when 'deferred_balance' then 1 else -1 end as signed_amount,
        deferred_lines.currency
    from deferred_lines
    left join own_accounts as accounts
        on deferred_lines.seller_id = accounts.seller_id
        and deferred_lines.category = accounts.category
),

journal_lines as (
    select * from settlement_journal_lines
    union all
    select * from deferred_journal_lines
),

numbered as (
    select
        journal_lines.*,
        -- The categories first, then the carried-forward, difference and deposit lines. A bigint on every engine
        -- (Spark's row_number is an int).
        cast(row_number() over (
            partition by seller_id, journal_number
            order by case line_role when 'category' then 0 when 'carried_forward' then 1
                                    when 'settlement_difference' then 2 else 3 end,
                     category, account_code
        ) as bigint) as line_number
    from journal_lines
)

select
    numbered.seller_id || '-' || journal_number || '-' || {{ to_text('line_number') }} as journal_line_id,
    numbered.seller_id || '-' || journal_number as journal_id,
    journal_number,
    line_number,
    journal_kind,
    numbered.seller_id,
    numbered.marketplace_id,
    {{ named_columns('numbered.seller_id') }},
    settlement_id,
    journal_date,
    is_deposit_journal,
    journal_time_zone,
    narration,
    line_role,
    category,
    -- the general-ledger account (the chart's code and name), not the seller account named above
    account_code as ledger_account_code,
    coalesce(numbered.account_name, 'UNMAPPED: ' || category) as ledger_account_name,
    tax_code,
    description,
    {{ money('case when signed_amount > 0 then signed_amount else 0 end') }} as debit,
    {{ money('case when signed_amount < 0 then -signed_amount else 0 end') }} as credit,
    currency
from numbered
{{ join_names('numbered.seller_id', 'numbered.marketplace_id') }}
