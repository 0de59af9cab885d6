{#- The marketplaces seed typed once: every mart names a marketplace id through this. -#}
select
    {{ to_text('marketplace_id') }} as marketplace_id,
    {{ to_text('country_code') }} as country_code,
    {{ to_text('marketplace_name') }} as marketplace_name
from {{ ref('marketplaces') }}
