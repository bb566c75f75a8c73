"""What a failed Gemini call means: the bodies are the ones Google sends (built by the fake Gemini server), wrapped
in the SDK's own ClientError / ServerError as the client raises them."""
from __future__ import annotations

import httpx
import pytest
from google.genai import errors as genai_errors

from feed_pipeline.resources.gemini_errors import (
    RequestRejectedError,
    RunStoppingError,
    TransientCallError,
    classify_api_error,
    error_details,
    error_reasons,
    is_transport_error,
    quota_ids,
    retry_delay_seconds,
)
from feed_pipeline_tests.fakes.gemini_server import PER_DAY_QUOTA, PER_MINUTE_QUOTA, _error, _quota_error

MODEL = "gemini-test"
KEY_INVALID = _error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [{
    "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}])


def _api_error(code: int, body: dict) -> genai_errors.APIError:
    return (genai_errors.ClientError if code < 500 else genai_errors.ServerError)(code, body)


def test_the_body_readers_find_quota_ids_retry_delays_and_reasons():
    body = _quota_error(PER_MINUTE_QUOTA, "33s")
    assert [d["@type"].rsplit(".", 1)[1] for d in error_details(body)] == ["QuotaFailure", "RetryInfo"]
    assert quota_ids(body) == [PER_MINUTE_QUOTA]
    assert retry_delay_seconds(body) == 33.0
    assert retry_delay_seconds(_quota_error(PER_MINUTE_QUOTA, "0.5s")) == 0.5
    assert error_reasons(KEY_INVALID) == ["API_KEY_INVALID"]


@pytest.mark.parametrize("body", [None, "oops", [], {"error": "flat"}, {"error": {"details": "no list"}},
                                  {"error": {"details": [1, "x"]}}])
def test_malformed_bodies_read_as_no_details(body):
    assert (error_details(body), quota_ids(body), retry_delay_seconds(body), error_reasons(body)) == ([], [], None, [])


@pytest.mark.parametrize("delay", [None, "soon", "33", "-1s", "1m"])
def test_a_retry_delay_that_is_not_seconds_is_no_advice(delay):
    assert retry_delay_seconds(_quota_error(PER_MINUTE_QUOTA, delay)) is None


def test_a_per_minute_429_is_transient_with_the_servers_delay():
    outcome = classify_api_error(_api_error(429, _quota_error(PER_MINUTE_QUOTA, "7s")), MODEL)
    assert type(outcome) is TransientCallError
    assert (outcome.retry_after, outcome.rate_limited) == (7.0, True)
    assert str(outcome) == ("Gemini answered 429 RESOURCE_EXHAUSTED: You exceeded your current quota, please check "
                            f"your plan and billing details. (quota {PER_MINUTE_QUOTA})")


def test_a_per_day_429_stops_the_run_and_says_the_quota_is_spent():
    outcome = classify_api_error(_api_error(429, _quota_error(PER_DAY_QUOTA, "30s")), MODEL)
    assert type(outcome) is RunStoppingError and outcome.quota_exhausted is True
    assert str(outcome) == (f"quota exhausted: Gemini's daily quota {PER_DAY_QUOTA} is spent; the remaining jobs stay "
                            "failed and are retried on the next run (or raise the quota)")


def test_an_unnamed_429_is_transient_without_advice():
    outcome = classify_api_error(_api_error(429, _error(429, "RESOURCE_EXHAUSTED", "slow down")), MODEL)
    assert type(outcome) is TransientCallError
    assert (outcome.retry_after, outcome.rate_limited, str(outcome)) == (
        None, True, "Gemini answered 429 RESOURCE_EXHAUSTED: slow down (quota unnamed)")


@pytest.mark.parametrize("code", [408, 500, 502, 503, 504])
def test_server_errors_and_timeouts_are_transient(code):
    outcome = classify_api_error(_api_error(code, _error(code, "UNAVAILABLE", "overloaded")), MODEL)
    assert type(outcome) is TransientCallError
    assert (outcome.retry_after, outcome.rate_limited, str(outcome)) == (
        None, False, f"Gemini answered {code} UNAVAILABLE: overloaded")


@pytest.mark.parametrize(("code", "body", "hint"), [
    (400, KEY_INVALID, "check GEMINI_API_KEY"),
    (401, _error(401, "UNAUTHENTICATED", "no key"), "check GEMINI_API_KEY"),
    (403, _error(403, "PERMISSION_DENIED", "denied"), "check GEMINI_API_KEY"),
    (404, _error(404, "NOT_FOUND", "models/x is not found"), f"check GEMINI_MODEL ({MODEL!r}) and GEMINI_BASE_URL"),
])
def test_a_bad_key_or_model_stops_the_run_and_names_the_setting(code, body, hint):
    outcome = classify_api_error(_api_error(code, body), MODEL)
    assert type(outcome) is RunStoppingError and outcome.quota_exhausted is False
    assert str(outcome).endswith(f": {hint}")


def test_another_4xx_rejects_only_this_request():
    outcome = classify_api_error(_api_error(400, _error(400, "INVALID_ARGUMENT", "prompt too long")), MODEL)
    assert type(outcome) is RequestRejectedError
    assert str(outcome) == "Gemini answered 400 INVALID_ARGUMENT: prompt too long"


@pytest.mark.parametrize(("exc", "transport"), [
    (TimeoutError(), True), (ConnectionRefusedError(), True),
    (httpx.ConnectTimeout("slow"), True), (httpx.RemoteProtocolError("cut"), True), (httpx.ReadError("reset"), True),
    (httpx.HTTPStatusError("500", request=httpx.Request("GET", "http://x"), response=httpx.Response(500)), False),
    (ValueError("bad json"), False), (KeyError("candidates"), False),
])
def test_transport_errors_are_told_from_other_failures(exc, transport):
    assert is_transport_error(exc) is transport
