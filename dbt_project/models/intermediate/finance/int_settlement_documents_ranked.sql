{#- Every settlement report document with its place among the versions of its settlement: Amazon re-issues
    a settlement as a new document, and the one created last (report id as the tie-break) is the newest. -#}
select
    report_id,
    seller_id,
    settlement_id,
    marketplace_id,
    document_id,
    document_bytes,
    report_created_at,
    row_number() over (partition by seller_id, settlement_id order by report_created_at desc, report_id desc) = 1
        as is_newest_version,
    count(*) over (partition by seller_id, settlement_id) as version_count
from {{ ref('stg_spapi__settlement_report_documents') }}
where coalesce(content, 'loaded') <> 'unreadable'  -- a document that could not be read is no version of any settlement
