{#- The settlement lines every finance and ROI model reads: only the newest loaded document's lines of each
    settlement (a re-issued settlement whose content changed is loaded again as a new version,
    dlt_sources/spapi/settlements.py), each with its category. Every line is kept and categorised; a label
    the settlement_line_categories seed does not know becomes `unmapped`, never dropped. -#}
with lines as (
    select * from {{ ref('stg_spapi__settlement_lines') }}
),

documents as (
    select seller_id, report_id, report_created_at, report_loaded_at
    from {{ ref('stg_spapi__settlement_report_documents') }}
),

-- The newest version: among the versions that have lines, the document Amazon created last (report ids as
-- the tie-break; a version without a document row ranks last).
newest_report as (
    select seller_id, settlement_id, report_id, report_created_at, report_loaded_at
    from (
        select
            versions.seller_id, versions.settlement_id, versions.report_id,
            documents.report_created_at,
            documents.report_loaded_at,
            row_number() over (
                partition by versions.seller_id, versions.settlement_id
                order by documents.report_created_at desc nulls last, versions.report_id desc
            ) as version_rank
        from (select distinct seller_id, settlement_id, report_id from lines) as versions
        left join documents
            on versions.seller_id = documents.seller_id
            and versions.report_id = documents.report_id
    ) as ranked
    where version_rank = 1
),

categories as (
    select transaction_type, amount_type, amount_description, category
    from {{ ref('settlement_line_categories') }}
),

labels as (
    select distinct transaction_type, amount_type, amount_description from lines
),

-- The most specific mapping row wins: an exact transaction type over `*`, an exact description over `*`.
label_categories as (
    select transaction_type, amount_type, amount_description, category
    from (
        select
            labels.transaction_type,
            labels.amount_type,
            labels.amount_description,
            categories.category,
            row_number() over (
                partition by labels.transaction_type, labels.amount_type, labels.amount_description
                order by
                    case when categories.transaction_type = '*' then 1 else 0 end,
                    case when categories.amount_description = '*' then 1 else 0 end
            ) as match_rank
        from labels
        inner join categories
            on categories.amount_type = labels.amount_type
            and categories.transaction_type in (labels.transaction_type, '*')
            and categories.amount_description in (labels.amount_description, '*')
    ) as ranked
    where match_rank = 1
)

select
    lines.settlement_id || '-' || {{ to_text('lines.line_number') }} as settlement_line_id,
    lines.settlement_id,
    lines.report_id,
    newest_report.report_created_at,
    newest_report.report_loaded_at,
    lines.line_number,
    lines.seller_id,
    lines.marketplace_id,
    lines.marketplace_name,
    lines.transaction_type,
    lines.order_id,
    lines.merchant_order_id,
    lines.adjustment_id,
    lines.shipment_id,
    lines.fulfillment_channel,
    lines.amount_type,
    lines.amount_description,
    coalesce(label_categories.category, 'unmapped') as category,
    lines.amount,
    lines.currency,
    lines.posted_date,
    lines.posted_at,
    lines.order_item_code,
    lines.merchant_order_item_id,
    lines.merchant_adjustment_item_id,
    lines.sku,
    lines.quantity,
    lines.promotion_id
from lines
inner join newest_report
    on lines.seller_id = newest_report.seller_id
    and lines.settlement_id = newest_report.settlement_id
    and lines.report_id = newest_report.report_id
left join label_categories
    on lines.transaction_type = label_categories.transaction_type
    and lines.amount_type = label_categories.amount_type
    and lines.amount_description = label_categories.amount_description
