"""store.search and migration 0002: the search index follows every write to `jobs`, on both databases."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from feed_pipeline.resources.database import engine_for
from feed_pipeline.store import search as search_module
from feed_pipeline.store.db import alembic_config, head_revision, make_engine, migrate
from feed_pipeline.store.schema import jobs
from feed_pipeline.store.search import (
    JobQuery,
    SearchGroup,
    SearchQueryError,
    SearchTerm,
    fts5_group_expression,
    parse_search,
    search_jobs,
)
from feed_pipeline_tests.api.factories import at, insert_jobs, job_row


def _found(engine, text: str) -> list[str]:
    return [r["source_id"] for r in search_jobs(engine, JobQuery(search=text, route=None)).rows]


# --- the search string --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("python", [[("python",)]]),
    ("Python  Engineer", [[("python",), ("engineer",)]]),
    ('"data engineer" spark', [[("data", "engineer"), ("spark",)]]),
    ('"unclosed phrase', [[("unclosed", "phrase")]]),
    ("a or b c", [[("a",)], [("b",), ("c",)]]),
    ("or a or", [[("a",)]]),
    ("node.js c++", [[("node", "js"), ("c",)]]),
    ("!!! -- ()", []),
])
def test_parse_search_reads_web_search_syntax(text, expected):
    assert [[t.words for t in g.terms] for g in parse_search(text)] == expected


def test_parse_search_marks_exclusions():
    group, = parse_search('python -java -"spring boot"')

    assert [(t.words, t.excluded) for t in group.terms] == [
        (("python",), False), (("java",), True), (("spring", "boot"), True)]


def test_fts5_expression_quotes_every_term():
    group = SearchGroup((SearchTerm(("near",)), SearchTerm(("title", "x")), SearchTerm(("and",), excluded=True)))

    assert fts5_group_expression(group) == '("near" AND "title x") NOT ("and")'


# --- the migration and its sync --------------------------------------------------------------------------------


def test_migrating_twice_changes_nothing(db_url):
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    engine.dispose()


def test_search_follows_inserts_updates_and_deletes(db_url):
    engine = engine_for(db_url)
    insert_jobs(engine, [job_row(source_id="1", title="Python Developer"), job_row(source_id="2", title="Welder")])
    assert _found(engine, "python") == ["1"]

    insert_jobs(engine, [job_row(source_id="1", title="Rust Developer")], run_id="run-2")  # upsert changes title
    assert _found(engine, "python") == []
    assert _found(engine, "rust") == ["1"]

    with engine.begin() as conn:
        conn.execute(jobs.update().where(jobs.c.source_id == "2").values(skills=["Python"]))
    assert _found(engine, "python") == ["2"]

    with engine.begin() as conn:
        conn.execute(jobs.delete().where(jobs.c.source_id == "2"))
    assert _found(engine, "python") == []
    assert _found(engine, "developer") == ["1"]


def test_a_rerun_with_unchanged_text_keeps_one_index_entry(sqlite_url):
    engine = engine_for(sqlite_url)
    row = job_row(source_id="1", title="Python Developer")
    insert_jobs(engine, [row])
    insert_jobs(engine, [row], run_id="run-2")

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM jobs_fts WHERE jobs_fts MATCH 'python'")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM job_search_docs")).scalar() == 1


def test_jobs_written_before_the_migration_are_indexed_by_it(db_url):
    engine = engine_for(db_url)
    config = alembic_config(db_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    insert_jobs(engine, [job_row(source_id="old", title="Legacy COBOL Programmer")])

    migrate(engine)

    assert _found(engine, "cobol") == ["old"]


def test_bad_page_bounds_are_refused(sqlite_url):
    engine = engine_for(sqlite_url)
    for query in (JobQuery(limit=0), JobQuery(limit=201), JobQuery(offset=-1)):
        with pytest.raises(SearchQueryError):
            search_jobs(engine, query)


# --- PostgreSQL plan choices change plans, never results -----------------------------------------------------


def test_the_newest_first_walk_gives_the_same_page_and_restores_the_planner_settings(pg_url, monkeypatch):
    engine = engine_for(pg_url)
    insert_jobs(engine, [job_row(source_id=str(n), title=f"Python Developer {n}", posted_at=at(1 + n % 20))
                         for n in range(40)])
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE jobs"))
    query = JobQuery(search="python developer", limit=10, offset=5)
    planned = search_jobs(engine, query)

    monkeypatch.setattr(search_module, "EXACT_TOTAL_LIMIT", 5)  # the estimate (40) now calls for the walk
    with engine.begin() as conn:
        walked = search_jobs(conn, query)
        settings = conn.execute(sa.text(
            "SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan')")).one()

    assert (walked.total, walked.total_exact) == (40, False)
    assert [r["job_key"] for r in walked.rows] == [r["job_key"] for r in planned.rows]
    assert tuple(settings) == ("on", "on")


def test_an_exact_count_stops_at_its_cap(pg_url, monkeypatch):
    engine = engine_for(pg_url)
    insert_jobs(engine, [job_row(source_id=str(n), title="Welder") for n in range(12)])
    monkeypatch.setattr(search_module, "EXACT_TOTAL_LIMIT", 5)
    monkeypatch.setattr(search_module, "planner_estimate", lambda conn, stmt: 3)  # an estimate far too low

    page = search_jobs(engine, JobQuery(search="welder"))

    assert (page.total, page.total_exact) == (11, False)  # "more than 10": counting stopped at 2 x 5 + 1
    assert len(page.rows) == 12
