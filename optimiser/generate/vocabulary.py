"""The generator's vocabulary: country, market and counterparty names, line families, scenarios,
and the small helpers that name and round what is drawn (no randomness here)."""

from __future__ import annotations

import re

#: The first planning year of every generated instance.
FIRST_YEAR = 2026

COUNTRIES = (  # (country, region)
    ("VN", "Asia"), ("US", "North America"), ("CN", "Asia"), ("DE", "Europe"), ("MX", "North America"),
    ("TW", "Asia"), ("HU", "Europe"), ("TH", "Asia"), ("IN", "Asia"), ("BR", "South America"),
    ("PL", "Europe"), ("JP", "Asia"),
)
MARKET_NAMES = (  # (name, region)
    ("United States", "North America"), ("European Union", "Europe"), ("China", "Asia"), ("Vietnam", "Asia"),
    ("Japan", "Asia"), ("South Korea", "Asia"), ("India", "Asia"), ("Brazil", "South America"),
    ("Mexico", "North America"), ("United Kingdom", "Europe"), ("Australia", "Oceania"), ("Thailand", "Asia"),
    ("Canada", "North America"), ("Indonesia", "Asia"), ("Turkey", "Europe"), ("Taiwan", "Asia"),
    ("Norway", "Europe"), ("Chile", "South America"), ("South Africa", "Africa"), ("Saudi Arabia", "Middle East"),
)
REGIONS = ("Asia", "Europe", "North America", "South America", "Oceania", "Africa", "Middle East")
COUNTERPARTIES = ("VinFast", "Fisker", "Lordstown", "Byton", "Geely")
OWNER = "Hon Hai"
CUSTOMERS = ("VinFast", "Fisker", "Lordstown", "Byton", "Geely", "Stellantis", "own brand")
BODIES = ("sedan", "SUV", "pickup", "van", "hatchback", "crossover", "bus", "truck")
FAMILY_TYPE = {"vehicle": "assembly", "battery": "pack", "component": "edrive"}
#: hours of line time per unit, by family (capacity is in line-hours per year)
BASE_USE = {"vehicle": 0.03, "battery": 0.015, "component": 0.0075}
SCENARIOS = (  # id, demand_factor, price_factor, description
    ("base", 1.0, 1.0, "plan volumes and prices"),
    ("low", 0.8, 0.97, "slower EV adoption, mild price pressure"),
    ("high", 1.2, 1.02, "faster adoption"),
    ("slow-ev", 0.7, 0.95, "subsidies cut, price war"),
    ("boom", 1.35, 1.05, "EV boom"),
    ("tariff-shock", 0.9, 1.0, "trade barriers dampen volumes"),
    ("price-war", 1.05, 0.9, "volumes hold, prices fall"),
    ("recovery", 0.95, 1.0, "slow start, later recovery"),
)


def slug(text: str) -> str:
    """``"VinFast"`` → ``"vinfast"``: lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def width(n: int, least: int) -> int:
    """Digits of the zero-padded ids of ``n`` things (at least ``least``)."""
    return max(least, len(str(n)))


def round_to(x: float, step: float) -> float:
    """``x`` rounded to a multiple of ``step``."""
    return step * round(x / step)


def type_letter(j: int) -> str:
    """0 → ``A``, 25 → ``Z``, 26 → ``AA`` (spreadsheet column letters)."""
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters
