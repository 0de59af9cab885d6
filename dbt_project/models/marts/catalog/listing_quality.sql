{#- A 0-100 completeness score per listing, from its catalog item, with the reasons it lost points.

    Points (100 in all):
      title           15  missing title -15
      bullet points   20  none -20; fewer than 5 -10
      images          20  none -20; 1-3 -12; 4-6 -5 (7 or more recommended)
      attributes      15  fewer than 5 -15; 5-7 -5 (8 or more expected)
      dimensions      15  no item dimensions -10; no package dimensions -5
      browse node     15  missing -15
    A listing whose ASIN has no catalog item scores only its title (the rest is unknown: lost). -#}
with listings as (
    select * from {{ ref('int_listings_joined_catalog') }}
),

points as (
    select
        *,
        case when title is null then 15 else 0 end as title_points_lost,
        case
            when coalesce(bullet_point_count, 0) = 0 then 20
            when bullet_point_count < 5 then 10
            else 0
        end as bullet_points_lost,
        case
            when coalesce(image_count, 0) = 0 then 20
            when image_count < 4 then 12
            when image_count < 7 then 5
            else 0
        end as image_points_lost,
        case
            when coalesce(attribute_count, 0) < 5 then 15
            when attribute_count < 8 then 5
            else 0
        end as attribute_points_lost,
        case when coalesce(has_item_dimensions, false) then 0 else 10 end
            + case when coalesce(has_package_dimensions, false) then 0 else 5 end as dimension_points_lost,
        case when browse_node_id is null then 15 else 0 end as browse_node_points_lost
    from listings
)

select
    listing_key as listing_quality_id,
    seller_id,
    marketplace_id,
    {{ named_columns('points.seller_id') }},
    sku,
    asin,
    listing_status,
    has_catalog_item,
    title,
    cast(bullet_point_count as bigint) as bullet_point_count,
    cast(image_count as bigint) as image_count,
    cast(attribute_count as bigint) as attribute_count,
    has_item_dimensions,
    has_package_dimensions,
    browse_node_id,
    cast(title_points_lost as integer) as title_points_lost,
    cast(bullet_points_lost as integer) as bullet_points_lost,
    cast(image_points_lost as integer) as image_points_lost,
    cast(attribute_points_lost as integer) as attribute_points_lost,
    cast(dimension_points_lost as integer) as dimension_points_lost,
    cast(browse_node_points_lost as integer) as browse_node_points_lost,
    cast(100 - title_points_lost - bullet_points_lost - image_points_lost - attribute_points_lost
         - dimension_points_lost - browse_node_points_lost as integer) as quality_score,
    coalesce(nullif(concat_ws('; ',
        case when not has_catalog_item then 'no catalog item for the ASIN in this marketplace' end,
        case when title is null then 'missing title (-15)' end,
        case
            when coalesce(bullet_point_count, 0) = 0 then 'no bullet points (-20)'
            when bullet_point_count < 5
                then 'only ' || {{ to_text('bullet_point_count') }} || ' of 5 bullet points (-10)'
        end,
        case
            when coalesce(image_count, 0) = 0 then 'no images (-20)'
            when image_count < 4
                then 'only ' || {{ to_text('image_count') }} || ' images, 7 recommended (-12)'
            when image_count < 7
                then 'only ' || {{ to_text('image_count') }} || ' images, 7 recommended (-5)'
        end,
        case
            when coalesce(attribute_count, 0) < 5
                then 'only ' || {{ to_text('coalesce(attribute_count, 0)') }} || ' attributes, 8 expected (-15)'
            when attribute_count < 8
                then 'only ' || {{ to_text('attribute_count') }} || ' attributes, 8 expected (-5)'
        end,
        case when not coalesce(has_item_dimensions, false) then 'no item dimensions (-10)' end,
        case when not coalesce(has_package_dimensions, false) then 'no package dimensions (-5)' end,
        case when browse_node_id is null then 'no browse node (-15)' end
    ), ''), 'complete') as score_reasons
from points
{{ join_names('points.seller_id', 'points.marketplace_id') }}
