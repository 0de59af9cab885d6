{% macro raw_table(name) -%}
{#- A raw table of the lakehouse, completed to the columns declared for it in _spapi__sources.yml. dlt creates a
    table with its first row, and a column with its first non-null value: a resource that never returned a row
    (a seller without FBA reimbursements, a lakehouse holding only imported settlement files) leaves no table,
    and a young account's event groups have no transfer date yet. Staging reads an empty relation of the declared
    columns for the first, and the table plus the missing columns as nulls for the second.
    tests/dbt_project/test_raw_tables.py keeps the declarations equal to what dlt writes. -#}
{%- set relation = source('raw_spapi', name) -%}
{%- if not execute -%}
    {{ relation }}
{%- else -%}
    {%- set declared = graph.sources['source.' ~ project_name ~ '.raw_spapi.' ~ name].columns.values() | list -%}
    {%- set found = load_relation(relation) -%}
    {%- set existing = [] if found is none else adapter.get_columns_in_relation(found) | map(attribute='name')
                                                | map('lower') | list -%}
    {%- set missing = declared | rejectattr('name', 'in', existing) | list -%}
    {%- if found is none -%}
        (select {% for column in declared -%}
            cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
        {%- endfor %} where false)
    {%- elif missing -%}
        (select *, {% for column in missing -%}
            cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
        {%- endfor %} from {{ relation }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}
