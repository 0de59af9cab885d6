{#- The account's and the marketplace's names next to their ids, for the marts: a reader of a mart sees
    "Amazon.de" and the store's name, not only A1PA6795UKMFR9 and a merchant id.

    join_names(seller, marketplace) joins int_seller_accounts_named and the marketplaces seed on the two
    expressions (put it after the query's other joins); named_columns(seller) selects the two names. The
    joined keys are renamed (named_seller_id, named_marketplace_id) so a mart's own unqualified columns stay
    unambiguous. -#}
{% macro join_names(seller, marketplace) -%}
left join (select seller_id as named_seller_id, account_name
           from {{ ref('int_seller_accounts_named') }}) as account_names
    on account_names.named_seller_id = {{ seller }}
left join (select marketplace_id as named_marketplace_id, marketplace_name
           from {{ ref('stg_seeds__marketplaces') }}) as marketplace_names
    on marketplace_names.named_marketplace_id = {{ marketplace }}
{%- endmacro %}

{% macro named_columns(seller) -%}
coalesce(account_names.account_name, {{ seller }}) as account_name,
    marketplace_names.marketplace_name
{%- endmacro %}
