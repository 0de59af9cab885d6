-- For every settlement, the drill-down lines add up to the settlements mart's figure (rows = failures).
-- In Dagster: a check on finance/settlements (meta.dagster.ref), the figure finance people read.
{{ config(meta={'dagster': {'ref': {'name': 'settlements'}}}) }}
select settlements.settlement_id, settlements.lines_amount, coalesce(sum(lines.amount), 0) as drilled_amount
from {{ ref('settlements') }} as settlements
left join {{ ref('settlement_lines') }} as lines
    on settlements.seller_id = lines.seller_id
    and settlements.settlement_id = lines.settlement_id
group by settlements.settlement_id, settlements.lines_amount
having settlements.lines_amount <> coalesce(sum(lines.amount), 0)
