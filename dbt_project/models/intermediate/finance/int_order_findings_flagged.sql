{#- Order findings (rows of finance.reconciliation_exceptions): a shipped order with no settlement line after
    var('unsettled_after_days') (counted back from var('as_of')), and a refund with no original order line in
    any settlement. -#}
{%- set as_of_ts = "cast(" ~ as_of_date() ~ " as timestamp)" -%}

with refunds as (
    select * from {{ ref('int_refunds_matched') }}
),

settled_orders as (
    select distinct seller_id, order_id from {{ ref('int_settlement_lines_categorised') }}
    where order_id is not null
),

order_totals as (
    select
        seller_id,
        order_id,
        max(marketplace_id) as marketplace_id,
        max(currency) as currency,
        sum(item_price + shipping_price + item_tax + shipping_tax + gift_wrap_price + gift_wrap_tax
            + item_promotion_discount + ship_promotion_discount) as order_total
    from {{ ref('stg_spapi__order_items') }}
    group by seller_id, order_id
)

-- A shipped order with no settlement line after the grace period: the order total is expected, nothing came.
select
    'order_not_settled' as kind,
    orders.seller_id,
    orders.marketplace_id,
    orders.order_id as reference_id,
    cast(null as {{ dbt.type_string() }}) as settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    order_totals.order_total as expected,
    {{ money(0) }} as actual,
    order_totals.currency,
    'Order ' || orders.order_id || ' shipped on ' || {{ to_text('cast(orders.last_updated_at as date)') }}
        || ' (' || {{ to_text('order_totals.order_total') }} || ') has no settlement line after '
        || {{ to_text(var('unsettled_after_days')) }} || ' days.' as explanation
from {{ ref('stg_spapi__orders') }} as orders
inner join order_totals
    on orders.seller_id = order_totals.seller_id
    and orders.order_id = order_totals.order_id
left join settled_orders
    on orders.seller_id = settled_orders.seller_id
    and orders.order_id = settled_orders.order_id
where orders.order_status = 'Shipped'
    and settled_orders.order_id is null
    and {{ dbt.dateadd('day', var('unsettled_after_days'), 'orders.last_updated_at') }} <= {{ as_of_ts }}

union all

-- A refund with no original order line in any settlement: the whole refunded amount is unexplained.
select
    'refund_without_original' as kind,
    seller_id,
    marketplace_id,
    order_id as reference_id,
    settlement_id,
    sku,
    {{ money(0) }} as expected,
    refunded_sales_amount as actual,
    currency,
    'Refund of ' || {{ to_text('refunded_sales_amount') }} || ' for order ' || coalesce(order_id, '?')
        || ' has no original order line in any loaded settlement.' as explanation
from refunds
where not has_original_order
