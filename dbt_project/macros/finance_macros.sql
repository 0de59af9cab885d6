{#- The var `as_of` as a date: "today" for every grace period (default: the current date). -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}

{#- Money: exact decimal with two places. -#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}

{#- A timestamp in UTC without time zone (DuckDB: timestamptz -> timestamp at UTC). -#}
{% macro to_utc(expression) -%}
    {{ return(adapter.dispatch('to_utc', 'spapi_lakehouse')(expression)) }}
{%- endmacro %}

{% macro default__to_utc(expression) -%}
    cast({{ expression }} as timestamp)
{%- endmacro %}

{% macro duckdb__to_utc(expression) -%}
    timezone('UTC', {{ expression }})
{%- endmacro %}

{#- When dlt loaded a row: its `_dlt_load_id` is the load's Unix time in seconds ("1767225600.123456"), as a
    timestamp in UTC. -#}
{% macro load_time(load_id) -%}
    {{ return(adapter.dispatch('load_time', 'spapi_lakehouse')(load_id)) }}
{%- endmacro %}

{% macro default__load_time(load_id) -%}
    cast(cast({{ load_id }} as double) as timestamp)
{%- endmacro %}

{% macro duckdb__load_time(load_id) -%}
    timezone('UTC', to_timestamp(cast({{ load_id }} as double)))
{%- endmacro %}

{#- Round half up to the cent, as Amazon rounds fees (amounts here are never negative). -#}
{% macro round_cents(expression) -%}
    cast(round({{ expression }}, 2) as decimal(18, 2))
{%- endmacro %}

{#- Referral fee rule: max(round_half_up(sales price x percent / 100), minimum per unit x quantity). -#}
{% macro expected_referral_fee(sales_price, percent, minimum_per_unit, quantity) -%}
    cast(greatest(
        round({{ sales_price }} * {{ percent }} * 0.01, 2),
        {{ minimum_per_unit }} * {{ quantity }}
    ) as decimal(18, 2))
{%- endmacro %}

{#- Refund administration fee: min(5.00, 20% of the refunded referral fee), rounded half up. -#}
{% macro expected_refund_admin_fee(refunded_referral_fee) -%}
    cast(least(5.00, round({{ refunded_referral_fee }} * 0.20, 2)) as decimal(18, 2))
{%- endmacro %}

{#- An expression as text, for explanations and keys: dbt's cross-database cast to its string type. -#}
{% macro to_text(expression) -%}
    {{ dbt.cast(expression, dbt.type_string()) | trim }}
{%- endmacro %}
