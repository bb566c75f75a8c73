"""Generate realistic Indeed-style XML feeds of any size, streamed to disk (for benchmarks and load tests).

    .venv/bin/python bench/feedgen.py --jobs 100000 --out bench/.data/indeed_100000.xml [--gzip]

Records look like real Indeed feeds: CDATA with surrounding whitespace, `&amp;` inside CDATA URLs, HTML
descriptions of a few hundred to ~2,000 bytes, RFC-822 and ISO dates, salary strings in several styles,
requisition ids shared by a role's locations, a few closed, expired and broken (no title) postings.
The output is deterministic for a given --seed and day.
"""
from __future__ import annotations

import argparse
import gzip
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

TITLES = ["Software Engineer", "Senior Backend Developer", "DevOps Engineer", "Registered Nurse", "Sales Executive",
          "Warehouse Associate", "Customer Service Representative", "Data Analyst", "Truck Driver (CDL-A)",
          "Marketing Manager", "Accountant", "HVAC Technician", "Line Cook", "Site Reliability Engineer",
          "Product Manager", "Pharmacy Technician", "Electrician", "Teacher", "Cashier", "Mechanical Engineer"]
COMPANIES = ["Big ABC Corporation", "Acme & Sons", "Globex", "Initech", "Umbrella Health", "Stark Logistics",
             "Wayne Retail", "Hooli", "Vandelay Industries", "Soylent Foods"]
PLACES = [("Phoenix", "AZ", "85003"), ("Austin", "TX", "73301"), ("Denver", "CO", "80202"),
          ("Seattle", "WA", "98101"), ("Boston", "MA", "02108"), ("Chicago", "IL", "60601"),
          ("Miami", "FL", "33101"), ("Portland", "OR", "97201"), ("Atlanta", "GA", "30301")]
SALARIES = ["$50K per year", "$40,000 - $55,000 a year", "$18 - $22 an hour", "$95,000/yr", "Up to $120K",
            "", "$25.50 per hour", "From $60,000 per year"]
JOBTYPES = ["fulltime", "parttime", "Full-time", "contract", "fulltime, parttime", "temporary", "internship"]
REMOTE = ["", "", "", "Fully remote", "Hybrid remote", "COVID-19"]
SENTENCES = [
    "You will design, build and run services that handle millions of requests a day.",
    "We offer competitive pay, health, dental &amp; vision insurance and a 401(k) with match.",
    "The ideal candidate has 3+ years of experience and strong communication skills.",
    "Join a friendly team that values ownership, curiosity and a healthy work-life balance.",
    "Responsibilities include planning, reporting and working closely with stakeholders.",
    "Must be able to lift 50 lbs and work flexible shifts, including weekends.",
    "Experience with Python, PostgreSQL, Kubernetes and cloud platforms is a plus.",
]


def _description(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.randint(2, 5)):
        paragraphs.append("<p>" + " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 3))) + "</p>")
    bullets = "".join(f"<li>{rng.choice(SENTENCES)}</li>" for _ in range(rng.randint(2, 5)))
    return "".join(paragraphs) + f"<ul>{bullets}</ul>"


def job_xml(index: int, rng: random.Random, now: datetime, employer: str = "") -> str:
    """One `<job>` element, the way real Indeed feeds write it; `employer` is appended to the company name."""
    title = rng.choice(TITLES)
    city, state, postal = rng.choice(PLACES)
    posted = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
    date = format_datetime(posted) if index % 3 else posted.strftime("%Y-%m-%dT%H:%M:%SZ")
    requisition = f"REQ-{index // 3}"  # one role in up to three locations
    status = "CLOSED" if index % 97 == 0 else "open"
    expires = (now - timedelta(days=3) if index % 89 == 0 else now + timedelta(days=30)).strftime("%Y-%m-%d")
    title_xml = "" if index % 211 == 0 else f"<title><![CDATA[ {title} ]]></title>"
    return (
        f"  <job>\n"
        f"    {title_xml}\n"
        f"    <date><![CDATA[{date}]]></date>\n"
        f"    <referencenumber><![CDATA[{index:09d}]]></referencenumber>\n"
        f"    <requisitionid><![CDATA[{requisition}]]></requisitionid>\n"
        f"    <url><![CDATA[https://jobs.example.com/view?jobid={index}&amp;source=Indeed&amp;utm_medium=feed]]></url>\n"
        f"    <company><![CDATA[{rng.choice(COMPANIES)}{employer}]]></company>\n"
        f"    <sourcename><![CDATA[Example ATS]]></sourcename>\n"
        f"    <city><![CDATA[{city}]]></city>\n"
        f"    <state><![CDATA[{state}]]></state>\n"
        f"    <country><![CDATA[US]]></country>\n"
        f"    <postalcode><![CDATA[{postal}]]></postalcode>\n"
        f"    <description><![CDATA[\n      {_description(rng)}\n    ]]></description>\n"
        f"    <salary><![CDATA[{rng.choice(SALARIES)}]]></salary>\n"
        f"    <education><![CDATA[Bachelors]]></education>\n"
        f"    <jobtype><![CDATA[{rng.choice(JOBTYPES)}]]></jobtype>\n"
        f"    <category><![CDATA[Engineering]]></category>\n"
        f"    <experience><![CDATA[{rng.randint(0, 10)}+ years]]></experience>\n"
        f"    <expirationdate><![CDATA[{expires}]]></expirationdate>\n"
        f"    <remotetype><![CDATA[{rng.choice(REMOTE)}]]></remotetype>\n"
        f"    <status>{status}</status>\n"
        f"  </job>\n"
    )


def feed_chunks(jobs: int, *, seed: int = 7, now: datetime | None = None, employers: int = 0) -> Iterator[str]:
    """The feed as text pieces (header, one piece per job, footer).

    By default every posting's company is one of ten, so a title/company block holds about jobs / 200 postings,
    more than most real feeds. `employers` spreads the postings over that many employers (the ten names with a
    number), for a feed whose blocks stay small as it grows; the other fields are drawn exactly as by default.
    """
    rng = random.Random(seed)
    employer_rng = random.Random(seed + 1)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    now = now or today  # dates relative to today, so the expiry mix is the same whenever it runs
    yield ('<?xml version="1.0" encoding="utf-8"?>\n<source>\n  <publisher>Example ATS</publisher>\n'
           f"  <publisherurl>https://ats.example.com</publisherurl>\n"
           f"  <lastBuildDate>{format_datetime(now)}</lastBuildDate>\n")
    for index in range(1, jobs + 1):
        yield job_xml(index, rng, now, f" {employer_rng.randrange(employers) + 1}" if employers else "")
    yield "</source>\n"


def write_feed(path: Path, jobs: int, *, seed: int = 7, compress: bool = False) -> Path:
    """Write the feed to `path` in a streaming fashion and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as handle:
        buffer: list[str] = []
        for piece in feed_chunks(jobs, seed=seed):
            buffer.append(piece)
            if len(buffer) >= 1000:
                handle.write("".join(buffer))
                buffer.clear()
        handle.write("".join(buffer))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args(argv)
    path = write_feed(args.out, args.jobs, seed=args.seed, compress=args.gzip)
    print(f"wrote {args.jobs:,} jobs to {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
