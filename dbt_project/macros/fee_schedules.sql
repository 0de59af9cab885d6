{% macro in_force(rule, day) -%}
{#- The fee schedule row `rule` applies on `day`: fee_schedules seeds give each rule an effective_from and an
    effective_to (inclusive; empty while it is still in force). -#}
{{ day }} >= {{ rule }}.effective_from and ({{ rule }}.effective_to is null or {{ day }} <= {{ rule }}.effective_to)
{%- endmacro %}
