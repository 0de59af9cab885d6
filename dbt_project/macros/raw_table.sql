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
        {%- set existing = lake_columns(lake, name) -%}
        {%- set body = raw_lake_table(name, lake, existing) if existing else none -%}
    {%- else -%}
        {%- if target.type == 'spark' -%}
            {{ exceptions.raise_compiler_error("The spark target reads a Parquet lake only: set SPAPI_RAW_LAKE "
                                               "(spapi-elt transform --lakehouse file:///...)") }}
        {%- endif -%}
        {%- set found = load_relation(relation) -%}
        {%- set existing = [] if found is none else adapter.get_columns_in_relation(found) | map(attribute='name')
                                                    | map('lower') | list -%}
        {%- set body = none if found is none else relation -%}
    {%- endif -%}
    {%- set missing = declared | rejectattr('name', 'in', existing) | list -%}
    {%- if body is none -%}
        (select {% for column in declared -%}
            cast(null as {{ raw_type(column.data_type) }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
        {%- endfor %} where false)
    {%- elif missing -%}
        (select *, {% for column in missing -%}
            cast(null as {{ raw_type(column.data_type) }}) as {{ adapter.quote(column.name) }}{{ ", " if not loop.last }}
        {%- endfor %} from {{ body }})
    {%- else -%}
        {{ body }}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- A column type declared in _spapi__sources.yml (DuckDB's names, as dlt creates them) in the target's SQL. -#}
{% macro raw_type(data_type) -%}
    {{ return(adapter.dispatch('raw_type', 'spapi_lakehouse')(data_type)) }}
{%- endmacro %}

{% macro default__raw_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{#- Spark has no VARCHAR without a length and no TIMESTAMP WITH TIME ZONE (its TIMESTAMP is an instant, shown in
    the session's time zone, UTC in profiles.yml). -#}
{% macro spark__raw_type(data_type) -%}
    {%- set spark_types = {'VARCHAR': 'string', 'TIMESTAMP WITH TIME ZONE': 'timestamp'} -%}
    {{ return(spark_types.get(data_type | upper, data_type)) }}
{%- endmacro %}

{#- The lower-cased columns of raw table `name`'s Parquet files in `lake`; [] when there are none (no load wrote
    the table). -#}
{% macro lake_columns(lake, name) -%}
    {{ return(adapter.dispatch('lake_columns', 'spapi_lakehouse')(lake, name)) }}
{%- endmacro %}

{% macro duckdb__lake_columns(lake, name) -%}
    {%- set quoted = "'" ~ (lake_files(lake, name) | replace("'", "''")) ~ "'" -%}
    {%- if run_query("select count(*) from glob(" ~ quoted ~ ")").columns[0].values()[0] == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set described = run_query("describe select * from read_parquet(" ~ quoted ~ ", union_by_name = true)") -%}
    {{ return(described.columns[0].values() | map('lower') | list) }}
{%- endmacro %}

{#- Spark fails on a path that matches no file, and SQL cannot list a folder: spapi_elt/dbt_runner.py names the
    tables that have files in env SPAPI_RAW_LAKE_TABLES. The files' schemas are merged (spark.sql.parquet.mergeSchema
    in profiles.yml), as DuckDB's union_by_name does. -#}
{% macro spark__lake_columns(lake, name) -%}
    {%- if name not in env_var('SPAPI_RAW_LAKE_TABLES', '').split(',') -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set described = run_query("describe query select * from parquet.`" ~ lake_files(lake, name) ~ "`") -%}
    {{ return(described.columns[0].values() | map('lower') | list) }}
{%- endmacro %}

{#- The files of raw table `name`: `<table>/<load_id>.<file_id>.parquet` (spapi_elt/lake.py's LAYOUT). -#}
{% macro lake_files(lake, name) -%}
    {{ return(adapter.dispatch('lake_files', 'spapi_lakehouse')(lake, name)) }}
{%- endmacro %}

{% macro default__lake_files(lake, name) -%}
    {{ return(lake ~ '/' ~ name ~ '/**/*.parquet') }}
{%- endmacro %}

{#- Hadoop's globs have no recursive `**`; the layout has no subfolders. -#}
{% macro spark__lake_files(lake, name) -%}
    {{ return(lake ~ '/' ~ name ~ '/*.parquet') }}
{%- endmacro %}

{#- A raw table read from a lake's append-only Parquet files as the DuckDB file holds it after dlt's merges:
    the latest load's row per primary key (meta.primary_key; ties within one load by meta.dedup_sort, as dlt's
    dedup_sort hint decides them), which also drops a recovered load's second copy of a line. For the tables a
    re-read window replaces (meta.window_column), rows of a recorded window (raw `window_replacements`, written by
    spapi_elt/ingest.py) loaded before that window's loads and not by them are left out first, as
    spapi_elt/window_replace.py deletes them from the file. `columns`: the files' columns (lake_columns). -#}
{% macro raw_lake_table(name, lake, columns) -%}
    {%- set meta = graph.sources['source.' ~ project_name ~ '.raw_spapi.' ~ name].config.meta -%}
    {%- set window_column = meta.get('window_column') -%}
    {%- set replaced = window_column and lake_columns(lake, 'window_replacements') -%}
    {{ return(adapter.dispatch('raw_lake_table', 'spapi_lakehouse')(name, lake, columns, meta, replaced)) }}
{%- endmacro %}

{% macro duckdb__raw_lake_table(name, lake, columns, meta, replaced) -%}
    {%- set keys = meta.get('primary_key') or [] -%}
    (select * from read_parquet('{{ lake_files(lake, name) | replace("'", "''") }}', union_by_name = true) as raw
    {%- if replaced %}
    where not exists (
        select 1 from read_parquet('{{ lake_files(lake, 'window_replacements') | replace("'", "''") }}',
                                   union_by_name = true) as replaced
        where {{ replaced_window(name, meta.get('window_column')) }}
            and not list_contains(string_split(replaced.load_ids, ','), raw._dlt_load_id))
    {%- endif %}
    {%- if keys %}
    qualify row_number() over (
        partition by {% for key in keys %}raw.{{ adapter.quote(key) }}{{ ", " if not loop.last }}{% endfor %}
        order by raw._dlt_load_id desc{{ ", raw." ~ meta.get('dedup_sort') if meta.get('dedup_sort') }}) = 1
    {%- endif -%}
    )
{%- endmacro %}

{#- Spark 3.5 has no QUALIFY and no `* exclude`: the row number is a column of a subquery, and the outer query
    selects the files' columns by name. A left anti join is Spark's NOT EXISTS. Nulls sort as on DuckDB (last). -#}
{% macro spark__raw_lake_table(name, lake, columns, meta, replaced) -%}
    {%- set keys = meta.get('primary_key') or [] -%}
    (select {% for column in columns %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor %} from (
        select raw.*
        {%- if keys %}, row_number() over (
            partition by {% for key in keys %}raw.{{ adapter.quote(key) }}{{ ", " if not loop.last }}{% endfor %}
            order by raw._dlt_load_id desc{{ ", raw." ~ meta.get('dedup_sort') ~ " nulls last" if meta.get('dedup_sort') }}) as _lake_row_number
        {%- endif %}
        from parquet.`{{ lake_files(lake, name) }}` as raw
        {%- if replaced %}
        left anti join parquet.`{{ lake_files(lake, 'window_replacements') }}` as replaced
            on {{ replaced_window(name, meta.get('window_column')) }}
            and not array_contains(split(replaced.load_ids, ','), raw._dlt_load_id)
        {%- endif %}
    ) as ranked
    {%- if keys %} where _lake_row_number = 1{% endif -%}
    )
{%- endmacro %}

{#- Raw row `raw` lies in recorded window `replaced` of its table and seller, and was loaded before it. -#}
{% macro replaced_window(name, window_column) -%}
    replaced.table_name = '{{ name }}' and replaced.seller_id = raw.seller_id
            and raw.{{ adapter.quote(window_column) }} >= replaced.window_start
            and raw.{{ adapter.quote(window_column) }} < replaced.window_end
            and raw._dlt_load_id < replaced.replaced_by
{%- endmacro %}
