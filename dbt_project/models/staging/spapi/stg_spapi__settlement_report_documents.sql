{#- The document content is left out: the lines and the summary are staged from their own tables. -#}
select
    report_id,
    seller_id,
    settlement_id,
    marketplace_id,
    document_id,
    document_bytes,
    {{ to_utc('created_at') }} as report_created_at,
    row_number() over (partition by seller_id, settlement_id order by created_at desc, report_id desc) = 1
        as is_newest_version,
    count(*) over (partition by seller_id, settlement_id) as version_count
from {{ source('raw_spapi', 'settlement_report_documents') }}
