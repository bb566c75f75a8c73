"""The XML source end to end on files: profiles, mappings, rejections, the malformed corpus, hardening, and
conditional reads. (HTTP behaviour is in test_xml_feed_http.py.)"""
from __future__ import annotations

import gzip
import os
import shutil
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feed_pipeline.core.enrichment import IndustryInput, Taxonomy
from feed_pipeline.core.identity import make_job_key
from feed_pipeline.core.posting_facts import PostingFacts
from feed_pipeline.sources.base import FeedConfigError, FeedError, FeedSpec, FeedUnavailableError
from feed_pipeline.sources.registry import open_feed
from feed_pipeline.sources.xml_feed import XmlFeedReader
from feed_pipeline.sources.xml_profiles import feed_date_order

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def read(url: str | Path, params: dict | None = None, *, force: bool = False, **spec_fields):
    spec = FeedSpec(id="feed-1", kind="xml", url=str(url), params=params or {}, **spec_fields)
    reader = XmlFeedReader(spec, force=force, now=NOW)
    try:
        jobs = list(reader)
    finally:
        reader.close()
    return jobs, reader.outcome


def write(tmp_path: Path, data: bytes, name: str = "feed.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def job_xml(ref: str, title: str = "Engineer", extra: str = "") -> bytes:
    return (f"<job><referencenumber>{ref}</referencenumber><title>{title}</title>"
            f"<url>https://x.example/{ref}</url>{extra}</job>").encode()


def feed_xml(*jobs: bytes, root: bytes = b"source") -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n<' + root + b">\n" + b"\n".join(jobs) + b"\n</" + root + b">\n"


# --------------------------------------------------------------------------------------------------- profiles


def test_indeed_fixture_is_read_field_by_field(fixtures):
    jobs, outcome = read(fixtures / "indeed.xml")
    assert outcome.complete and outcome.error is None and outcome.profile == "indeed"
    assert outcome.records_seen == 6 == len(jobs)
    first = jobs[0]
    assert first.title == "Sales Executive" and first.source_id == "unique123131" and first.source == "xml"
    assert first.url == "http://www.examplesite.com/viewjob.cfm?jobid=unique123131&source=Indeed&utm_campaign=feed"
    assert first.company == "Big ABC Corporation" and first.locations == ["Phoenix, AZ, US"]
    assert first.description.startswith("Big ABC Corporation is looking for a Sales Executive & team player.")
    assert "5-7 years of sales experience\nValid driver's license" in first.description
    assert "track()" not in first.description and "<b>Sales Executive</b>" in first.description_html
    assert first.posted_at == datetime(2021, 12, 10, 22, 49, 39, tzinfo=UTC)
    assert first.employment_type == "full_time" and first.is_remote is True
    assert (first.salary_min, first.salary_max, first.salary_currency, first.salary_period) == (
        50000, 50000, "USD", "year")
    assert first.requisition_id == "req-sales-1" == jobs[1].requisition_id
    assert first.extra["education"] == "Bachelors" and first.extra["streetaddress"] == "1 Main St"
    assert first.job_key == make_job_key("feed-1", "unique123131", None) and len(first.content_hash) == 32
    assert jobs[1].salary_min == 40000 and jobs[1].salary_max == 55000
    assert [j.rejection_reason for j in jobs] == [None, None, "closed", "expired", "invalid", None]
    assert jobs[4].rejection_detail == "missing title"
    analyst = jobs[5]
    # Escaped twice: the inner tags are text in the HTML, but published text never shows a tag: the plain
    # description drops them, description_html decodes them once more and keeps what the allowlist allows.
    assert analyst.description == "Escaped HTML outside CDATA"
    assert analyst.description_html == "<p>Escaped <b>HTML</b> outside CDATA</p>"
    assert analyst.is_remote is True and analyst.employment_type == "contract"
    assert outcome.stats["rejected_closed"] == 1 and outcome.stats["rejected_expired"] == 1
    assert outcome.stats["rejected_invalid"] == 1 and outcome.stats["accepted"] == 3
    assert outcome.content_hash and outcome.etag and outcome.bytes_read == (fixtures / "indeed.xml").stat().st_size


def test_a_published_indeed_style_feed_with_extra_salary_tags_keeps_every_jobs_own_fields(fixtures):
    """The feed's salary_min/max/currency tags once made detection pick `adzuna`: ids, places, types and expiry
    were lost. Scored on every tag a profile maps, the Indeed profile wins and keeps them all."""
    jobs, outcome = read(fixtures / "indeed_published.xml")

    assert outcome.complete and outcome.profile == "indeed" and len(jobs) == 4
    assert [j.source_id for j in jobs] == ["CTS-10482", "CTS-10477", "CTS-10470", "CTS-10391"]
    assert [j.job_key for j in jobs] == [make_job_key("feed-1", j.source_id, None) for j in jobs]
    assert [(j.city, j.state) for j in jobs] == [("Austin", "TX"), ("Denver", "CO"), ("Reno", "NV"), ("Boise", "ID")]
    assert [j.employment_type for j in jobs] == ["full_time", "part_time", "contract", "temporary"]
    assert [j.expires_at for j in jobs] == [datetime(2099, 6, 30, tzinfo=UTC), datetime(2099, 5, 31, tzinfo=UTC),
                                            datetime(2099, 7, 15, tzinfo=UTC), datetime(2024, 5, 15, tzinfo=UTC)]
    assert [j.rejection_reason for j in jobs] == [None, None, None, "expired"]
    first = jobs[0]
    assert (first.salary_min, first.salary_max, first.salary_currency, first.salary_period) == (
        140000, 175000, "USD", "year")
    assert jobs[1].salary_period == "hour" and jobs[1].is_remote is True and first.is_remote is False
    assert first.postal_code == "78701" and first.locations == ["Austin, TX, US"]
    assert first.posted_at == datetime(2024, 5, 6, 14, 3, 11, tzinfo=UTC)
    assert first.url == "https://careers.contoso.example/jobs/10482?source=indeed&utm_medium=feed"
    assert first.extra["companyurl"] == "https://www.contoso.example" and "companylogo" in first.extra
    assert "unmapped_known_tags" not in outcome.stats  # the Indeed profile reads every tag some profile knows


def test_tags_a_detected_profile_leaves_unmapped_are_named_in_the_stats(tmp_path):
    record = (b"<job><referencenumber>R-1</referencenumber><title>Engineer</title><url>https://x.example/1</url>"
              b"<city>Austin</city><contract_type>permanent</contract_type></job>")
    jobs, outcome = read(write(tmp_path, feed_xml(record)))
    assert outcome.profile == "indeed" and outcome.stats["unmapped_known_tags"] == ["contract_type"]
    assert jobs[0].extra["contract_type"] == "permanent" and jobs[0].city == "Austin"


def test_a_feed_whose_best_profile_lacks_its_id_tag_still_keys_jobs_by_their_own_id(tmp_path):
    record = (b"<job><referencenumber>R-1</referencenumber><title>Engineer</title>"
              b"<contract_type>permanent</contract_type><contract_time>full_time</contract_time>"
              b"<salary_min>1</salary_min><salary_max>2</salary_max><salary_currency>GBP</salary_currency>"
              b"<salary_frequency>annual</salary_frequency><url>https://x.example/1</url></job>")
    jobs, outcome = read(write(tmp_path, feed_xml(record, root=b"jobs")))

    assert outcome.profile == "adzuna" and "unmapped_known_tags" not in outcome.stats
    assert jobs[0].source_id == "R-1" and jobs[0].job_key == make_job_key("feed-1", "R-1", None)


@pytest.mark.parametrize(
    ("fixture", "profile", "expected"),
    [
        ("talent.xml", "talent", {"source_id": "T-1001", "title": "Registered Nurse - ICU",
                                  "posted_at": datetime(2024, 3, 4, 14, 15, tzinfo=UTC), "salary_period": "hour",
                                  "employment_type": "full_time", "locations": ["Boston, MA, US"]}),
        ("ziprecruiter.xml", "indeed", {"source_id": "ZR-77", "title": "Truck Driver (CDL-A)",
                                        "posted_at": datetime(2014, 7, 31, 14, 27, 14, tzinfo=UTC),
                                        "salary_period": "week", "employment_type": "full_time"}),
        ("adzuna.xml", "adzuna", {"source_id": "2473378091", "locations": ["London SW1A 2AA"], "country": "GB",
                                  "salary_min": 55000, "salary_max": 65000, "salary_currency": "GBP",
                                  "salary_period": "year", "employment_type": "full_time",
                                  "posted_at": datetime(2021, 9, 20, 0, 18, 54, tzinfo=UTC)}),
        ("careerjet.xml", "careerjet", {"source_id": "cj-501", "city": "Lyon", "state": "Auvergne-Rhône-Alpes",
                                        "country": "FR", "locations": ["Lyon, Auvergne-Rhône-Alpes, FR"],
                                        "url": "https://www.careerjet.example/job/cj-501",
                                        "salary_currency": "EUR", "employment_type": "full_time"}),
        ("jobrapido.xml", "jobrapido", {"source_id": "JR-9", "posted_at": datetime(2024, 2, 3, tzinfo=UTC),
                                        "expires_at": datetime(2099, 2, 1, tzinfo=UTC),
                                        "employment_type": "part_time"}),
        ("jooble.xml", "jooble", {"source_id": "jb-1", "title": "Frontend Developer", "locations": ["Kyiv"],
                                  "url": "https://jooble.example/away/jb-1?ref=feed",
                                  "posted_at": datetime(2023, 10, 4, tzinfo=UTC), "salary_min": 3000,
                                  "salary_period": "month", "salary_currency": "EUR"}),
    ],
)
def test_each_profile_is_detected_and_mapped(fixtures, fixture, profile, expected):
    jobs, outcome = read(fixtures / fixture)
    assert outcome.complete and outcome.profile == profile
    first = jobs[0]
    for name, value in expected.items():
        assert getattr(first, name) == value, name
    assert first.rejection_reason is None


@pytest.mark.parametrize("profile", ["ziprecruiter", "talent", "indeed"])
def test_named_profile_is_used_as_given(fixtures, profile):
    jobs, outcome = read(fixtures / "ziprecruiter.xml", {"profile": profile})
    assert outcome.profile == profile and jobs[0].source_id == "ZR-77"


def test_adzuna_contract_and_daily_salary(fixtures):
    jobs, _ = read(fixtures / "adzuna.xml")
    assert jobs[1].employment_type == "contract"
    assert (jobs[1].salary_min, jobs[1].salary_max, jobs[1].salary_period) == (500, 600, "day")


def test_jobrapido_expiry_in_dd_mm_yyyy_rejects_as_expired(fixtures):
    jobs, _ = read(fixtures / "jobrapido.xml")
    assert jobs[1].rejection_reason == "expired" and jobs[1].expires_at == datetime(2020, 2, 1, tzinfo=UTC)


def test_custom_mapping_reads_any_layout(tmp_path):
    data = b"""<feed><vacancies>
      <Vacancy ref="V-1"><JobTitle>Chef</JobTitle><Employer>Bistro</Employer>
        <Address><Town>Leeds</Town><Country>UK</Country></Address>
        <Pay currency="GBP" period="hour">12.50</Pay><Posted>03/04/2024</Posted><Link>https://b.example/1</Link>
      </Vacancy></vacancies></feed>"""
    params = {"record_tag": "vacancy", "date_order": "mdy",
              "fields": {"id": "@ref", "title": "jobtitle", "company": "employer", "city": "address/town",
                         "country": "address/country", "salary_min": "pay", "salary_max": ["pay"],
                         "salary_currency": "pay/@currency", "salary_period": "pay/@period", "date": "posted",
                         "url": "link"}}
    jobs, outcome = read(write(tmp_path, data), params)
    assert outcome.complete and outcome.profile == "custom(indeed)"
    job = jobs[0]
    assert (job.source_id, job.title, job.company, job.locations) == ("V-1", "Chef", "Bistro", ["Leeds, UK"])
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_period) == (12.5, 12.5, "GBP", "hour")
    assert job.posted_at == datetime(2024, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize(("params", "day"), [({}, datetime(2027, 4, 3, tzinfo=UTC)),
                                             ({"date_order": "mdy"}, datetime(2027, 3, 4, tzinfo=UTC))])
def test_the_deadline_in_a_postings_text_is_read_in_the_feeds_date_order(tmp_path, params, day):
    extra = "<date>03/04/2027</date><description>Apply by 03/04/2027.</description>"
    jobs, _ = read(write(tmp_path, feed_xml(job_xml("1", extra=extra))), params)
    job = jobs[0]
    facts = PostingFacts(Taxonomy()).industry_result(
        IndustryInput(job_key=job.job_key, title=job.title, company=job.company, description=job.description,
                      date_order=feed_date_order(params)),
        industry="Technology", confidence=0.9)
    assert job.posted_at == day
    assert facts.application_deadline == day.date().isoformat()


def test_case_sensitive_mapping_only_matches_exact_tags(tmp_path):
    data = feed_xml(b"<job><ID>1</ID><Title>A</Title><url>u</url></job>")
    jobs, _ = read(write(tmp_path, data), {"case_sensitive": True, "fields": {"id": "ID", "title": "Title"}})
    assert jobs[0].source_id == "1" and jobs[0].title == "A"
    jobs, _ = read(write(tmp_path, data), {"case_sensitive": True, "fields": {"id": "id", "title": "title"}})
    assert jobs[0].title == "" and jobs[0].rejection_reason == "invalid"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"profile": "monster"}, "params.profile 'monster' is not a known profile"),
        ({"fields": {"titel": "x"}}, "unknown field 'titel'"),
        ({"fields": {"title": "bad key!"}}, "params.fields.title must be a key"),
        ({"fields": ["title"]}, "params.fields must be an object"),
        ({"record_tag": "<job>"}, "params.record_tag must be an XML element name"),
        ({"date_order": "ymd"}, "params.date_order must be one of"),
        ({"max_record_bytes": "big"}, "params.max_record_bytes must be an integer"),
        ({"case_sensitive": "yes"}, "params.case_sensitive must be true or false"),
    ],
)
def test_bad_params_fail_at_open_with_the_feed_and_param_named(params, message):
    with pytest.raises(FeedConfigError, match="feed 'feed-1'") as caught:
        open_feed(FeedSpec(id="feed-1", kind="xml", url="/nowhere.xml", params=params))
    assert message in str(caught.value)


def test_unknown_kind_and_missing_url_are_config_errors():
    with pytest.raises(FeedConfigError, match="kind 'rss', which no source reads"):
        open_feed(FeedSpec(id="f", kind="rss", url="/x.xml", params={}))
    with pytest.raises(FeedConfigError, match="has no url"):
        list(open_feed(FeedSpec(id="f", kind="xml", url=None, params={})))
    with pytest.raises(FeedConfigError, match="unsupported URL scheme 'ftp'"):
        list(open_feed(FeedSpec(id="f", kind="xml", url="ftp://x/feed.xml", params={})))
    with pytest.raises(FeedConfigError, match="has no host"):
        list(open_feed(FeedSpec(id="f", kind="xml", url="https://", params={})))
    with pytest.raises(FeedConfigError, match="not a valid URL"):
        list(open_feed(FeedSpec(id="f", kind="xml", url="https://[::1/feed.xml", params={})))


def test_missing_file_is_unavailable(tmp_path):
    with pytest.raises(FeedUnavailableError, match="does not exist"):
        read(tmp_path / "absent.xml")


# --------------------------------------------------------------------------------------------------- transports


def test_file_url_gzip_file_and_latin1_encoding(tmp_path, fixtures):
    gz = tmp_path / "feed.xml.gz"
    gz.write_bytes(gzip.compress((fixtures / "latin1.xml").read_bytes()))
    jobs, outcome = read(gz.as_uri())
    assert outcome.complete and outcome.stats["gzip"] is True and outcome.stats["encoding"] == "iso-8859-1"
    assert jobs[0].title == "Ingénieur développement" and jobs[0].company == "Société Générale"
    assert jobs[0].salary_currency == "GBP" and jobs[0].salary_min == 30000
    assert outcome.bytes_read == gz.stat().st_size and outcome.stats["decoded_bytes"] > outcome.bytes_read


def test_gzip_is_recognised_even_when_the_first_chunk_is_one_byte(tmp_path, fixtures, monkeypatch):
    from feed_pipeline.sources import feed_bytes

    monkeypatch.setattr(feed_bytes, "FILE_CHUNK_BYTES", 1)
    gz = write(tmp_path, gzip.compress((fixtures / "jooble.xml").read_bytes()), "feed.xml.gz")
    jobs, outcome = read(gz)
    assert outcome.stats["gzip"] and outcome.complete and jobs[0].source_id == "jb-1"


def test_truncated_gzip_file_is_incomplete_after_the_whole_records(tmp_path):
    data = gzip.compress(feed_xml(*(job_xml(str(i)) for i in range(2000))))
    jobs, outcome = read(write(tmp_path, data[: len(data) // 2], "cut.xml.gz"))
    readable = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data[: len(data) // 2])
    whole = readable.count(b"</job>")  # the records whose end survived the cut
    assert not outcome.complete and 0 < whole < 2000
    assert [j.source_id for j in jobs] == [str(i) for i in range(whole)]
    assert all(j.rejection_reason is None for j in jobs)


def test_namespaced_feed_is_read(tmp_path):
    data = (b'<source xmlns="http://example.com/jobs" xmlns:g="http://base.google.com/ns/1.0">'
            b"<job><g:id>n1</g:id><title>Namespaced</title></job></source>")
    jobs, outcome = read(write(tmp_path, data), {"fields": {"id": "id"}})
    assert outcome.complete and jobs[0].source_id == "n1" and jobs[0].title == "Namespaced"


# --------------------------------------------------------------------------------------------------- malformed


def test_truncated_document_keeps_whole_records_and_is_incomplete(tmp_path):
    data = feed_xml(job_xml("1"), job_xml("2"), job_xml("3"))
    cut = data[: data.index(b"<job><referencenumber>3") + 30]
    jobs, outcome = read(write(tmp_path, cut))
    assert [j.source_id for j in jobs] == ["1", "2"]
    assert not outcome.complete and "truncated" in outcome.error and "inside record 3" in outcome.error
    assert outcome.content_hash is None  # an incomplete read must not become the stored version


def test_document_cut_between_records_is_incomplete(tmp_path):
    data = feed_xml(job_xml("1"), job_xml("2"))
    jobs, outcome = read(write(tmp_path, data[: data.index(b"</source>")]))
    assert len(jobs) == 2 and not outcome.complete and "not well formed" in outcome.error


def test_garbage_after_some_records_stops_the_feed_there(tmp_path):
    data = feed_xml(job_xml("1"), b"<<<%%% not xml >>>", job_xml("2"))
    jobs, outcome = read(write(tmp_path, data))
    assert [j.source_id for j in jobs] == ["1"]
    assert not outcome.complete and "after record 1" in outcome.error


def test_a_record_after_the_root_closed_is_an_error(tmp_path):
    jobs, outcome = read(write(tmp_path, feed_xml(job_xml("1")) + job_xml("2")))
    assert len(jobs) == 1 and not outcome.complete and "after the end of the document" in outcome.error


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no record could be read: the document is empty"),
        (b"<html><body><p>Service unavailable</p></body></html>", "HTML page, not a job feed"),
        (b"<source><job><title>cut", "truncated"),
        (b"\x00\x01binary junk", "not well formed"),
    ],
)
def test_a_feed_with_no_readable_record_fails_clearly(tmp_path, data, message):
    with pytest.raises(FeedError, match=message):
        read(write(tmp_path, data))


def test_empty_but_complete_feed_is_fine(tmp_path):
    jobs, outcome = read(write(tmp_path, b"<source><publisher>P</publisher></source>"))
    assert jobs == [] and outcome.complete


RSS_ITEMS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Jobs at Acme</title>'
             b'<link>https://acme.example/jobs</link><description>Open roles</description>'
             b'<item><title>Staff Accountant</title><link>https://acme.example/jobs/1</link>'
             b'<pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate><description>Close the books.</description></item>'
             b'<item><title>Welder</title><link>https://acme.example/jobs/2</link>'
             b'<description>MIG and TIG.</description></item></channel></rss>')


def test_a_document_whose_records_have_another_tag_fails_and_names_the_param_to_set(tmp_path):
    # An RSS job feed read with the default record tag: 0 records must not pass for an emptied feed (the run
    # would mark every stored job removed); the error says which elements look like the records.
    with pytest.raises(FeedError, match=r"2 <item> elements inside <channel>.*params\.record_tag to 'item'"):
        read(write(tmp_path, RSS_ITEMS))
    single = RSS_ITEMS.replace(RSS_ITEMS[RSS_ITEMS.index(b"<item><title>Welder"):RSS_ITEMS.index(b"</channel>")], b"")
    with pytest.raises(FeedError, match=r"1 <item> element inside <channel>"):  # the item, not its channel
        read(write(tmp_path, single))
    namespaced = (b'<feed xmlns="urn:x"><vacancies><vacancy><jobtitle>Nurse</jobtitle><company>Mercy</company>'
                  b'<city>Dayton</city></vacancy></vacancies></feed>')
    with pytest.raises(FeedError, match=r"<vacancy> element inside <vacancies>"):
        read(write(tmp_path, namespaced), {"profile": "indeed"})


def test_the_named_record_tag_reads_them(tmp_path):
    jobs, outcome = read(write(tmp_path, RSS_ITEMS), {"record_tag": "item"})
    assert outcome.complete and [j.title for j in jobs] == ["Staff Accountant", "Welder"]
    assert jobs[0].url == "https://acme.example/jobs/1" and jobs[0].posted_at == datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_a_feed_header_with_nested_elements_is_still_an_empty_feed(tmp_path):
    data = (b"<source><publisher><name>P</name><url>https://p.example</url><logo>l.png</logo></publisher>"
            b"<jobs></jobs></source>")
    jobs, outcome = read(write(tmp_path, data))
    assert jobs == [] and outcome.complete


def test_one_malformed_record_is_rejected_alone(tmp_path):
    broken = b"<job><referencenumber>bad</referencenumber><title>Broken <b>tag</title><url>https://x/bad</url></job>"
    jobs, outcome = read(write(tmp_path, feed_xml(job_xml("1"), broken, job_xml("3"))))
    assert outcome.complete and [j.source_id for j in jobs] == ["1", "bad", "3"]
    assert [j.rejection_reason for j in jobs] == [None, "invalid", None]
    assert "record 2" in jobs[1].rejection_detail and "malformed XML" in jobs[1].rejection_detail
    assert jobs[1].job_key == make_job_key("feed-1", "bad", None)


def test_invalid_bytes_control_chars_and_html_entities_are_repaired(tmp_path):
    dirty = (b"<job><referencenumber>d1</referencenumber><title>Caf\xff \x0bBar\x00ista&#11;</title>"
             b"<company>A&nbsp;&amp;&nbsp;B &eacute;</company><description>Tom & Jerry</description>"
             b"<url>https://x/d1</url></job>")
    jobs, outcome = read(write(tmp_path, feed_xml(dirty, job_xml("2"))))
    assert outcome.complete and len(jobs) == 2
    job = jobs[0]
    assert job.rejection_reason is None and job.title == "Caf\ufffd Barista"
    assert job.company == "A & B é" and job.description == "Tom & Jerry"
    assert outcome.stats["repaired_records"] == 1


def test_record_without_id_or_url_gets_a_position_key(tmp_path):
    anonymous = b"<job><title>Nameless</title></job>"
    jobs, _ = read(write(tmp_path, feed_xml(anonymous, anonymous)))
    assert [j.rejection_reason for j in jobs] == ["invalid", "invalid"]
    assert "no id and no url" in jobs[0].rejection_detail and jobs[0].title == "Nameless"
    assert jobs[0].job_key and jobs[0].job_key != jobs[1].job_key and jobs[0].content_hash


def test_unrecoverable_record_still_gets_a_row(tmp_path):
    jobs, outcome = read(write(tmp_path, feed_xml(b"<job <<< >>></job>", job_xml("2"))))
    assert outcome.complete and jobs[0].rejection_reason == "invalid" and jobs[0].job_key
    assert jobs[1].rejection_reason is None


def test_fifty_megabyte_description_rejects_that_record_only(tmp_path):
    path = tmp_path / "huge.xml"
    with path.open("wb") as handle:
        handle.write(b"<source>" + job_xml("1"))
        handle.write(b"<job><referencenumber>huge</referencenumber><title>Huge</title><description><![CDATA[")
        block = b"<p>" + b"lorem ipsum " * 1000 + b"</p>"
        for _ in range(50 * 1024 * 1024 // len(block) + 1):
            handle.write(block)
        handle.write(b"]]></description></job>" + job_xml("3") + b"</source>")
    started = time.perf_counter()
    jobs, outcome = read(path)
    assert time.perf_counter() - started < 20
    assert outcome.complete and [j.source_id for j in jobs] == ["1", "huge", "3"]
    huge = jobs[1]
    assert huge.rejection_reason == "invalid" and "over the 4,194,304 byte limit" in huge.rejection_detail
    assert huge.title == "Huge" and huge.job_key == make_job_key("feed-1", "huge", None)
    assert len(huge.description) < 100_000


def test_field_over_its_cap_rejects_the_record(tmp_path):
    data = feed_xml(job_xml("1", extra="<description>" + "x" * 2000 + "</description>"), job_xml("2"))
    jobs, _ = read(write(tmp_path, data), {"max_field_chars": 1000})
    assert jobs[0].rejection_reason == "invalid" and "'description' is 2,000 characters" in jobs[0].rejection_detail
    assert jobs[1].rejection_reason is None


# --------------------------------------------------------------------------------------------------- hardening


def test_external_file_entity_is_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE source [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
            f"<source><publisher>&xxe;</publisher>"
            f"<job><referencenumber>x1</referencenumber><title>&xxe;</title><url>https://x/1</url>"
            f"<description>&xxe;</description></job></source>").encode()
    jobs, outcome = read(write(tmp_path, data))
    assert outcome.complete and len(jobs) == 1
    assert "TOP-SECRET" not in repr(jobs[0].to_dict())
    assert jobs[0].title == "&xxe;"


def test_external_dtd_and_network_entities_are_never_fetched(tmp_path, feed_server):
    feed_server.add("/evil.dtd", b'<!ENTITY leak "LEAKED">')
    feed_server.add("/steal", b"STOLEN")
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE source SYSTEM "{feed_server.url("/evil.dtd")}" [\n'
            f'  <!ENTITY remote SYSTEM "{feed_server.url("/steal")}">\n'
            f'  <!ENTITY % param SYSTEM "{feed_server.url("/evil.dtd")}"> %param;\n]>\n'
            f"<source><publisher>&remote;&leak;</publisher><job><referencenumber>n1</referencenumber>"
            f"<title>T &remote; &leak;</title><url>https://x/n1</url></job></source>").encode()
    jobs, _ = read(write(tmp_path, data))
    assert feed_server.requests == []
    assert "STOLEN" not in jobs[0].title and "LEAKED" not in jobs[0].title


def test_billion_laughs_is_not_expanded(tmp_path):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE source [{entities}]>\n'
            f"<source><publisher>&lol9;</publisher><job><referencenumber>b1</referencenumber>"
            f"<title>Laugh &lol9;</title><url>https://x/b1</url></job>{job_xml('b2').decode()}</source>").encode()
    started = time.perf_counter()
    jobs, outcome = read(write(tmp_path, data))
    assert time.perf_counter() - started < 5
    assert len(jobs) == 2 and jobs[0].title == "Laugh &lol9;" and outcome.records_seen == 2


# --------------------------------------------------------------------------------------------------- conditional


def test_unchanged_file_is_not_parsed_again_unless_forced(tmp_path, fixtures):
    path = shutil.copy(fixtures / "indeed.xml", tmp_path / "feed.xml")
    _, first = read(path)
    jobs, second = read(path, etag=first.etag, last_modified=first.last_modified, content_hash=first.content_hash)
    assert jobs == [] and second.unchanged and second.complete and second.content_hash == first.content_hash
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))  # touched, same bytes
    jobs, third = read(path, etag=first.etag, content_hash=first.content_hash)
    assert jobs == [] and third.unchanged and third.etag != first.etag
    jobs, forced = read(path, etag=first.etag, content_hash=first.content_hash, force=True)
    assert len(jobs) == 6 and not forced.unchanged


def test_changed_file_is_parsed(tmp_path):
    path = write(tmp_path, feed_xml(job_xml("1")))
    _, first = read(path)
    path.write_bytes(feed_xml(job_xml("1"), job_xml("2")))
    jobs, second = read(path, etag=first.etag, content_hash=first.content_hash)
    assert len(jobs) == 2 and not second.unchanged and second.content_hash != first.content_hash


def test_reader_is_single_use_and_can_stop_early(tmp_path):
    reader = open_feed(FeedSpec(id="f", kind="xml", url=str(write(tmp_path, feed_xml(job_xml("1"), job_xml("2")))),
                                params={}))
    iterator = iter(reader)
    assert next(iterator).source_id == "1"
    reader.close()
    with pytest.raises(RuntimeError, match="only once"):
        iter(reader)


def test_memory_stays_flat_as_the_feed_grows(tmp_path, monkeypatch):
    """Python-side peak while reading 4x more records must not grow with them (records are not accumulated).
    Small read chunks, so both feeds span many chunks and the peak is set by the pipeline, not the file."""
    import tracemalloc

    from feed_pipeline.sources import feed_bytes

    monkeypatch.setattr(feed_bytes, "FILE_CHUNK_BYTES", 16 * 1024)

    def peak_for(count: int) -> int:
        path = write(tmp_path, feed_xml(*(job_xml(str(i), extra="<description><![CDATA[<p>" + "word " * 100
                                                  + "</p>]]></description>") for i in range(count))),
                     f"feed_{count}.xml")
        tracemalloc.start()
        try:
            reader = XmlFeedReader(FeedSpec(id="m", kind="xml", url=str(path), params={}), now=NOW)
            for _ in reader:
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_for(250), peak_for(1000)
    assert large < small * 1.3 + 256 * 1024, (small, large)
