{#- Fee audit findings (rows of finance.reconciliation_exceptions), each keyed by its event (the order item, or
    the refund's adjustment): a referral or closing fee above the rule in force at the purchase date, an FBA fee
    above the fee estimates report, a refund administration fee other than the rule's. `expected` is the
    rule's amount, `actual` the charged one. A difference of one minor unit (0.01) per line is Amazon's
    rounding, not a finding. Lines with no expectation (category unresolved, no sourced schedule) are not
    audited. -#}
{%- set tolerance = '0.01' %}
with fees as (
    select * from {{ ref('int_order_item_fees_expected') }}
),

refunds as (
    select * from {{ ref('int_refunds_matched') }}
)

-- Referral fee above the rule in force at the purchase date.
select
    'referral_fee_overcharged' as kind,
    seller_id,
    marketplace_id,
    order_item_code as reference_id,
    settlement_id,
    sku,
    expected_referral_fee as expected,
    charged_referral_fee as actual,
    currency,
    'Referral fee ' || {{ to_text('charged_referral_fee') }} || ' charged on ' || sku || ' (order ' || order_id
        || ', ' || {{ to_text('quantity') }} || ' unit(s) for ' || {{ to_text('sales_price') }} || ', bought '
        || {{ to_text('purchase_date') }} || '); the ' || category || ' rule in force from '
        || {{ to_text('rule_effective_from') }} || ' (' || replace(band_kind, 'none', 'flat') || ': ' || bands
        || coalesce(', at least ' || {{ to_text('nullif(minimum_fee_per_unit, 0)') }} || ' per unit', '')
        || '; ' || rule_source || ') gives ' || {{ to_text('expected_referral_fee') }} || '.' as explanation
from fees
where expected_referral_fee is not null and charged_referral_fee > expected_referral_fee + {{ tolerance }}

union all

-- Media closing fee above the closing fee in force at the purchase date.
select
    'closing_fee_overcharged' as kind,
    seller_id,
    marketplace_id,
    order_item_code as reference_id,
    settlement_id,
    sku,
    expected_closing_fee as expected,
    charged_closing_fee as actual,
    currency,
    'Closing fee ' || {{ to_text('charged_closing_fee') }} || ' charged on ' || sku || ' (order ' || order_id
        || ', ' || {{ to_text('quantity') }} || ' unit(s), bought ' || {{ to_text('purchase_date') }} || '); the '
        || category || ' closing fee (' || closing_fee_source || ') gives '
        || {{ to_text('expected_closing_fee') }} || '.' as explanation
from fees
where expected_closing_fee is not null and charged_closing_fee > expected_closing_fee + {{ tolerance }}

union all

-- FBA fulfilment fee above the expectation of the fee estimates snapshot in force on the purchase date (lines
-- with none in force are not audited: int_order_item_fees_expected.fba_fee_audit says so).
select
    'fba_fee_overcharged' as kind,
    seller_id,
    marketplace_id,
    order_item_code as reference_id,
    settlement_id,
    sku,
    expected_fba_fee as expected,
    charged_fba_fee as actual,
    currency,
    'FBA fulfilment fee ' || {{ to_text('charged_fba_fee') }} || ' charged on ' || sku || ' in order '
        || order_id || '; the fee estimates report of ' || {{ to_text('fba_fee_estimate_date') }}
        || ' (in force on the purchase date ' || {{ to_text('purchase_date') }} || ') expects '
        || {{ to_text('expected_fba_fee') }}
        || ' for ' || {{ to_text('quantity') }} || ' unit(s).' as explanation
from fees
where expected_fba_fee is not null and charged_fba_fee > expected_fba_fee + {{ tolerance }}

union all

-- Refund administration fee other than the rule in force on the refund date.
select
    'refund_admin_fee_wrong' as kind,
    seller_id,
    marketplace_id,
    coalesce(adjustment_id, order_id) as reference_id,
    settlement_id,
    sku,
    expected_refund_admin_fee as expected,
    charged_refund_admin_fee as actual,
    currency,
    'Refund administration fee ' || {{ to_text('charged_refund_admin_fee') }} || ' kept on the refund of '
        || sku || ' in order ' || order_id || '; the ' || product_scope || ' rule ('
        || case admin_fee_rule
            when 'fixed' then {{ to_text('admin_fee_fixed_amount') }}
            else 'the lesser of ' || {{ to_text('admin_fee_fixed_amount') }} || ' and '
                || {{ to_text('cast(admin_fee_percent as decimal(9, 2))') }} || '% of the refunded referral fee '
                || {{ to_text('refunded_referral_fee') }}
        end || '; ' || admin_fee_source || ') gives ' || {{ to_text('expected_refund_admin_fee') }} || '.'
        as explanation
from refunds
where expected_refund_admin_fee is not null
    and abs(charged_refund_admin_fee - expected_refund_admin_fee) > {{ tolerance }}
