"""A posting's location text ("Columbus, OH 43215", "Toronto, ON", "Lyon, France") split into city, state, country
and postal code, for feeds that give only the text: a board filters and shows jobs by these columns.

Only what can be recognized is filled (a US state or Canadian province, a country from ISO 3166 via pycountry, a
postal code of a known shape); anything else gives nothing, never a guess: "Building 4, Acme Campus" or "Berlin"
alone stay text. A list of places ("Austin, TX; Dallas, TX") is not split either.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache


@dataclass(frozen=True)
class PlaceParts:
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None


_SEVERAL_PLACES = re.compile(r"[;|/]")
_CONJUNCTION = re.compile(r"\s(?:or|and|&)\s", re.IGNORECASE)  # "Austin or Dallas"; a country may hold one
_WORK_MODE = re.compile(r"\s*[(\[](?:[^)\]]*\b(?:remote|hybrid|on-?site|in[- ]office)\b[^)\]]*)[)\]]\s*$",
                        re.IGNORECASE)
_WORK_MODE_PREFIX = re.compile(r"^(?:remote|hybrid|on-?site|in[- ]office)\s*[-–—:|]\s*", re.IGNORECASE)
_US_ZIP = re.compile(r"^(?P<rest>.*?)[\s,]*(?P<code>\d{5}(?:-\d{4})?)$")
_CA_POSTAL = re.compile(r"^(?P<rest>.*?)[\s,]*(?P<code>[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)$")
_UK_POSTCODE = re.compile(r"^(?P<rest>.*?)[\s,]*(?P<code>[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2})$")
_CITY = re.compile(r"^[^\W\d_][^\W\d_ .'’-]*(?:[ .'’-]+[^\W\d_]+)*\.?$")  # words of letters
_MAX_PARTS = 4
_MAX_CHARS = 160  # no place is written longer; a cap also bounds the regexes' backtracking on hostile text
_NOT_PLACES = frozenset({"remote", "anywhere", "worldwide", "hybrid", "global", "multiple locations", "various",
                         "nationwide", "home based", "home-based", "work from home", "telecommute", "flexible"})


@cache
def _regions() -> dict[str, tuple[str, str]]:
    """Lowercased US state / Canadian province code or name -> (country code, the code)."""
    import pycountry

    regions: dict[str, tuple[str, str]] = {}
    for country in ("US", "CA"):
        for sub in pycountry.subdivisions.get(country_code=country):
            code = sub.code.split("-", 1)[1]
            regions[code.lower()] = regions[sub.name.lower()] = (country, code)
    return regions


# The short forms feeds write that ISO 3166 does not list, by the country's alpha-2 code.
_COUNTRY_EXTRAS = {"uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
                   "northern ireland": "GB", "great britain": "GB", "u.s.": "US", "u.s.a.": "US", "russia": "RU",
                   "the netherlands": "NL", "holland": "NL", "uae": "AE", "czech republic": "CZ"}


@cache
def _countries() -> dict[str, str]:
    """Lowercased country name, ISO code or usual short form -> the country's alpha-2 code."""
    import pycountry

    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name", "alpha_2", "alpha_3"):
            value = getattr(country, attr, None)
            if value:
                names[value.lower()] = country.alpha_2
    names.update(_COUNTRY_EXTRAS)
    return names


def country_spellings(value: str) -> frozenset[str]:
    """Every lowercased way of writing the country `value` names (`US` -> us, usa, united states, ...), for
    matching the country column whatever form each feed wrote; just `value` lowercased when it is no country."""
    key = value.strip().lower()
    code = _countries().get(key)
    if code is None:
        return frozenset({key})
    return frozenset(name for name, other in _countries().items() if other == code)


def region_spellings(value: str) -> frozenset[str]:
    """The lowercased code and name of the US state or Canadian province `value` names (`Texas` -> tx, texas);
    just `value` lowercased otherwise."""
    key = value.strip().lower()
    found = _regions().get(key)
    if found is None:
        return frozenset({key})
    return frozenset(name for name, other in _regions().items() if other == found)


def _postal(part: str) -> tuple[str, str | None, str | None]:
    """(the part without its trailing postal code, the code, the shape's country: "US", "CA" or "GB")."""
    for pattern, country in ((_US_ZIP, "US"), (_CA_POSTAL, "CA"), (_UK_POSTCODE, "GB")):
        match = pattern.match(part)
        if match:
            return match["rest"].strip(" ,"), match["code"].upper(), country
    return part, None, None


@lru_cache(maxsize=4096)
def split_location(text: str | None) -> PlaceParts | None:
    """The parts of one place's text, or None when nothing in it is recognized."""
    if not text or len(text) > _MAX_CHARS:
        return None
    text = _WORK_MODE_PREFIX.sub("", _WORK_MODE.sub("", text)).strip(" ,")  # "Hybrid - London, UK (Remote)"
    if not text or _SEVERAL_PLACES.search(text):
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or len(parts) > _MAX_PARTS or parts[0].lower() in _NOT_PLACES:
        return None
    regions, countries = _regions(), _countries()
    tail = parts[-1].lower()
    # Two parts ending in a code that is a state and a country ("Boise, ID", "Los Angeles, CA") name a state: the
    # feeds that write places this way are mostly American.
    if tail in countries and len(parts) > 1 and not (len(parts) == 2 and tail in regions):
        *head, country = parts
    else:
        head, country = parts, None
    if any(_CONJUNCTION.search(part) for part in head):
        return None
    # The postal code ends the part before the country, or the text: "Austin, TX 78701", "Austin, TX, 78701, US".
    rest, postal_code, postal_shape = _postal(head[-1])
    if postal_code:
        head = head[:-1] + ([rest] if rest else [])
    if not head:
        return PlaceParts(country=country, postal_code=postal_code) if country else None
    if (len(head) > 1 or country is not None) and head[0].lower() in countries:
        return None  # "US, Canada", "USA, CA": a list of countries or regions, not a town in one
    *place, last = head
    if last.lower() in regions and place:
        # "Columbus, OH 43215", "Toronto, Ontario": the state or province names its country.
        region_country, _ = regions[last.lower()]
        if len(place) > 1 or not _CITY.match(place[0]) or postal_shape not in (None, region_country):
            return None
        return PlaceParts(city=place[0], state=last, country=country or region_country, postal_code=postal_code)
    if country is None and len(head) == 1 and head[0].lower() in countries and head[0].lower() not in regions:
        return PlaceParts(country=head[0], postal_code=postal_code)  # "Germany"; not "Georgia" or "CA"
    if country is not None and len(head) <= 2 and all(_CITY.match(p) for p in head):
        # "Lyon, France", "Paris, Ile-de-France, France".
        return PlaceParts(city=head[0], state=head[1] if len(head) == 2 else None, country=country,
                          postal_code=postal_code)
    if country is None and len(head) == 1 and postal_shape in ("GB", "CA") and _CITY.match(head[0]):
        return PlaceParts(city=head[0], postal_code=postal_code)  # "London SW1A 2AA" (Adzuna's shape)
    return None
