select
    seller_id || '-' || reference_id || '-' || event_type || '-' || msku || '-' || fulfillment_center
        || '-' || disposition as inventory_ledger_id,
    seller_id,
    marketplace_id,
    reference_id,
    event_type,
    event_date,
    {{ to_utc('event_at') }} as event_at,
    msku as sku,
    fnsku,
    asin,
    title,
    quantity,
    fulfillment_center,
    disposition,
    reason,
    country,
    reconciled_quantity,
    unreconciled_quantity
from {{ raw_table('inventory_ledger') }}
