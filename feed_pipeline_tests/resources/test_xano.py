"""XanoResource and XanoClient against the sandbox over real HTTP: exactness, scope, safety, faults."""
from __future__ import annotations

import dagster as dg
import pytest

from feed_pipeline.core.mirror import DesiredRecords, to_xano_record
from feed_pipeline.definitions import xano_resource
from feed_pipeline.resources.xano import (
    MirrorBlockedError,
    XanoAuthError,
    XanoRequestError,
    XanoResource,
    XanoSandboxResource,
    XanoUnavailableError,
    plan_limiter,
)
from feed_pipeline.sandbox import XanoSandbox
from feed_pipeline.settings import Settings

TOKEN = "test-token"
FAST_RETRIES = {"backoff_initial_s": 0.001, "backoff_max_s": 0.01, "timeout_s": 2.0, "window_seconds": 0.2}


def job(n: int, feed_id: str = "feed-a", version: int = 0) -> dict:
    return to_xano_record(
        {
            "feed_id": feed_id,
            "job_key": f"{feed_id}-key-{n}",
            "content_hash": f"hash-{n}",
            "title": f"Engineer {n}",
            "company": "Acme",
            "locations": ["Berlin"],
            "industry": f"industry-v{version}",
            "skills": ["python"],
            "tech_stack": [],
        }
    )


def jobs(count: int, feed_id: str = "feed-a", *, start: int = 0, version: int = 0) -> list[dict]:
    return [job(n, feed_id, version) for n in range(start, start + count)]


@pytest.fixture
def sandbox(tmp_path):
    with XanoSandbox(tmp_path / "xano.sqlite", token=TOKEN) as sb:
        yield sb


def resource_for(sandbox: XanoSandbox, **overrides) -> XanoResource:
    return XanoResource(base_url=sandbox.base_url, token=TOKEN, **{**FAST_RETRIES, **overrides})


@pytest.fixture
def client(sandbox):
    with resource_for(sandbox, page_size=4).open_client() as c:
        yield c


def feed_records(sandbox: XanoSandbox, feed_id: str = "feed-a") -> list[dict]:
    return [r for r in sandbox.records() if r.get("feed_id") == feed_id]


# ---- exactness and cost ---------------------------------------------------------------------------
def test_first_sync_adds_every_job_and_verifies_exact(sandbox, client):
    desired = jobs(10)
    outcome = client.sync_feed("feed-a", desired)
    assert (outcome.added, outcome.updated, outcome.deleted, outcome.unchanged) == (10, 0, 0, 0)
    # one list to plan, one just before the adds (check before add), then one POST per job
    assert outcome.calls == 12 and outcome.list_calls == 2 and outcome.write_calls == 10
    assert client.verify_feed("feed-a", desired) == []


def test_rerun_with_nothing_changed_makes_no_write_calls(sandbox, client):
    client.sync_feed("feed-a", jobs(10))
    sandbox.reset_log()
    outcome = client.sync_feed("feed-a", jobs(10))
    assert sandbox.write_calls() == 0
    assert outcome.unchanged == 10 and outcome.write_calls == 0
    assert outcome.calls == outcome.list_calls == 3  # 10 records at 4 per page


def test_k_changes_cost_exactly_k_writes_plus_the_list_pages(sandbox, client):
    client.sync_feed("feed-a", jobs(10))
    desired = jobs(10)
    desired[2] = job(2, version=1)  # changed
    desired[5] = job(5, version=1)  # changed
    desired = [r for r in desired if r["job_key"] != "feed-a-key-9"]  # closed
    desired.append(job(10))  # new
    sandbox.reset_log()
    outcome = client.sync_feed("feed-a", desired, max_delete_share=0.5)
    assert (outcome.added, outcome.updated, outcome.deleted, outcome.unchanged) == (1, 2, 1, 7)
    assert sandbox.calls("POST") == 1 and sandbox.calls("PATCH") == 2 and sandbox.calls("DELETE") == 1
    assert sandbox.calls("GET") == 6  # 3 pages to plan, 3 again before the one add
    assert client.verify_feed("feed-a", desired) == []


def test_whole_records_are_built_only_for_the_writes_and_a_batch_at_a_time(sandbox):
    """The diff streams versions once; whole records are asked for only by the keys written, in batches."""
    asked: list[list[str] | None] = []

    def load(keys):
        asked.append(None if keys is None else list(keys))
        return [r for r in current if keys is None or r["job_key"] in keys]

    current = jobs(7)
    with resource_for(sandbox, page_size=4, write_batch=3).open_client() as client:
        client.sync_feed("feed-a", DesiredRecords(load))
        assert asked[0] is None and [len(keys) for keys in asked[1:]] == [3, 3, 1]
        current = [*jobs(5), job(5, version=1), job(6)]  # one job changed
        asked.clear()
        outcome = client.sync_feed("feed-a", DesiredRecords(load))
        assert asked == [None, ["feed-a-key-5"]]
        assert (outcome.updated, outcome.unchanged) == (1, 6)
        assert client.verify_feed("feed-a", current) == []


def test_given_versions_the_diff_builds_no_record_it_does_not_write(sandbox):
    asked: list[list[str] | None] = []
    current = jobs(4)

    def load(keys):
        asked.append(None if keys is None else list(keys))
        return [r for r in current if keys is None or r["job_key"] in keys]

    def versions():
        return [{name: r[name] for name in ("job_key", "feed_id", "content_hash", "record_hash")} for r in current]

    with resource_for(sandbox, page_size=4).open_client() as client:
        client.sync_feed("feed-a", DesiredRecords(load, versions))
        current = [*jobs(3), job(3, version=1)]
        asked.clear()
        outcome = client.sync_feed("feed-a", DesiredRecords(load, versions))
        assert client.verify_feed("feed-a", DesiredRecords(load, versions)) == []
    assert asked == [["feed-a-key-3"]], "only the changed job's record is built"
    assert (outcome.updated, outcome.unchanged) == (1, 3)


def test_patch_sends_only_the_changed_fields(sandbox, client):
    client.sync_feed("feed-a", jobs(1))
    before = sandbox.records()[0]
    client.sync_feed("feed-a", [job(0, version=1)])
    after = sandbox.records()[0]
    assert after["id"] == before["id"] and after["created_at"] == before["created_at"]
    assert after["industry"] == "industry-v1"


# ---- scope: other feeds, foreign records, duplicates ----------------------------------------------
def test_two_feeds_share_one_table_without_touching_each_other(sandbox, client):
    client.sync_feed("feed-a", jobs(5, "feed-a"))
    client.sync_feed("feed-b", jobs(5, "feed-b"))
    a_before = feed_records(sandbox, "feed-a")
    client.sync_feed("feed-b", jobs(3, "feed-b", version=1), allow_mass_delete=True)
    client.sync_feed("feed-b", [], allow_mass_delete=True)
    assert feed_records(sandbox, "feed-a") == a_before
    assert feed_records(sandbox, "feed-b") == []


def test_records_without_our_job_key_are_left_alone(sandbox, client):
    with resource_for(sandbox).open_client() as other:
        manual = other.create_record({"feed_id": "feed-a", "title": "typed in by hand"})
        unkeyed = other.create_record({"title": "another integration"})
    outcome = client.sync_feed("feed-a", [], allow_mass_delete=True)
    assert outcome.foreign_records == 2 and outcome.deleted == 0
    assert {r["id"] for r in sandbox.records()} == {manual["id"], unkeyed["id"]}


def test_extra_copies_of_a_job_key_are_removed(sandbox, client):
    client.sync_feed("feed-a", jobs(3))
    client.create_record(job(1))
    client.create_record(job(1))
    outcome = client.sync_feed("feed-a", jobs(3))
    assert outcome.duplicates_removed == 2 and outcome.deleted == 2 and outcome.unchanged == 3
    assert client.verify_feed("feed-a", jobs(3)) == []


# ---- list modes ------------------------------------------------------------------------------------
def test_bare_array_endpoint_is_read_in_one_call(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", list_mode="bare") as sb:
        with XanoResource(base_url=sb.base_url, page_size=3).open_client() as c:
            c.sync_feed("feed-a", jobs(8))
            sb.reset_log()
            assert len(c.list_records()) == 8
        assert sb.calls("GET") == 1


def test_paged_endpoint_is_followed_to_the_last_page(sandbox, client):
    client.sync_feed("feed-a", jobs(9))
    sandbox.reset_log()
    records = client.list_records()
    assert [r["id"] for r in records] == list(range(1, 10))
    assert [r.query for r in sandbox.requests] == [f"page={p}&per_page=4" for p in (1, 2, 3)]


def test_endpoint_that_pages_on_its_own_is_followed_without_page_size(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", list_mode="paged", default_per_page=3) as sb:
        with XanoResource(base_url=sb.base_url, page_size=0).open_client() as c:
            c.sync_feed("feed-a", jobs(7))
            assert len(c.list_records()) == 7


# ---- safety valve ----------------------------------------------------------------------------------
def test_mass_delete_is_blocked_but_adds_and_updates_still_run(sandbox, client):
    client.sync_feed("feed-a", jobs(10))
    desired = [job(0, version=1), *jobs(2, start=1), job(20)]  # 7 of 10 would go
    with pytest.raises(MirrorBlockedError, match=r"deleting 7 of 10 record\(s\) \(70%\)") as caught:
        client.sync_feed("feed-a", desired)
    outcome = caught.value.outcome
    assert (outcome.added, outcome.updated, outcome.deleted, outcome.deletes_skipped) == (1, 1, 0, 7)
    assert len(feed_records(sandbox)) == 11


def test_a_first_sync_over_two_stale_records_while_the_feed_adds_300_passes(sandbox, client):
    client.sync_feed("feed-a", jobs(2, start=900))  # an old copy: both records are stale now
    desired = jobs(300)
    outcome = client.sync_feed("feed-a", desired)
    assert (outcome.added, outcome.deleted, outcome.deletes_blocked) == (300, 2, None)
    assert client.verify_feed("feed-a", desired) == []


def test_the_floor_passes_through_the_client(sandbox, client):
    client.sync_feed("feed-a", jobs(12))
    desired = [*jobs(4), *jobs(8, start=100)]  # 8 of 12 replaced: a correction under the default floor
    assert client.sync_feed("feed-a", desired).deleted == 8
    with pytest.raises(MirrorBlockedError, match="3-record floor"):
        client.sync_feed("feed-a", [*jobs(4), *jobs(8, start=200)], min_mass_delete=3)


def test_allow_mass_delete_lets_the_deletes_through(sandbox, client):
    client.sync_feed("feed-a", jobs(10))
    outcome = client.sync_feed("feed-a", jobs(2), allow_mass_delete=True)
    assert outcome.deleted == 8 and outcome.deletes_blocked is None
    assert client.verify_feed("feed-a", jobs(2)) == []


def test_incomplete_ingest_blocks_even_one_delete(sandbox, client):
    client.sync_feed("feed-a", jobs(10))
    with pytest.raises(MirrorBlockedError, match="incomplete"):
        client.sync_feed("feed-a", jobs(9), ingest_complete=False)
    assert len(feed_records(sandbox)) == 10


def test_blocked_outcome_can_be_returned_instead_of_raised(sandbox, client):
    client.sync_feed("feed-a", jobs(4))
    outcome = client.sync_feed("feed-a", [], raise_on_block=False)
    assert outcome.deletes_blocked and outcome.deletes_skipped == 4 and outcome.deleted == 0


# ---- rate limits -----------------------------------------------------------------------------------
def test_429_without_retry_after_waits_the_plans_window_and_retries(sandbox, client):
    sandbox.faults.fail_next(1, 429, methods="POST")  # Xano's 429: no Retry-After header
    outcome = client.sync_feed("feed-a", jobs(2))
    assert outcome.added == 2 and outcome.rate_limited == 1 and outcome.retries == 1
    assert outcome.rate_limit_wait_s == pytest.approx(0.2)  # window_seconds in these tests


def test_429_with_retry_after_waits_what_the_server_says(sandbox):
    sandbox.faults.fail_next(1, 429, retry_after=0)
    with resource_for(sandbox, window_seconds=30).open_client() as c:
        outcome = c.sync_feed("feed-a", jobs(1))
    assert outcome.rate_limited == 1 and outcome.rate_limit_wait_s == 0
    assert outcome.added == 1


def test_throttle_keeps_within_the_free_plan_so_no_429_happens(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", rate_limit=3, window_s=0.3) as sb:
        resource = XanoResource(base_url=sb.base_url, requests_per_window=3, window_seconds=0.3, **{
            k: v for k, v in FAST_RETRIES.items() if k != "window_seconds"})
        with resource.open_client() as c:
            outcome = c.sync_feed("feed-a", jobs(6))
        assert outcome.added == 6 and outcome.rate_limited == 0
        assert outcome.rate_limit_wait_s > 0  # 7 calls at 3 per 0.3 s: the throttle waited, the server never said 429
        assert all(r.status != 429 for r in sb.requests)


def test_unthrottled_client_on_a_limited_plan_still_converges_through_429s(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", rate_limit=3, window_s=0.4) as sb:
        with XanoResource(base_url=sb.base_url, **FAST_RETRIES).open_client() as c:
            outcome = c.sync_feed("feed-a", jobs(6))
            assert outcome.added == 6 and outcome.rate_limited >= 1
            assert c.verify_feed("feed-a", jobs(6)) == []


def test_rate_limit_retries_have_their_own_budget(sandbox):
    sandbox.faults.fail_next(5, 429)
    with resource_for(sandbox, window_seconds=0.01, max_rate_limit_retries=3).open_client() as c:
        with pytest.raises(XanoUnavailableError, match=r"0 failure\(s\) and 4 rate limit"):
            c.list_records()
    assert sandbox.calls() == 4  # the first answer and 3 retries


# ---- transient faults ------------------------------------------------------------------------------
def test_5xx_is_retried_with_backoff(sandbox, client):
    sandbox.faults.fail_next(2, 503, methods="POST")
    outcome = client.sync_feed("feed-a", jobs(3))
    assert outcome.added == 3 and outcome.retries == 2 and outcome.backoff_wait_s > 0
    assert client.verify_feed("feed-a", jobs(3)) == []


def test_retries_that_run_out_raise_unavailable_with_the_outcome_so_far(sandbox, client):
    sandbox.faults.fail_next(100, 500, methods="PATCH")
    client.sync_feed("feed-a", jobs(2))
    with pytest.raises(XanoUnavailableError, match=r"PATCH .*/job/\d+ after 6 failure") as caught:
        client.sync_feed("feed-a", jobs(2, version=1))
    assert caught.value.outcome.retries == 5
    assert sandbox.calls("PATCH") == 6


def test_timeout_is_retried(sandbox):
    sandbox.faults.delay_next(1, 0.6, methods="GET")
    with resource_for(sandbox, timeout_s=0.2).open_client() as c:
        outcome = c.sync_feed("feed-a", jobs(2))
    assert outcome.retries == 1 and outcome.added == 2


def test_dropped_connection_is_retried(sandbox, client):
    sandbox.faults.drop_next(1, methods="PATCH")
    client.sync_feed("feed-a", jobs(2))
    outcome = client.sync_feed("feed-a", jobs(2, version=1))
    assert outcome.updated == 2 and outcome.retries == 1


def test_lost_answer_to_a_post_leaves_no_duplicate_after_the_same_run(sandbox, client):
    sandbox.faults.drop_next(1, methods="POST", after_write=True)
    outcome = client.sync_feed("feed-a", jobs(3))
    assert outcome.duplicates_removed == 1
    assert client.verify_feed("feed-a", jobs(3)) == []


# ---- non-retryable answers -------------------------------------------------------------------------
def test_wrong_token_stops_at_once_with_a_clear_message(sandbox):
    with XanoResource(base_url=sandbox.base_url, token="wrong", **FAST_RETRIES).open_client() as c:
        with pytest.raises(XanoAuthError, match=r"401 ERROR_CODE_UNAUTHORIZED.*XANO_TOKEN"):
            c.sync_feed("feed-a", jobs(2))
    assert sandbox.calls() == 1


def test_403_stops_at_once(sandbox, client):
    sandbox.faults.fail_next(1, 403, methods="POST")
    with pytest.raises(XanoAuthError, match="403 ERROR_CODE_ACCESS_DENIED") as caught:
        client.sync_feed("feed-a", jobs(2))
    assert caught.value.outcome.added == 0
    assert sandbox.calls("POST") == 1


def test_404_on_delete_counts_as_done(sandbox, client):
    client.sync_feed("feed-a", jobs(4))
    sandbox.faults.before_next(1, lambda: sandbox.store.delete("job", 4), methods="DELETE")
    outcome = client.sync_feed("feed-a", jobs(2))  # deletes ids 3 and 4; 4 vanished meanwhile
    assert outcome.deleted == 2 and outcome.already_gone == 1 and outcome.record_errors == []
    assert client.delete_record(4) is False


def test_404_on_patch_re_adds_the_record(sandbox, client):
    client.sync_feed("feed-a", jobs(2))
    sandbox.faults.before_next(1, lambda: sandbox.store.delete("job", 1), methods="PATCH")
    outcome = client.sync_feed("feed-a", jobs(2, version=1))
    assert outcome.updated == 1 and outcome.added == 1 and outcome.record_errors == []
    assert client.verify_feed("feed-a", jobs(2, version=1)) == []


def test_400_on_one_record_is_reported_and_the_others_go_on(sandbox, client):
    sandbox.faults.reject_job_key("feed-a-key-1")
    outcome = client.sync_feed("feed-a", jobs(3))
    assert outcome.added == 2
    (error,) = outcome.record_errors
    assert "feed feed-a, job_key feed-a-key-1" in error and "400 ERROR_CODE_INPUT_ERROR" in error
    assert client.verify_feed("feed-a", jobs(3)) == ["missing in Xano: job_key feed-a-key-1"]


def test_wrong_base_url_fails_with_the_url_in_the_message(sandbox):
    with XanoResource(base_url=sandbox.base_url + "/nope", token=TOKEN).open_client() as c:
        with pytest.raises(XanoRequestError, match=r"GET .*/nope/job.* 404 ERROR_CODE_NOT_FOUND"):
            c.list_records()


# ---- convergence after a killed run ----------------------------------------------------------------
@pytest.mark.parametrize("writes_before_kill", [1, 4, 7])
def test_run_killed_mid_sync_then_rerun_ends_with_the_exact_copy(sandbox, client, writes_before_kill):
    client.sync_feed("feed-a", jobs(6))
    desired = [*jobs(3, version=1), *jobs(4, start=10)]  # 3 updates, 3 deletes, 4 adds
    sandbox.faults.crash_after_writes(writes_before_kill)
    with pytest.raises(XanoUnavailableError):
        client.sync_feed("feed-a", desired)
    sandbox.faults.clear()
    client.sync_feed("feed-a", desired)
    assert client.verify_feed("feed-a", desired) == []
    sandbox.reset_log()
    assert client.sync_feed("feed-a", desired).write_calls == 0
    assert sandbox.write_calls() == 0


def test_kill_that_loses_the_answer_of_the_last_write_still_converges(sandbox, client):
    sandbox.faults.drop_next(1, methods="POST", after_write=True)
    sandbox.faults.crash_after_writes(2)
    with pytest.raises(XanoUnavailableError):
        client.sync_feed("feed-a", jobs(5))
    sandbox.faults.clear()
    client.sync_feed("feed-a", jobs(5))
    assert client.verify_feed("feed-a", jobs(5)) == []


# ---- the resource ----------------------------------------------------------------------------------
def test_the_sandbox_resource_mirrors_into_its_own_file(tmp_path):
    db = tmp_path / "embedded.sqlite"
    with XanoSandboxResource(db_path=str(db)).open_client() as c:
        assert c.settings.base_url.startswith("http://127.0.0.1:")
        c.sync_feed("feed-a", jobs(3))
    with XanoSandbox(db) as sb:  # what `feed-pipeline xano-sandbox` would serve
        assert len(sb.records()) == 3
    with XanoSandboxResource(db_path=str(db)).open_client() as c:
        assert c.sync_feed("feed-a", jobs(3)).write_calls == 0


def test_resource_works_inside_a_dagster_asset(sandbox):
    @dg.asset
    def mirrored(xano: XanoResource) -> dg.MaterializeResult:
        with xano.open_client() as c:
            outcome = c.sync_feed("feed-a", jobs(2))
        return dg.MaterializeResult(metadata=outcome.to_metadata())

    result = dg.materialize([mirrored], resources={"xano": resource_for(sandbox)})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["added"].value == 2


def test_the_environment_configures_url_table_and_token(monkeypatch, sandbox):
    monkeypatch.setenv("XANO_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("XANO_TABLE", "job")
    monkeypatch.setenv("XANO_TOKEN", TOKEN)
    resource = xano_resource(Settings.from_env())
    assert type(resource) is XanoResource and resource.base_url == sandbox.base_url
    assert TOKEN not in repr(resource)  # an EnvVar: resolved inside the run, never shown

    @dg.asset
    def listed(xano: XanoResource) -> None:
        with xano.open_client() as c:
            assert c.list_records() == []

    assert dg.materialize([listed], resources={"xano": resource}).success


def test_nothing_configured_is_a_local_run_and_uses_the_sandbox():
    resource = xano_resource(Settings.from_env({}))
    assert type(resource) is XanoSandboxResource
    assert (resource.token, resource.table, resource.db_path) == (None, "job", "")


@pytest.mark.parametrize("env", [
    {"FEED_PIPELINE_DATABASE_URL": "postgresql://db/feeds"},
    {"FEED_PIPELINE_DATABASE_URL": "postgresql://db/feeds", "FEED_PIPELINE_XANO_SANDBOX": "false"},
    {"FEED_PIPELINE_XANO_SANDBOX": "false"},
])
def test_a_production_configuration_without_a_base_url_fails_naming_the_variable(env):
    with pytest.raises(dg.DagsterInvalidDefinitionError,
                       match=r"XANO_BASE_URL is not set: .*or set FEED_PIPELINE_XANO_SANDBOX=true"):
        xano_resource(Settings.from_env(env))


def test_the_sandbox_is_used_with_a_database_only_when_asked_for():
    asked = xano_resource(Settings.from_env({"FEED_PIPELINE_DATABASE_URL": "postgresql://db/feeds",
                                             "FEED_PIPELINE_XANO_SANDBOX": "true", "XANO_TABLE": "jobs"}))
    assert type(asked) is XanoSandboxResource and asked.table == "jobs"
    configured = xano_resource(Settings.from_env({"XANO_BASE_URL": "https://x.xano.io/api:abc"}))
    assert type(configured) is XanoResource and configured.base_url == "https://x.xano.io/api:abc"


def test_the_production_resource_refuses_an_empty_base_url():
    with pytest.raises(ValueError, match=r"Xano needs XANO_BASE_URL"):
        XanoResource(base_url="  ")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"base_url": "x.xano.io/api:abc"}, "must be an http"),
        ({"table": "job/1"}, "plain name"),
        ({"page_size": -1}, "page_size\n  Input should be greater than or equal to 0"),
        ({"window_seconds": 0}, "window_seconds\n  Input should be greater than 0"),
    ],
)
def test_bad_settings_are_refused_with_what_to_fix(overrides, message):
    with pytest.raises(ValueError, match=message):
        XanoResource(**{"base_url": "https://x.xano.io/api:abc", **overrides})


def test_stats_total_the_clients_calls(sandbox, client):
    sandbox.faults.fail_next(1, 502)
    client.sync_feed("feed-a", jobs(2))
    stats = client.stats()
    assert stats["calls"] == 5 and stats["retries"] == 1 and stats["write_calls"] == 2


def test_throttle_waits_only_when_the_window_is_full():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    settings = XanoResource(base_url="https://x.xano.io/api:test", requests_per_window=2, window_seconds=10.0)
    limiter = plan_limiter(settings, sleep=sleep, clock=lambda: now[0])
    for _ in range(2):
        reservation = limiter.acquire(1)
        assert reservation.waited_s == 0
        now[0] += 1
        reservation.finished()
    assert limiter.acquire(1).waited_s == pytest.approx(9.0)  # first finished at t=1, window 10 -> t=11
    assert slept == [pytest.approx(9.0)]


# ---- parallel writes (paid plans) --------------------------------------------------------------------
def test_parallel_writes_give_the_same_exact_copy_and_call_count(sandbox):
    with resource_for(sandbox, max_concurrency=4).open_client() as c:
        first = c.sync_feed("feed-a", jobs(20))
        desired = [*jobs(5, version=1), *jobs(10, start=5), *jobs(3, start=30)]
        second = c.sync_feed("feed-a", desired)
        assert (first.added, first.write_calls) == (20, 20)
        assert (second.updated, second.added, second.deleted, second.write_calls) == (5, 3, 5, 13)
        assert c.verify_feed("feed-a", desired) == []


def test_parallel_writes_stop_on_a_fatal_error(sandbox):
    sandbox.faults.fail_next(1, 403, methods="POST")
    with resource_for(sandbox, max_concurrency=4).open_client() as c, pytest.raises(XanoAuthError) as caught:
        c.sync_feed("feed-a", jobs(40))
    outcome = caught.value.outcome
    stored = [r for r in sandbox.records() if r.get("feed_id") == "feed-a"]
    # Which writes were already in flight when the 403 landed is a race, so the count itself varies; what it
    # must equal does not: every POST sent was the refused one or an add that is counted and stored.
    assert (outcome.added, sandbox.calls("POST")) == (len(stored), len(stored) + 1)
    assert outcome.added < 40, "the phase stopped: the writes still queued were never sent"


def test_parallel_run_killed_mid_sync_then_rerun_converges(sandbox):
    sandbox.faults.crash_after_writes(7)
    with resource_for(sandbox, max_concurrency=4).open_client() as c:
        with pytest.raises(XanoUnavailableError):
            c.sync_feed("feed-a", jobs(30))
        sandbox.faults.clear()
        c.sync_feed("feed-a", jobs(30))
        assert c.verify_feed("feed-a", jobs(30)) == []


def test_throttled_plan_writes_one_at_a_time_even_with_concurrency(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", rate_limit=3, window_s=0.2) as sb:
        resource = XanoResource(base_url=sb.base_url, requests_per_window=3, window_seconds=0.2,
                                max_concurrency=8, backoff_initial_s=0.001)
        with resource.open_client() as c:
            outcome = c.sync_feed("feed-a", jobs(6))
        assert outcome.added == 6 and outcome.rate_limited == 0
