{#- Expected fees per settled order item, next to what Amazon charged (seeds/fee_schedules/README.md says
    how each rule applies; every row there cites its source):
    - referral fee: the rule of the SKU's fee category in force in the marketplace on the order's purchase
      date, on the price actually paid (principal + shipping/gift wrap + promotions, the promotions being
      negative) for `quantity` units: `none` one rate; `whole_price` the rate of the band the unit price falls
      in, on the whole price; `portion` each band's rate on the part of the unit price inside it; rounded half
      up to the cent; the per-unit minimum x quantity when greater. Band bounds are per unit, so x quantity.
    - closing fee: the media closing fee per unit x quantity where one is in force (else not audited);
    - FBA fulfilment fee: the fee estimates report's expected-fulfillment-fee-per-unit x quantity (FBA items),
      from the snapshot in force on the purchase date. The report gives only the estimates of the day it is
      requested, so a snapshot judges a purchase only when no FBA fee change of the marketplace (seed
      fba_fee_changes) lies between them (purchase < change <= snapshot, or snapshot < change <= purchase);
      the latest such snapshot on or before the purchase date is preferred, else the earliest after it.
      `fba_fee_audit` says audited, not FBA, no purchase date, or no fee estimate in force (not audited).
    `referral_fee_audit` says why a line is not audited: no purchase date, category unresolved, no sourced
    schedule (marketplace, category or date without a row), or a price above the highest sourced band. -#}
with postings as (
    select * from {{ ref('int_order_item_settlements_joined') }}
),

categories as (
    select * from {{ ref('int_sku_categories_resolved') }}
),

orders as (
    select seller_id, order_id, cast(purchased_at as date) as purchase_date from {{ ref('stg_spapi__orders') }}
),

schedule as (
    select * from {{ ref('referral_fee_schedule') }}
),

closing_fees as (
    select * from {{ ref('closing_fees') }}
),

estimates as (
    select * from {{ ref('stg_spapi__fee_estimates') }}
),

fba_fee_changes as (
    select marketplace_id, effective_from from {{ ref('fba_fee_changes') }}
),

lines as (
    select
        postings.*,
        postings.principal_amount + postings.shipping_amount + postings.promotion_amount as sales_price,
        case when postings.quantity > 0 then postings.quantity else 1 end as units,
        orders.purchase_date,
        categories.category
    from postings
    left join orders
        on postings.seller_id = orders.seller_id
        and postings.order_id = orders.order_id
    left join categories
        on postings.seller_id = categories.seller_id
        and postings.marketplace_id = categories.marketplace_id
        and postings.sku = categories.sku
),

-- the fee estimate snapshots that can judge each FBA line: no FBA fee change between purchase and snapshot
usable_estimates as (
    select
        lines.order_item_settlement_id,
        estimates.snapshot_date,
        estimates.expected_fulfillment_fee_per_unit,
        row_number() over (
            partition by lines.order_item_settlement_id
            order by
                case when estimates.snapshot_date <= lines.purchase_date then 0 else 1 end,
                case when estimates.snapshot_date <= lines.purchase_date
                    then {{ dbt.datediff('estimates.snapshot_date', 'lines.purchase_date', 'day') }}
                    else {{ dbt.datediff('lines.purchase_date', 'estimates.snapshot_date', 'day') }} end
        ) as preference
    from lines
    inner join estimates
        on lines.seller_id = estimates.seller_id
        and lines.marketplace_id = estimates.marketplace_id
        and lines.sku = estimates.sku
    where lines.purchase_date is not null and not exists (
        select 1 from fba_fee_changes as changes
        where changes.marketplace_id = lines.marketplace_id
            and ((lines.purchase_date < changes.effective_from and changes.effective_from <= estimates.snapshot_date)
                or (estimates.snapshot_date < changes.effective_from and changes.effective_from <= lines.purchase_date))
    )
),

estimate_in_force as (
    select * from usable_estimates where preference = 1
),

-- each band of the rule in force, with the share of the fee it gives (in hundredths of the currency unit)
banded as (
    select
        lines.order_item_settlement_id,
        schedule.band_kind,
        schedule.band_from_price,
        schedule.band_to_price,
        schedule.percent,
        schedule.minimum_fee_per_unit,
        schedule.effective_from,
        schedule.source_url,
        schedule.source_title || coalesce(' (copy of ' || {{ to_text('schedule.source_as_of') }} || ')', '') as source,
        case schedule.band_kind
            when 'portion' then schedule.percent * greatest(0,
                least(lines.sales_price, coalesce(schedule.band_to_price * lines.units, lines.sales_price))
                - schedule.band_from_price * lines.units)
            when 'whole_price' then case
                when (schedule.band_from_price = 0 or lines.sales_price > schedule.band_from_price * lines.units)
                    and (schedule.band_to_price is null or lines.sales_price <= schedule.band_to_price * lines.units)
                    then schedule.percent * lines.sales_price
                else 0 end
            else schedule.percent * lines.sales_price
        end as fee_hundredths,
        case
            when schedule.band_kind <> 'portion' and schedule.band_kind <> 'none'
                and not ((schedule.band_from_price = 0 or lines.sales_price > schedule.band_from_price * lines.units)
                    and (schedule.band_to_price is null or lines.sales_price <= schedule.band_to_price * lines.units))
                then null
            else {{ to_text('cast(schedule.percent as decimal(9, 2))') }} || '%'
                || case when schedule.band_kind = 'none' then ''
                    else ' from ' || {{ to_text('schedule.band_from_price') }}
                        || coalesce(' to ' || {{ to_text('schedule.band_to_price') }}, '') end
        end as band_text
    from lines
    inner join schedule
        on lines.marketplace_id = schedule.marketplace_id
        and lines.category = schedule.fee_category
        and {{ in_force('schedule', 'lines.purchase_date') }}
),

rules as (
    select
        order_item_settlement_id,
        max(band_kind) as band_kind,
        sum(fee_hundredths) as fee_hundredths,
        max(coalesce(minimum_fee_per_unit, 0)) as minimum_fee_per_unit,
        max(effective_from) as rule_effective_from,
        max(source_url) as rule_source_url,
        max(source) as rule_source,
        max(case when band_to_price is null then 1 else 0 end) as has_open_top,
        max(band_to_price) as top_price,
        {{ ordered_listagg('band_text', "'; '", 'band_from_price') }} as bands
    from banded
    group by order_item_settlement_id
),

closing as (
    select
        lines.order_item_settlement_id,
        closing_fees.fee_per_unit,
        closing_fees.source_url,
        closing_fees.source_title || coalesce(' (copy of ' || {{ to_text('closing_fees.source_as_of') }} || ')', '') as source
    from lines
    inner join closing_fees
        on lines.marketplace_id = closing_fees.marketplace_id
        and lines.category = closing_fees.fee_category
        and {{ in_force('closing_fees', 'lines.purchase_date') }}
),

priced as (
    select
        lines.*,
        case
            when lines.purchase_date is null then 'no purchase date'
            when lines.category is null then 'category unresolved'
            when rules.order_item_settlement_id is null then 'no sourced schedule'
            when rules.has_open_top = 0 and lines.sales_price > rules.top_price * lines.units
                then 'price above the sourced bands'
            else 'audited'
        end as referral_fee_audit,
        rules.band_kind,
        rules.bands,
        rules.minimum_fee_per_unit,
        rules.rule_effective_from,
        rules.rule_source_url,
        rules.rule_source,
        rules.fee_hundredths,
        closing.fee_per_unit as closing_fee_per_unit,
        closing.source_url as closing_fee_source_url,
        closing.source as closing_fee_source,
        case
            when not (lines.fulfillment_channel = 'AFN' or lines.fba_fee_amount <> 0) then 'not FBA'
            when lines.purchase_date is null then 'no purchase date'
            when estimate_in_force.order_item_settlement_id is null then 'no fee estimate in force'
            else 'audited'
        end as fba_fee_audit,
        estimate_in_force.snapshot_date as fba_fee_estimate_date,
        estimate_in_force.expected_fulfillment_fee_per_unit
    from lines
    left join rules
        on lines.order_item_settlement_id = rules.order_item_settlement_id
    left join closing
        on lines.order_item_settlement_id = closing.order_item_settlement_id
    left join estimate_in_force
        on lines.order_item_settlement_id = estimate_in_force.order_item_settlement_id
)

select
    order_item_settlement_id,
    order_item_id,
    seller_id,
    marketplace_id,
    settlement_id,
    order_id,
    order_item_code,
    sku,
    fulfillment_channel,
    quantity,
    currency,
    posted_at,
    purchase_date,
    category,
    {{ money('sales_price') }} as sales_price,
    referral_fee_audit,
    band_kind,
    bands,
    minimum_fee_per_unit,
    rule_effective_from,
    rule_source_url,
    rule_source,
    case when referral_fee_audit = 'audited' then cast(greatest(
        round(fee_hundredths * 0.01, 2),
        minimum_fee_per_unit * units
    ) as decimal(18, 2)) end as expected_referral_fee,
    {{ money('-referral_fee_amount') }} as charged_referral_fee,
    case when referral_fee_audit = 'audited' and closing_fee_per_unit is not null
        then {{ money('closing_fee_per_unit * units') }} end as expected_closing_fee,
    {{ money('-closing_fee_amount') }} as charged_closing_fee,
    closing_fee_source_url,
    closing_fee_source,
    fba_fee_audit,
    fba_fee_estimate_date,
    case fba_fee_audit
        when 'audited' then {{ money('expected_fulfillment_fee_per_unit * quantity') }}
        when 'not FBA' then {{ money(0) }}
    end as expected_fba_fee,
    {{ money('-fba_fee_amount') }} as charged_fba_fee
from priced
