"""Job search for the API: filters, full-text search, cross-feed duplicates collapsed, stable pages.

Full text runs on what migration 0002 built: PostgreSQL's generated `search_vector` column (GIN index,
queried with `websearch_to_tsquery`), SQLite's FTS5 table `jobs_fts` (queried with an FTS5 expression
translated from the same web-search syntax). Both read a search string the same way: words are ANDed,
"quoted text" is a phrase, `or` between terms is OR, `-word` excludes. Any string is safe: PostgreSQL gets
it as a bound parameter to a function that never raises, and SQLite gets only quoted word tokens.

Known differences: PostgreSQL drops English stop words ("the", "and") and keeps tokens such as `node.js`
whole; SQLite's FTS5 keeps stop words and splits `node.js` into the phrase "node js".
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from feed_pipeline.core.places import country_spellings, region_spellings
from feed_pipeline.store.rows import as_utc
from feed_pipeline.store.schema import jobs, review_decisions

TEXT_SEARCH_CONFIG = "english"  # the configuration migration 0002 builds `search_vector` with
SEARCH_VECTOR_COLUMN = "search_vector"
FTS_TABLE = "jobs_fts"
DOCS_TABLE = "job_search_docs"
# bm25 column weights for jobs_fts(title, description, skills): a title hit outranks a description hit.
FTS5_BM25 = f"bm25({FTS_TABLE}, 10.0, 1.0, 4.0)"

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# On PostgreSQL the planner's estimate comes first (EXPLAIN, ~1 ms): up to this many, the matches are counted
# exactly (the planner then reads them through the GIN index); beyond it the estimate is the total
# (total_exact False). An exact count of a common word among a million jobs reads most of the table and
# detoasts every match, which no page needs. SQLite (small deployments) always counts exactly.
EXACT_TOTAL_LIMIT = 1_000
# An estimate can be far off; the exact count stops at this multiple of the limit whatever the planner thought.
COUNT_CAP_FACTOR = 2

# Columns a result list carries; the bulky source payload (description_html, extra) stays for the detail view.
LIST_COLUMNS = tuple(
    c for c in jobs.c
    if c.name not in ("description_html", "extra", "member_keys", "source_ids", "block_key", "content_hash")
)

_docs = sa.table(DOCS_TABLE, sa.column("doc_id"), sa.column("feed_id"), sa.column("job_key"))


class JobSort(StrEnum):
    NEWEST = "newest"  # posted_at descending, undated jobs last
    OLDEST = "oldest"
    RELEVANCE = "relevance"  # best match first, ties newest first; without a search the same as NEWEST
    SALARY = "salary"  # highest salary_max (or salary_min) first, unknown salaries last
    UPDATED = "updated"  # most recently changed first


class SearchQueryError(ValueError):
    """A query the API should answer with 422: the message says which parameter and what to do."""


@dataclass(frozen=True)
class JobQuery:
    """What `GET /api/jobs` asks for; None and empty mean "no filter"."""

    search: str | None = None
    sources: tuple[str, ...] = ()
    feed_id: str | None = None
    employment_type: str | None = None
    remote_only: bool = False
    industry: str | None = None
    job_function: str | None = None
    city: str | None = None
    state: str | None = None  # a US state or Canadian province by code or name
    country: str | None = None  # by name or code, whatever form the feed wrote
    route: str | None = "approved"  # None: every route
    posted_after: datetime | None = None
    distinct: bool = False
    sort: JobSort = JobSort.NEWEST
    limit: int = DEFAULT_LIMIT
    offset: int = 0


@dataclass(frozen=True)
class JobPage:
    total: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    total_exact: bool = True  # False: more than EXACT_TOTAL_LIMIT match and `total` is PostgreSQL's estimate


# --- the search string --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchTerm:
    words: tuple[str, ...]  # one word, or a phrase
    excluded: bool = False


@dataclass(frozen=True)
class SearchGroup:
    """Terms that must all hold (excluded ones must not); a search is an OR of groups."""

    terms: tuple[SearchTerm, ...]

    @property
    def included(self) -> tuple[SearchTerm, ...]:
        return tuple(t for t in self.terms if not t.excluded)

    @property
    def excluded(self) -> tuple[SearchTerm, ...]:
        return tuple(t for t in self.terms if t.excluded)


_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_search(text: str) -> tuple[SearchGroup, ...]:
    """Read web-search syntax (as PostgreSQL's websearch_to_tsquery does) into OR-ed groups of terms.

    Punctuation only separates words; a term with no letters or digits is dropped; a dangling `or` is ignored.
    """
    groups: list[list[SearchTerm]] = [[]]
    pending_or = False
    for match in _TOKEN.finditer(text):
        negation, phrase, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            pending_or = bool(groups[-1])
            continue
        if bare is not None:
            negation, phrase = ("-", bare[1:]) if bare.startswith("-") else ("", bare)
        words = tuple(w.lower() for w in _WORD.findall(phrase))
        if not words:
            continue
        if pending_or:
            groups.append([])
            pending_or = False
        groups[-1].append(SearchTerm(words, excluded=negation == "-"))
    return tuple(SearchGroup(tuple(g)) for g in groups if g)


def _fts5_phrase(term: SearchTerm) -> str:
    # Words are \w+ only, so the quoted string can hold no quote and no FTS5 operator.
    return '"' + " ".join(term.words) + '"'


def fts5_expression(terms: Sequence[SearchTerm]) -> str:
    """An FTS5 MATCH expression requiring every term (a term's own `excluded` flag is ignored)."""
    return " AND ".join(_fts5_phrase(t) for t in terms)


def fts5_group_expression(group: SearchGroup) -> str:
    """FTS5 for a group with at least one included term: (all included) NOT (any excluded)."""
    expression = f"({fts5_expression(group.included)})"
    if group.excluded:
        expression += " NOT (" + " OR ".join(_fts5_phrase(t) for t in group.excluded) + ")"
    return expression


# --- SQL ----------------------------------------------------------------------------------------------------

TextCondition = Callable[[str], sa.ColumnElement[bool]]
"""Builds a WHERE condition on `jobs` for a search string (used to compare other strategies, e.g. ILIKE)."""


@dataclass
class _Plan:
    from_clause: sa.FromClause
    conditions: list[sa.ColumnElement[bool]]
    rank: sa.ColumnElement[Any] | None  # higher is more relevant


def _filter_conditions(query: JobQuery) -> list[sa.ColumnElement[bool]]:
    c = jobs.c
    conditions: list[sa.ColumnElement[bool]] = []
    if query.route is not None:
        conditions.append(c.route == query.route)
    if query.sources:
        conditions.append(c.source.in_(sorted(set(query.sources))))
    if query.feed_id is not None:
        conditions.append(c.feed_id == query.feed_id)
    if query.employment_type is not None:
        conditions.append(c.employment_type == query.employment_type)
    if query.remote_only:
        # the feed's own flag, or the AI reading the text as fully remote
        conditions.append(sa.or_(c.is_remote.is_(True), c.remote_policy == "remote"))
    if query.industry is not None:
        conditions.append(c.industry == query.industry)
    if query.job_function is not None:
        conditions.append(c.job_function == query.job_function)
    if query.posted_after is not None:
        conditions.append(c.posted_at >= as_utc(query.posted_after))
    if query.city is not None:
        conditions.append(sa.func.lower(c.city) == query.city.strip().lower())
    if query.state is not None:
        conditions.append(sa.func.lower(c.state).in_(sorted(region_spellings(query.state))))
    if query.country is not None:
        conditions.append(sa.func.lower(c.country).in_(sorted(country_spellings(query.country))))
    return conditions


def _postgresql_text_plan(search: str, plan: _Plan) -> None:
    tsquery = sa.func.websearch_to_tsquery(sa.literal_column(f"'{TEXT_SEARCH_CONFIG}'::regconfig"), search)
    vector = sa.literal_column(f"{jobs.name}.{SEARCH_VECTOR_COLUMN}")
    plan.conditions.append(vector.op("@@")(tsquery))
    plan.rank = sa.func.ts_rank(vector, tsquery)


def _fts5_matches(expression: str, *, with_rank: bool = False) -> sa.Select:
    columns = [sa.literal_column("rowid").label("doc_id")]
    if with_rank:
        columns.append(sa.literal_column(FTS5_BM25).label("bm25"))
    return (
        sa.select(*columns)
        .select_from(sa.table(FTS_TABLE))
        .where(sa.literal_column(FTS_TABLE).op("MATCH")(sa.literal(expression, sa.String)))
    )


def _sqlite_text_plan(groups: tuple[SearchGroup, ...], plan: _Plan) -> None:
    plan.from_clause = plan.from_clause.join(
        _docs, sa.and_(_docs.c.feed_id == jobs.c.feed_id, _docs.c.job_key == jobs.c.job_key)
    )
    positive = [g for g in groups if g.included]
    if len(positive) == len(groups):
        # One MATCH for the whole search, joined for its bm25 rank (bm25 is lower for better matches).
        matches = _fts5_matches(" OR ".join(fts5_group_expression(g) for g in positive), with_rank=True).subquery()
        plan.from_clause = plan.from_clause.join(matches, matches.c.doc_id == _docs.c.doc_id)
        plan.rank = -matches.c.bm25
        return
    # A group made only of exclusions matches every job without those words: FTS5 cannot say that alone.
    alternatives: list[sa.ColumnElement[bool]] = []
    if positive:
        expression = " OR ".join(fts5_group_expression(g) for g in positive)
        alternatives.append(_docs.c.doc_id.in_(_fts5_matches(expression)))
    for group in groups:
        if not group.included:
            excluded = " OR ".join(_fts5_phrase(t) for t in group.excluded)
            alternatives.append(_docs.c.doc_id.not_in(_fts5_matches(excluded)))
    plan.conditions.append(sa.or_(*alternatives))
    plan.rank = sa.literal(0.0)


def _plan(query: JobQuery, dialect: str, text_condition: TextCondition | None) -> _Plan | None:
    """The FROM and WHERE for a query; None when the search can match nothing (it has no words)."""
    plan = _Plan(from_clause=jobs, conditions=_filter_conditions(query), rank=None)
    search = (query.search or "").strip()
    if not search:
        return plan  # sort=relevance then orders newest first: every job is equally relevant
    groups = parse_search(search)
    if not groups:
        return None
    if text_condition is not None:
        plan.conditions.append(text_condition(search))
        plan.rank = sa.literal(0.0)
    elif dialect == "postgresql":
        _postgresql_text_plan(search, plan)
    elif dialect == "sqlite":
        _sqlite_text_plan(groups, plan)
    else:
        raise NotImplementedError(f"full-text search is built for SQLite and PostgreSQL, not {dialect}")
    return plan


def _order_by(sort: JobSort, cols, rank) -> list[sa.ColumnElement[Any]]:
    newest = cols.posted_at.desc().nulls_last()
    first: list[sa.ColumnElement[Any]] = {
        JobSort.NEWEST: [newest],
        JobSort.OLDEST: [cols.posted_at.asc().nulls_last()],
        JobSort.RELEVANCE: [rank.desc(), newest] if rank is not None else [newest],
        JobSort.SALARY: [sa.func.coalesce(cols.salary_max, cols.salary_min).desc().nulls_last(), newest],
        JobSort.UPDATED: [cols.updated_at.desc()],
    }[sort]
    return [*first, cols.feed_id.asc(), cols.job_key.asc()]  # the primary key makes the order total


def _duplicate_group(cols) -> sa.ColumnElement[str]:
    """Cross-feed identity; a job without a dedupe_key is its own group."""
    return sa.func.coalesce(sa.func.nullif(cols.dedupe_key, ""), cols.feed_id + ":" + cols.job_key)


def search_jobs(
    engine_or_conn: sa.Engine | sa.Connection, query: JobQuery, *, text_condition: TextCondition | None = None
) -> JobPage:
    """One page of jobs matching `query` and how many match in all, in a total order (stable pages).

    With `distinct`, jobs sharing a dedupe_key count once: the newest posting among the matches stands for
    them and carries `duplicate_count`. `text_condition` replaces the full-text match (benchmarks compare it).
    """
    if not 1 <= query.limit <= MAX_LIMIT:
        raise SearchQueryError(f"limit must be between 1 and {MAX_LIMIT}, got {query.limit}")
    if query.offset < 0:
        raise SearchQueryError(f"offset must be 0 or more, got {query.offset}")
    with _connection(engine_or_conn) as conn:
        plan = _plan(query, conn.dialect.name, text_condition)
        if plan is None:
            return JobPage(total=0, rows=[])
        rank = plan.rank if query.sort is JobSort.RELEVANCE else None
        columns: list[sa.ColumnElement[Any]] = list(LIST_COLUMNS)
        if rank is not None:
            columns.append(rank.label("relevance"))
        estimate = None
        if query.distinct:
            group = _duplicate_group(jobs.c)
            columns += [
                sa.func.row_number().over(partition_by=group, order_by=_order_by(JobSort.NEWEST, jobs.c, None))
                .label("duplicate_rank"),
                sa.func.count().over(partition_by=group).label("duplicate_count"),
            ]
            undivided = sa.select(*columns).select_from(plan.from_clause).where(*plan.conditions)
            inner = undivided.subquery()
            matches = sa.select(inner).where(inner.c.duplicate_rank == 1)
            page_stmt = matches.order_by(
                *_order_by(query.sort, inner.c, inner.c.relevance if rank is not None else None)
            )
            total, exact = count_matches(conn, matches, estimate_of=undivided)
        else:
            matches = sa.select(*columns).select_from(plan.from_clause).where(*plan.conditions)
            page_stmt = matches.order_by(*_order_by(query.sort, jobs.c, rank))
            total, exact = count_matches(conn, matches)
            estimate = None if exact else total
        rows = []
        if query.offset < total or not exact:
            with _newest_first_walk(conn, query, plan.rank is not None, estimate):
                result = conn.execute(page_stmt.limit(query.limit).offset(query.offset)).mappings()
                rows = [_clean(row) for row in result]
    return JobPage(total=total, rows=rows, total_exact=exact)


@contextmanager
def _newest_first_walk(conn: sa.Connection, query: JobQuery, text_search: bool, estimate: int | None):
    """On PostgreSQL, read a many-match text search newest first along ix_jobs_route_newest, stopping at the page.

    The planner multiplies the words' frequencies as if independent, but the words people search together go
    together ("terraform aws", "patient care" in Healthcare): it then expects a few thousand matches, picks a
    bitmap scan and reads tens of thousands of rows to sort them (0.4-0.7 s at 1M jobs) where walking the index
    stops after the first page (2-20 ms). When even its estimate is above EXACT_TOTAL_LIMIT, walk. Settings
    are local to the transaction and restored.
    """
    walk = (text_search and estimate is not None and estimate > EXACT_TOTAL_LIMIT and query.route is not None
            and query.sort is JobSort.NEWEST and conn.dialect.name == "postgresql")
    if not walk:
        yield
        return
    saved = conn.execute(sa.text(
        "SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan')")).one()
    set_scans = sa.text(
        "SELECT set_config('enable_bitmapscan', :bitmap, true), set_config('enable_seqscan', :seq, true)")
    conn.execute(set_scans, {"bitmap": "off", "seq": "off"})
    try:
        yield
    finally:
        conn.execute(set_scans, {"bitmap": saved[0], "seq": saved[1]})


def count_matches(conn: sa.Connection, matches: sa.Select, estimate_of: sa.Select | None = None) -> tuple[int, bool]:
    """(how many rows `matches` returns, whether that is exact): see EXACT_TOTAL_LIMIT.

    `estimate_of` is what to ask the planner about when `matches` is opaque to it (the distinct query's window
    filter): the matches before collapsing duplicates, an upper bound.
    """
    if conn.dialect.name != "postgresql":
        return conn.execute(sa.select(sa.func.count()).select_from(matches.subquery())).scalar_one(), True
    estimate = planner_estimate(conn, estimate_of if estimate_of is not None else matches)
    if estimate > EXACT_TOTAL_LIMIT:
        return estimate, False
    cap = EXACT_TOTAL_LIMIT * COUNT_CAP_FACTOR
    counted = sa.select(sa.literal(1)).select_from(matches.subquery()).limit(cap + 1).subquery()
    total = conn.execute(sa.select(sa.func.count()).select_from(counted)).scalar_one()
    return (total, True) if total <= cap else (total, False)  # past the cap: "more than `cap`"


def planner_estimate(conn: sa.Connection, stmt: sa.Select) -> int:
    """PostgreSQL's estimate of the rows `stmt` returns (EXPLAIN, no execution)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _clean(row: sa.RowMapping) -> dict[str, Any]:
    data = {k: v for k, v in row.items() if k != "duplicate_rank"}
    for name in ("posted_at", "expires_at", "first_seen_at", "last_seen_at", "updated_at"):
        data[name] = as_utc(data.get(name))
    return data


class _connection:
    """Use a Connection as is, or open one from an Engine for the duration of the search."""

    def __init__(self, target: sa.Engine | sa.Connection):
        self._target = target
        self._opened: sa.Connection | None = None

    def __enter__(self) -> sa.Connection:
        if isinstance(self._target, sa.Connection):
            return self._target
        self._opened = self._target.connect()
        return self._opened

    def __exit__(self, *exc) -> None:
        if self._opened is not None:
            self._opened.close()


def get_review(engine: sa.Engine, feed_id: str, job_key: str) -> dict[str, Any] | None:
    """The operator's review decision on a job, whole (store.jobs keeps only what routing needs)."""
    stmt = sa.select(review_decisions).where(
        review_decisions.c.feed_id == feed_id, review_decisions.c.job_key == job_key
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None
