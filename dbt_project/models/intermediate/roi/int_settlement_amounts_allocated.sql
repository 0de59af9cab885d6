{#- Every profit-and-loss settlement amount, on a SKU.

    Lines that carry a SKU (sales, fees, refunds, reimbursements) stay on their SKU. Account-level lines
    without a SKU (ad spend, storage, subscription, inbound transport, ...) are allocated to the SKUs of
    the same seller and marketplace by their share of gross sales (positive principal) in the calendar
    month of the line, and keep the line's posted date. The split is exact to the cent (largest
    remainder: every SKU gets the floor of its share, the left-over cents go to the largest remainders),
    so totals per marketplace, day and category equal the settlement lines'. When the month has no sales
    the line goes to the SKU `(unallocated)`.

    Cash movements that are not profit or loss (reserve held/released, transfers) are left out.
    report_created_at, report_loaded_at: when the newest settlement document behind the row was created and
    loaded (roi.sku_profitability's incremental watermark is the load). -#}
with lines as (
    select
        seller_id,
        marketplace_id,
        currency,
        sku,
        category,
        posted_date,
        cast({{ dbt.date_trunc('month', 'posted_date') }} as date) as posted_month,
        amount,
        quantity,
        transaction_type,
        settlement_line_id,
        report_created_at,
        report_loaded_at
    from {{ ref('int_settlement_lines_categorised') }}
    where {{ is_roi_category('category') }}
),

sku_lines as (
    select
        seller_id, marketplace_id, currency, sku, posted_date, category,
        sum(amount) as amount,
        sum(case when category = 'principal' and transaction_type = 'Order' then quantity else 0 end)
            as units_sold,
        sum(case when category = 'refund' and transaction_type = 'Refund' and amount < 0 then quantity else 0 end)
            as units_refunded,
        false as is_allocated,
        max(report_created_at) as report_created_at,
        max(report_loaded_at) as report_loaded_at
    from lines
    where sku is not null
    group by seller_id, marketplace_id, currency, sku, posted_date, category
),

-- allocation weights: each SKU's positive principal (gross sales) in the month, in cents
sku_month_sales as (
    select
        seller_id, marketplace_id, currency, posted_month, sku,
        cast(sum(amount) * 100 as bigint) as weight_cents
    from lines
    where sku is not null and category = 'principal' and amount > 0
    group by seller_id, marketplace_id, currency, posted_month, sku
),

month_sales as (
    select seller_id, marketplace_id, currency, posted_month, sum(weight_cents) as total_weight_cents
    from sku_month_sales
    group by seller_id, marketplace_id, currency, posted_month
),

account_lines as (
    select
        settlement_line_id, seller_id, marketplace_id, currency, posted_month, posted_date, category,
        cast(amount * 100 as bigint) as amount_cents,
        report_created_at,
        report_loaded_at
    from lines
    where sku is null
),

shares as (
    select
        account_lines.settlement_line_id,
        account_lines.seller_id,
        account_lines.marketplace_id,
        account_lines.currency,
        account_lines.posted_date,
        account_lines.category,
        account_lines.amount_cents,
        account_lines.report_created_at,
        account_lines.report_loaded_at,
        sku_month_sales.sku,
        -- floor of the exact share (integers: exact), with the sign of the amount
        floor(cast(abs(account_lines.amount_cents) * sku_month_sales.weight_cents as double)
              / month_sales.total_weight_cents) as base_abs_cents,
        abs(account_lines.amount_cents) * sku_month_sales.weight_cents as numerator,
        month_sales.total_weight_cents
    from account_lines
    inner join month_sales
        on account_lines.seller_id = month_sales.seller_id
        and account_lines.marketplace_id = month_sales.marketplace_id
        and account_lines.currency = month_sales.currency
        and account_lines.posted_month = month_sales.posted_month
    inner join sku_month_sales
        on month_sales.seller_id = sku_month_sales.seller_id
        and month_sales.marketplace_id = sku_month_sales.marketplace_id
        and month_sales.currency = sku_month_sales.currency
        and month_sales.posted_month = sku_month_sales.posted_month
    where month_sales.total_weight_cents > 0
),

ranked as (
    select
        *,
        abs(amount_cents) - sum(base_abs_cents) over (partition by settlement_line_id) as leftover_cents,
        row_number() over (
            partition by settlement_line_id
            order by numerator - base_abs_cents * total_weight_cents desc, sku
        ) as remainder_rank
    from shares
),

allocated as (
    select
        seller_id, marketplace_id, currency, sku, posted_date, category,
        cast(
            sign(amount_cents)
            * (base_abs_cents + case when remainder_rank <= leftover_cents then 1 else 0 end)
            / 100.0
        as decimal(18, 2)) as amount,
        report_created_at,
        report_loaded_at
    from ranked
),

unallocated as (
    select
        account_lines.seller_id, account_lines.marketplace_id, account_lines.currency,
        '(unallocated)' as sku,
        account_lines.posted_date, account_lines.category,
        cast(account_lines.amount_cents / 100.0 as decimal(18, 2)) as amount,
        account_lines.report_created_at,
        account_lines.report_loaded_at
    from account_lines
    left join month_sales
        on account_lines.seller_id = month_sales.seller_id
        and account_lines.marketplace_id = month_sales.marketplace_id
        and account_lines.currency = month_sales.currency
        and account_lines.posted_month = month_sales.posted_month
    where coalesce(month_sales.total_weight_cents, 0) <= 0
),

account_amounts as (
    select
        seller_id, marketplace_id, currency, sku, posted_date, category,
        sum(amount) as amount,
        0 as units_sold,
        0 as units_refunded,
        true as is_allocated,
        max(report_created_at) as report_created_at,
        max(report_loaded_at) as report_loaded_at
    from (
        select * from allocated
        union all
        select * from unallocated
    ) as account_parts
    group by seller_id, marketplace_id, currency, sku, posted_date, category
)

select
    seller_id, marketplace_id, currency, sku, posted_date, category,
    cast(amount as decimal(18, 2)) as amount,
    cast(units_sold as bigint) as units_sold,
    cast(units_refunded as bigint) as units_refunded,
    is_allocated,
    report_created_at,
    report_loaded_at
from (
    -- both CTEs list the same columns in the same order
    select * from sku_lines
    union all
    select * from account_amounts
) as sku_and_account_amounts
