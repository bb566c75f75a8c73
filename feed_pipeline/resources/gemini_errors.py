"""What a failed Gemini call means for us: wait and retry, stop for today, or give up on this request.

The SDK raises `google.genai.errors.APIError` (ClientError for 4xx, ServerError for 5xx) carrying the JSON body
Google sent; a 429's body names the quota it hit (QuotaFailure.violations[].quotaId) and may say how long to
wait (RetryInfo.retryDelay, e.g. "33s"). Transport problems (timeouts, refused connections) come from the
SDK's HTTP stack (httpx2, httpx or aiohttp) and are retried like a 503.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from google.genai import errors as genai_errors

from feed_pipeline.resources.http_resilience import parse_retry_after

TRANSIENT_STATUS_CODES = frozenset({408, 500, 502, 503, 504})


class GeminiCallError(Exception):
    """Base of the outcomes below; `str()` is the message kept in an EnrichmentFailure."""


class TransientCallError(GeminiCallError):
    """Worth retrying after a backoff (5xx, timeouts, per-minute 429s). `retry_after` is the server's advice in
    seconds (RetryInfo.retryDelay), which http_resilience.WaitServerOrBackoff honours."""

    def __init__(self, message: str, retry_after: float | None = None, rate_limited: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class RunStoppingError(GeminiCallError):
    """No further call can succeed in this run (daily quota spent, key rejected, model unknown)."""

    def __init__(self, message: str, quota_exhausted: bool = False):
        super().__init__(message)
        self.quota_exhausted = quota_exhausted


class RequestRejectedError(GeminiCallError):
    """This request cannot succeed as sent (other 4xx); retrying it unchanged is pointless."""


def error_details(body: Any) -> list[Mapping[str, Any]]:
    """The `error.details` list of a Google API error body (empty when absent or malformed)."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and isinstance(error.get("details"), list):
            return [d for d in error["details"] if isinstance(d, Mapping)]
    return []


def quota_ids(body: Any) -> list[str]:
    """Every QuotaFailure violation's quotaId in the body."""
    ids = []
    for detail in error_details(body):
        if str(detail.get("@type", "")).endswith("google.rpc.QuotaFailure"):
            for violation in detail.get("violations") or ():
                if isinstance(violation, Mapping) and violation.get("quotaId"):
                    ids.append(str(violation["quotaId"]))
    return ids


def retry_delay_seconds(body: Any) -> float | None:
    """RetryInfo.retryDelay ("33s", "0.5s") in seconds, or None when the server gave no advice. A Duration in
    JSON always ends in "s": a bare number is not one."""
    for detail in error_details(body):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            value = str(detail.get("retryDelay") or "").strip()
            delay = parse_retry_after(value) if value.endswith("s") else None
            if delay is not None:
                return delay
    return None


def error_reasons(body: Any) -> list[str]:
    """ErrorInfo reasons in the body (e.g. API_KEY_INVALID)."""
    return [str(d.get("reason")) for d in error_details(body)
            if str(d.get("@type", "")).endswith("google.rpc.ErrorInfo") and d.get("reason")]


def classify_api_error(exc: genai_errors.APIError, model: str) -> GeminiCallError:
    """Map an SDK APIError to what the caller should do about it."""
    code = int(exc.code or 0)
    body = exc.details
    summary = f"Gemini answered {code} {exc.status or ''}: {exc.message or ''}".strip()
    if code == 429:
        quotas = quota_ids(body)
        daily = [q for q in quotas if "perday" in q.lower()]
        if daily:
            return RunStoppingError(
                f"quota exhausted: Gemini's daily quota {daily[0]} is spent; the remaining jobs stay failed and are "
                "retried on the next run (or raise the quota)", quota_exhausted=True)
        return TransientCallError(f"{summary} (quota {', '.join(quotas) or 'unnamed'})",
                                  retry_after=retry_delay_seconds(body), rate_limited=True)
    if code in TRANSIENT_STATUS_CODES:
        return TransientCallError(summary, retry_after=retry_delay_seconds(body))
    if code in (401, 403) or "API_KEY_INVALID" in error_reasons(body):
        return RunStoppingError(f"{summary}: check GEMINI_API_KEY")
    if code == 404:
        return RunStoppingError(f"{summary}: check GEMINI_MODEL ({model!r}) and GEMINI_BASE_URL")
    return RequestRejectedError(summary)


def is_transport_error(exc: BaseException) -> bool:
    """Timeouts and connection failures of whichever HTTP stack the SDK uses."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError | ConnectionError):
        return True
    module = type(exc).__module__.split(".", 1)[0]
    names = {c.__name__ for c in type(exc).__mro__}
    if module in ("httpx", "httpx2", "httpcore"):
        return bool(names & {"TransportError", "TimeoutException", "RemoteProtocolError"})
    if module == "aiohttp":
        return bool(names & {"ClientConnectionError", "ServerTimeoutError", "ClientPayloadError"})
    return False
