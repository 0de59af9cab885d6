-- Money at stake is never negative, and expected/actual/difference agree (rows = failures).
select *
from {{ ref('reconciliation_exceptions') }}
where amount < 0 or difference <> actual - expected or amount <> abs(difference)
