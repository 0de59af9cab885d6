"""A seller's generated catalog: SKUs with category, size tier, weight, prices and listing quality."""

from __future__ import annotations

import random
import string

from spapi_sandbox.fees import REFERRAL_RULES, SIZE_TIERS
from spapi_sandbox.world import Product

PRODUCTS_PER_SELLER = 30

NOUNS = {
    "Home & Kitchen": ("Chef Knife", "Cutting Board", "French Press", "Spice Rack", "Bath Towel Set"),
    "Electronics": ("USB-C Charger", "Bluetooth Speaker", "HDMI Cable", "Wireless Mouse", "Power Bank"),
    "Beauty & Personal Care": ("Face Serum", "Hair Dryer", "Shaving Kit", "Nail Care Set", "Lip Balm Pack"),
    "Toys & Games": ("Puzzle 1000 Pieces", "Building Blocks", "Board Game", "Plush Bear", "Kite"),
    "Sports & Outdoors": ("Yoga Mat", "Water Bottle", "Camping Lantern", "Resistance Bands", "Dumbbell"),
    "Clothing & Accessories": ("Wool Socks", "Rain Jacket", "Leather Belt", "Beanie", "Running Shorts"),
    "Books": ("Cookbook", "Travel Guide", "Notebook Journal", "Sketchbook", "Field Guide"),
    "Jewelry": ("Silver Necklace", "Stud Earrings", "Charm Bracelet", "Ring Set", "Pendant"),
}
BRANDS = ("Northwind", "Alder & Co", "Brightpeak", "Kestrel", "Lumen Works", "Tidewater")
COLORS = ("Black", "White", "Blue", "Red", "Green", "Grey")
# Price ranges (USD cents) per size tier; other currencies convert with a rounded list-price factor.
PRICE_RANGE = {"Small standard": (799, 2999), "Large standard": (1499, 7999), "Large bulky": (5999, 24999)}
CURRENCY_FACTOR = {"US": 1.0, "CA": 1.35, "UK": 0.8, "DE": 0.92, "FR": 0.92}
# Low-priced products (a tenth of their tier's range, e.g. 0.99 to 2.99 USD), so that some sales pay the per-unit
# minimum referral fee rather than the percentage (fee_schedules.py). Applied after the draws: no draw moves.
LOW_PRICED_NOUNS = ("Lip Balm Pack", "Nail Care Set", "Kite")
WEIGHT_RANGE = {"Small standard": (60, 450), "Large standard": (300, 8000), "Large bulky": (2000, 20000)}
# Amazon.co.jp: yen (the minor unit is the yen, about 1.5 per US cent); prices end in 80 (1,980 yen: assumed, a common
# Japanese price ending). A JP seller writes its own SKUs in Japanese (a category word); some carry `Ⅱ`, a character
# only Microsoft's Shift_JIS (cp932, Windows-31J) has, which Amazon.co.jp documents are written in (charsets.py).
CURRENCY_FACTOR["JP"] = 1.5
CHARM_ENDING = {"JP": 80}
JP_SKU_WORDS = {"Home & Kitchen": "台所", "Electronics": "家電", "Beauty & Personal Care": "美容",
                "Toys & Games": "玩具", "Sports & Outdoors": "運動", "Clothing & Accessories": "衣料",
                "Books": "書籍", "Jewelry": "宝飾"}


def _charm_price(cents: float, ending: int = 99) -> int:
    """Round to the next .99 (or 80 yen), as list prices usually are."""
    return int(cents // 100) * 100 + ending


def _sku(seller_index: int, category: str, n: int, marketplaces: tuple[str, ...]) -> str:
    if "JP" in marketplaces:
        return f"S{seller_index}-{JP_SKU_WORDS[category]}-{n:03d}" + ("-Ⅱ" if n % 5 == 4 else "")
    return f"S{seller_index}-{category[:3].upper()}-{n:03d}"


def build_catalog(rng: random.Random, seller_index: int, marketplaces: tuple[str, ...],
                  start_epoch: int) -> list[Product]:
    products = []
    categories = sorted(REFERRAL_RULES)
    for n in range(PRODUCTS_PER_SELLER):
        category = rng.choice(categories)
        tier = rng.choices(sorted(SIZE_TIERS), weights=(10, 35, 55))[0]  # bulky, large, small
        weight = rng.randint(*WEIGHT_RANGE[tier])
        base_price = rng.randint(*PRICE_RANGE[tier])
        noun = rng.choice(NOUNS[category])
        brand = rng.choice(BRANDS)
        if noun in LOW_PRICED_NOUNS:
            base_price //= 10
        asin = "B0" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))
        bullets_missing = rng.random() < 0.2
        products.append(Product(
            sku=_sku(seller_index, category, n, marketplaces),
            asin=asin,
            fnsku="X00" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=7)),
            title=f"{brand} {noun}",
            brand=brand,
            category=category,
            size_tier=tier,
            weight_g=weight,
            dimensions_cm=_dimensions(rng, tier),
            prices={m: _charm_price(base_price * CURRENCY_FACTOR[m], CHARM_ENDING.get(m, 99)) for m in marketplaces},
            bullet_points=() if bullets_missing else tuple(
                f"{brand} quality {noun.lower()}, point {i + 1}" for i in range(rng.randint(3, 5))),
            image_count=rng.choice((1, 2, 4, 6, 7)),
            browse_node=None if rng.random() < 0.1 else str(rng.randrange(1_000_000, 9_999_999)),
            color=None if rng.random() < 0.25 else rng.choice(COLORS),
            open_date=start_epoch - rng.randrange(30, 900) * 86400,
            fulfillment_channel="MFN" if rng.random() < 0.2 else "AFN",
        ))
    return products


def _dimensions(rng: random.Random, tier: str) -> tuple[float, float, float]:
    longest = {"Small standard": 30.0, "Large standard": 45.0, "Large bulky": 120.0}[tier]
    sides = sorted((round(rng.uniform(longest / 8, longest), 1) for _ in range(3)), reverse=True)
    return sides[0], sides[1], sides[2]
