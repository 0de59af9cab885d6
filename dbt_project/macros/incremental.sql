{#- Incremental settlement models: which settlements (and which months) a run rebuilds.

    Settlement data is incremental by settlement, not by line: Amazon re-issues a settlement with a new
    document, and every line of the newest version replaces every line of the old one (lines can appear,
    disappear or change). So an incremental model deletes and re-inserts whole settlements
    (`incremental_strategy='delete+insert'`, keyed by seller_id and settlement_id) and rebuilds a
    settlement when one of its documents was loaded since the newest load the model already holds for that
    seller (its `report_loaded_at` watermark, the load time of the documents behind its rows).

    The watermark is the load, not the document's creation (`report_created_at`): a document can be loaded
    long after Amazon created it (one that could not be read until a parser fix, a re-issue of an old
    settlement, a first load of an account's history), and the next normal run must still pick it up.
    Loads are serialised by the lakehouse lock (spapi_elt/lakehouse_lock.py), so every later load has a
    later load time.

    var `settlement_lookback_days` (default 1): how far behind the watermark a document's load may be and
    still be picked up: a margin for clocks, not for late documents (the load time already covers those).
    A seller the model has not seen yet gets all its settlements.

    vars `window_start`, `window_end` (ISO dates, end exclusive) and `window_seller_ids` (a list; empty or
    absent: every seller): a partitioned run (Dagster passes the days and accounts it loaded) also rebuilds
    every settlement with a document created in that window, however old: a backfill of an old period
    replaces exactly that period's settlements, even if its documents were loaded before the watermark.
-#}

{#- The watermark: the newest document load already in `relation`, per seller, minus the lookback. -#}
{% macro settlement_lookback_cutoffs(relation, watermark_column='report_loaded_at') -%}
    select
        seller_id,
        {{ dbt.dateadd('day', -1 * (var('settlement_lookback_days') | int), 'max(' ~ watermark_column ~ ')') }}
            as cutoff_at
    from {{ relation }}
    group by seller_id
{%- endmacro %}

{#- (seller_id, settlement_id) of the settlements an incremental run rebuilds: those with a document loaded
    at or after their seller's cutoff, and every settlement of a seller `relation` does not hold. -#}
{% macro settlements_to_refresh(relation, watermark_column='report_loaded_at') -%}
    select distinct documents.seller_id, documents.settlement_id
    from {{ ref('stg_spapi__settlement_report_documents') }} as documents
    left join ({{ settlement_lookback_cutoffs(relation, watermark_column) }}) as cutoffs
        on documents.seller_id = cutoffs.seller_id
    where documents.settlement_id is not null
        and (cutoffs.cutoff_at is null or documents.report_loaded_at >= cutoffs.cutoff_at
             or {{ in_run_window('documents.seller_id', 'documents.report_created_at') }})
{%- endmacro %}

{#- True for rows of the run's window (vars window_start, window_end, window_seller_ids); false without one. -#}
{% macro in_run_window(seller_column, timestamp_column) -%}
    {%- set start, end = var('window_start', none), var('window_end', none) -%}
    {%- set sellers = var('window_seller_ids', none) or [] -%}
    {%- if start and end -%}
        ({{ timestamp_column }} >= cast('{{ start }}' as timestamp) and {{ timestamp_column }} < cast('{{ end }}' as timestamp)
        {%- if sellers %} and {{ seller_column }} in ({% for s in sellers %}'{{ s | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %}){% endif -%})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- An incremental model's config that replaces whole keys (seller and settlement, or seller, marketplace and month):
    on DuckDB delete+insert by the key; on Spark's plain Parquet tables (no row-level delete) insert_overwrite of
    dynamic partitions by the same columns, which replaces exactly the keys the run selected, as delete+insert does.
    Delta or Iceberg (production; their jars cannot be installed here) would take delete+insert's place with merge
    on the same unique_key. -#}
{% macro replace_by_key(keys) -%}
    {{ return(adapter.dispatch('replace_by_key', 'spapi_lakehouse')(keys)) }}
{%- endmacro %}

{% macro default__replace_by_key(keys) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': keys}) }}
{%- endmacro %}

{% macro spark__replace_by_key(keys) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': keys, 'file_format': 'parquet'}) }}
{%- endmacro %}
