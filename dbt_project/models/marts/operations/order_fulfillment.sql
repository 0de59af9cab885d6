{#- Fulfilment per seller, marketplace and purchase day: orders, ship latency, late shipments and
    cancellations. A shipment is late when it left more than var `late_shipment_hours` (default 48)
    hours after the purchase; an open order is overdue when it has waited longer than that by the end
    of the `as_of` day. -#}
{%- set late_hours = var('late_shipment_hours') %}

with orders as (
    select * from {{ ref('int_orders_shipments_timed') }}
),

daily as (
    select
        seller_id,
        marketplace_id,
        purchased_date,
        count(*) as orders,
        sum(case when fulfillment_channel = 'Amazon' then 1 else 0 end) as afn_orders,
        sum(case when fulfillment_channel = 'Merchant' then 1 else 0 end) as mfn_orders,
        sum(case when is_shipped then 1 else 0 end) as shipped_orders,
        sum(case when is_cancelled then 1 else 0 end) as cancelled_orders,
        sum(case when not is_shipped and not is_cancelled then 1 else 0 end) as open_orders,
        avg(ship_latency_hours) as avg_ship_latency_hours,
        max(ship_latency_hours) as max_ship_latency_hours,
        sum(case when ship_latency_hours > {{ late_hours }} then 1 else 0 end) as late_shipments,
        sum(case when open_hours_at_as_of > {{ late_hours }} then 1 else 0 end) as overdue_open_orders
    from orders
    group by seller_id, marketplace_id, purchased_date
)

select
    {{ surrogate_key(["seller_id", "marketplace_id", dbt.cast("purchased_date", dbt.type_string())]) }}
        as order_fulfillment_id,
    seller_id,
    marketplace_id,
    {{ named_columns('daily.seller_id') }},
    purchased_date,
    cast(orders as bigint) as orders,
    cast(afn_orders as bigint) as afn_orders,
    cast(mfn_orders as bigint) as mfn_orders,
    cast(shipped_orders as bigint) as shipped_orders,
    cast(cancelled_orders as bigint) as cancelled_orders,
    cast(open_orders as bigint) as open_orders,
    cast(avg_ship_latency_hours as decimal(18, 2)) as avg_ship_latency_hours,
    cast(max_ship_latency_hours as decimal(18, 2)) as max_ship_latency_hours,
    cast(late_shipments as bigint) as late_shipments,
    cast(overdue_open_orders as bigint) as overdue_open_orders,
    cast({{ late_hours }} as integer) as late_after_hours,
    cast(case when shipped_orders > 0 then 100.0 * late_shipments / shipped_orders end as decimal(9, 2))
        as late_shipment_rate_pct,
    cast(case when orders > 0 then 100.0 * cancelled_orders / orders end as decimal(9, 2))
        as cancellation_rate_pct
from daily
{{ join_names('daily.seller_id', 'daily.marketplace_id') }}
