{#- The FX seed typed once: USD per one unit of a currency, per month. Every model that converts money
    reads this, not the seed. -#}
select
    upper({{ to_text('currency') }}) as currency,
    cast(rate_month as date) as rate_month,
    cast(usd_per_unit as decimal(18, 8)) as usd_per_unit
from {{ ref('fx_rates') }}
