"""Dates as feeds and job texts write them: the feed's date fields (parse_date) and the dates a posting's text
names (parse_loose_date) read numeric dates in the same day/month order."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from feed_pipeline.core.dates import (
    DEFAULT_DATE_ORDER,
    TEXT_DATE_ORDER,
    parse_date,
    parse_loose_date,
    parse_relative_date,
)
from feed_pipeline.core.enrichment import IndustryInput, Taxonomy
from feed_pipeline.core.normalize import job_from_fields
from feed_pipeline.core.posting_facts import PostingFacts
from feed_pipeline.core.text_features import deadline_from_text

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("Thu, 31 Jul 2014 07:27:14 PDT", "dmy", datetime(2014, 7, 31, 14, 27, 14, tzinfo=UTC)),
        ("Fri, 10 Dec 2021 22:49:39 GMT", "dmy", datetime(2021, 12, 10, 22, 49, 39, tzinfo=UTC)),
        ("Mon, 01 Jan 2024 10:00:00 +0200", "dmy", datetime(2024, 1, 1, 8, 0, tzinfo=UTC)),
        ("2024-05-01T09:00:00Z", "dmy", datetime(2024, 5, 1, 9, 0, tzinfo=UTC)),
        ("2024-05-01T09:00:00.123+02:00", "dmy", datetime(2024, 5, 1, 7, 0, 0, 123000, tzinfo=UTC)),
        ("2024-05-01", "dmy", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01 10:00:00 UTC", "dmy", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("03/02/2024", "dmy", datetime(2024, 2, 3, tzinfo=UTC)),
        ("03/02/2024", "mdy", datetime(2024, 3, 2, tzinfo=UTC)),
        ("12/31/2024", "dmy", datetime(2024, 12, 31, tzinfo=UTC)),  # only one reading is a date
        ("04.10.2023", "dmy", datetime(2023, 10, 4, tzinfo=UTC)),
        ("04-10-2023 14:30", "dmy", datetime(2023, 10, 4, 14, 30, tzinfo=UTC)),
        ("2024/05/01", "dmy", datetime(2024, 5, 1, tzinfo=UTC)),
        ("May 1, 2024", "dmy", datetime(2024, 5, 1, tzinfo=UTC)),
        ("May 1st, 2024", "dmy", datetime(2024, 5, 1, tzinfo=UTC)),
        ("22nd May 2024", "dmy", datetime(2024, 5, 22, tzinfo=UTC)),
        ("1 May 2024", "dmy", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714550400", "dmy", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
        ("1714550400000", "dmy", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
        ("31/02/2024", "dmy", None),
        ("yesterday", "dmy", None),
        ("", "dmy", None),
        (None, "dmy", None),
        ("0001-01-01", "dmy", None),
    ],
)
def test_parse_date_gives_aware_utc(raw, order, expected):
    parsed = parse_date(raw, order)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("apply by 03/04/2027", "dmy", date(2027, 4, 3)),
        ("apply by 03/04/2027", "mdy", date(2027, 3, 4)),
        ("closes 12/31/2027", "dmy", date(2027, 12, 31)),  # only one reading is a date, as in parse_date
        ("closes 31/12/2027", "mdy", date(2027, 12, 31)),
        ("closes 31/02/2027", "dmy", None),
        ("by 2027-3-5 at noon", "dmy", date(2027, 3, 5)),
        ("by March 5th, 2027", "dmy", date(2027, 3, 5)),
        ("by Sept. 5 2027", "mdy", date(2027, 9, 5)),
        ("by 5 March 2027", "mdy", date(2027, 3, 5)),
        ("by 5th of March", "dmy", None),
        ("by February 30, 2027", "dmy", None),
    ],
)
def test_parse_loose_date_finds_the_first_date_in_text_in_the_given_order(text, order, expected):
    assert parse_loose_date(text, order) == expected


@pytest.mark.parametrize("order", ["dmy", "mdy"])
@pytest.mark.parametrize("written", ["03/04/2027", "12/31/2027", "31/12/2027", "07/08/2027"])
def test_a_numeric_date_means_the_same_day_in_the_feed_fields_and_in_the_text(written, order):
    assert parse_loose_date(f"Apply by {written}.", order) == parse_date(written, order).date()


def test_text_without_a_known_order_is_read_month_first_as_before():
    assert TEXT_DATE_ORDER == "mdy" and DEFAULT_DATE_ORDER == "dmy"
    assert parse_loose_date("apply by 03/04/2027") == date(2027, 3, 4)
    assert deadline_from_text("Applications close 03/04/2027") == "2027-03-04"


def test_in_a_dd_mm_feed_apply_by_03_04_2027_is_the_3rd_of_april_like_the_feeds_own_dates():
    fields = {"id": "1", "title": "Nurse", "url": "https://x.example/1", "date": "03/04/2027",
              "description": "<p>Night shifts.</p><p>Apply by 03/04/2027.</p>"}
    job = job_from_fields("feed-1", "xml", fields, now=NOW, date_order="dmy")
    facts = PostingFacts(Taxonomy()).industry_result(
        IndustryInput(job_key="k", title=job.title, company=job.company, description=job.description,
                      date_order="dmy"),
        industry="Healthcare", confidence=0.9)
    assert job.posted_at == datetime(2027, 4, 3, tzinfo=UTC)
    assert facts.application_deadline == "2027-04-03"


SEEN_AT = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("today", datetime(2026, 12, 1, tzinfo=UTC)),
        ("Just posted", datetime(2026, 12, 1, tzinfo=UTC)),
        ("yesterday", datetime(2026, 11, 30, tzinfo=UTC)),
        ("3 days ago", datetime(2026, 11, 28, tzinfo=UTC)),
        ("Posted  2 weeks ago", datetime(2026, 11, 17, tzinfo=UTC)),
        ("a month ago", datetime(2026, 11, 1, tzinfo=UTC)),
        ("5 hours ago", datetime(2026, 12, 1, tzinfo=UTC)),
        ("20 hours ago", datetime(2026, 11, 30, tzinfo=UTC)),
        ("30+ days ago", None),  # a bound names no day
        ("3 days", None),
        ("in 3 days", None),
        ("", None),
    ],
)
def test_a_relative_posting_date_is_the_day_it_names_when_read(raw, expected):
    assert parse_relative_date(raw, SEEN_AT) == expected


def test_a_job_posted_3_days_ago_gets_that_day_and_keeps_no_unparsed_date():
    job = job_from_fields("f", "xml", {"id": "1", "title": "Welder", "url": "https://x.example/1",
                                       "date": "Posted 3 days ago"}, now=SEEN_AT)
    assert job.posted_at == datetime(2026, 11, 28, tzinfo=UTC) and "unparsed_date" not in job.extra
    job = job_from_fields("f", "xml", {"id": "1", "title": "Welder", "url": "https://x.example/1",
                                       "date": "30+ days ago"}, now=SEEN_AT)
    assert job.posted_at is None and job.extra["unparsed_date"] == "30+ days ago"
