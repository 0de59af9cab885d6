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

{#- Refund administration fee by its rule (refund_administration_fees seed): `fixed` the fixed amount,
    `lesser_of` min(fixed amount, percent of the refunded referral fee rounded half up); null without a rule. -#}
{% macro expected_refund_admin_fee(refunded_referral_fee, rule, fixed_amount, percent) -%}
    cast(case {{ rule }}
        when 'fixed' then {{ fixed_amount }}
        when 'lesser_of' then least({{ fixed_amount }}, round({{ refunded_referral_fee }} * {{ percent }} * 0.01, 2))
    end as decimal(18, 2))
{%- endmacro %}

{#- An expression as text, for explanations and keys: dbt's cross-database cast to its string type. -#}
{% macro to_text(expression) -%}
    {{ dbt.cast(expression, dbt.type_string()) | trim }}
{%- endmacro %}

{#- A UTC timestamp (without time zone) as the wall-clock time in `zone` (an IANA name such as 'Europe/Berlin'). -#}
{% macro utc_to_local(expression, zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'spapi_lakehouse')(expression, zone)) }}
{%- endmacro %}

{% macro default__utc_to_local(expression, zone) -%}
    from_utc_timestamp({{ expression }}, {{ zone }})
{%- endmacro %}

{% macro duckdb__utc_to_local(expression, zone) -%}
    timezone({{ zone }}, timezone('UTC', {{ expression }}))
{%- endmacro %}

{#- A date as digits: 20260131 (or its first `length` digits: 202601 for the month). -#}
{% macro yyyymmdd(expression, length=8) -%}
    left(replace({{ to_text('cast(' ~ expression ~ ' as date)') }}, '-', ''), {{ length }})
{%- endmacro %}

{#- `measure` of a group's rows joined by `delimiter` (a SQL string) in the order of `order_column`. dbt.listagg's
    Spark version ignores its order by (collect_list has no order): on Spark the values are collected with their
    order column and sorted by it. -#}
{% macro ordered_listagg(measure, delimiter, order_column) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'spapi_lakehouse')(measure, delimiter, order_column)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter, order_column) -%}
    {{ dbt.listagg(measure, delimiter, 'order by ' ~ order_column) }}
{%- endmacro %}

{#- Null when every value is null, as listagg (array_join of an empty list is ''). -#}
{% macro spark__ordered_listagg(measure, delimiter, order_column) -%}
    case when count({{ measure }}) > 0 then
        array_join(transform(array_sort(collect_list(struct({{ order_column }} as sort_key, {{ measure }} as measure))),
                             item -> item.measure), {{ delimiter }})
    end
{%- endmacro %}
