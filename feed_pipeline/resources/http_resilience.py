"""How every client of ours treats a server, in one place: the feed fetcher and the job APIs (sources/), Gemini
and Xano (resources/) all pace, read "wait this long" and back off with what is here.

- `RateLimiter`: request starts spaced evenly, plus a sliding budget of units (tokens, or requests) per window.
  One instance per client that owns a connection (never module-global), used from threads (`acquire`) or
  from one asyncio loop (`acquire_async`).
- `parse_retry_after`: the server's requested delay, from a Retry-After header (delta-seconds or an HTTP
  date) or a Google RetryInfo.retryDelay ("33s").
- `WaitServerOrBackoff`: the tenacity wait: the delay the failed attempt's exception carries (`retry_after`),
  capped; otherwise exponential backoff with full jitter, capped.

It imports nothing else of the package, so sources/ and resources/ can both use it without a cycle.
"""
from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import tenacity

# --------------------------------------------------------------------------------------------------- server delay

_DELTA_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
_PROTOBUF_DURATION = re.compile(r"^(?P<seconds>\d+(?:\.\d+)?)s$")  # google.protobuf.Duration as JSON: "33s"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait: Retry-After as delta-seconds ("120") or an HTTP date (a past date
    is 0), or RetryInfo.retryDelay ("33s", "0.5s"). None when absent or unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if _DELTA_SECONDS.match(text):
        return float(text)
    if match := _PROTOBUF_DURATION.match(text):
        return float(match.group("seconds"))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class WaitServerOrBackoff(tenacity.wait.wait_base):
    """Before a retry: the delay the failed attempt's exception carries in `retry_after` (seconds; at most
    `max_server_delay_s`, None = no cap), else exponential backoff with full jitter from `initial_s` up to `max_s`.

    A client puts the server's advice (Retry-After, RetryInfo) on its retryable exception, or its own
    knowledge when the server gives none (Xano's free plan: its 20 s window).
    """

    def __init__(self, initial_s: float, max_s: float, max_server_delay_s: float | None = None):
        self.max_server_delay_s = max_server_delay_s
        self._backoff = tenacity.wait_random_exponential(multiplier=initial_s, max=max_s)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        delay = getattr(outcome.exception(), "retry_after", None) if outcome is not None and outcome.failed else None
        if delay is None:
            return self._backoff(retry_state)
        delay = max(0.0, float(delay))
        return delay if self.max_server_delay_s is None else min(delay, self.max_server_delay_s)


# --------------------------------------------------------------------------------------------------- rate limiter


class Reservation:
    """One request's place in its limiter's window; `waited_s` is how long the request was held back (behind
    the pace, the window, or requests queued before it).

    `settle(units)` replaces the estimate with the real count once the answer says it; `finished()` restarts
    the request's window when its answer arrived (a margin for latency: the server's own window never sees
    one more than allowed).
    """

    __slots__ = ("_clock", "at", "units", "waited_s")

    def __init__(self, at: float, units: int, waited_s: float, clock: Callable[[], float]):
        self.at = at
        self.units = units
        self.waited_s = waited_s
        self._clock = clock

    def settle(self, units: int) -> None:
        self.units = max(0, int(units))

    def finished(self) -> None:
        self.at = self._clock()


class RateLimiter:
    """Client-side pacing so the client itself never causes a 429. None for a limit means "not limited".

    `requests_per_window`: request starts are spaced evenly, one every `window / requests_per_window`, rather
    than allowed in bursts: a burst and a pause fits a fixed-window quota but breaks a sliding one; spacing
    fits both. `units_per_window`: at most that many units (tokens, or 1 per request for a plan that allows
    bursts) in any sliding window; a request waits for old ones to leave it. The margins widen the window to
    absorb network jitter (a request may reach the server later than the one after it).
    """

    def __init__(
        self,
        requests_per_window: float | None = None,
        units_per_window: int | None = None,
        *,
        window_s: float = 60.0,
        safety_margin: float = 0.0,
        safety_margin_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        if requests_per_window is not None and not requests_per_window > 0:
            raise ValueError(f"requests_per_window must be > 0 or None, got {requests_per_window}")
        if units_per_window is not None and units_per_window < 1:
            raise ValueError(f"units_per_window must be >= 1 or None, got {units_per_window}")
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self.requests_per_window = requests_per_window
        self.units_per_window = units_per_window
        self.window_s = window_s * (1.0 + safety_margin) + safety_margin_s
        self.interval_s = self.window_s / requests_per_window if requests_per_window else 0.0
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._next_slot = float("-inf")
        self._spent: list[Reservation] = []
        self._lock = threading.Lock()  # threads: first come, first served
        self._async_lock: asyncio.Lock | None = None  # one event loop: the same, without blocking it

    def acquire(self, units: int = 0) -> Reservation:
        """Block until one more request of about `units` fits every limit, then claim its place."""
        if (asked := self._check(units)) is None:
            return Reservation(self._clock(), units, 0.0, self._clock)
        with self._lock:
            while (wait := self._wait(units)) > 0:
                self._sleep(wait)
            return self._claim(units, asked)

    async def acquire_async(self, units: int = 0) -> Reservation:
        """`acquire` for coroutines of one event loop."""
        if (asked := self._check(units)) is None:
            return Reservation(self._clock(), units, 0.0, self._clock)
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            while (wait := self._wait(units)) > 0:
                await self._async_sleep(wait)
            return self._claim(units, asked)

    def pause(self, seconds: float) -> None:
        """Hold every request back for `seconds` (the server said to wait), keeping the queue's order."""
        self._next_slot = max(self._next_slot, self._clock() + seconds)

    def _check(self, units: int) -> float | None:
        """Refuse a request no window can hold; else when it was asked for (its wait counts from there), or None
        when nothing holds it back (no limits, no pause): it goes at once, without queueing."""
        if self.units_per_window is not None and units > self.units_per_window:
            raise ValueError(f"one request of ~{units:,} units exceeds the limit of {self.units_per_window:,} per "
                             "window: lower the batch size or raise the limit")
        now = self._clock()
        unlimited = self.requests_per_window is None and self.units_per_window is None
        return None if unlimited and self._next_slot <= now else now

    def _wait(self, units: int) -> float:
        now = self._clock()
        return max(self._next_slot - now, self._units_wait(now, units))

    def _claim(self, units: int, asked: float) -> Reservation:
        now = self._clock()
        self._next_slot = max(now, self._next_slot) + self.interval_s
        reservation = Reservation(now, units, now - asked, self._clock)
        if self.units_per_window is not None:
            self._spent.append(reservation)
        return reservation

    def _units_wait(self, now: float, units: int) -> float:
        """Seconds until `units` more fit the sliding window: until enough of the oldest requests leave it."""
        if self.units_per_window is None:
            return 0.0
        self._spent = [r for r in self._spent if r.at > now - self.window_s]
        excess = sum(r.units for r in self._spent) + units - self.units_per_window
        if excess <= 0:
            return 0.0
        for reservation in sorted(self._spent, key=lambda r: r.at):  # `finished()` may reorder them
            excess -= reservation.units
            if excess <= 0:
                return reservation.at + self.window_s - now
        return self.window_s
