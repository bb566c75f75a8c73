"""Mirrors a feed's approved jobs to a Xano table over HTTP, safely and with as few calls as possible.

`XanoResource` is the client's settings; `open_client()` yields a `XanoClient` (one httpx connection pool).
`XanoSandboxResource` first starts the embedded sandbox (feed_pipeline/sandbox) on 127.0.0.1 and talks to it
through the very same client code: that is what `make run` mirrors into.

How a sync works (`XanoClient.sync_feed`):
1. List the whole table. Xano's generated `GET /job` has no filter inputs, so every feed's records are
   read and filtered here by `feed_id`: a sync costs ceil(table size / page_size) list calls (one call
   when the endpoint answers a bare array), whatever the size of the feed. Keep `page_size` large.
2. `core.mirror.plan_mirror`: stale records and extra copies of a key to delete, missing jobs to POST,
   changed ones to PATCH (only the changed fields). A rerun with nothing changed makes no writes.
3. Safety valve (`core.mirror.check_delete_safety`): when the ingest was incomplete, the stale deletes
   exceed both `max_delete_share` of the feed's records and `min_mass_delete` records, or the copy would
   shrink by more than `max_delete_share`, the stale deletes are skipped, adds and updates
   (and removal of duplicate copies, which loses nothing) still run, and then `MirrorBlockedError`
   (carrying the outcome) fails the run loudly. `allow_mass_delete=True` lets the deletes through.
4. Writes run deletes first (a closed job should leave the board promptly), then updates, then adds.
   Just before the adds the table is listed once more and a job whose key now has a record of the feed
   is not added again (`already_present`): another writer that raced this sync (two runs of one feed,
   which the feed's lease prevents) never leads to a second record for a job_key. It costs one list
   when there is something to add, none otherwise.
5. A POST whose answer was lost (timeout, dropped connection, 5xx) may have been stored anyway; after
   such a retry the client lists once more and deletes the extra copies, so one run ends exact.

Faults: 429 waits for Retry-After when given, else the plan's window, and retries (its own budget);
5xx, timeouts and dropped connections retry with backoff (http_resilience.WaitServerOrBackoff); 401/403
raise `XanoAuthError` at once; 404 on DELETE counts as done, 404 on PATCH re-adds the record; another
4xx (a 400 on one record) is reported for that record in `MirrorOutcome.record_errors` and the rest go
on. When retries run out, `XanoUnavailableError` ends the sync; because every write is planned from a
fresh listing, the next run converges from wherever this one stopped.
Throttle: `requests_per_window` per `window_seconds` (free plan: 10 per 20 s) paces requests so that 429
never happens; 0 (the default) means unthrottled, the paid plans. There `max_concurrency` > 1 runs each
phase's writes in parallel threads (same calls, less waiting on round trips); a throttled client always
writes one at a time, since the plan's limit, not latency, sets its pace.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Self

import dagster as dg
import httpx
import tenacity
from pydantic import Field, field_validator

from feed_pipeline.core.mirror import (
    DEFAULT_MAX_DELETE_SHARE,
    DEFAULT_MIN_MASS_DELETE,
    DesiredRecords,
    MirrorPlan,
    changed_fields,
    check_delete_safety,
    plan_mirror,
    verify_mirror,
)
from feed_pipeline.resources.http_resilience import RateLimiter, WaitServerOrBackoff, parse_retry_after
from feed_pipeline.sandbox.server import running_sandbox
from feed_pipeline.store.rows import batched

FREE_PLAN_REQUESTS = 10
FREE_PLAN_WINDOW_S = 20.0
MAX_REPORTED_ERRORS = 50


# ---- errors ---------------------------------------------------------------------------------------
class XanoError(Exception):
    """Base of every error this client raises."""


class XanoAuthError(XanoError):
    """401/403: the token is missing, wrong, expired or lacks access. Retrying cannot help."""


class XanoRequestError(XanoError):
    """Xano refused one request with a 4xx (other than 401/403/429); the request itself is wrong."""

    def __init__(self, method: str, url: str, status: int, code: str | None, message: str, payload: Any) -> None:
        self.method, self.url, self.status = method, url, status
        self.code, self.message, self.payload = code, message, payload
        detail = f" payload={payload!r}" if payload not in (None, "", {}, []) else ""
        super().__init__(f"{method} {url} -> {status} {code or ''}: {message}{detail}".replace("  ", " "))


class XanoUnavailableError(XanoError):
    """Retries ran out on 5xx, timeouts, dropped connections or 429s. The next run converges."""


class XanoResponseError(XanoError):
    """Xano answered 2xx with a body this client cannot read (wrong URL, a proxy page, a changed API)."""


class MirrorBlockedError(XanoError):
    """The safety valve skipped the stale deletes; adds and updates were made. `.outcome` has the counts."""

    def __init__(self, feed_id: str, reason: str, outcome: MirrorOutcome) -> None:
        self.feed_id, self.reason, self.outcome = feed_id, reason, outcome
        super().__init__(f"Xano mirror of feed {feed_id!r}: {reason}")


class _Retryable(Exception):
    """Internal: this attempt failed in a way another attempt may fix; wait `retry_after` s first when set."""

    def __init__(self, description: str, *, rate_limited: bool = False, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.rate_limited = rate_limited
        self.retry_after = retry_after


# ---- settings, throttle, outcome ------------------------------------------------------------------
def plan_limiter(settings: XanoResource, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> RateLimiter:
    """The plan's limit as a limiter: bursts allowed, at most `requests_per_window` requests (1 unit each) in
    any window, counted from when each answer arrived (`Reservation.finished`), so latency leaves a margin and
    the server's own sliding window never sees one more. Unlimited for 0 (paid plans)."""
    return RateLimiter(units_per_window=settings.requests_per_window or None, window_s=settings.window_seconds,
                       sleep=sleep, clock=clock)


@dataclass
class MirrorOutcome:
    """What one sync did. `deleted` includes duplicate copies removed (also counted in `duplicates_removed`)."""

    feed_id: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    record_errors: list[str] = field(default_factory=list)
    deletes_blocked: str | None = None
    deletes_skipped: int = 0
    duplicates_removed: int = 0
    already_gone: int = 0  # deletes answered 404
    already_present: int = 0  # adds skipped: the job's record appeared since the listing (another writer)
    existing_records: int = 0  # the feed's records in Xano before the sync
    desired_records: int = 0
    foreign_records: int = 0  # other feeds' and unkeyed records, left alone
    calls: int = 0
    list_calls: int = 0
    write_calls: int = 0
    retries: int = 0
    rate_limited: int = 0  # 429 answers
    rate_limit_wait_s: float = 0.0
    backoff_wait_s: float = 0.0
    elapsed_s: float = 0.0

    def to_metadata(self) -> dict[str, Any]:
        """JSON-safe counts for Dagster metadata and the execution report; errors capped."""
        data = asdict(self)
        data["record_errors"] = self.record_errors[:MAX_REPORTED_ERRORS]
        data["record_error_count"] = len(self.record_errors)
        data["rate_limit_wait_s"] = round(self.rate_limit_wait_s, 3)
        data["backoff_wait_s"] = round(self.backoff_wait_s, 3)
        data["elapsed_s"] = round(self.elapsed_s, 3)
        return data


# The client's running totals since it opened (`stats()`), kept in a Counter: request counts, the seconds waited
# for the plan's limit and in backoff, and posts whose outcome is unknown.
_TOTALS = ("calls", "list_calls", "write_calls", "retries", "rate_limited", "rate_limit_wait_s", "backoff_wait_s",
           "uncertain_posts")


def _error_fields(response: httpx.Response) -> tuple[str | None, str, Any]:
    """Xano's `{code, message, payload}`, tolerating a body that is not one."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:300] or response.reason_phrase, None
    if isinstance(body, dict):
        return body.get("code"), str(body.get("message") or response.reason_phrase), body.get("payload")
    return None, str(body)[:300], None


# A request that never left the machine cannot have been stored; anything else might have been.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# ---- the client -----------------------------------------------------------------------------------
class XanoClient:
    """CRUD on one Xano table with retries, throttling and call accounting, plus the feed sync."""

    def __init__(self, settings: XanoResource, *, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        headers = {"Accept": "application/json"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._owns_http = http is None
        self._http = http or httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
        )
        self._sleep = sleep
        self._limiter = plan_limiter(settings, sleep=sleep)
        self._counters: Counter[str] = Counter(rate_limit_wait_s=0.0, backoff_wait_s=0.0)
        self._lock = threading.Lock()  # counters and outcomes are shared by the write threads
        # Xano's 429 has no Retry-After: `_attempt` then puts the plan's window on the error.
        self._wait = WaitServerOrBackoff(settings.backoff_initial_s, settings.backoff_max_s)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, **amounts: float) -> None:
        with self._lock:
            self._counters.update(amounts)

    def stats(self) -> dict[str, Any]:
        """Totals since the client opened: calls, retries, waits."""
        with self._lock:
            data = {name: self._counters[name] for name in _TOTALS}
        data["rate_limit_wait_s"] = round(data["rate_limit_wait_s"], 3)
        data["backoff_wait_s"] = round(data["backoff_wait_s"], 3)
        return data

    # ---- one request, with retries ---------------------------------------------------------------
    def _attempt(self, method: str, path: str, body: Mapping[str, Any] | None, params: Mapping[str, Any] | None
                 ) -> httpx.Response:
        reservation = self._limiter.acquire(1)
        is_list = method == "GET" and path == self.settings.table
        self._count(rate_limit_wait_s=reservation.waited_s, calls=1, list_calls=int(is_list),
                    write_calls=int(method != "GET"))
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.TransportError as exc:
            if method == "POST" and not isinstance(exc, _NOT_SENT):
                self._count(uncertain_posts=1)
            raise _Retryable(f"{type(exc).__name__}: {exc or 'connection failed'}") from exc
        finally:
            reservation.finished()
        status = response.status_code
        if status == 429:
            self._count(rate_limited=1)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            _, message, _ = _error_fields(response)
            raise _Retryable(f"429 {message}", rate_limited=True,
                             retry_after=self.settings.window_seconds if retry_after is None else retry_after)
        if status >= 500:
            if method == "POST":
                self._count(uncertain_posts=1)
            code, message, _ = _error_fields(response)
            raise _Retryable(f"{status} {code or ''} {message}".strip())
        if status in (401, 403):
            code, message, _ = _error_fields(response)
            raise XanoAuthError(
                f"Xano refused {method} {response.request.url} with {status} {code or ''}: {message}. "
                "Check XANO_TOKEN (a token of this API group, not expired) and XANO_BASE_URL."
            )
        if status >= 400:
            code, message, payload = _error_fields(response)
            raise XanoRequestError(method, str(response.request.url), status, code, message, payload)
        return response

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                 params: Mapping[str, Any] | None = None) -> httpx.Response:
        """One logical request: transient failures retried, others raised as XanoError subclasses."""
        failures = {"transient": 0, "rate_limited": 0}

        def give_up(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            kind = "rate_limited" if isinstance(exc, _Retryable) and exc.rate_limited else "transient"
            failures[kind] += 1
            if kind == "rate_limited":
                return failures[kind] > self.settings.max_rate_limit_retries
            return failures[kind] >= self.settings.max_attempts

        def sleep(seconds: float) -> None:
            # The attempt that just failed tells which kind of wait this is.
            if last_rate_limited[0]:
                self._count(retries=1, rate_limit_wait_s=seconds)
            else:
                self._count(retries=1, backoff_wait_s=seconds)
            self._sleep(seconds)

        last_rate_limited = [False]

        def note(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            last_rate_limited[0] = isinstance(exc, _Retryable) and exc.rate_limited

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=give_up,
            wait=self._wait,
            before_sleep=note,
            sleep=sleep,
            reraise=True,
        )
        url = f"{self.settings.base_url.rstrip('/')}/{path}"
        try:
            return retrying(self._attempt, method, path, body, params)
        except _Retryable as exc:
            raise XanoUnavailableError(
                f"Xano did not answer {method} {url} after {failures['transient']} failure(s) and "
                f"{failures['rate_limited']} rate limit(s) (last: {exc}); the next run resumes the sync"
            ) from exc

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise XanoResponseError(
                f"{response.request.method} {response.request.url} answered {response.status_code} with a body "
                f"that is not JSON ({response.text[:120]!r}); is XANO_BASE_URL the API group's base URL?"
            ) from exc

    def _record(self, response: httpx.Response) -> dict[str, Any]:
        body = self._json(response)
        if not isinstance(body, dict) or isinstance(body.get("id"), bool) or not isinstance(body.get("id"), int):
            raise XanoResponseError(
                f"{response.request.method} {response.request.url} answered {str(body)[:120]!r}, "
                "expected a record with an integer id"
            )
        return body

    # ---- CRUD ------------------------------------------------------------------------------------
    def list_records(self) -> list[dict[str, Any]]:
        """Every record of the table: follows `nextPage` in paged mode, takes a bare array as all of it."""
        return list(self.iter_records())

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """The table's records page by page, so a caller that keeps little needs little memory."""
        table = self.settings.table
        per_page = self.settings.page_size
        page = 1
        while True:
            params = {"page": page, "per_page": per_page} if per_page else None
            body = self._json(self._request("GET", table, params=params))
            if isinstance(body, list):  # bare array: the endpoint returns the whole table at once
                items, next_page = body, None
            elif isinstance(body, dict) and isinstance(body.get("items"), list):
                items, next_page = body["items"], body.get("nextPage")
                if not per_page and next_page is not None:
                    # The endpoint pages on its own; keep its page size.
                    per_page = int(body.get("perPage") or len(items) or 1)
            else:
                raise XanoResponseError(
                    f"GET {self.settings.base_url}/{table} answered {str(body)[:120]!r}; expected a JSON array or "
                    "a paging envelope with `items`"
                )
            for item in items:
                if not isinstance(item, dict):
                    raise XanoResponseError(f"GET {table} page {page} holds a non-record item {str(item)[:80]!r}")
            yield from items
            if next_page is None:
                return
            if not isinstance(next_page, int) or next_page <= page:
                raise XanoResponseError(
                    f"GET {table} page {page} points to nextPage={next_page!r}; paging cannot go on"
                )
            page = next_page

    def get_record(self, record_id: int) -> dict[str, Any] | None:
        try:
            return self._record(self._request("GET", f"{self.settings.table}/{record_id}"))
        except XanoRequestError as exc:
            if exc.status == 404:
                return None
            raise

    def create_record(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self._record(self._request("POST", self.settings.table, body=fields))

    def update_record(self, record_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH (partial edit); raises XanoRequestError with status 404 when the record is gone."""
        return self._record(self._request("PATCH", f"{self.settings.table}/{record_id}", body=fields))

    def delete_record(self, record_id: int) -> bool:
        """True when deleted now, False when it was already gone (404 counts as done)."""
        try:
            self._request("DELETE", f"{self.settings.table}/{record_id}")
        except XanoRequestError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # ---- the mirror ------------------------------------------------------------------------------
    def plan_feed(self, feed_id: str, desired: DesiredRecords | Iterable[Mapping[str, Any]]) -> MirrorPlan:
        """List the table and diff it against the desired records (no writes)."""
        return plan_mirror(self.iter_records(), DesiredRecords.of(desired).versions(), feed_id)

    def verify_feed(self, feed_id: str, desired: DesiredRecords | Iterable[Mapping[str, Any]]) -> list[str]:
        """Lists the table afresh; [] when Xano holds exactly the desired records of the feed."""
        return verify_mirror(self.iter_records(), DesiredRecords.of(desired).versions(), feed_id)

    def sync_feed(
        self,
        feed_id: str,
        desired: DesiredRecords | Iterable[Mapping[str, Any]],
        *,
        max_delete_share: float = DEFAULT_MAX_DELETE_SHARE,
        min_mass_delete: int = DEFAULT_MIN_MASS_DELETE,
        ingest_complete: bool = True,
        allow_mass_delete: bool = False,
        raise_on_block: bool = True,
    ) -> MirrorOutcome:
        """Make Xano's records of `feed_id` equal `desired` (outputs of `core.mirror.to_xano_record`).

        `desired` is read once for the diff, then a batch of `write_batch` records at a time for the writes.

        Raises MirrorBlockedError after the other writes when the safety valve held back deletes
        (unless `raise_on_block=False`), XanoAuthError on 401/403 and XanoUnavailableError when
        retries run out; each carries the outcome so far as `.outcome`.
        """
        started = time.monotonic()
        before = self.stats()
        outcome = MirrorOutcome(feed_id=feed_id)
        desired = DesiredRecords.of(desired)
        try:
            plan = self.plan_feed(feed_id, desired)
            outcome.existing_records = plan.existing_count
            outcome.desired_records = plan.desired_count
            outcome.foreign_records = plan.foreign_count
            outcome.unchanged = plan.unchanged
            blocked = check_delete_safety(
                plan,
                max_delete_share=max_delete_share,
                min_mass_delete=min_mass_delete,
                ingest_complete=ingest_complete,
                allow_mass_delete=allow_mass_delete,
            )
            outcome.deletes_blocked = blocked
            if blocked:
                outcome.deletes_skipped = len(plan.deletes)
            self._apply(plan, desired, outcome, feed_id, apply_deletes=blocked is None)
            if self.stats()["uncertain_posts"] > before["uncertain_posts"]:
                self._remove_copies_of_uncertain_posts(feed_id, desired, outcome)
        except XanoError as exc:
            self._finish(outcome, before, started)
            exc.outcome = outcome  # type: ignore[attr-defined]
            raise
        self._finish(outcome, before, started)
        if outcome.deletes_blocked and raise_on_block:
            raise MirrorBlockedError(feed_id, outcome.deletes_blocked, outcome)
        return outcome

    def _finish(self, outcome: MirrorOutcome, before: dict[str, Any], started: float) -> None:
        with self._lock:
            now = self._counters.copy()
        for name in ("calls", "list_calls", "write_calls", "retries", "rate_limited"):
            setattr(outcome, name, now[name] - before[name])
        outcome.rate_limit_wait_s = max(now["rate_limit_wait_s"] - before["rate_limit_wait_s"], 0.0)
        outcome.backoff_wait_s = max(now["backoff_wait_s"] - before["backoff_wait_s"], 0.0)
        outcome.elapsed_s = time.monotonic() - started

    def _tally(self, outcome: MirrorOutcome, error: str | None = None, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(outcome, name, getattr(outcome, name) + amount)
            if error is not None:
                outcome.record_errors.append(error)

    @staticmethod
    def _describe(feed_id: str, job_key: object, exc: XanoRequestError) -> str:
        return f"feed {feed_id}, job_key {job_key}: {exc}"

    def _delete(self, record: Mapping[str, Any], outcome: MirrorOutcome, feed_id: str, *, duplicate: bool) -> None:
        try:
            gone_now = self.delete_record(record["id"])
        except XanoRequestError as exc:
            self._tally(outcome, self._describe(feed_id, record.get("job_key"), exc))
            return
        self._tally(outcome, deleted=1, already_gone=int(not gone_now), duplicates_removed=int(duplicate))

    def _add(self, record: Mapping[str, Any], outcome: MirrorOutcome, feed_id: str) -> None:
        try:
            self.create_record(record)
        except XanoRequestError as exc:
            self._tally(outcome, self._describe(feed_id, record.get("job_key"), exc))
            return
        self._tally(outcome, added=1)

    def _update(self, record_id: int, patch: Mapping[str, Any], outcome: MirrorOutcome, feed_id: str,
                re_adds: list[str]) -> None:
        try:
            self.update_record(record_id, patch)
        except XanoRequestError as exc:
            if exc.status == 404:
                # Deleted behind our back since the listing: add the full record instead.
                with self._lock:
                    re_adds.append(patch["job_key"])
                return
            self._tally(outcome, self._describe(feed_id, patch["job_key"], exc))
            return
        self._tally(outcome, updated=1)

    def _run_phase(self, tasks: list[Callable[[], None]]) -> None:
        """Run one phase's writes, in parallel when allowed; the first fatal error stops the phase."""
        workers = 1 if self.settings.requests_per_window else min(self.settings.max_concurrency, len(tasks))
        if workers <= 1:
            for task in tasks:
                task()
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xano-write") as pool:
            futures = [pool.submit(task) for task in tasks]
            try:
                for future in as_completed(futures):
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _apply(self, plan: MirrorPlan, desired: DesiredRecords, outcome: MirrorOutcome, feed_id: str, *,
               apply_deletes: bool) -> None:
        """Deletes (duplicate copies always, stale ones when allowed), then updates, then adds.

        The desired records are built a batch at a time, only for the jobs written.
        """
        deletes = [partial(self._delete, r, outcome, feed_id, duplicate=True) for r in plan.duplicates]
        if apply_deletes:
            deletes += [partial(self._delete, r, outcome, feed_id, duplicate=False) for r in plan.deletes]
        self._run_phase(deletes)
        re_adds: list[str] = []
        for batch in batched(plan.updates, self.settings.write_batch):
            records = desired.by_keys([stored["job_key"] for _, stored in batch])
            self._run_phase([partial(self._update, rid, changed_fields(stored, records[stored["job_key"]]), outcome,
                                     feed_id, re_adds)
                             for rid, stored in batch if stored["job_key"] in records])
        for batch in batched(self._still_missing(feed_id, [*plan.adds, *re_adds], outcome), self.settings.write_batch):
            self._run_phase([partial(self._add, record, outcome, feed_id)
                             for record in desired.by_keys(batch).values()])

    def _still_missing(self, feed_id: str, adds: list[str], outcome: MirrorOutcome) -> list[str]:
        """The job_keys to add that have no record of the feed yet, by a fresh listing (check before add)."""
        if not adds:
            return adds
        present = {r.get("job_key") for r in self.iter_records() if r.get("feed_id") == feed_id}
        missing = [key for key in adds if key not in present]
        self._tally(outcome, already_present=len(adds) - len(missing))
        return missing

    def _remove_copies_of_uncertain_posts(self, feed_id: str, desired: DesiredRecords,
                                          outcome: MirrorOutcome) -> None:
        """A retried POST may have been stored twice: list again and delete the extra copies."""
        plan = self.plan_feed(feed_id, desired)
        self._run_phase([partial(self._delete, r, outcome, feed_id, duplicate=True) for r in plan.duplicates])


# ---- the Dagster resources ------------------------------------------------------------------------
class XanoResource(dg.ConfigurableResource):
    """A Xano table over HTTP, and everything its client needs (the resource is the client's settings).

    definitions.py builds it from XANO_* (the token as an EnvVar, never shown); without XANO_BASE_URL a
    production configuration fails at load instead of mirroring somewhere local.
    """

    base_url: str = Field(description="API group base URL (XANO_BASE_URL), like https://x.xano.io/api:AbCd")
    table: str = Field(default="job", description="table path under the base (XANO_TABLE)")
    token: str | None = Field(default=None, description="Bearer token (XANO_TOKEN); None = no auth header")
    page_size: int = Field(default=500, ge=0, description="records per list page; 0 = ask for a bare array")
    requests_per_window: int = Field(
        default=0, ge=0, description="max requests per window (free plan: 10 per 20 s); 0 = unthrottled (paid plans)"
    )
    window_seconds: float = Field(default=FREE_PLAN_WINDOW_S, gt=0, description="rate window; also the 429 wait")
    timeout_s: float = Field(default=30.0, gt=0, description="read/write timeout per request")
    connect_timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, description="attempts per request on 5xx, timeouts, dropped "
                                                           "connections")
    max_rate_limit_retries: int = Field(default=20, ge=0, description="429 retries per request")
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    max_concurrency: int = Field(
        default=1, ge=1, description="parallel writes on an unthrottled (paid) plan; ignored when throttled"
    )
    write_batch: int = Field(
        default=500, ge=1, description="desired records built and written per batch (memory stays flat)"
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Xano needs XANO_BASE_URL (the API group's base URL, like https://x.xano.io/api:AbCd); "
                             "for a local run mirror into the sandbox instead (FEED_PIPELINE_XANO_SANDBOX=true)")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"Xano base_url must be an http(s) URL like https://x.xano.io/api:AbCd, got {value!r}")
        return value

    @field_validator("table")
    @classmethod
    def _plain_table(cls, value: str) -> str:
        if not value or "/" in value:
            raise ValueError(f"Xano table must be a plain name like 'job', got {value!r}")
        return value

    @contextmanager
    def open_client(self) -> Iterator[XanoClient]:
        """A client (one connection pool) for this block."""
        with XanoClient(self) as client:
            yield client


class XanoSandboxResource(XanoResource):
    """The embedded local sandbox (feed_pipeline/sandbox) behind the very same client: local runs only.

    definitions.py picks it when FEED_PIPELINE_XANO_SANDBOX=true, or when nothing is configured at all (no
    database URL, no XANO_BASE_URL: `make run`, `make dev` on a fresh clone).
    """

    base_url: str = Field(default="", description="unused: the sandbox serves on a free loopback port")
    db_path: str = Field(default="", description="SQLite file of the sandbox; empty = beside the configured state "
                                                 "(sandbox.default_sandbox_db)")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return value

    @contextmanager
    def open_client(self) -> Iterator[XanoClient]:
        """A client for a sandbox started for this block, with this resource's settings."""
        with running_sandbox(self.db_path or None, token=self.token, table=self.table) as base_url:
            settings = {name: getattr(self, name) for name in XanoResource.model_fields}
            with XanoClient(XanoResource(**{**settings, "base_url": base_url})) as client:
                yield client
