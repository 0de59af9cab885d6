{#- Incremental settlement models: which settlements (and which months) a run rebuilds.

    Settlement data is incremental by settlement, not by line: Amazon re-issues a settlement with a new
    document, and every line of the newest version replaces every line of the old one (lines can appear,
    disappear or change). So an incremental model deletes and re-inserts whole settlements
    (`incremental_strategy='delete+insert'`, keyed by seller_id and settlement_id) and rebuilds a
    settlement when one of its documents was created within the lookback of the newest document the
    model already holds for that seller (its `report_created_at` watermark).

    var `settlement_lookback_days` (default 14, one settlement period; Amazon re-issues a settlement within
    days of the first document): how far behind the watermark a document may be created and still be
    picked up. A seller the model has not seen yet gets all its settlements. A settlement document that
    arrives more than the lookback late (e.g. a backfill of an old period) needs `dbt build --full-refresh`.
-#}

{#- The watermark: the newest settlement document already in `relation`, per seller, minus the lookback. -#}
{% macro settlement_lookback_cutoffs(relation, watermark_column='report_created_at') -%}
    select
        seller_id,
        {{ dbt.dateadd('day', -1 * (var('settlement_lookback_days', 14) | int), 'max(' ~ watermark_column ~ ')') }}
            as cutoff_at
    from {{ relation }}
    group by seller_id
{%- endmacro %}

{#- (seller_id, settlement_id) of the settlements an incremental run rebuilds: those with a document
    created at or after their seller's cutoff, and every settlement of a seller `relation` does not hold. -#}
{% macro settlements_to_refresh(relation, watermark_column='report_created_at') -%}
    select distinct documents.seller_id, documents.settlement_id
    from {{ ref('stg_spapi__settlement_report_documents') }} as documents
    left join ({{ settlement_lookback_cutoffs(relation, watermark_column) }}) as cutoffs
        on documents.seller_id = cutoffs.seller_id
    where documents.settlement_id is not null
        and (cutoffs.cutoff_at is null or documents.report_created_at >= cutoffs.cutoff_at)
{%- endmacro %}
