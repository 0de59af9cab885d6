"""How Amazon writes numbers and dates in flat files, per marketplace.

Settlement reports use the marketplace's local format: `95,00` and `11.10.2024 08:59:52 UTC` on
Amazon.de, `11/10/2024 08:59:52 UTC` on Amazon.co.uk, `2024-10-11 08:59:52 UTC` on Amazon.com and
Amazon.ca. Most other reports write ISO-8601. A `Locale` names one of these conventions; the parser
tries its formats first and ISO-8601 after them, so a report that mixes both still parses.

Day-first and month-first dates with '/' cannot be told apart from the text, so a locale never
guesses between them: UK files are day-first, and a column that is month-first in every marketplace
(the inventory ledger's `Date`) says so in its column spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ISO_DATE = "%Y-%m-%d"
# Arrow's %z accepts "Z", "+0000" and "+00:00".
ISO_DATETIMES = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")

# Zone abbreviations Amazon prints after local times (listings' open-date, older reports), as UTC offsets
# in seconds. CST is North America's Central time: the only marketplaces that print it are NA ones.
ZONE_OFFSETS: dict[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0, "BST": 3600, "CET": 3600, "MET": 3600, "MEZ": 3600, "CEST": 7200,
    "MEST": 7200, "MESZ": 7200, "PST": -8 * 3600, "PDT": -7 * 3600, "MST": -7 * 3600, "MDT": -6 * 3600,
    "CST": -6 * 3600, "CDT": -5 * 3600, "EST": -5 * 3600, "EDT": -4 * 3600, "JST": 9 * 3600,
}


@dataclass(frozen=True)
class Locale:
    """A flat-file convention: the decimal separator and the date order of one marketplace family."""

    code: str
    decimal_comma: bool
    date_format: str  # strptime format of a date, e.g. "%d.%m.%Y"

    @property
    def datetime_format(self) -> str:
        """Settlement reports print times as `<date> HH:MM:SS UTC`."""
        return self.date_format + " %H:%M:%S UTC"

    def date_formats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.date_format, ISO_DATE)))

    def datetime_formats(self) -> tuple[str, ...]:
        return (self.datetime_format, *ISO_DATETIMES)


US = Locale("US", decimal_comma=False, date_format="%Y-%m-%d")
CA = Locale("CA", decimal_comma=False, date_format="%Y-%m-%d")
UK = Locale("UK", decimal_comma=False, date_format="%d/%m/%Y")
DE = Locale("DE", decimal_comma=True, date_format="%d.%m.%Y")
ISO = Locale("ISO", decimal_comma=False, date_format=ISO_DATE)  # reports that write ISO-8601 everywhere

LOCALES: dict[str, Locale] = {loc.code: loc for loc in (US, CA, UK, DE, ISO)}
LOCALES["GB"] = UK

# Amazon's public marketplace ids and the names settlement lines print in `marketplace-name`.
MARKETPLACE_LOCALES: dict[str, Locale] = {
    "ATVPDKIKX0DER": US, "A2EUQ1WTGCTBG2": CA, "A1F83G8C2ARO7P": UK, "A1PA6795UKMFR9": DE,
}
MARKETPLACE_NAMES: dict[str, str] = {
    "Amazon.com": "ATVPDKIKX0DER", "Amazon.ca": "A2EUQ1WTGCTBG2", "Amazon.co.uk": "A1F83G8C2ARO7P",
    "Amazon.de": "A1PA6795UKMFR9",
}
MARKETPLACE_IDS_BY_CODE: dict[str, str] = {"US": "ATVPDKIKX0DER", "CA": "A2EUQ1WTGCTBG2",
                                           "UK": "A1F83G8C2ARO7P", "GB": "A1F83G8C2ARO7P",
                                           "DE": "A1PA6795UKMFR9"}


def resolve_locale(value: str | Locale | None) -> Locale | None:
    """A Locale from a locale, a country code ("DE") or a marketplace id; None stays None."""
    if value is None or isinstance(value, Locale):
        return value
    found = LOCALES.get(value.upper()) or MARKETPLACE_LOCALES.get(value)
    if found is None:
        raise ValueError(f"unknown locale or marketplace {value!r}; known: {sorted(LOCALES)}")
    return found


_DETECT = (
    (re.compile(r"^\d{2}\.\d{2}\.\d{4}\b"), DE),
    (re.compile(r"^\d{2}/\d{2}/\d{4}\b"), UK),
    (re.compile(r"^\d{4}-\d{2}-\d{2}\b"), US),
)


def detect_locale(date_text: str, amount_text: str = "") -> Locale | None:
    """The convention of a settlement from its summary row's start date (and total, for the decimal mark).

    `11.10.2024 ...` is the German convention, `11/10/2024 ...` the British one, `2024-10-11 ...` (or
    ISO-8601) the North American one. A comma before the last two digits of the total confirms a
    decimal comma; None if the date matches no convention.
    """
    text = date_text.strip()
    for pattern, locale in _DETECT:
        if pattern.match(text):
            if re.search(r",\d{1,2}$", amount_text.strip()) and not locale.decimal_comma:
                return Locale(locale.code + "-comma", True, locale.date_format)
            return locale
    return None
