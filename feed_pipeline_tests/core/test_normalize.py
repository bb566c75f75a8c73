"""Normalization of the strings feeds carry: each parser on the forms real feeds use, and on junk."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feed_pipeline.core import text as core_text
from feed_pipeline.core.normalize import (
    FieldLimits,
    Salary,
    clean_url,
    is_closed_status,
    job_from_fields,
    location_says_remote,
    parse_amount,
    parse_currency,
    parse_employment_type,
    parse_remote,
    parse_salary,
    parse_salary_period,
)
from feed_pipeline.core.text import html_to_text, sanitize_html

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)



def test_clean_url_unescapes_ampersands_from_cdata():
    assert clean_url(" https://x.example/j?id=1&amp;src=feed ") == "https://x.example/j?id=1&src=feed"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("fulltime", "full_time"), ("Full-time", "full_time"), ("FULL_TIME", "full_time"), ("full time", "full_time"),
        ("permanent", "full_time"), ("parttime", "part_time"), ("Part-Time", "part_time"),
        ("contract", "contract"), ("Contractor", "contract"), ("Contract to hire", "contract"),
        ("freelance", "contract"), ("temporary", "temporary"), ("Temp", "temporary"), ("seasonal", "temporary"),
        ("internship", "internship"), ("INTERN", "internship"), ("volunteer", "volunteer"),
        ("fulltime, parttime", "full_time"), ("Full-Time Permanent", "full_time"), ("per diem", "other"),
        ("Temp-to-perm", "temporary"), ("Vollzeit", "full_time"), ("Teilzeit", "part_time"), ("CDI", "full_time"),
        ("CDD", "contract"), ("Temps plein", "full_time"), ("Jornada completa", "full_time"),
        ("Deeltijd", "part_time"),
        ("", None), (None, None),
    ],
)
def test_parse_employment_type(raw, expected):
    assert parse_employment_type(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("$50K per year", Salary(50000, 50000, "USD", "year")),
        ("£20,000 per annum", Salary(20000, 20000, "GBP", "year")),
        ("£20,000 - £25,000 per annum", Salary(20000, 25000, "GBP", "year")),
        ("$40,000 to $50,000 a year", Salary(40000, 50000, "USD", "year")),
        ("€30-35k", Salary(30000, 35000, "EUR", None)),
        ("60k-70k", Salary(60000, 70000, None, None)),
        ("$15.50/hr", Salary(15.5, 15.5, "USD", "hour")),
        ("$18 - $22 an hour", Salary(18, 22, "USD", "hour")),
        ("USD 50000 - 60000 monthly", Salary(50000, 60000, "USD", "month")),
        ("3000 EUR per month", Salary(3000, 3000, "EUR", "month")),
        ("$1,200 per week", Salary(1200, 1200, "USD", "week")),
        ("£500 per day", Salary(500, 500, "GBP", "day")),
        ("Up to $60,000", Salary(None, 60000, "USD", None)),
        ("From £25k", Salary(25000, None, "GBP", None)),
        ("CA$70,000 yearly", Salary(70000, 70000, "CAD", "year")),
        ("20.000 € brutto", Salary(20000, 20000, "EUR", None)),
        ("$55,000 - $45,000", Salary(45000, 55000, "USD", None)),
        ("Competitive", None),
        ("", None),
        (None, None),
        ("$0", None),
        # Indian grouping (lakh): read as Western it became 6.0 - 6.0
        ("₹6,00,000 - ₹9,00,000 per annum", Salary(600000, 900000, "INR", "year")),
        ("INR 1,20,00,000", Salary(12000000, 12000000, "INR", None)),
        ("1" + ",111" * 2000, None),  # reads as infinity: no salary, never inf in the record
        ("$5,000,000,000,000,000", None),
    ],
)
def test_parse_salary(raw, expected):
    assert parse_salary(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("annual", "year"), ("yearly", "year"), ("per hour", "hour"), ("monthly", "month"), ("daily", "day"),
     ("week", "week"), ("whenever", None), (None, None)],
)
def test_parse_salary_period(raw, expected):
    assert parse_salary_period(raw) == expected


def test_parse_amount_and_currency():
    assert parse_amount("52,000.00") == 52000.0
    assert parse_amount(" 52k ") == 52000.0
    assert parse_amount(61000) == 61000.0
    assert parse_amount("0") is None
    assert parse_amount("n/a") is None
    assert parse_amount(float("inf")) is None and parse_amount(float("nan")) is None  # json.loads reads Infinity
    assert parse_amount("9" * 400) is None
    assert parse_currency("usd") == "USD"
    assert parse_currency("£") == "GBP"
    assert parse_currency("doubloons") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Fully remote", True), ("COVID-19", True), ("yes", True), ("Work from home", True), ("Hybrid remote", False),
     ("On-site", False), ("no", False), ("", None), (None, None), ("sometimes", None)],
)
def test_parse_remote(raw, expected):
    assert parse_remote(raw) is expected


def test_location_says_remote():
    assert location_says_remote("Remote - US")
    assert not location_says_remote("Remoteville, TX")
    assert not location_says_remote(None)


@pytest.mark.parametrize("status", ["CLOSED", "closed", " Closed ", "C L O S E D", "closed\n", "Closed."])
def test_closed_status_in_any_case_or_spacing(status):
    assert is_closed_status(status)


@pytest.mark.parametrize("status", ["open", "OPEN", "draft", "enclosed", "", None])
def test_other_statuses_are_not_closed(status):
    assert not is_closed_status(status)


def fields(**overrides):
    base = {"id": "j1", "title": "Engineer", "url": "https://x.example/j1", "company": "Acme"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_job_from_fields_normalizes_every_field():
    job = job_from_fields(
        "feed", "xml",
        fields(description=" <p>Build &amp; run</p> ", city=" Phoenix", state="AZ", country="US",
               postal_code="85003", date="Fri, 10 Dec 2021 22:49:39 GMT", expires="2099-01-01",
               employment_type="fulltime", salary="$50K per year", remote="Fully remote", requisition_id="r1",
               category="Sales", status="open", tags="a, b,,c"),
        now=NOW, extra={"education": "BA"})
    assert (job.title, job.company, job.description) == ("Engineer", "Acme", "Build & run")
    assert job.description_html == "<p>Build &amp; run</p>"
    assert job.locations == ["Phoenix, AZ, US"] and job.postal_code == "85003"
    assert job.posted_at == datetime(2021, 12, 10, 22, 49, 39, tzinfo=UTC)
    assert job.employment_type == "full_time"
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_period) == (50000, 50000, "USD", "year")
    assert job.is_remote is True and job.extra == {"education": "BA", "remote_type": "Fully remote"}
    assert job.tags == ["a", "b", "c"]
    assert job.rejection_reason is None


def test_explicit_salary_fields_win_over_the_salary_text():
    job = job_from_fields("f", "xml", fields(salary="£55,000 - £65,000 per annum", salary_min="56000",
                                             salary_currency="gbp", salary_period="monthly"), now=NOW)
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_period) == (56000, 65000, "GBP", "month")


def test_adzuna_contract_fields_make_one_employment_type():
    assert job_from_fields("f", "xml", fields(contract_type="permanent", contract_time="part_time"),
                           now=NOW).employment_type == "part_time"
    assert job_from_fields("f", "xml", fields(contract_type="contract", contract_time="full_time"),
                           now=NOW).employment_type == "contract"


def test_location_text_is_used_when_there_are_no_parts_and_remote_is_inferred_from_it():
    job = job_from_fields("f", "xml", fields(location="Remote - Europe"), now=NOW)
    assert job.locations == ["Remote - Europe"] and job.is_remote is True


def test_unreadable_dates_are_kept_in_extra():
    job = job_from_fields("f", "xml", fields(date="someday", expires="never"), now=NOW)
    assert job.posted_at is None and job.extra["unparsed_date"] == "someday"
    assert job.extra["unparsed_expiry"] == "never" and job.rejection_reason is None


@pytest.mark.parametrize(
    ("overrides", "reason", "detail"),
    [
        ({"status": "CLOSED"}, "closed", "status"),
        ({"expires": "2024-05-31"}, "expired", "expired at 2024-05-31"),
        ({"title": None}, "invalid", "missing title"),
        ({"title": "   "}, "invalid", "missing title"),
        ({"id": None, "url": None}, "invalid", "no id and no url"),
        ({"title": None, "status": "closed"}, "closed", "status"),  # a closure notice needs no title
        ({"status": "closed", "expires": "2000-01-01"}, "closed", "status"),
    ],
)
def test_rejections(overrides, reason, detail):
    job = job_from_fields("f", "xml", fields(**overrides), now=NOW)
    assert job.rejection_reason == reason
    assert detail in job.rejection_detail


def test_expiry_later_today_is_not_expired():
    job = job_from_fields("f", "xml", fields(expires="2024-06-01T18:00:00Z"), now=NOW)
    assert job.rejection_reason is None


def test_oversized_field_rejects_the_record_and_is_not_read():
    limits = FieldLimits(max_field_chars=1000, max_short_field_chars=50)
    job = job_from_fields("f", "xml", fields(description="x" * 1001), now=NOW, limits=limits)
    assert job.rejection_reason == "invalid" and "'description' is 1,001 characters" in job.rejection_detail
    assert job.description == "" and job.title == "Engineer"
    job = job_from_fields("f", "xml", fields(title="t" * 51), now=NOW, limits=limits)
    assert job.rejection_reason == "invalid" and "'title'" in job.rejection_detail


def test_published_extra_memo_keeps_the_url_and_text_rules_on_repeated_values():
    from feed_pipeline.core.normalize import published_extra

    extra = {"apply_url": "java&#09;script:alert(1)", "logo": "www.example.com/logo.png",
             "education": "<b>Bachelors</b>", "note": "data:text/html,x"}
    for _ in range(3):
        assert published_extra(extra) == {"logo": "https://www.example.com/logo.png", "education": "Bachelors"}
    assert published_extra({"education": "Bachelors", "website": "Bachelors"}) == {"education": "Bachelors"}


def test_a_repeated_description_gives_the_same_text_and_sanitized_html_and_the_memo_stays_bounded():
    now = datetime(2024, 6, 1, tzinfo=UTC)
    hostile = "<p>Nurse</p><script>alert(1)</script>&lt;img src=x onerror=alert(2)&gt;<ul><li>Nights</li></ul>"
    fields = {"id": "1", "title": "Nurse", "description": hostile}
    first, again = (job_from_fields("f", "xml", fields, now=now) for _ in range(2))
    assert (first.description, first.description_html) == (again.description, again.description_html)
    assert first.description == html_to_text(hostile) == "Nurse\n\nNights"
    assert first.description_html == sanitize_html(hostile)
    assert "script" not in first.description_html and "onerror" not in first.description_html
    for number in range(core_text._DESCRIPTION_MEMO.max_entries + 5):
        job_from_fields("f", "xml", {"id": "1", "title": "T", "description": f"<p>d {number}</p>"}, now=now)
    assert len(core_text._DESCRIPTION_MEMO) <= core_text._DESCRIPTION_MEMO.max_entries
