{%- set categories = settlement_categories() -%}

{#- One row per settlement: reported total against the sum of its lines, the matched event group and
    its transfer, and a reconciliation status:
    - reconciled: lines add up to the total and the deposit equals the total; or the total is 0.00 and the
      lines add up to it, with no money transferred: nothing is to be deposited (real settlements can total
      0.00, e.g. when Amazon holds the whole balance in reserve), so no deposit is missing;
    - difference: lines do not add up, or the deposit differs from the total;
    - deposit missing: the transfer failed, or nothing arrived some days after the deposit date;
    - no deposit data: the seller's financial event groups (Finances API) do not reach back to the settlement,
      so its deposit cannot be checked (a settlement file imported from Seller Central, older than the API's
      data or without API access). A missing event group is only a finding where groups cover the period;
    - open: the deposit is not due yet (still processing).
    Amazon's own summary of the settlement (Finances 2024-06-19 listSummary), where loaded, is compared with the
    lines by category (intermediate.int_settlement_summaries_compared); a disagreement is a finding
    (settlement_summary_mismatch), not a status. -#}
with settlements as (
    select * from {{ ref('stg_spapi__settlement_reports') }}
),

documents as (
    select seller_id, settlement_id, max(version_count) as document_count
    from {{ ref('int_settlement_documents_ranked') }}
    group by seller_id, settlement_id
),

lines as (
    select
        seller_id,
        settlement_id,
        max(report_id) as lines_report_id,
        sum(amount) as lines_amount,
{%- for category in categories %}
        sum(case when category = '{{ category }}' then 1 else 0 end) as {{ category }}_line_count,
{%- endfor %}
        count(*) as line_count
    from {{ ref('int_settlement_lines_categorised') }}
    group by seller_id, settlement_id
),

groups as (
    select * from {{ ref('int_event_groups_matched') }}
),

-- How far back each seller's event groups reach. The group that follows a settlement starts where it ends,
-- so a settlement whose own group is missing is still covered by its successor's.
summaries as (
    select * from {{ ref('int_settlement_summaries_compared') }}
),

event_groups_from as (
    select seller_id, min(group_start_at) as first_group_start_at
    from {{ ref('stg_spapi__financial_event_groups') }}
    group by seller_id
),

joined as (
    select
        settlements.*,
        coalesce(documents.document_count, 1) as document_count,
        {{ money('coalesce(lines.lines_amount, 0)') }} as lines_amount,
        coalesce(lines.line_count, 0) as line_count,
{%- for category in categories %}
        lines.{{ category }}_line_count,
{%- endfor %}
        groups.financial_event_group_id,
        groups.match_method as event_group_match_method,
        groups.fund_transfer_status,
        groups.fund_transferred_at,
        groups.transferred_amount,
        summaries.summary_net_proceeds_amount,
        summaries.summary_labels_matched,
        summaries.summary_mismatched_category_count,
        summaries.summary_first_mismatched_category,
        coalesce(event_groups_from.first_group_start_at <= settlements.settlement_end_at, false)
            as deposit_checkable
    from settlements
    left join documents
        on settlements.seller_id = documents.seller_id
        and settlements.settlement_id = documents.settlement_id
    left join lines
        on settlements.seller_id = lines.seller_id
        and settlements.settlement_id = lines.settlement_id
    left join groups
        on settlements.seller_id = groups.seller_id
        and settlements.settlement_id = groups.settlement_id
    left join summaries
        on settlements.seller_id = summaries.seller_id
        and settlements.settlement_id = summaries.settlement_id
    left join event_groups_from
        on settlements.seller_id = event_groups_from.seller_id
)

select
    settlement_id,
    seller_id,
    marketplace_id,
    {{ named_columns('joined.seller_id') }},
    settlement_start_at,
    settlement_end_at,
    deposit_date,
    report_created_at,
    currency,
    total_amount as reported_total_amount,
    lines_amount,
    -- Every difference is actual - expected, here and on every report sheet: the lines against the total they
    -- should add up to, the deposit against the total it should pay.
    {{ money('lines_amount - total_amount') }} as lines_minus_total_amount,
    line_count,
{%- for category in categories %}
    cast(coalesce({{ category }}_line_count, 0) as bigint) as {{ category }}_line_count,
{%- endfor %}
    document_count,
    document_count > 1 as is_reissued,
    financial_event_group_id,
    event_group_match_method,
    fund_transfer_status,
    fund_transferred_at,
    transferred_amount,
    -- A failed transfer deposited nothing: the whole total is missing. Pending: no difference yet.
    {{ money("case when fund_transfer_status = 'Failed' then 0 else transferred_amount end - total_amount") }}
        as deposit_minus_total_amount,
    -- Null where no deposit is due (a 0.00 settlement with nothing transferred): neither received nor missing.
    case
        when total_amount = 0 and coalesce(transferred_amount, 0) = 0 then null
        else coalesce(fund_transfer_status = 'Succeeded' and transferred_amount is not null, false)
    end as deposit_received,
    summary_net_proceeds_amount,
    {{ money('summary_net_proceeds_amount - lines_amount') }} as summary_difference_amount,
    summary_labels_matched,
    summary_mismatched_category_count,
    summary_first_mismatched_category,
    case
        when total_amount <> lines_amount then 'difference'
        when total_amount = 0 and coalesce(transferred_amount, 0) = 0 then 'reconciled'
        when financial_event_group_id is null and not deposit_checkable then 'no deposit data'
        when fund_transfer_status = 'Failed' then 'deposit missing'
        when transferred_amount is not null and transferred_amount <> total_amount then 'difference'
        when transferred_amount is not null and fund_transfer_status = 'Succeeded' then 'reconciled'
        when deposit_date <= {{ dbt.dateadd('day', -var('deposit_after_days'), as_of_date()) }}
            then 'deposit missing'
        else 'open'
    end as reconciliation_status
from joined
{{ join_names('joined.seller_id', 'joined.marketplace_id') }}
