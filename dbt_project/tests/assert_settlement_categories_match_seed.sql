-- The category vocabulary (macros/settlement_categories.sql) and the settlement_line_categories seed agree:
-- every category the seed can give has a place in the marts, every vocabulary category but `unmapped` (the
-- category of labels the seed does not know) comes from the seed, and no two categories share an ROI column
-- or position (rows = failures).
with vocabulary as (
    {%- for entry in settlement_category_vocabulary() %}
    select
        '{{ entry.category }}' as category,
        {% if entry.roi_column %}'{{ entry.roi_column }}'{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as roi_column,
        {{ entry.roi_position if entry.roi_column else 'cast(null as integer)' }} as roi_position
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

seed as (
    select distinct category from {{ ref('settlement_line_categories') }}
)

select 'in the seed, not in the vocabulary' as problem, category
from seed
where category not in (select category from vocabulary)

union all

select 'in the vocabulary, not in the seed', category
from vocabulary
where category <> 'unmapped' and category not in (select category from seed)

union all

select 'roi column or position used twice', min(category)
from vocabulary
where roi_column is not null
group by roi_column
having count(*) > 1

union all

select 'roi column or position used twice', min(category)
from vocabulary
where roi_position is not null
group by roi_position
having count(*) > 1

union all

select 'roi column without a position', category
from vocabulary
where roi_column is not null and roi_position is null
