"""The shared HTTP resilience: the server's delay in every form, the retry wait, and the rate limiter on a
simulated clock (even spacing, a sliding unit window, answers that restart it, server pauses)."""
from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import UTC, datetime

import pytest
import tenacity

from feed_pipeline.resources.http_resilience import RateLimiter, WaitServerOrBackoff, parse_retry_after
from feed_pipeline.sources.http_fetch import HttpFetcher

# ------------------------------------------------------------------------------------------------ server delay


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0),
    (" 7 ", 7.0),
    ("1.5", 1.5),
    ("0", 0.0),
    ("33s", 33.0),  # RetryInfo.retryDelay, a protobuf Duration
    ("0.5s", 0.5),
    ("Wed, 01 May 2024 10:00:30 GMT", 30.0),
    ("Wed, 01 May 2024 09:00:00 GMT", 0.0),  # a date already past: retry now
])
def test_parse_retry_after_reads_seconds_dates_and_durations(value, seconds):
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "inf", "nan", "33 s", "1e3"])
def test_parse_retry_after_refuses_what_is_not_a_delay(value):
    assert parse_retry_after(value) is None


# ------------------------------------------------------------------------------------------------ retry wait


class ServerSaidWait(Exception):
    def __init__(self, retry_after: float | None):
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


def sleeps_before_success(wait: WaitServerOrBackoff, failures: list[BaseException]) -> list[float]:
    """Run an operation that fails with `failures` in turn, then succeeds; return the waits tenacity slept."""
    remaining = iter(failures)
    slept: list[float] = []

    def operation() -> str:
        exc = next(remaining, None)
        if exc is not None:
            raise exc
        return "done"

    retrying = tenacity.Retrying(wait=wait, stop=tenacity.stop_after_attempt(len(failures) + 1),
                                 sleep=slept.append, reraise=True)
    assert retrying(operation) == "done"
    return slept


def test_the_servers_delay_is_waited_exactly():
    wait = WaitServerOrBackoff(initial_s=0.5, max_s=30.0, max_server_delay_s=120.0)
    assert sleeps_before_success(wait, [ServerSaidWait(7.0), ServerSaidWait(0.0)]) == [7.0, 0.0]


def test_the_servers_delay_is_capped_only_when_a_cap_is_given():
    capped = WaitServerOrBackoff(initial_s=0.5, max_s=30.0, max_server_delay_s=120.0)
    uncapped = WaitServerOrBackoff(initial_s=0.5, max_s=30.0)
    assert sleeps_before_success(capped, [ServerSaidWait(86_400)]) == [120.0]
    assert sleeps_before_success(uncapped, [ServerSaidWait(86_400)]) == [86_400.0]


def test_without_a_servers_delay_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    wait = WaitServerOrBackoff(initial_s=1.0, max_s=10.0, max_server_delay_s=120.0)
    runs = [sleeps_before_success(wait, [ConnectionError("x"), ServerSaidWait(None)] * 3) for _ in range(200)]
    ceilings = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]  # initial * 2**(attempt - 1), capped at max_s
    for attempt, ceiling in enumerate(ceilings):
        waits = [run[attempt] for run in runs]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > 0.8 * ceiling and min(waits) < 0.2 * ceiling  # full jitter spreads them out


# ------------------------------------------------------------------------------------------------ rate limiter


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter(clock: SimulatedClock, requests: float | None = None, units: int | None = None,
            margin: float = 0.0) -> RateLimiter:
    return RateLimiter(requests, units, window_s=60.0, safety_margin=margin, clock=clock, sleep=clock.sleep,
                       async_sleep=clock.async_sleep)


def acquire_all_async(lim: RateLimiter, clock: SimulatedClock, units: list[int]) -> list[float]:
    async def go() -> list[float]:
        times = []
        for count in units:
            await lim.acquire_async(count)
            times.append(clock.now)
        return times

    return asyncio.run(go())


def acquire_all(lim: RateLimiter, clock: SimulatedClock, units: list[int]) -> list[float]:
    times = []
    for count in units:
        lim.acquire(count)
        times.append(clock.now)
    return times


@pytest.mark.parametrize("acquire", [acquire_all, acquire_all_async])
def test_requests_are_spaced_evenly_across_the_window(acquire):
    clock = SimulatedClock()
    assert acquire(limiter(clock, requests=60), clock, [0] * 5) == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])


def test_a_fractional_rate_spaces_requests_far_apart():
    clock = SimulatedClock()
    assert acquire_all(limiter(clock, requests=0.5), clock, [0] * 3) == pytest.approx([0.0, 120.0, 240.0])


def test_no_sliding_window_ever_holds_more_than_the_cap():
    clock = SimulatedClock()
    times = acquire_all_async(limiter(clock, requests=30, margin=0.02), clock, [0] * 100)
    assert all(sum(1 for t in times if start <= t < start + 60) <= 30 for start in times)
    assert len(times) / (times[-1] / 60) >= 0.95 * 30  # and the allowed rate is nearly all used


@pytest.mark.parametrize("acquire", [acquire_all, acquire_all_async])
def test_units_wait_for_old_requests_to_leave_the_window(acquire):
    clock = SimulatedClock()
    assert acquire(limiter(clock, units=1000), clock, [600, 300, 300]) == pytest.approx([0.0, 0.0, 60.0])


def test_settling_with_the_real_count_frees_the_window():
    clock = SimulatedClock()
    lim = limiter(clock, units=1000)
    lim.acquire(900).settle(100)
    assert lim.acquire(800).waited_s == 0.0 and clock.now == 0.0


def test_a_burst_plan_waits_only_when_the_window_is_full_counting_from_each_answer():
    clock = SimulatedClock()
    lim = RateLimiter(units_per_window=2, window_s=10.0, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        reservation = lim.acquire(1)
        assert reservation.waited_s == 0.0
        clock.now += 1.0  # the answer takes a second
        reservation.finished()
    third = lim.acquire(1)
    assert third.waited_s == pytest.approx(9.0) and clock.now == pytest.approx(11.0)  # first answer at t=1


def test_a_server_pause_holds_back_the_next_request():
    clock = SimulatedClock()
    lim = limiter(clock, requests=600)
    lim.acquire()
    lim.pause(5.0)
    assert lim.acquire().waited_s == pytest.approx(5.0) and clock.now == pytest.approx(5.0)


def test_an_unlimited_limiter_waits_only_for_a_server_pause():
    clock = SimulatedClock()
    lim = limiter(clock)
    assert acquire_all(lim, clock, [0, 10**9, 5]) == [0.0, 0.0, 0.0]
    lim.pause(3.0)
    assert acquire_all_async(lim, clock, [0, 0]) == [3.0, 3.0]


def test_a_request_larger_than_the_unit_cap_and_a_bad_limit_are_refused():
    clock = SimulatedClock()
    with pytest.raises(ValueError, match="lower the batch size"):
        limiter(clock, units=100).acquire(101)
    with pytest.raises(ValueError, match="requests_per_window"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="units_per_window"):
        RateLimiter(None, 0)


def test_threads_sharing_a_limiter_are_spaced_by_its_interval():
    lim = RateLimiter(requests_per_window=20, window_s=1.0)  # one start every 0.05 s
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            start = lim.acquire().at  # the start it was given (a thread may be scheduled later)
            with lock:
                starts.append(start)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert len(starts) == 9
    assert all(later - earlier >= 0.05 - 1e-9 for earlier, later in itertools.pairwise(starts))


def test_a_limiter_belongs_to_its_fetcher_and_budget():
    with HttpFetcher() as first, HttpFetcher() as second:
        adzuna = first.limiter(("adzuna", "https://api.adzuna.com", "app-1"), 30)
        assert first.limiter(("adzuna", "https://api.adzuna.com", "app-1"), 30) is adzuna
        assert first.limiter(("adzuna", "https://api.adzuna.com", "app-2"), 30) is not adzuna
        assert first.limiter(("adzuna", "https://api.adzuna.com", "app-1"), 60) is not adzuna
        assert second.limiter(("adzuna", "https://api.adzuna.com", "app-1"), 30) is not adzuna
        assert adzuna.interval_s == pytest.approx(2.0)
