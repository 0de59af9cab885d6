{#- One row per order with its ship time and latency.

    The Orders report has no ship timestamp; an order is shipped when its status is Shipped, and the
    ship time is the first settlement `Order` line posted for it (Amazon posts an order's charge when it
    ships), else the order's last update (the status change to Shipped). -#}
with orders as (
    select * from {{ ref('stg_spapi__orders') }}
),

first_posting as (
    select seller_id, order_id, min(posted_at) as first_posted_at
    from {{ ref('int_settlement_lines_categorised') }}
    where transaction_type = 'Order' and order_id is not null
    group by seller_id, order_id
),

timed as (
    select
        orders.order_id,
        orders.seller_id,
        orders.marketplace_id,
        orders.fulfillment_channel,
        orders.order_status,
        orders.purchased_at,
        cast(orders.purchased_at as date) as purchased_date,
        case
            when orders.order_status = 'Shipped'
                then coalesce(first_posting.first_posted_at, orders.last_updated_at)
        end as shipped_at,
        case when orders.order_status in ('Cancelled', 'Canceled') then orders.last_updated_at end
            as cancelled_at
    from orders
    left join first_posting
        on orders.seller_id = first_posting.seller_id
        and orders.order_id = first_posting.order_id
)

select
    order_id,
    seller_id,
    marketplace_id,
    fulfillment_channel,
    order_status,
    purchased_at,
    purchased_date,
    shipped_at,
    cancelled_at,
    order_status = 'Shipped' as is_shipped,
    cancelled_at is not null or order_status in ('Cancelled', 'Canceled') as is_cancelled,
    -- exact decimals: an average over floating-point hours depends on the order rows are summed in, so the
    -- same data rounded to different cents from one build to the next
    cast({{ dbt.datediff('purchased_at', 'shipped_at', 'second') }} / 3600.0 as decimal(18, 6))
        as ship_latency_hours,
    -- not yet shipped nor cancelled: how long it has been waiting at the end of the as_of day
    case
        when order_status not in ('Shipped', 'Cancelled', 'Canceled')
            then cast({{ dbt.datediff('purchased_at', dbt.dateadd('day', 1, as_of_date()), 'second') }} / 3600.0
                      as decimal(18, 6))
    end as open_hours_at_as_of
from timed
