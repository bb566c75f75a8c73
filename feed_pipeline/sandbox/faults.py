"""Faults the sandbox can be told to inject, so clients are tested against every way Xano misbehaves.

Each rule matches the next N requests (optionally only some methods) and then expires. Rules are
checked in the order they were added; the first match is consumed. The sandbox also enforces the
free plan's rate limit (N requests per window) when configured, and can "crash": after K more writes
it drops every connection, which is how a run killed in the middle of a sync is simulated.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

ERROR_CODES = {
    400: "ERROR_CODE_INPUT_ERROR",
    401: "ERROR_CODE_UNAUTHORIZED",
    403: "ERROR_CODE_ACCESS_DENIED",
    404: "ERROR_CODE_NOT_FOUND",
    429: "ERROR_CODE_TOO_MANY_REQUESTS",
    500: "ERROR_FATAL",
}
DEFAULT_MESSAGES = {
    400: "Invalid input.",
    401: "Invalid token.",
    403: "Access denied.",
    404: "Not Found.",
    429: "Whoa there! Your plan only supports 10 requests per 20 seconds.",
    500: "An unexpected error occurred.",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class FaultKind(StrEnum):
    STATUS = "status"  # answer with this status and Xano's error envelope
    DELAY = "delay"  # sleep, then answer normally (a slow server; clients time out)
    DROP = "drop"  # close the connection without an answer, before doing anything
    DROP_AFTER_WRITE = "drop_after_write"  # do the write, then close without an answer
    ACTION = "action"  # run a callable first (someone else edits the table mid-sync), then answer normally


@dataclass
class FaultRule:
    kind: FaultKind
    remaining: int
    methods: frozenset[str] | None = None
    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    action: Callable[[], None] | None = None

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and (self.methods is None or method in self.methods)


@dataclass
class RejectedKey:
    status: int
    code: str
    message: str


@dataclass
class RateLimit:
    """A sliding window: at most `requests` accepted requests in any `window_s` seconds."""

    requests: int
    window_s: float
    _accepted: deque[float] = field(default_factory=deque)

    def admit(self, now: float) -> bool:
        while self._accepted and now - self._accepted[0] >= self.window_s:
            self._accepted.popleft()
        if len(self._accepted) >= self.requests:
            return False
        self._accepted.append(now)
        return True

    @property
    def message(self) -> str:
        window = f"{self.window_s:g}"
        return f"Whoa there! Your plan only supports {self.requests} requests per {window} seconds."


def _methods(methods: str | list[str] | tuple[str, ...] | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = [methods]
    return frozenset(m.upper() for m in methods)


class SandboxFaults:
    """Thread-safe fault plan shared by all request threads of one sandbox."""

    def __init__(self, rate_limit: RateLimit | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._rejected_keys: dict[str, RejectedKey] = {}
        self._crash_after_writes: int | None = None
        self.crashed = False
        self.rate_limit = rate_limit

    # ---- configuring -------------------------------------------------------------------------
    def fail_next(
        self,
        count: int,
        status: int,
        *,
        methods: str | list[str] | None = None,
        code: str | None = None,
        message: str | None = None,
        retry_after: str | float | None = None,
    ) -> None:
        """The next `count` matching requests get `status` with Xano's `{code, message, payload}` body."""
        with self._lock:
            self._rules.append(
                FaultRule(
                    FaultKind.STATUS,
                    count,
                    _methods(methods),
                    status=status,
                    code=code,
                    message=message,
                    retry_after=None if retry_after is None else str(retry_after),
                )
            )

    def delay_next(self, count: int, seconds: float, *, methods: str | list[str] | None = None) -> None:
        with self._lock:
            self._rules.append(FaultRule(FaultKind.DELAY, count, _methods(methods), delay_s=seconds))

    def drop_next(self, count: int, *, methods: str | list[str] | None = None, after_write: bool = False) -> None:
        """Close the connection with no answer; `after_write` applies the write first (the answer is lost)."""
        kind = FaultKind.DROP_AFTER_WRITE if after_write else FaultKind.DROP
        with self._lock:
            self._rules.append(FaultRule(kind, count, _methods(methods)))

    def before_next(self, count: int, action: Callable[[], None], *, methods: str | list[str] | None = None) -> None:
        """Run `action` before handling the next `count` matching requests (a concurrent edit)."""
        with self._lock:
            self._rules.append(FaultRule(FaultKind.ACTION, count, _methods(methods), action=action))

    def reject_job_key(
        self, job_key: str, *, status: int = 400, code: str = "ERROR_CODE_INPUT_ERROR", message: str | None = None
    ) -> None:
        """Every POST/PATCH carrying this job_key gets `status` (a record Xano's schema refuses)."""
        with self._lock:
            self._rejected_keys[job_key] = RejectedKey(
                status, code, message or f"Invalid value for param:job_key ({job_key})."
            )

    def crash_after_writes(self, writes: int) -> None:
        """After `writes` more successful writes, drop every request until `clear()`."""
        with self._lock:
            self._crash_after_writes = writes
            self.crashed = writes <= 0

    def set_rate_limit(self, requests: int | None, window_s: float = 20.0) -> None:
        with self._lock:
            self.rate_limit = RateLimit(requests, window_s) if requests else None

    def clear(self) -> None:
        """Back to a healthy server (the rate limit stays: it is the plan, not a fault)."""
        with self._lock:
            self._rules.clear()
            self._rejected_keys.clear()
            self._crash_after_writes = None
            self.crashed = False

    # ---- consulted by the request handler -----------------------------------------------------
    def is_crashed(self) -> bool:
        with self._lock:
            return self.crashed

    def admit(self) -> RateLimit | None:
        """None when the request may proceed, else the rate limit it broke."""
        with self._lock:
            if self.rate_limit is None or self.rate_limit.admit(time.monotonic()):
                return None
            return self.rate_limit

    def take_rule(self, method: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method):
                    rule.remaining -= 1
                    return rule
            return None

    def rejection_for(self, job_key: object) -> RejectedKey | None:
        if not isinstance(job_key, str):
            return None
        with self._lock:
            return self._rejected_keys.get(job_key)

    def record_write(self) -> None:
        with self._lock:
            if self._crash_after_writes is None:
                return
            self._crash_after_writes -= 1
            if self._crash_after_writes <= 0:
                self.crashed = True
