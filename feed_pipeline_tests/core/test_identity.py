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


def test_assign_identity_fills_both_fields_with_the_stored_values():
    """The values are pinned: every stored job, cache entry and Xano record is keyed on them."""
    filled = assign_identity(job())
    assert (filled.job_key, filled.content_hash) == (make_job_key("f1", "R-1", filled.url), make_content_hash(job()))
    assert (filled.job_key, filled.content_hash) == ("908adf5d6f2b3a55a0673ad06f4a3c99",
                                                     "e52db1654c4c541974296ac877ee545c")
    assert make_job_key("f1", None, "https://jobs.example.com/1") == "a1581395d9bfe35885ea290b2e3e3d61"


def _canonical_by_urlsplit(url: str) -> str:
    """canonical_url as it was before its fast path: urlsplit/urlunsplit for every URL."""
    from urllib.parse import urlsplit, urlunsplit

    from feed_pipeline.core.identity import _is_tracking

    parts = urlsplit(url.strip())
    query = "&".join(sorted(p for p in parts.query.split("&") if p and not _is_tracking(p))) if parts.query else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/") or "/", query, ""))


@pytest.mark.parametrize("url", [
    "https://Jobs.Example.com/view?jobid=6&amp;source=Indeed&utm_medium=feed",
    "HTTP://EXAMPLE.com:8080/a/b/?b=2&a=1&ref=x#frag",
    "https://example.com", "https://example.com/", "https://example.com?", "https://example.com#x?y=1",
    "https://example.com/a#b?c=1", "http://user:pw@Example.com/p?q", "  https://example.com/x  ",
    "http://[::1]:8000/x?utm_source=a", "https:///no-host", "http:////double", "https://exa\tmple.com/x",
    "https://bücher.example/stelle?id=1", "https://example.com/a b?c d", "ftp://example.com/x",
    "https://example.com/%7Euser//?&&a=1&", "https://example.com\\path?x=1",
])
def test_canonical_url_fast_path_gives_exactly_what_urlsplit_gives(url):
    assert canonical_url(url) == _canonical_by_urlsplit(url)


def test_canonical_url_fast_path_agrees_with_urlsplit_on_random_urls():
    import random

    pieces = [*"hHtTpPsS:/?#&=[]aZ.9 %\t\x01é@-_", "http://", "https://", "HTTPS://", "?utm_x=1", "&ref=2", "//",
              "#f", "/"]
    rng = random.Random(16)
    for _ in range(20_000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        if rng.random() < 0.6:
            url = rng.choice(["http://", "https://", "HTTP://", " http://"]) + url
        try:
            expected = _canonical_by_urlsplit(url)
        except ValueError:
            with pytest.raises(ValueError):
                canonical_url(url)
            continue
        assert canonical_url(url) == expected, url
