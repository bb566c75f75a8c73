"""Labeled job feeds for the dedupe benchmark: the generator knows which postings are one role.

A feed is made of groups; a group is one company (sometimes two with near-miss names) and one family
of near-miss titles ("Java Developer" / "Senior Java Developer" / "Lead Java Developer", "C++" / "C#" /
"C Developer", ...). Every role of a group is posted once per location, and some roles also through
aggregators. The label of a posting is its role id; two postings are "the same role" exactly when
their role ids are equal. What varies between postings of ONE role (dedupe must merge these):
- the location: a "based in <city>" sentence, a per-location pay line, the location in the title
  ("Registered Nurse - Boston, MA") for some roles, re-posts at the same location;
- a paragraph about the local site (15-35 words of its own) for a quarter of the roles;
- edits: 1-4 words replaced, inserted or deleted, an optional extra sentence, a dropped sentence;
- aggregators: title spelling ("Sr." for "Senior", "(m/w/d)", "- Remote"), company legal form
  ("Acme" / "Acme, Inc."), a truncated ~70 word snippet instead of the description (Adzuna),
  locations listed in another order.
What separates DIFFERENT roles (dedupe must keep these apart):
- near-miss titles of one company (seniority, Backend/Frontend, C/C++/C#, I/II/III),
- the same title at one company with another employment type, or at another company,
- the same title at one company for another team: same company intro and benefits, a body written
  from the same template with 40-70% of its sentences rewritten, and its own requisition id.
Not modelled (known limits of the dedupe design, see core/dedupe.py): one role posted with and
without an employment type, and aggregator postings of a role whose title wording differs beyond
spelling (pass 2 on the AI title covers those).

Run `python bench/dedupe_labeled.py --jobs 200` to print a few labeled postings.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feed_pipeline.core.identity import assign_identity
from feed_pipeline.core.jobs import JobRecord

FEED_ID = "bench-feed"

TITLE_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("Java Developer", "Senior Java Developer", "Lead Java Developer"),
    ("Backend Engineer", "Frontend Engineer", "Full Stack Engineer"),
    ("C++ Developer", "C# Developer", "C Developer"),
    ("Registered Nurse", "Registered Nurse - ICU", "Licensed Practical Nurse"),
    ("Warehouse Associate", "Warehouse Associate II", "Warehouse Supervisor"),
    ("Data Engineer", "Data Analyst", "Data Scientist"),
    ("Sales Manager", "Sales Representative", "Account Manager"),
    ("Software Engineer I", "Software Engineer II", "Software Engineer III"),
    ("Product Manager", "Senior Product Manager", "Product Owner"),
    ("DevOps Engineer", "Site Reliability Engineer", "Platform Engineer"),
    ("Delivery Driver", "Delivery Driver - CDL", "Dispatcher"),
    ("Customer Service Representative", "Customer Success Manager", "Customer Service Supervisor"),
    ("Softwareentwickler (m/w/d)", "Senior Softwareentwickler (m/w/d)", "Softwarearchitekt (m/w/d)"),
    ("Store Manager", "Assistant Store Manager", "Shift Supervisor"),
    ("Mechanical Engineer", "Electrical Engineer", "Civil Engineer"),
    ("Accountant", "Senior Accountant", "Staff Accountant"),
)
COMPANY_SUFFIXES = ("Inc.", "Inc", "LLC", "Ltd", "GmbH", "Corp.", "Corporation", "Co.", "")
STATES = ("MA", "CO", "TX", "CA", "NY", "WA", "IL", "GA", "FL", "OR", "AZ", "OH", "PA", "NC", "MN", "MI")
FILLER = ("the", "and", "you", "our", "to", "of", "with", "in", "for", "a", "we", "your", "on", "will", "team")
EXTRA_SENTENCES = (
    "Relocation assistance is available for this position.",
    "A night shift differential applies at this site.",
    "Parking is provided on site at no cost.",
    "This location offers a sign on bonus for qualified applicants.",
)
EMPLOYMENT_TYPES = ("full_time", "part_time", "contract")


@dataclass(slots=True)
class LabeledPosting:
    job: JobRecord
    role: str


class _Words:
    """A deterministic pseudo-vocabulary with English filler words mixed in."""

    def __init__(self, rng: random.Random, size: int = 6000) -> None:
        syllables = [a + b for a in "bcdfgklmnprstvz" for b in "aeiou"] + ["ar", "en", "is", "on", "ul"]
        words: set[str] = set()
        while len(words) < size:
            words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
        self.words = sorted(words)
        self.rng = rng

    def sentence(self) -> str:
        rng = self.rng
        words = [
            rng.choice(FILLER) if rng.random() < 0.3 else rng.choice(self.words) for _ in range(rng.randint(8, 16))
        ]
        return " ".join(words).capitalize() + "."

    def paragraph(self, low: int, high: int) -> list[str]:
        sentences: list[str] = []
        target = self.rng.randint(low, high)
        while sum(len(s.split()) for s in sentences) < target:
            sentences.append(self.sentence())
        return sentences


@dataclass(slots=True)
class _Role:
    role_id: str
    company: str
    company_base: str  # the name without legal form; aggregators add their own
    title: str
    employment_type: str
    intro: list[str]
    body: list[str]
    benefits: list[str]
    requisition_id: str | None
    title_has_location: bool
    pay_by_location: bool
    site_blurbs: bool
    aggregated: bool


class LabeledFeedGenerator:
    """Yields groups of labeled postings; every role's postings are inside one group."""

    def __init__(self, seed: int = 7, huge_every: int = 40_000) -> None:
        self.rng = random.Random(seed)
        self.words = _Words(self.rng)
        self.huge_every = huge_every  # one "thousands of postings of one title by one company" group per this many
        self._cities: list[tuple[str, str]] = []
        self._city_names: set[str] = set()
        self._company_names: set[str] = set()
        self._source_counter = 0
        self._start = datetime(2026, 10, 1, tzinfo=UTC)

    # -- names -----------------------------------------------------------------------------------------------
    def _name(self, parts: int) -> str:
        rng = self.rng
        syllables = [a + b for a in "BCDFGKLMNPRSTVZ" for b in "aeiou"]
        return "".join(rng.choice(syllables) + rng.choice("rnlstx" + "aeiou") for _ in range(parts)).capitalize()

    def _company_base(self) -> str:
        """A company name no other group uses, so a block never spans two generator groups by accident."""
        while True:
            name = self._name(self.rng.randint(2, 3))
            if name not in self._company_names:
                self._company_names.add(name)
                return name

    def _city(self, index: int) -> tuple[str, str]:
        while len(self._cities) <= index:
            name = self._name(2) + self.rng.choice(("ville", "burg", "ton", "field", "port", " Falls", " City"))
            if name in self._city_names:
                continue
            self._city_names.add(name)
            self._cities.append((name, self.rng.choice(STATES)))
        return self._cities[index]

    def _locations(self, count: int) -> list[tuple[str, str]]:
        pool = max(count * 3, 400)
        return [self._city(index) for index in self.rng.sample(range(pool), count)]

    # -- roles -----------------------------------------------------------------------------------------------
    def _postings_per_role(self) -> int:
        draw = self.rng.random()
        if draw < 0.6:
            return 1
        if draw < 0.88:
            return self.rng.randint(2, 5)
        if draw < 0.98:
            return self.rng.randint(6, 30)
        return self.rng.randint(31, 200)

    def _rewrite(self, body: list[str]) -> list[str]:
        """Another team's body from the same template: 40-70% of its sentences rewritten."""
        share = self.rng.uniform(0.4, 0.7)
        return [self.words.sentence() if self.rng.random() < share else sentence for sentence in body]

    def _roles(self, group: int, company: tuple[str, str], title: str, employment_type: str, teams: int) -> list[_Role]:
        rng = self.rng
        intro = self.words.paragraph(40, 70)
        benefits = self.words.paragraph(30, 50)
        body = self.words.paragraph(120, 260)
        roles = []
        for team in range(teams):
            roles.append(
                _Role(
                    role_id=f"g{group}:{company[0]}:{title}:{employment_type}:{team}",
                    company=company[0],
                    company_base=company[1],
                    title=title,
                    employment_type=employment_type,
                    intro=intro,
                    body=body if team == 0 else self._rewrite(body),
                    benefits=benefits,
                    requisition_id=f"REQ-{group}-{rng.randrange(10**6)}-{team}" if rng.random() < 0.5 else None,
                    title_has_location=rng.random() < 0.15,
                    pay_by_location=rng.random() < 0.4,
                    site_blurbs=rng.random() < 0.25,
                    aggregated=rng.random() < 0.2,
                )
            )
        return roles

    # -- postings --------------------------------------------------------------------------------------------
    def _edit(self, words: list[str]) -> list[str]:
        rng = self.rng
        words = list(words)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(words))
            action = rng.random()
            if action < 0.4:
                words[position] = rng.choice(self.words.words)
            elif action < 0.7:
                words.insert(position, rng.choice(self.words.words))
            elif len(words) > 10:
                del words[position]
        return words

    def _description(self, role: _Role, city: str, state: str) -> str:
        rng = self.rng
        sentences = [*role.intro, f"This position is based in {city}, {state}."]
        body = list(role.body)
        if rng.random() < 0.15:
            body.insert(rng.randrange(len(body) + 1), rng.choice(EXTRA_SENTENCES))
        sentences += body
        if role.site_blurbs:  # a paragraph about the local site, its own words at every location
            sentences += self.words.paragraph(15, 35)
        if role.pay_by_location:
            low = rng.randrange(18, 60)
            sentences.append(f"Pay for this location: ${low} - ${low + rng.randrange(3, 15)} per hour.")
        sentences += role.benefits
        if rng.random() < 0.05 and len(sentences) > 4:  # a heavier edit: one sentence dropped
            del sentences[rng.randrange(len(sentences))]
        words = " ".join(sentences).split()
        if rng.random() < 0.25:
            words = self._edit(words)
        return " ".join(words)

    def _title(self, role: _Role, city: str, state: str, source: str) -> str:
        rng = self.rng
        title = role.title
        if role.title_has_location:
            title = f"{title} - {city}, {state}" if rng.random() < 0.5 or source != "xml" else f"{title} ({city})"
        if source != "xml":
            draw = rng.random()
            if draw < 0.25 and title.startswith("Senior "):
                title = "Sr. " + title[len("Senior ") :]
            elif draw < 0.45:
                title += " - Remote"
            elif draw < 0.6 and "(m/w/d)" not in title:
                title += " (m/w/d)"
        return title

    def _company(self, role: _Role, source: str) -> str:
        if source == "xml":
            return role.company
        return f"{role.company_base} {self.rng.choice(COMPANY_SUFFIXES)}".strip()

    def _posting(self, role: _Role, city: str, state: str, source: str, locations: list[str]) -> JobRecord:
        self._source_counter += 1
        description = self._description(role, city, state)
        if source == "adzuna":
            words = description.split()
            description = " ".join(words[: self.rng.randint(60, 90)]) + "…"
        job = JobRecord(
            feed_id=FEED_ID,
            source=source,
            source_id=f"{source}-{self._source_counter}",
            title=self._title(role, city, state, source),
            company=self._company(role, source),
            description=description,
            url=f"https://jobs.example.com/{source}/{self._source_counter}?utm_source=bench",
            locations=locations,
            city=city if len(locations) == 1 else None,
            state=state if len(locations) == 1 else None,
            country="US",
            employment_type=role.employment_type,
            posted_at=self._start + timedelta(hours=self.rng.randrange(24 * 30)),
            requisition_id=role.requisition_id if source == "xml" else None,
        )
        return assign_identity(job)

    def _role_postings(self, role: _Role, count: int) -> list[LabeledPosting]:
        rng = self.rng
        places = self._locations(count)
        postings = []
        for city, state in places:
            postings.append(LabeledPosting(self._posting(role, city, state, "xml", [f"{city}, {state}"]), role.role_id))
            if rng.random() < 0.03:  # re-posted at the same location under a new reference number
                postings.append(
                    LabeledPosting(self._posting(role, city, state, "xml", [f"{city}, {state}"]), role.role_id)
                )
        if role.aggregated:
            shown = [f"{city}, {state}" for city, state in places[:3]]
            for source in ("jsearch", "adzuna", "remoteok"):
                if rng.random() < 0.7:
                    city, state = places[0]
                    listed = rng.sample(shown, len(shown))
                    postings.append(LabeledPosting(self._posting(role, city, state, source, listed), role.role_id))
        return postings

    def groups(self, total_jobs: int) -> Iterator[list[LabeledPosting]]:
        """Groups until about `total_jobs` postings (the last group is cut to the exact total)."""
        produced = 0
        group = 0
        next_huge = self.huge_every // 2
        while produced < total_jobs:
            huge = produced >= next_huge
            postings = self._huge_group(group) if huge else self._group(group)
            if huge:
                next_huge += self.huge_every
            postings = postings[: total_jobs - produced]
            produced += len(postings)
            group += 1
            yield postings

    def _group(self, group: int) -> list[LabeledPosting]:
        rng = self.rng
        base = self._company_base()
        companies = [(f"{base} {rng.choice(COMPANY_SUFFIXES)}".strip(), base)]
        if rng.random() < 0.1:  # a near-miss company name posting the same titles
            companies.append((f"{base} Labs {rng.choice(COMPANY_SUFFIXES)}".strip(), f"{base} Labs"))
        family = rng.choice(TITLE_FAMILIES)
        postings: list[LabeledPosting] = []
        for company in companies:
            for title in rng.sample(family, rng.randint(1, len(family))):
                types = ["full_time"] if rng.random() < 0.9 else rng.sample(EMPLOYMENT_TYPES, 2)
                for employment_type in types:
                    teams = 1 if rng.random() < 0.8 else rng.randint(2, 3)
                    for role in self._roles(group, company, title, employment_type, teams):
                        postings += self._role_postings(role, self._postings_per_role())
        return postings

    def _huge_group(self, group: int) -> list[LabeledPosting]:
        """One company posting one title thousands of times: a few teams, hundreds of locations each."""
        rng = self.rng
        base = f"{self._company_base()} Logistics"
        company = (f"{base} {rng.choice(COMPANY_SUFFIXES)}".strip(), base)
        postings: list[LabeledPosting] = []
        for role in self._roles(group, company, "Warehouse Associate", "full_time", rng.randint(3, 5)):
            role.pay_by_location = True  # every posting distinct: the windowed comparison path
            role.aggregated = False
            postings += self._role_postings(role, rng.randint(400, 800))
        return postings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", type=int, default=8, help="postings to print")
    args = parser.parse_args()
    generator = LabeledFeedGenerator(seed=args.seed)
    shown = 0
    total = roles = 0
    seen_roles: set[str] = set()
    for postings in generator.groups(args.jobs):
        total += len(postings)
        for posting in postings:
            if posting.role not in seen_roles:
                seen_roles.add(posting.role)
                roles += 1
            if shown < args.show:
                job = posting.job
                print(f"{posting.role}\n  [{job.source}] {job.title!r} @ {job.company!r} {job.locations}")
                print(f"  {job.description[:110]}...")
                shown += 1
    print(f"{total} postings, {roles} roles")


if __name__ == "__main__":
    main()
