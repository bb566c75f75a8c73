"""Client-side pacing for a per-minute API quota, so the client itself never causes a 429.

Requests are spaced evenly (one every `window / requests_per_window`, plus a small safety margin) instead of
allowed in bursts: a burst followed by a pause fits a fixed-minute quota but breaks a sliding-window one,
and spacing fits both while still using ~98% of the allowed rate. Tokens are held to `tokens_per_window`
over any sliding window; a request's estimate is replaced by its real count once the answer says it.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class TokenReservation:
    """A request's place in the token window; `settle` corrects its estimate with the real count."""

    __slots__ = ("at", "tokens")

    def __init__(self, at: float, tokens: int):
        self.at = at
        self.tokens = tokens

    def settle(self, actual_tokens: int) -> None:
        self.tokens = max(0, int(actual_tokens))


class MinuteRateLimiter:
    """Paces requests and tokens for one asyncio loop. None for a limit means "not limited"."""

    def __init__(
        self,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        *,
        window_s: float = 60.0,
        safety_margin: float = 0.02,
        safety_margin_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ):
        if requests_per_minute is not None and requests_per_minute < 1:
            raise ValueError(f"requests_per_minute must be >= 1 or None, got {requests_per_minute}")
        if tokens_per_minute is not None and tokens_per_minute < 1:
            raise ValueError(f"tokens_per_minute must be >= 1 or None, got {tokens_per_minute}")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        # The margin absorbs network jitter: a request may reach the server later than an earlier one.
        self.window_s = window_s * (1.0 + safety_margin) + safety_margin_s
        self.interval_s = self.window_s / requests_per_minute if requests_per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._spent: deque[TokenReservation] = deque()
        self._lock = asyncio.Lock()
        self.waited_s = 0.0

    async def acquire(self, estimated_tokens: int = 0) -> TokenReservation:
        """Wait until one more request of about `estimated_tokens` fits both limits, then claim it."""
        if self.tokens_per_minute is not None and estimated_tokens > self.tokens_per_minute:
            raise ValueError(
                f"one request of ~{estimated_tokens} tokens exceeds tokens_per_minute={self.tokens_per_minute}: "
                "lower the batch size or raise the limit"
            )
        async with self._lock:  # first come, first served: slots are handed out in arrival order
            while True:
                now = self._clock()
                wait = max(self._next_slot - now, self._token_wait(now, estimated_tokens))
                if wait <= 0:
                    break
                self.waited_s += wait
                await self._sleep(wait)
            now = self._clock()
            self._next_slot = max(now, self._next_slot) + self.interval_s
            reservation = TokenReservation(now, estimated_tokens)
            if self.tokens_per_minute is not None:
                self._spent.append(reservation)
            return reservation

    def pause(self, seconds: float) -> None:
        """Hold every request back for `seconds` (the server said to wait), without losing queue order."""
        self._next_slot = max(self._next_slot, self._clock() + seconds)

    def _token_wait(self, now: float, tokens: int) -> float:
        if self.tokens_per_minute is None:
            return 0.0
        while self._spent and self._spent[0].at <= now - self.window_s:
            self._spent.popleft()
        used = sum(r.tokens for r in self._spent)
        if used + tokens <= self.tokens_per_minute:
            return 0.0
        # Wait until enough of the oldest reservations leave the window.
        excess = used + tokens - self.tokens_per_minute
        for reservation in self._spent:
            excess -= reservation.tokens
            if excess <= 0:
                return reservation.at + self.window_s - now
        return self.window_s
