{#- The document content is left out: the lines and the summary are staged from their own tables. Which
    version of a settlement is the newest is ranked downstream (int_settlement_documents_ranked). -#}
select
    report_id,
    seller_id,
    settlement_id,
    marketplace_id,
    document_id,
    document_bytes,
    content,  -- loaded, changed (a re-issue with new content), identical (a re-issue, not loaded) or unreadable
    error,  -- why an unreadable document could not be read
    {{ to_utc('created_at') }} as report_created_at,
    -- when this row was loaded: a document read late (unreadable until a fix) is loaded long after its creation
    {{ load_time('_dlt_load_id') }} as report_loaded_at
from {{ raw_table('settlement_report_documents') }}
