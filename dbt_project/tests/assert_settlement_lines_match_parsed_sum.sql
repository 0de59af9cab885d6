-- The staged lines of each settlement's summary document add up to what the loader parsed from that document
-- (rows = failures: lines lost or duplicated between raw and staging; staging holds every version's lines).
-- In Dagster: a check on the staged lines (meta.dagster.ref), the table it guards.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_spapi__settlement_lines'}}}) }}
select reports.settlement_id, reports.parsed_lines_amount, sum(lines.amount) as staged_amount
from {{ ref('stg_spapi__settlement_reports') }} as reports
inner join {{ ref('stg_spapi__settlement_lines') }} as lines
    on reports.seller_id = lines.seller_id
    and reports.settlement_id = lines.settlement_id
    and reports.report_id = lines.report_id
group by reports.settlement_id, reports.parsed_lines_amount
having reports.parsed_lines_amount <> sum(lines.amount)
