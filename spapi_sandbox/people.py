"""Realistic buyer PII, plus canary values that tests search for to prove PII never lands anywhere.

Everything here is fiction generated from the seed; it only looks like personal data so the
PII protection downstream is exercised on values shaped like the real thing.
"""

from __future__ import annotations

import random
import string

from spapi_sandbox.world import Buyer

FIRST_NAMES = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
               "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
               "Charles", "Karen", "Lukas", "Anna", "Jonas", "Lena", "Oliver", "Amelia", "Harry", "Isla",
               "Noah", "Mia", "Liam", "Emma", "Felix", "Hannah", "Leon", "Sophie", "George", "Olivia")
LAST_NAMES = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
              "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
              "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Evans",
              "Roberts", "Walker", "Wright", "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Leblanc")
STREETS = ("Maple Ave", "Oak St", "Pine Rd", "Cedar Ln", "Elm St", "Lake Dr", "Hill Rd", "Park Pl",
           "High Street", "Station Road", "Church Lane", "Hauptstraße", "Bahnhofstraße", "Gartenweg",
           "Rue Principale", "King St W", "Queen St E")

# City, state or region, postal code, and a sales-tax rate (percent x 1000) for marketplace facilitator tax.
PLACES: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    "US": (("Seattle", "WA", "98109", 10350), ("Portland", "OR", "97201", 0), ("Austin", "TX", "73301", 8250),
           ("New York", "NY", "10001", 8875), ("Los Angeles", "CA", "90001", 9500),
           ("Denver", "CO", "80202", 8810), ("Miami", "FL", "33101", 7000)),
    "CA": (("Toronto", "ON", "M5H 2N2", 13000), ("Vancouver", "BC", "V6B 1A1", 12000),
           ("Montréal", "QC", "H2Y 1C6", 14975), ("Calgary", "AB", "T2P 1J9", 5000)),
    "UK": (("London", "Greater London", "SW1A 1AA", 0), ("Manchester", "Greater Manchester", "M1 1AE", 0),
           ("Leeds", "West Yorkshire", "LS1 1UR", 0), ("Bristol", "Bristol", "BS1 4DJ", 0)),
    "DE": (("Berlin", "Berlin", "10115", 0), ("München", "Bayern", "80331", 0),
           ("Hamburg", "Hamburg", "20095", 0), ("Köln", "Nordrhein-Westfalen", "50667", 0)),
}
PHONE_PREFIX = {"US": "+1 206-555-", "CA": "+1 416-555-", "UK": "+44 20 7946 ", "DE": "+49 30 901820"}
# Amazon.co.jp: prefectures as Japanese addresses write them; consumption tax is in the price (no rate here).
PLACES["JP"] = (("Shibuya-ku", "東京都", "150-0002", 0), ("Osaka-shi Kita-ku", "大阪府", "530-0001", 0),
                ("Sapporo-shi Chuo-ku", "北海道", "060-0001", 0), ("Fukuoka-shi Hakata-ku", "福岡県", "812-0011", 0))
PHONE_PREFIX["JP"] = "+81 3-5555-"


def buyer(rng: random.Random, country: str) -> tuple[Buyer, int]:
    """A buyer in the marketplace's country and the sales-tax rate (percent x 1000) at their address."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, postal, tax_rate = rng.choice(PLACES[country])
    # Amazon hands sellers an anonymised relay address, which is still personal data.
    email = "".join(rng.choices(string.ascii_lowercase + string.digits, k=14)) + "@marketplace.amazon.com"
    return Buyer(
        name=f"{first} {last}",
        email=email,
        phone=PHONE_PREFIX[country] + f"{rng.randrange(10000):04d}",
        address_line1=f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
        city=city,
        state=state,
        postal_code=postal,
        country_code="GB" if country == "UK" else country,
    ), tax_rate


def canary_buyer(rng: random.Random, country: str, tag: str) -> tuple[Buyer, list[str]]:
    """A buyer whose every PII field is a unique string that must never reach the lakehouse."""
    plain, tax_rate = buyer(rng, country)
    del tax_rate
    canary = Buyer(
        name=f"Zebulon Quackenbush-{tag}",
        email=f"zq.canary.{tag.lower()}@marketplace.amazon.com",
        phone=f"{PHONE_PREFIX[country]}0000 ext {tag}",
        address_line1=f"{tag} Canary Wharf Crescent",
        city=plain.city,
        state=plain.state,
        postal_code=plain.postal_code,
        country_code=plain.country_code,
    )
    return canary, [canary.name, canary.email, canary.phone, canary.address_line1]
