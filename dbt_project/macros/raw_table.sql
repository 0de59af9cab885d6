{% macro raw_table(name) -%}
{#- A raw table of the lakehouse, or an empty one with its columns when the lakehouse has no such table yet:
    dlt creates a table with its first row, so a resource that never returned one (a seller without FBA
    reimbursements, a lakehouse holding only imported settlement files) leaves none. The columns and types are
    declared in _spapi__sources.yml; tests/dbt_project/test_raw_tables.py keeps them equal to what dlt writes. -#}
{%- set relation = source('raw_spapi', name) -%}
{%- if execute and load_relation(relation) is none -%}
    {%- set columns = graph.sources['source.' ~ project_name ~ '.raw_spapi.' ~ name].columns.values() -%}
    (select {% for column in columns -%}
        cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
    {%- endfor %} where false)
{%- else -%}
    {{ relation }}
{%- endif -%}
{%- endmacro %}
