{#- Document findings (rows of finance.reconciliation_exceptions): a settlement report document that could
    not be read. Its settlement is missing from the marts until a run reads it (every run tries again), so the
    payout it pays shows with no settlement behind it: the finding says why. -#}
select
    'settlement_unreadable' as kind,
    documents.seller_id,
    documents.marketplace_id,
    documents.report_id as reference_id,
    cast(null as {{ dbt.type_string() }}) as settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    {{ money(0) }} as expected,
    {{ money(0) }} as actual,
    -- the marketplace's currency (Sellers API), the one its settlements are in
    coalesce(participations.currency, 'XXX') as currency,
    'Settlement report ' || documents.report_id || ' (created ' || {{ to_text('documents.report_created_at') }}
        || ') could not be read: ' || coalesce(documents.error, 'no reason recorded')
        || '. Its lines are not in the lakehouse; every run tries it again.' as explanation
from {{ ref('stg_spapi__settlement_report_documents') }} as documents
left join {{ ref('stg_spapi__marketplace_participations') }} as participations
    on participations.seller_id = documents.seller_id and participations.marketplace_id = documents.marketplace_id
where documents.content = 'unreadable'
