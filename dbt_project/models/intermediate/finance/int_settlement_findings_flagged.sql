{#- Settlement findings (rows of finance.reconciliation_exceptions), from finance.settlements' reconciliation
    and the categorised lines: a deposit missing or differing from the settlement's total, lines that do not
    add up to it, Amazon's summary disagreeing with the lines, a re-issued settlement, lines whose labels the category seed does not know. -#}
with settlements as (
    select * from {{ ref('settlements') }}
)

-- The transfer failed, or nothing arrived some days after the deposit date (finance.settlements' status).
select
    'deposit_missing' as kind,
    seller_id,
    marketplace_id,
    settlement_id as reference_id,
    settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    reported_total_amount as expected,
    {{ money(0) }} as actual,
    currency,
    'Settlement ' || settlement_id || ' (' || {{ to_text('reported_total_amount') }} || ' ' || currency
        || ', deposit date ' || {{ to_text('deposit_date') }} || ') has no deposit; transfer status: '
        || coalesce(fund_transfer_status, 'no event group') || '.' as explanation
from settlements
where reconciliation_status = 'deposit missing'

union all

-- Amazon transferred another amount than the settlement reports.
select
    'deposit_mismatch' as kind,
    seller_id,
    marketplace_id,
    settlement_id as reference_id,
    settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    reported_total_amount as expected,
    transferred_amount as actual,
    currency,
    'Settlement ' || settlement_id || ' reports ' || {{ to_text('reported_total_amount') }} || ' but '
        || {{ to_text('transferred_amount') }} || ' was transferred.' as explanation
from settlements
where transferred_amount is not null and transferred_amount <> reported_total_amount

union all

-- The lines do not add up to the reported total.
select
    'settlement_total_mismatch' as kind,
    seller_id,
    marketplace_id,
    settlement_id as reference_id,
    settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    reported_total_amount as expected,
    lines_amount as actual,
    currency,
    'Settlement ' || settlement_id || ' reports a total of ' || {{ to_text('reported_total_amount') }}
        || ' but its lines add up to ' || {{ to_text('lines_amount') }} || '.' as explanation
from settlements
where reported_total_amount <> lines_amount

union all

-- Amazon's own summary of the settlement (listSummary) disagrees with the file's lines: in net proceeds, or in a
-- category's amount where the summary's labels are the file's.
select
    'settlement_summary_mismatch' as kind,
    seller_id,
    marketplace_id,
    settlement_id as reference_id,
    settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    lines_amount as expected,
    summary_net_proceeds_amount as actual,
    currency,
    {#- A quote in a literal: '' on DuckDB, \' on Spark (dbt's escape_single_quotes). #}
    '{{ dbt.escape_single_quotes("Amazon's summary of settlement ") }}' || settlement_id || ' shows net proceeds of '
        || {{ to_text('summary_net_proceeds_amount') }} || ' but its lines add up to ' || {{ to_text('lines_amount') }}
        || coalesce('; first category that differs: ' || summary_first_mismatched_category, '') || '.' as explanation
from settlements
where summary_net_proceeds_amount is not null
    and (summary_net_proceeds_amount <> lines_amount or summary_mismatched_category_count > 0)

union all

-- Re-issued: no money at stake (expected = actual), but worth knowing which version the marts use.
select
    'settlement_reissued' as kind,
    seller_id,
    marketplace_id,
    settlement_id as reference_id,
    settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    reported_total_amount as expected,
    reported_total_amount as actual,
    currency,
    'Settlement ' || settlement_id || ' was issued ' || {{ to_text('document_count') }}
        || ' times; the newest version is used.' as explanation
from settlements
where is_reissued

union all

-- Lines with labels the settlement_line_categories seed does not know, one finding per settlement, under the
-- settlement's marketplace: its lines can name others (Amazon.fr lines in a settlement reported for Amazon.de).
select
    'unmapped_lines' as kind,
    lines.seller_id,
    settlements.marketplace_id,
    lines.settlement_id as reference_id,
    lines.settlement_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    {{ money(0) }} as expected,
    {{ money('sum(lines.amount)') }} as actual,
    max(lines.currency) as currency,
    {{ to_text('count(*)') }} || ' line(s) of settlement ' || lines.settlement_id
        || ' have labels the category mapping does not know (e.g. ' || max(lines.amount_type) || ' / '
        || max(lines.amount_description) || '); add them to the settlement_line_categories seed.' as explanation
from {{ ref('int_settlement_lines_categorised') }} as lines
inner join settlements
    on lines.seller_id = settlements.seller_id
    and lines.settlement_id = settlements.settlement_id
where lines.category = 'unmapped'
group by lines.seller_id, settlements.marketplace_id, lines.settlement_id
