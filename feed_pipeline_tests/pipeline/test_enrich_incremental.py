"""Stage 1 on a rerun redoes only the jobs that changed and the pass 2 groups they leave or join, and its table then
equals a from-scratch run's: rows, merges and sources alike."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa

from feed_pipeline.core.dedupe import DedupeConfig, assign_dedupe_keys
from feed_pipeline.core.enrichment import IndustryInput, IndustryResult
from feed_pipeline.core.identity import assign_identity
from feed_pipeline.core.jobs import JobRecord
from feed_pipeline.pipeline.dedupe import dedupe_feed
from feed_pipeline.pipeline.enrich import enrich_industries
from feed_pipeline.store import stages
from feed_pipeline.store.db import engine_for
from feed_pipeline.store.schema import enrichments
from feed_pipeline_tests.fakes.classifier import RecordingClassifier

FEED = "f"
# Raw titles pass 1 keeps apart that the model standardizes to one title: pass 2 merges them when their text agrees.
AI_TITLES = {"Senior Backend Engineer": "Backend Engineer", "Backend Engineer II": "Backend Engineer",
             "Lead Backend Engineer": "Backend Engineer", "Shift Supervisor": "Store Manager",
             "Store Manager": "Store Manager", "Cashier": "Cashier", "Data Analyst": "Data Analyst",
             "Line Cook": "Line Cook", "Barista": "Barista"}
BACKEND = "Design and run the backend services of our logistics platform in Go and PostgreSQL."
STORE = "Run the store: open and close, schedule the team, order stock and keep the floor clean."


class StandardizingClassifier(RecordingClassifier):
    """Answers every title with industry Retail or Software and the standardized title of AI_TITLES."""

    def __init__(self):
        super().__init__(taxonomy=None, answers={}, asked=[], events=[])  # type: ignore[arg-type]

    def classify_industries(self, jobs: Sequence[IndustryInput]) -> Iterator[list[IndustryResult]]:
        self.asked.append(tuple(j.title for j in jobs))  # type: ignore[arg-type]
        yield [IndustryResult(job_key=j.job_key, industry="Software" if "Engineer" in j.title else "Retail",
                              confidence=0.9, ai_title=AI_TITLES[j.title], ai_description=j.description[:40])
               for j in jobs]


def posting(ref: str, title: str, city: str, text: str) -> JobRecord:
    job = JobRecord(feed_id=FEED, source="xml", source_id=ref, title=title, company="Acme", description=text,
                    locations=[city], employment_type="full_time")
    return assign_dedupe_keys(assign_identity(job))


FIRST = [
    posting("B1", "Senior Backend Engineer", "Austin", BACKEND),
    posting("B2", "Backend Engineer II", "Denver", BACKEND),
    posting("B3", "Lead Backend Engineer", "Boise", "Lead a team building payment gateways and fraud models."),
    posting("S1", "Store Manager", "Reno", STORE),
    posting("S2", "Shift Supervisor", "Reno", STORE),
    posting("D1", "Data Analyst", "Austin", "Build dashboards of sales and inventory for the regional teams."),
    posting("L1", "Line Cook", "Austin", "Prepare the menu's dishes on the line during dinner service."),
]
# B3's text now matches (it joins the B1+B2 merge); S2 is retitled (it leaves the S1 merge); L1 left the feed;
# a barista arrived; D1 is unchanged.
SECOND = [
    *FIRST[:2],
    posting("B3", "Lead Backend Engineer", "Boise", BACKEND),
    FIRST[3],
    posting("S2", "Cashier", "Reno", STORE),
    FIRST[5],
    posting("K1", "Barista", "Austin", "Pull espresso shots and keep the coffee bar stocked."),
]


def run(engine, run_id: str, postings: list[JobRecord], *, incremental: bool, salt: str = "s1"):
    stages.replace_raw_jobs(engine, FEED, postings)
    dedupe_feed(engine, FEED, run_id, DedupeConfig())
    clf = StandardizingClassifier()
    outcome = enrich_industries(engine, FEED, clf, taxonomy_key="t", category_hint=False, date_order="mdy",
                                archive_below=0.5, dedupe_config=DedupeConfig(), salt=salt, incremental=incremental)
    return outcome, clf


def table(engine) -> list[tuple]:
    columns = [c for c in enrichments.c if c.name != "updated_at"]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(*columns).order_by(enrichments.c.job_key))]


def test_a_rerun_redoes_only_changed_jobs_and_their_groups_and_equals_a_run_from_scratch(db_url, tmp_path):
    engine = engine_for(db_url)
    first, _ = run(engine, "run-1", FIRST, incremental=False)
    assert (first.merged_away, first.groups) == (2, 2), "B1+B2 and S1+S2 merged by pass 2"

    second, clf = run(engine, "run-2", SECOND, incremental=True)

    assert sorted(t for titles in clf.asked for t in titles) == ["Barista", "Cashier", "Lead Backend Engineer"]
    assert clf.usage.cache_hits == 3, "the unchanged jobs of the groups B3 joins and S2 leaves: from the cache"
    assert (second.kept_rows, second.answered) == (1, 6)
    assert (second.merged_away, second.groups) == (2, 1), "B1+B2+B3 merged; S1 and S2 apart"

    scratch = engine_for(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    from_scratch, _ = run(scratch, "run-1", SECOND, incremental=False)
    assert table(engine) == table(scratch)
    assert (from_scratch.merged_away, from_scratch.groups, from_scratch.before_pass2, from_scratch.statuses) == (
        second.merged_away, second.groups, second.before_pass2, second.statuses)


def test_a_job_joining_a_group_leaves_its_unmerged_rows_alone(db_url, tmp_path):
    engine = engine_for(db_url)
    run(engine, "run-1", FIRST, incremental=False)
    joined = [*FIRST, posting("D2", "Data Analyst", "Reno", "Model the demand of each store for the buyers.")]

    second, clf = run(engine, "run-2", joined, incremental=True)

    assert [t for titles in clf.asked for t in titles] == ["Data Analyst"] and clf.usage.cache_hits == 0, (
        "only the new job is answered: D1's row, which pass 2 left alone, is already its own answer")
    assert (second.kept_rows, second.answered) == (5, 1)
    scratch = engine_for(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    run(scratch, "run-1", joined, incremental=False)
    assert table(engine) == table(scratch)


def test_other_settings_or_a_failed_answer_are_never_kept(db_url):
    engine = engine_for(db_url)
    run(engine, "run-1", FIRST, incremental=False)

    other, clf = run(engine, "run-2", FIRST, incremental=True, salt="s2")

    assert (other.kept_rows, other.answered) == (0, 7), "new settings: every deduped job is answered again"
    with engine.begin() as conn:
        conn.execute(enrichments.update().where(enrichments.c.ai_title == "Data Analyst").values(status="failed"))
    retried, clf = run(engine, "run-3", FIRST, incremental=True, salt="s2")
    assert clf.usage.cache_hits == 1 and retried.statuses == {"ok": 5}, "the failed row is answered again"
    assert (retried.kept_rows, retried.answered) == (4, 1)
