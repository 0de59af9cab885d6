-- The default chart (journal_accounts rows with an empty seller_id) maps every settlement line category of the
-- vocabulary (macros/settlement_categories.sql): a new category needs its account before a line can carry it.
with categories as (
{%- for category in settlement_categories() %}
    select '{{ category }}' as category{{ " union all" if not loop.last }}
{%- endfor %}
)

select categories.category
from categories
left join {{ ref('journal_accounts') }} as accounts
    on accounts.category = categories.category
    and accounts.seller_id is null
    and accounts.amount_type = '*'
    and accounts.amount_description = '*'
where accounts.category is null
