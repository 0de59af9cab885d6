{#- Every detail line of every loaded settlement document version, as the loader appended it. Which
    version counts, and each line's category, are decided downstream (int_settlement_lines_categorised). -#}
select
    seller_id || '-' || settlement_id || '-' || report_id || '-' || {{ to_text('line_number') }}
        as settlement_report_line_id,
    settlement_id,
    report_id,
    line_number,
    seller_id,
    marketplace_id,
    marketplace_name,
    transaction_type,
    nullif(order_id, '') as order_id,
    nullif(merchant_order_id, '') as merchant_order_id,
    nullif(adjustment_id, '') as adjustment_id,
    nullif(shipment_id, '') as shipment_id,
    nullif(fulfillment_id, '') as fulfillment_channel,
    amount_type,
    amount_description,
    {{ money('amount') }} as amount,
    currency,
    posted_date,
    {{ to_utc('posted_at') }} as posted_at,
    nullif(order_item_code, '') as order_item_code,
    nullif(merchant_order_item_id, '') as merchant_order_item_id,
    nullif(merchant_adjustment_item_id, '') as merchant_adjustment_item_id,
    nullif(sku, '') as sku,
    quantity_purchased as quantity,
    nullif(promotion_id, '') as promotion_id
from {{ raw_table('settlement_lines') }}
