{#- Amazon's summary of each settlement (listSummary) against the settlement file's own lines, one row per
    settlement that has a summary. Each summary breakdown is categorised as the file's line with the same
    labels (transaction-type > amount-type > amount-description) is; then the categories' amounts are compared.
    A summary whose labels are not the file's (a real account's summary may use other words, e.g. Amazon's
    example "Sales > Product Charges") cannot be compared by category: only its net proceeds are
    (summary_labels_matched false). -#}
with summaries as (
    select * from {{ ref('stg_spapi__settlement_summaries') }}
),

lines as (
    select seller_id, settlement_id, transaction_type, amount_type, amount_description, category, amount
    from {{ ref('int_settlement_lines_categorised') }}
),

labels as (
    select distinct seller_id, settlement_id, transaction_type, amount_type,
        coalesce(amount_description, '') as amount_description, category
    from lines
),

summary_categorised as (
    select summaries.seller_id, summaries.settlement_id, summaries.amount, summaries.net_proceeds_amount,
        summaries.currency, labels.category
    from summaries
    left join labels
        on summaries.seller_id = labels.seller_id
        and summaries.settlement_id = labels.settlement_id
        and summaries.breakdown_depth = 3
        and summaries.breakdown_level_1 = labels.transaction_type
        and summaries.breakdown_level_2 = labels.amount_type
        and coalesce(summaries.breakdown_level_3, '') = labels.amount_description
),

summary_totals as (
    select
        seller_id,
        settlement_id,
        max(net_proceeds_amount) as summary_net_proceeds_amount,
        sum(case when category is null then 1 else 0 end) as unmatched_label_count
    from summary_categorised
    group by seller_id, settlement_id
),

summary_by_category as (
    select seller_id, settlement_id, category, sum(amount) as summary_amount
    from summary_categorised
    where category is not null
    group by seller_id, settlement_id, category
),

lines_by_category as (
    select lines.seller_id, lines.settlement_id, lines.category, sum(lines.amount) as lines_amount
    from lines
    inner join summary_totals
        on lines.seller_id = summary_totals.seller_id
        and lines.settlement_id = summary_totals.settlement_id
    group by lines.seller_id, lines.settlement_id, lines.category
),

category_differences as (
    select
        coalesce(lines_by_category.seller_id, summary_by_category.seller_id) as seller_id,
        coalesce(lines_by_category.settlement_id, summary_by_category.settlement_id) as settlement_id,
        coalesce(lines_by_category.category, summary_by_category.category) as category,
        coalesce(summary_by_category.summary_amount, 0) - coalesce(lines_by_category.lines_amount, 0) as difference
    from lines_by_category
    full outer join summary_by_category
        on lines_by_category.seller_id = summary_by_category.seller_id
        and lines_by_category.settlement_id = summary_by_category.settlement_id
        and lines_by_category.category = summary_by_category.category
)

select
    summary_totals.seller_id,
    summary_totals.settlement_id,
    {{ money('summary_totals.summary_net_proceeds_amount') }} as summary_net_proceeds_amount,
    summary_totals.unmatched_label_count = 0 as summary_labels_matched,
    cast(sum(case when summary_totals.unmatched_label_count = 0 and category_differences.difference <> 0
        then 1 else 0 end) as bigint) as summary_mismatched_category_count,
    min(case when summary_totals.unmatched_label_count = 0 and category_differences.difference <> 0
        then category_differences.category end) as summary_first_mismatched_category
from summary_totals
left join category_differences
    on summary_totals.seller_id = category_differences.seller_id
    and summary_totals.settlement_id = category_differences.settlement_id
group by summary_totals.seller_id, summary_totals.settlement_id, summary_totals.summary_net_proceeds_amount,
    summary_totals.unmatched_label_count
