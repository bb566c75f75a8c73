"""A location text split into city, state, country and postal code: what is recognized is filled, nothing is guessed."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.core.normalize import job_from_fields
from feed_pipeline.core.places import PlaceParts, split_location


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Columbus, OH 43215", PlaceParts("Columbus", "OH", "US", "43215")),
        ("New York, NY", PlaceParts("New York", "NY", "US")),
        ("Washington, DC", PlaceParts("Washington", "DC", "US")),
        ("St. Louis, MO", PlaceParts("St. Louis", "MO", "US")),  # MO is Macao's code too: two parts name a state
        ("Coeur d'Alene, ID", PlaceParts("Coeur d'Alene", "ID", "US")),
        ("Winston-Salem, North Carolina", PlaceParts("Winston-Salem", "North Carolina", "US")),
        ("Austin, TX (Hybrid)", PlaceParts("Austin", "TX", "US")),
        ("Hybrid - London, UK", PlaceParts("London", None, "UK")),
        ("Remote – Canada", PlaceParts(None, None, "Canada")),
        ("Austin, TX, 78701", PlaceParts("Austin", "TX", "US", "78701")),
        ("Austin, TX 78701, USA", PlaceParts("Austin", "TX", "USA", "78701")),
        ("Boise, ID, USA", PlaceParts("Boise", "ID", "USA")),
        ("Toronto, ON M5V 2T6", PlaceParts("Toronto", "ON", "CA", "M5V 2T6")),
        ("Halifax, Nova Scotia", PlaceParts("Halifax", "Nova Scotia", "CA")),
        ("London SW1A 2AA", PlaceParts("London", None, None, "SW1A 2AA")),  # Adzuna's shape
        ("London, UK", PlaceParts("London", None, "UK")),
        ("Lyon, France", PlaceParts("Lyon", None, "France")),
        ("São Paulo, Brazil", PlaceParts("São Paulo", None, "Brazil")),
        ("Bengaluru, Karnataka, India", PlaceParts("Bengaluru", "Karnataka", "India")),
        ("Germany", PlaceParts(None, None, "Germany")),
        ("Port of Spain, Trinidad and Tobago", PlaceParts("Port of Spain", None, "Trinidad and Tobago")),
    ],
)
def test_recognized_places_are_split(text, expected):
    assert split_location(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "", "Berlin", "Texas", "Georgia", "CA",  # one word: a city, a state or a country, the text cannot say
        "Remote", "Remote, US", "Hybrid, Austin, TX", "Anywhere in the US",
        "Austin, TX; Dallas, TX", "Austin or Dallas, TX", "Manchester, Greater Manchester",
        "Building 4, Acme Campus", "Main St 5, Springfield, IL", "Springfield 62701", "12345",
        "<script>alert(1)</script>, TX",
        "a" + " " * 8000 + "x", "A" * 200 + ", TX",  # hostile lengths: no place, and no slow regex
        "US, Canada", "USA, CA", "UK, Germany", "Europe", "North America", "🇺🇸 US-only", "USA / Canada",
    ],
)
def test_anything_not_recognized_gives_nothing(text):
    assert split_location(text) is None


def _job(**fields):
    return job_from_fields("feed-1", "xml", {"id": "1", "title": "Welder", "url": "https://x.example/1", **fields},
                           now=datetime(2026, 12, 1, tzinfo=UTC))


def test_a_job_given_only_a_location_text_gets_its_parts_and_keeps_the_text():
    job = _job(location="Columbus, OH 43215")
    assert (job.city, job.state, job.country, job.postal_code) == ("Columbus", "OH", "US", "43215")
    assert job.locations == ["Columbus, OH 43215"]  # what the feed wrote, for display and dedupe


def test_the_feeds_own_parts_win():
    job = _job(location="Columbus, OH 43215", city="Dublin", state="OH")
    assert (job.city, job.state, job.country) == ("Dublin", "OH", None)
    job = _job(location="Lyon, France", country="FR", postal_code="69001")
    assert (job.city, job.country, job.postal_code) == ("Lyon", "FR", "69001")
    job = _job(location="Berlin")
    assert (job.city, job.state, job.country) == (None, None, None) and job.locations == ["Berlin"]
