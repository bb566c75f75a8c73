"""The client-side limiter on a simulated clock: even spacing, a sliding token window, and server pauses."""
from __future__ import annotations

import asyncio

import pytest

from feed_pipeline.resources.rate_limit import MinuteRateLimiter


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter(rpm, tpm, clock: SimulatedClock, margin: float = 0.0) -> MinuteRateLimiter:
    return MinuteRateLimiter(rpm, tpm, window_s=60.0, safety_margin=margin, safety_margin_s=0.0, clock=clock,
                             sleep=clock.sleep)


def acquire_all(lim: MinuteRateLimiter, clock: SimulatedClock, tokens: list[int]) -> list[float]:
    async def go() -> list[float]:
        times = []
        for count in tokens:
            await lim.acquire(count)
            times.append(clock.now)
        return times

    return asyncio.run(go())


def test_requests_are_spaced_evenly_across_the_minute():
    clock = SimulatedClock()
    times = acquire_all(limiter(60, None, clock), clock, [0] * 5)
    assert times == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])


def test_no_sliding_window_ever_holds_more_than_the_cap():
    clock = SimulatedClock()
    times = acquire_all(limiter(30, None, clock, margin=0.02), clock, [0] * 100)
    assert all(sum(1 for t in times if start <= t < start + 60) <= 30 for start in times)
    assert len(times) / (times[-1] / 60) >= 0.95 * 30  # and the allowed rate is nearly all used


def test_tokens_wait_for_old_requests_to_leave_the_window():
    clock = SimulatedClock()
    times = acquire_all(limiter(None, 1000, clock), clock, [600, 300, 300])
    assert times == pytest.approx([0.0, 0.0, 60.0])


def test_settling_with_the_real_count_frees_the_window():
    clock = SimulatedClock()
    lim = limiter(None, 1000, clock)

    async def go() -> float:
        first = await lim.acquire(900)
        first.settle(100)
        await lim.acquire(800)
        return clock.now

    assert asyncio.run(go()) == 0.0


def test_a_server_pause_holds_back_the_next_request():
    clock = SimulatedClock()
    lim = limiter(600, None, clock)

    async def go() -> float:
        await lim.acquire()
        lim.pause(5.0)
        await lim.acquire()
        return clock.now

    assert asyncio.run(go()) == pytest.approx(5.0)


def test_a_request_larger_than_the_token_cap_is_refused():
    clock = SimulatedClock()
    with pytest.raises(ValueError, match="lower the batch size"):
        acquire_all(limiter(None, 100, clock), clock, [101])
    with pytest.raises(ValueError, match="requests_per_minute"):
        MinuteRateLimiter(0, None)
