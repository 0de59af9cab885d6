{#- Seeds on Spark (dbt-spark's session method): dbt-spark binds each value as '<value>' without escaping, so a
    quote in a seed (Amazon's page names) breaks the insert, and an empty cell arrives as the text 'None'. This
    writes the values as escaped Spark literals instead (backslash and quote escaped, empty as null), cast to
    the seed's column_types as dbt-spark does. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
            ({%- for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }}){{ ", " if not loop.last }}
            {%- endfor -%}){{ ", " if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
