{#- The one vocabulary of settlement line categories: what each category of the settlement_line_categories
    seed (plus `unmapped`, the category of a label the seed does not know) becomes in the ROI marts.
    tests/assert_settlement_categories_match_seed.sql checks it against the seed.

    Listed in the order of finance.settlements' `<category>_line_count` columns. Per category:
    - roi_column: its money column in int_sku_days_costed and the roi marts; none for cash movements that
      are not profit or loss (reserves held and released, transfers, loan advances and repayments), which the
      ROI models leave out. Liquidation proceeds (FBA Liquidations: what a liquidator paid for removed
      inventory) have their own column, apart from gross sales: they are not sales to customers, carry no
      units sold and would distort margins and TACoS;
    - roi_position: that column's place in the roi marts (sales, fees, other costs, then tax);
    - pass_through: tax Amazon collects or withholds for the authorities: in net proceeds, not in the
      contribution (not profit). -#}
{% macro settlement_category_vocabulary() -%}
    {{ return([
        {'category': 'principal',           'roi_column': 'gross_sales',        'roi_position': 1},
        {'category': 'shipping',            'roi_column': 'shipping_revenue',   'roi_position': 2},
        {'category': 'tax',                 'roi_column': 'tax_collected',      'roi_position': 15, 'pass_through': true},
        {'category': 'withheld_tax',        'roi_column': 'tax_withheld',       'roi_position': 16, 'pass_through': true},
        {'category': 'promotion',           'roi_column': 'promotions',         'roi_position': 3},
        {'category': 'referral_fee',        'roi_column': 'referral_fees',      'roi_position': 5},
        {'category': 'fba_fulfillment_fee', 'roi_column': 'fba_fees',           'roi_position': 7},
        {'category': 'other_fee',           'roi_column': 'other_fees',         'roi_position': 8},
        {'category': 'refund',              'roi_column': 'refunds',            'roi_position': 4},
        {'category': 'refund_commission',   'roi_column': 'refund_commissions', 'roi_position': 6},
        {'category': 'reimbursement',       'roi_column': 'reimbursements',     'roi_position': 10},
        {'category': 'reserve_held',        'roi_column': none},
        {'category': 'reserve_released',    'roi_column': none},
        {'category': 'ad_spend',            'roi_column': 'ad_spend',           'roi_position': 12},
        {'category': 'storage_fee',         'roi_column': 'storage_fees',       'roi_position': 9},
        {'category': 'adjustment',          'roi_column': 'adjustments',        'roi_position': 13},
        {'category': 'transfer',            'roi_column': none},
        {'category': 'liquidation_proceeds', 'roi_column': 'liquidation_proceeds', 'roi_position': 11},
        {'category': 'loan',                'roi_column': none},
        {'category': 'unmapped',            'roi_column': 'unmapped_amount',    'roi_position': 14},
    ]) }}
{%- endmacro %}

{#- Every category, in the vocabulary's order. -#}
{% macro settlement_categories() -%}
    {{ return(settlement_category_vocabulary() | map(attribute='category') | list) }}
{%- endmacro %}

{#- (category, roi column) of the profit-and-loss categories, in the roi marts' column order. -#}
{% macro roi_category_columns() -%}
    {%- set pairs = [] -%}
    {%- for entry in settlement_category_vocabulary() | selectattr('roi_column') | sort(attribute='roi_position') -%}
        {%- do pairs.append((entry.category, entry.roi_column)) -%}
    {%- endfor -%}
    {{ return(pairs) }}
{%- endmacro %}

{#- The roi columns that sum to net proceeds (all of them, in order), or to the contribution before COGS
    (without the tax passed through) when `contribution_only`. -#}
{% macro roi_amount_columns(contribution_only=false) -%}
    {%- set columns = [] -%}
    {%- for entry in settlement_category_vocabulary() | selectattr('roi_column') | sort(attribute='roi_position') -%}
        {%- if not (contribution_only and entry.get('pass_through')) -%}
            {%- do columns.append(entry.roi_column) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- A condition: `column` holds a profit-and-loss category (not a reserve or transfer). -#}
{% macro is_roi_category(column) -%}
    {%- set cash = settlement_category_vocabulary() | rejectattr('roi_column') | map(attribute='category') | list -%}
    {{ column }} not in ({% for category in cash %}'{{ category }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
