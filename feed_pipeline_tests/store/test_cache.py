"""store/cache.py, on SQLite and PostgreSQL: an answer is found only under the stage, model and prompt version it
was paid for, a second answer replaces the first, and a lookup of many hashes is chunked without losing any."""
from __future__ import annotations

import pytest

from feed_pipeline.store import cache
from feed_pipeline.store.cache import get_cached, put_cached
from feed_pipeline.store.db import engine_for

ANSWER = {"industry": "Software", "confidence": 0.9}


@pytest.fixture
def engine(db_url):
    return engine_for(db_url)


def test_an_answer_is_found_only_under_its_stage_model_and_prompt_version(engine):
    with engine.begin() as conn:
        put_cached(conn, "industry", "gemini-2.5-flash", "ind-v2", {"h1": ANSWER, "h2": {"industry": "Retail"}})

    with engine.connect() as conn:
        assert get_cached(conn, "industry", "gemini-2.5-flash", "ind-v2", ["h1", "h2", "h3"]) == {
            "h1": ANSWER, "h2": {"industry": "Retail"}}
        assert get_cached(conn, "function", "gemini-2.5-flash", "ind-v2", ["h1"]) == {}
        assert get_cached(conn, "industry", "offline-keyword-v1", "ind-v2", ["h1"]) == {}
        assert get_cached(conn, "industry", "gemini-2.5-flash", "ind-v3", ["h1"]) == {}
        assert get_cached(conn, "industry", "gemini-2.5-flash", "ind-v2", []) == {}


def test_a_second_answer_for_the_same_key_replaces_the_first(engine):
    with engine.begin() as conn:
        put_cached(conn, "function", "m", "fn-v2", {"h1": {"job_function": "Sales"}})
        put_cached(conn, "function", "m", "fn-v2", {"h1": {"job_function": "Engineering"}})
        put_cached(conn, "function", "m", "fn-v2", {})

    with engine.connect() as conn:
        assert get_cached(conn, "function", "m", "fn-v2", ["h1", "h1"]) == {"h1": {"job_function": "Engineering"}}


def test_a_lookup_of_more_hashes_than_a_chunk_finds_them_all(engine, monkeypatch):
    monkeypatch.setattr(cache, "LOOKUP_CHUNK", 3)
    answers = {f"h{i}": {"n": i} for i in range(8)}
    with engine.begin() as conn:
        put_cached(conn, "industry", "m", "p", answers)

    with engine.connect() as conn:
        assert get_cached(conn, "industry", "m", "p", [*answers, "h3", "missing"]) == answers
