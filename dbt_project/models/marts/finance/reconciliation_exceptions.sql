{#- One row per finding of the settlement reconciliation and fee audit. `kind` uses the sandbox ground
    truth's names where it has one. `amount` is the money at stake (positive); `expected`, `actual` and
    `difference` (actual - expected) show the comparison. Grace periods count from var('as_of').

    The findings come from one intermediate model per area (each unit-tested in _int_finance__models.yml);
    this mart only unions them and derives the key and the money columns. -#}
{%- set finding_models = ['int_fee_findings_flagged', 'int_order_findings_flagged',
                          'int_inventory_findings_flagged', 'int_settlement_findings_flagged',
                          'int_document_findings_flagged'] %}

with findings as (
    {%- for finding_model in finding_models %}
    select kind, seller_id, marketplace_id, reference_id, settlement_id, sku, expected, actual, currency, explanation
    from {{ ref(finding_model) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
)

select
    {{ dbt.hash("kind || '|' || seller_id || '|' || reference_id || '|' || coalesce(settlement_id, '') || '|' || coalesce(sku, '')") }}
        as reconciliation_exception_id,
    kind,
    seller_id,
    marketplace_id,
    {{ named_columns('findings.seller_id') }},
    reference_id,
    settlement_id,
    sku,
    {{ money('expected') }} as expected,
    {{ money('actual') }} as actual,
    {{ money('actual - expected') }} as difference,
    {{ money('abs(actual - expected)') }} as amount,
    currency,
    explanation
from findings
{{ join_names('findings.seller_id', 'findings.marketplace_id') }}
