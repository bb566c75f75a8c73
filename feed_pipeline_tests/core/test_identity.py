"""Job identity: keys survive tracking noise, content hashes change exactly when published content does."""
import dataclasses

import pytest

from feed_pipeline.core.identity import assign_identity, canonical_url, make_content_hash, make_job_key
from feed_pipeline.core.jobs import JobRecord


def job(**changes) -> JobRecord:
    base = JobRecord(feed_id="f1", source="xml", source_id="R-1", title="Backend Engineer", company="Acme",
                     description="Build APIs.", url="https://jobs.example.com/1?utm_source=indeed",
                     locations=["Austin, TX, US"], employment_type="full_time")
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Jobs.Example.com/a/?utm_source=x&utm_medium=y", "https://jobs.example.com/a"),
        ("https://jobs.example.com/a?b=2&a=1&source=feed&gclid=z#apply", "https://jobs.example.com/a?a=1&b=2"),
        ("https://jobs.example.com", "https://jobs.example.com/"),
        ("  https://jobs.example.com/a?id=5  ", "https://jobs.example.com/a?id=5"),
    ],
)
def test_canonical_url_strips_tracking_and_case_noise(url, expected):
    assert canonical_url(url) == expected


def test_job_key_prefers_the_source_id_and_falls_back_to_the_canonical_url():
    assert make_job_key("f1", "R-1", "https://a.example/1") == make_job_key("f1", " R-1 ", "https://b.example/2")
    assert make_job_key("f1", None, "https://a.example/1?utm_source=x") == make_job_key("f1", "", "https://A.example/1")
    assert make_job_key("f1", "R-1", None) != make_job_key("f2", "R-1", None), "keys are per feed"
    with pytest.raises(ValueError, match="source id or a url"):
        make_job_key("f1", None, None)


def test_content_hash_ignores_order_and_tracking_but_not_content():
    reference = make_content_hash(job())
    assert make_content_hash(job(url="https://jobs.example.com/1?utm_source=other")) == reference
    assert make_content_hash(job(locations=["B", "A"])) == make_content_hash(job(locations=["A", "B"]))
    for change in ({"title": "Frontend Engineer"}, {"description": "Build UIs."}, {"salary_min": 50000.0},
                   {"locations": ["Denver, CO, US"]}, {"is_remote": True}, {"employment_type": "contract"}):
        assert make_content_hash(job(**change)) != reference, change


def test_assign_identity_fills_both_fields():
    filled = assign_identity(job())
    assert len(filled.job_key) == 32 and len(filled.content_hash) == 32
