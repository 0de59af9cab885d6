select
    seller_id,
    marketplace_id,
    seller_id || '-' || marketplace_id as marketplace_participation_id,
    marketplace_name,
    country_code,
    default_currency_code as currency,
    default_language_code as language_code,
    domain_name,
    store_name,
    is_participating,
    has_suspended_listings
from {{ raw_table('marketplace_participations') }}
