{#- Fee audit findings (rows of finance.reconciliation_exceptions): a referral or FBA fee above what the rule
    or the fee estimates report gives, and a refund administration fee other than the rule's. `expected` is
    the rule's amount, `actual` the charged one. -#}
with fees as (
    select * from {{ ref('int_order_item_fees_expected') }}
),

refunds as (
    select * from {{ ref('int_refunds_matched') }}
)

-- Referral fee above the category rule.
select
    'referral_fee_overcharged' as kind,
    seller_id,
    marketplace_id,
    order_id as reference_id,
    settlement_id,
    sku,
    expected_referral_fee as expected,
    charged_referral_fee as actual,
    currency,
    'Referral fee ' || {{ to_text('charged_referral_fee') }} || ' charged on ' || sku || ' in order '
        || order_id || '; the ' || category || ' rule (' || {{ to_text('referral_fee_percent') }}
        || '% of ' || {{ to_text('sales_price') }} || ', at least ' || {{ to_text('minimum_fee_per_unit') }}
        || ' per unit) gives ' || {{ to_text('expected_referral_fee') }} || '.' as explanation
from fees
where expected_referral_fee is not null and charged_referral_fee > expected_referral_fee

union all

-- FBA fulfilment fee above the fee estimates report's expectation.
select
    'fba_fee_overcharged' as kind,
    seller_id,
    marketplace_id,
    order_id as reference_id,
    settlement_id,
    sku,
    expected_fba_fee as expected,
    charged_fba_fee as actual,
    currency,
    'FBA fulfilment fee ' || {{ to_text('charged_fba_fee') }} || ' charged on ' || sku || ' in order '
        || order_id || '; the fee estimates report expects ' || {{ to_text('expected_fba_fee') }}
        || ' for ' || {{ to_text('quantity') }} || ' unit(s).' as explanation
from fees
where expected_fba_fee is not null and charged_fba_fee > expected_fba_fee

union all

-- Refund administration fee other than min(5.00, 20% of the refunded referral fee).
select
    'refund_admin_fee_wrong' as kind,
    seller_id,
    marketplace_id,
    order_id as reference_id,
    settlement_id,
    sku,
    expected_refund_admin_fee as expected,
    charged_refund_admin_fee as actual,
    currency,
    'Refund administration fee ' || {{ to_text('charged_refund_admin_fee') }} || ' kept on the refund of '
        || sku || ' in order ' || order_id || '; min(5.00, 20% of the refunded referral fee '
        || {{ to_text('refunded_referral_fee') }} || ') is ' || {{ to_text('expected_refund_admin_fee') }} || '.'
        as explanation
from refunds
where charged_refund_admin_fee <> expected_refund_admin_fee
