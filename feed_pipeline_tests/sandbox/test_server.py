"""The sandbox speaks Xano's wire format: routes, envelopes, error bodies, auth, rate limit, faults."""
from __future__ import annotations

import time

import httpx
import pytest

from feed_pipeline.sandbox import XanoSandbox, running_sandbox


@pytest.fixture
def sandbox(tmp_path):
    with XanoSandbox(tmp_path / "xano.sqlite") as sb:
        yield sb


@pytest.fixture
def http(sandbox):
    with httpx.Client(base_url=sandbox.base_url + "/", timeout=5) as client:
        yield client


def seed(http: httpx.Client, n: int) -> list[dict]:
    return [http.post("job", json={"job_key": f"k{i}", "feed_id": "f"}).json() for i in range(n)]


def assert_xano_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "message", "payload"}
    assert body["code"] == code and body["message"]
    return body


# ---- CRUD -----------------------------------------------------------------------------------------
def test_base_url_looks_like_a_xano_api_group(sandbox):
    assert sandbox.base_url.startswith("http://127.0.0.1:") and sandbox.base_url.endswith("/api:sandbox")


def test_post_returns_the_record_with_integer_id_and_epoch_ms_created_at(http):
    before = int(time.time() * 1000)
    response = http.post("job", json={"job_key": "k", "title": "T", "id": 999, "created_at": 1})
    assert response.status_code == 200
    record = response.json()
    assert record["id"] == 1 and record["title"] == "T"  # id and created_at are Xano's, not the caller's
    assert before <= record["created_at"] <= int(time.time() * 1000)


def test_ids_are_never_reused_after_a_delete(http):
    _, second = seed(http, 2)
    http.delete(f"job/{second['id']}")
    assert http.post("job", json={}).json()["id"] == 3


def test_get_one_patch_and_delete(http):
    (record,) = seed(http, 1)
    assert http.get(f"job/{record['id']}").json() == record
    patched = http.patch(f"job/{record['id']}", json={"title": "new"}).json()
    assert patched == {**record, "title": "new"}  # partial edit keeps the other fields
    deleted = http.delete(f"job/{record['id']}")
    assert deleted.status_code == 200 and deleted.json() is None
    assert_xano_error(http.get(f"job/{record['id']}"), 404, "ERROR_CODE_NOT_FOUND")


def test_unknown_record_and_unknown_route_answer_404(http):
    assert_xano_error(http.patch("job/77", json={"a": 1}), 404, "ERROR_CODE_NOT_FOUND")
    assert_xano_error(http.delete("job/77"), 404, "ERROR_CODE_NOT_FOUND")
    assert_xano_error(http.get("jobs"), 404, "ERROR_CODE_NOT_FOUND")


def test_non_integer_id_and_bad_json_answer_400(http):
    body = assert_xano_error(http.get("job/abc"), 400, "ERROR_CODE_INPUT_ERROR")
    assert body["payload"] == {"param": "job_id"}
    bad = http.post("job", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_xano_error(bad, 400, "ERROR_CODE_BAD_REQUEST")
    assert_xano_error(http.post("job", json=[1, 2]), 400, "ERROR_CODE_BAD_REQUEST")


def test_table_name_is_configurable(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", table="listing") as sb, httpx.Client(base_url=sb.base_url + "/") as c:
        assert c.post("listing", json={"a": 1}).status_code == 200
        assert c.get("job").status_code == 404


# ---- listing --------------------------------------------------------------------------------------
def test_list_is_a_bare_array_by_default(http):
    records = seed(http, 3)
    assert http.get("job").json() == records


def test_paging_inputs_give_the_envelope(http):
    records = seed(http, 5)
    first = http.get("job", params={"page": 1, "per_page": 2}).json()
    assert first == {
        "items": records[:2],
        "itemsReceived": 2,
        "curPage": 1,
        "nextPage": 2,
        "prevPage": None,
        "offset": 0,
        "perPage": 2,
    }
    last = http.get("job", params={"page": 3, "per_page": 2}).json()
    assert last["items"] == records[4:] and last["nextPage"] is None and last["prevPage"] == 2
    assert last["offset"] == 4


def test_page_past_the_end_is_empty(http):
    seed(http, 2)
    body = http.get("job", params={"page": 5, "per_page": 2}).json()
    assert body["items"] == [] and body["itemsReceived"] == 0 and body["nextPage"] is None


def test_bad_paging_input_is_an_input_error(http):
    assert_xano_error(http.get("job", params={"page": 0}), 400, "ERROR_CODE_INPUT_ERROR")
    assert_xano_error(http.get("job", params={"per_page": "x"}), 400, "ERROR_CODE_INPUT_ERROR")


def test_list_has_no_filter_inputs(http):
    http.post("job", json={"feed_id": "a"})
    http.post("job", json={"feed_id": "b"})
    assert len(http.get("job", params={"feed_id": "a"}).json()) == 2


def test_bare_mode_ignores_paging_and_paged_mode_always_pages(tmp_path):
    with XanoSandbox(tmp_path / "b.sqlite", list_mode="bare") as sb, httpx.Client(base_url=sb.base_url + "/") as c:
        c.post("job", json={})
        assert isinstance(c.get("job", params={"page": 1, "per_page": 1}).json(), list)
    with XanoSandbox(tmp_path / "p.sqlite", list_mode="paged", default_per_page=3) as sb, httpx.Client(
        base_url=sb.base_url + "/"
    ) as c:
        body = c.get("job").json()
        assert body["perPage"] == 3 and body["items"] == []


def test_unknown_list_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="list_mode"):
        XanoSandbox(tmp_path / "x.sqlite", list_mode="sometimes")


# ---- auth -----------------------------------------------------------------------------------------
def test_configured_token_is_required(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", token="s3cret") as sb:
        url = sb.base_url + "/job"
        assert_xano_error(httpx.get(url), 401, "ERROR_CODE_UNAUTHORIZED")
        assert_xano_error(httpx.get(url, headers={"Authorization": "Bearer wrong"}), 401, "ERROR_CODE_UNAUTHORIZED")
        assert httpx.get(url, headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_no_token_configured_means_open(http):
    assert http.get("job").status_code == 200


# ---- rate limit -----------------------------------------------------------------------------------
def test_rate_limit_answers_429_with_xanos_message_and_no_retry_after(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", rate_limit=10, window_s=20) as sb, httpx.Client(
        base_url=sb.base_url + "/"
    ) as c:
        assert all(c.get("job").status_code == 200 for _ in range(10))
        limited = c.get("job")
        body = assert_xano_error(limited, 429, "ERROR_CODE_TOO_MANY_REQUESTS")
        assert body["message"] == "Whoa there! Your plan only supports 10 requests per 20 seconds."
        assert "Retry-After" not in limited.headers


def test_rate_limit_window_slides(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", rate_limit=2, window_s=0.6) as sb, httpx.Client(
        base_url=sb.base_url + "/"
    ) as c:
        assert [c.get("job").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(0.65)
        assert c.get("job").status_code == 200


# ---- faults ---------------------------------------------------------------------------------------
def test_fail_next_answers_the_status_then_recovers(sandbox, http):
    sandbox.faults.fail_next(2, 503)
    assert [http.get("job").status_code for _ in range(3)] == [503, 503, 200]


def test_fail_next_can_target_methods_and_send_retry_after(sandbox, http):
    sandbox.faults.fail_next(1, 429, methods="POST", retry_after=2)
    assert http.get("job").status_code == 200
    limited = http.post("job", json={})
    assert_xano_error(limited, 429, "ERROR_CODE_TOO_MANY_REQUESTS")
    assert limited.headers["Retry-After"] == "2"
    assert sandbox.records() == []


def test_server_error_uses_error_fatal(sandbox, http):
    sandbox.faults.fail_next(1, 500)
    assert_xano_error(http.get("job"), 500, "ERROR_FATAL")


def test_dropped_connection_gets_no_answer_and_stores_nothing(sandbox, http):
    sandbox.faults.drop_next(1, methods="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("job", json={"job_key": "k"})
    assert sandbox.records() == []
    assert sandbox.requests[-1].status is None


def test_drop_after_write_stores_the_record_but_loses_the_answer(sandbox, http):
    sandbox.faults.drop_next(1, methods="POST", after_write=True)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("job", json={"job_key": "k"})
    assert [r["job_key"] for r in sandbox.records()] == ["k"]


def test_delay_makes_a_client_time_out(sandbox):
    sandbox.faults.delay_next(1, 0.5)
    with httpx.Client(base_url=sandbox.base_url + "/", timeout=0.1) as c, pytest.raises(httpx.ReadTimeout):
        c.get("job")


def test_rejected_job_key_gets_400_on_post_and_patch(sandbox, http):
    (record,) = seed(http, 1)
    sandbox.faults.reject_job_key("bad")
    body = assert_xano_error(http.post("job", json={"job_key": "bad"}), 400, "ERROR_CODE_INPUT_ERROR")
    assert body["payload"] == {"param": "job_key"}
    assert http.post("job", json={"job_key": "good"}).status_code == 200
    assert http.patch(f"job/{record['id']}", json={"job_key": "bad"}).status_code == 400


def test_crash_after_writes_drops_everything_until_cleared(sandbox, http):
    sandbox.faults.crash_after_writes(2)
    seed(http, 2)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("job")
    sandbox.faults.clear()
    assert len(http.get("job").json()) == 2


def test_request_log_counts_calls_by_method(sandbox, http):
    seed(http, 2)
    http.get("job")
    assert sandbox.calls() == 3 and sandbox.calls("POST") == 2 and sandbox.write_calls() == 2
    sandbox.reset_log()
    assert sandbox.calls() == 0


# ---- persistence and the context manager ------------------------------------------------------------
def test_records_survive_a_restart_on_the_same_file(tmp_path):
    db = tmp_path / "x.sqlite"
    with running_sandbox(db) as base_url:
        httpx.post(base_url + "/job", json={"job_key": "k"})
    with running_sandbox(db) as base_url:
        assert [r["job_key"] for r in httpx.get(base_url + "/job").json()] == ["k"]


def test_stopped_sandbox_refuses_connections(tmp_path):
    with running_sandbox(tmp_path / "x.sqlite") as base_url:
        pass
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/job", timeout=1)


def test_latency_option_delays_every_answer(tmp_path):
    with XanoSandbox(tmp_path / "x.sqlite", latency_s=0.1) as sb, httpx.Client(base_url=sb.base_url + "/") as c:
        started = time.monotonic()
        c.get("job")
        assert time.monotonic() - started >= 0.1
