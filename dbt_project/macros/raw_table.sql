{% macro raw_table(name) -%}
{#- A raw table of the lakehouse, completed to the columns declared for it in _spapi__sources.yml. dlt creates a
    table with its first row, and a column with its first non-null value: a resource that never returned a row
    (a seller without FBA reimbursements, a lakehouse holding only imported settlement files) leaves no table,
    and a young account's event groups have no transfer date yet. Staging reads an empty relation of the declared
    columns for the first, and the table plus the missing columns as nulls for the second.
    tests/dbt_project/test_raw_tables.py keeps the declarations equal to what dlt writes.
    With env SPAPI_RAW_LAKE (a Parquet lake, spapi_elt/lake.py) the raw table is its files instead: raw_lake_table. -#}
{%- set relation = source('raw_spapi', name) -%}
{%- if not execute -%}
    {{ relation }}
{%- else -%}
    {%- set declared = graph.sources['source.' ~ project_name ~ '.raw_spapi.' ~ name].columns.values() | list -%}
    {%- set lake = env_var('SPAPI_RAW_LAKE', '') -%}
    {%- if lake -%}
        {%- set files = lake ~ '/' ~ name ~ '/**/*.parquet' -%}
        {%- set existing = lake_columns(files) -%}
        {%- set body = raw_lake_table(name, files, lake) if existing else none -%}
    {%- else -%}
        {%- set found = load_relation(relation) -%}
        {%- set existing = [] if found is none else adapter.get_columns_in_relation(found) | map(attribute='name')
                                                    | map('lower') | list -%}
        {%- set body = none if found is none else relation -%}
    {%- endif -%}
    {%- set missing = declared | rejectattr('name', 'in', existing) | list -%}
    {%- if body is none -%}
        (select {% for column in declared -%}
            cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
        {%- endfor %} where false)
    {%- elif missing -%}
        (select *, {% for column in missing -%}
            cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
        {%- endfor %} from {{ body }})
    {%- else -%}
        {{ body }}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- The lower-cased columns of the Parquet files matching `files`; [] when there are none (no load wrote the table). -#}
{% macro lake_columns(files) -%}
    {%- set quoted = "'" ~ (files | replace("'", "''")) ~ "'" -%}
    {%- if run_query("select count(*) from glob(" ~ quoted ~ ")").columns[0].values()[0] == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set described = run_query("describe select * from read_parquet(" ~ quoted ~ ", union_by_name = true)") -%}
    {{ return(described.columns[0].values() | map('lower') | list) }}
{%- endmacro %}

{#- A raw table read from a lake's append-only Parquet files as the DuckDB file holds it after dlt's merges:
    the latest load's row per primary key (meta.primary_key; ties within one load by meta.dedup_sort, as dlt's
    dedup_sort hint decides them), which also drops a recovered load's second copy of a line. For the tables a
    re-read window replaces (meta.window_column), rows of a recorded window (raw `window_replacements`, written by
    spapi_elt/ingest.py) loaded before that window's loads and not by them are left out first, as
    spapi_elt/window_replace.py deletes them from the file. -#}
{% macro raw_lake_table(name, files, lake) -%}
    {%- set meta = graph.sources['source.' ~ project_name ~ '.raw_spapi.' ~ name].config.meta -%}
    {%- set keys = meta.get('primary_key') or [] -%}
    {%- set window_column = meta.get('window_column') -%}
    {%- set replacements = lake ~ '/window_replacements/**/*.parquet' -%}
    (select * from read_parquet('{{ files | replace("'", "''") }}', union_by_name = true) as raw
    {%- if window_column and lake_columns(replacements) %}
    where not exists (
        select 1 from read_parquet('{{ replacements | replace("'", "''") }}', union_by_name = true) as replaced
        where replaced.table_name = '{{ name }}' and replaced.seller_id = raw.seller_id
            and raw.{{ adapter.quote(window_column) }} >= replaced.window_start
            and raw.{{ adapter.quote(window_column) }} < replaced.window_end
            and raw._dlt_load_id < replaced.replaced_by
            and not list_contains(string_split(replaced.load_ids, ','), raw._dlt_load_id))
    {%- endif %}
    {%- if keys %}
    qualify row_number() over (
        partition by {% for key in keys %}raw.{{ adapter.quote(key) }}{{ ", " if not loop.last }}{% endfor %}
        order by raw._dlt_load_id desc{{ ", raw." ~ meta.get('dedup_sort') if meta.get('dedup_sort') }}) = 1
    {%- endif -%}
    )
{%- endmacro %}
