"""Field coverage per ingest: what counts as having a field, what is left out, and what a marked drop is."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.core.coverage import COVERAGE_FIELDS, FieldCoverage, coverage_drops
from feed_pipeline.core.jobs import JobRecord


def posting(**fields) -> JobRecord:
    values = {"source_id": "r-1", "title": "Nurse", "company": "Acme", "locations": ["Boston, MA"],
              "posted_at": datetime(2024, 5, 1, tzinfo=UTC), "employment_type": "full_time", "salary_min": 50_000.0}
    values.update(fields)
    return JobRecord(feed_id="f", source="xml", **values)


def coverage_of(*jobs: JobRecord) -> FieldCoverage:
    coverage = FieldCoverage()
    for job in jobs:
        coverage.add(job)
    return coverage


def test_a_complete_posting_covers_every_field():
    assert coverage_of(posting()).shares() == dict.fromkeys(COVERAGE_FIELDS, 1.0)


def test_each_missing_field_lowers_only_its_own_share():
    coverage = coverage_of(posting(), posting(source_id=None, locations=[], salary_min=None, employment_type=None))
    shares = coverage.shares()
    assert shares["id"] == shares["location"] == shares["salary"] == shares["employment_type"] == 0.5
    assert shares["title"] == shares["company"] == shares["date"] == 1.0


def test_a_city_alone_or_a_salary_maximum_alone_counts():
    shares = coverage_of(posting(locations=[], city="Austin", salary_min=None, salary_max=90.0)).shares()
    assert shares["location"] == 1.0 and shares["salary"] == 1.0


def test_closure_notices_are_left_out_and_invalid_postings_count():
    coverage = coverage_of(posting(), posting(title="", rejection_reason="invalid"),
                           JobRecord(feed_id="f", source="xml", source_id="gone", title="", rejection_reason="closed"))
    assert coverage.postings == 2 and coverage.shares()["title"] == 0.5


def test_no_postings_gives_no_shares_rather_than_zero():
    assert set(FieldCoverage().shares().values()) == {None}


def test_coverage_survives_storage():
    coverage = coverage_of(posting(), posting(company=""))
    assert FieldCoverage.from_dict(coverage.as_dict()) == coverage
    assert FieldCoverage.from_dict(None) is None and FieldCoverage.from_dict({"filled": {}}) is None


def test_a_marked_drop_names_the_field_and_both_shares():
    before = coverage_of(*[posting(source_id=f"r{n}") for n in range(10)])
    after = coverage_of(*[posting(source_id=None if n < 6 else f"r{n}", employment_type=None if n < 1 else "x")
                          for n in range(10)])
    drops = coverage_drops(after, before)
    assert [(d.field, d.previous, d.current) for d in drops] == [("id", 1.0, 0.4)]
    assert drops[0].describe() == "id: 100% -> 40% of postings"


def test_a_drop_at_the_threshold_counts_and_a_gain_never_does():
    before = coverage_of(*[posting(employment_type=None if n < 2 else "x") for n in range(10)])
    after = coverage_of(*[posting(employment_type=None if n < 4 else "x") for n in range(10)])
    assert [d.field for d in coverage_drops(after, before)] == ["employment_type"]
    assert coverage_drops(before, after) == []


def test_an_empty_ingest_on_either_side_is_not_a_drop():
    assert coverage_drops(FieldCoverage(), coverage_of(posting())) == []
    assert coverage_drops(coverage_of(posting()), FieldCoverage()) == []


def test_min_drop_is_checked():
    with pytest.raises(ValueError, match="min_drop"):
        coverage_drops(FieldCoverage(), FieldCoverage(), min_drop=0)
