"""Gemini (google-genai) as a Classifier: batched, rate-limited, retried, with results streamed per batch.

The assets are synchronous, the SDK's concurrency is asyncio: each classifier owns an event loop in a worker
thread, with one client, one client-side limiter and one quota flag shared by all its calls (stage 2 calls it
once per industry). A classify call sends up to `max_concurrency` requests at once and hands every finished
batch back through a queue, so the caller can save it before the next one lands.

Per batch: one request for the whole batch; items that come back invalid or missing are asked again alone,
`item_retries` times; what still has no valid answer becomes an EnrichmentFailure carrying the last error.
Per request: 429 (waiting RetryInfo.retryDelay when given), 5xx and timeouts are retried with the shared wait
of resources/http_resilience.py (else exponential backoff with jitter); a daily-quota 429, a rejected key or an
unknown model stop all calls for the run.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import queue
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import Field
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from feed_pipeline.core.enrichment import STAGE_FUNCTION, STAGE_INDUSTRY, AIUsage, EnrichmentFailure, FunctionInput

# isort: split
from feed_pipeline.core.enrichment import (
    FunctionResult,
    IndustryInput,
    IndustryResult,
    Taxonomy,
    job_batches,
    require_functions,
)
from feed_pipeline.core.prompts import (
    FUNCTION_PROMPT_VERSION,
    INDUSTRY_PROMPT_VERSION,
    AnswerFormatError,
    Prompt,
    Verdict,
    build_function_prompt,
    build_industry_prompt,
    function_item_model,
    function_item_to_result,
    function_response_model,
    industry_item_model,
    industry_item_to_result,
    industry_response_model,
    judge_answer,
    parse_answer_text,
)
from feed_pipeline.resources.classifier import ClassifierResource
from feed_pipeline.resources.gemini_errors import (
    GeminiCallError,
    RunStoppingError,
    TransientCallError,
    classify_api_error,
    is_transport_error,
)
from feed_pipeline.resources.http_resilience import RateLimiter, WaitServerOrBackoff

DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
GEMINI_API_VERSION = "v1beta"
# USD per 1M tokens (input, output), from Google's price list; unknown models are costed at 0.
DEFAULT_PRICES_PER_MILLION: dict[str, list[float]] = {
    "gemini-2.5-flash": [0.30, 2.50],
    "gemini-2.5-flash-lite": [0.10, 0.40],
    "gemini-2.5-pro": [1.25, 10.0],
}
PROMPT_VERSION_MAX_CHARS = 32  # enrichment_cache.prompt_version is a String(32)
# The limiter's window is widened by 2% + 0.1 s: a request may reach Google later than the one sent after it.
QUOTA_SAFETY_MARGIN = 0.02
QUOTA_SAFETY_MARGIN_S = 0.1

Result = IndustryResult | FunctionResult | EnrichmentFailure


class GeminiResource(ClassifierResource):
    """Gemini through google-genai, and everything a GeminiClassifier needs (the resource is its settings).

    `classifier()` gives a fresh GeminiClassifier with fresh usage per stage run. definitions.py builds it from
    the environment, the key as an EnvVar so it is never shown.
    """

    api_key: str = Field(description="Gemini API key; pass EnvVar('GEMINI_API_KEY').")
    model: str = Field(default=DEFAULT_GEMINI_MODEL, description="Model name (env GEMINI_MODEL).")
    base_url: str | None = Field(default=None, description="API base URL (env GEMINI_BASE_URL); None = Google's.")
    api_version: str = Field(default=GEMINI_API_VERSION, description="Pinned API version (the SDK's default moves).")
    batch_size: int = Field(default=20, ge=1, le=200, description="Jobs per stage 1 request.")
    function_batch_size: int = Field(default=40, ge=1, le=400, description="Jobs per stage 2 request.")
    max_concurrency: int = Field(default=4, ge=1, le=64, description="Requests in flight at once.")
    requests_per_minute: int | None = Field(default=150, ge=1, description="Client-side cap; None = none.")
    tokens_per_minute: int | None = Field(default=1_000_000, ge=1, description="Input tokens per minute cap.")
    timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout; a timeout is retried.")
    max_attempts: int = Field(default=6, ge=1, description="Attempts per request on 429/5xx/timeouts.")
    item_retries: int = Field(default=2, ge=0, description="Times an invalid or missing item is asked again alone.")
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    max_retry_delay_s: float = Field(default=300.0, ge=0, description="Longest server-advised wait honoured.")
    output_tokens_per_job: int = Field(default=400, ge=50, description="Stage 1 output budget per job.")
    function_output_tokens_per_job: int = Field(default=60, ge=20, description="Stage 2 output budget per job.")
    prices_per_million: dict[str, list[float]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES_PER_MILLION),
        description="model -> [input, output] USD per 1M tokens, for usage.estimated_cost_usd.",
    )
    rate_window_s: float = Field(default=60.0, gt=0, description="The quota window; only benchmarks and tests "
                                                                 "shorten it.")

    def classifier(self, taxonomy: Taxonomy) -> GeminiClassifier:
        return GeminiClassifier(self, taxonomy)

    def count_tokens(self, text: str) -> int:
        """Gemini's own token count for `text` (countTokens), to check the limiter's estimate against."""
        with make_client(self) as client:
            return int(client.models.count_tokens(model=self.model, contents=text).total_tokens or 0)


def make_client(settings: GeminiResource) -> genai.Client:
    """A client with the API version pinned, our timeout, and the SDK's own retries off (ours honour retryDelay)."""
    if not settings.api_key:
        raise ValueError("Gemini needs an API key: set GEMINI_API_KEY, or leave it unset to use the offline classifier")
    options = types.HttpOptions(
        base_url=settings.base_url, api_version=settings.api_version, timeout=int(settings.timeout_s * 1000),
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    return genai.Client(api_key=settings.api_key, http_options=options)


def price_per_million(prices: Mapping[str, Sequence[float]], model: str) -> tuple[float, float]:
    """(input, output) USD per 1M tokens for `model`; (0, 0) for a model the table does not know."""
    price = prices.get(model)
    if price is None:
        return 0.0, 0.0
    if len(price) != 2 or any(p < 0 for p in price):
        raise ValueError(f"prices_per_million[{model!r}] must be [input, output] USD per 1M tokens, got {price!r}")
    return float(price[0]), float(price[1])


def prompt_version_for(taxonomy: Taxonomy) -> str:
    """Both prompts' versions and the taxonomy's identity, for reports (the cache keys each stage on its own
    version and the part of the taxonomy it used, see assets/enrich.py)."""
    version = f"{INDUSTRY_PROMPT_VERSION}+{FUNCTION_PROMPT_VERSION}+t{taxonomy.version}"
    if len(version) <= PROMPT_VERSION_MAX_CHARS:
        return version
    digest = hashlib.sha256(taxonomy.version.encode()).hexdigest()[:8]
    return f"{INDUSTRY_PROMPT_VERSION}+{FUNCTION_PROMPT_VERSION}+t{digest}"


@dataclass(slots=True)
class _Stage:
    """How one stage builds its request and reads its answer."""

    name: str
    build: Callable[[Sequence[Any]], Prompt]
    answer_model: type
    item_model: type
    to_result: Callable[[str, Any], Any]
    output_tokens_per_job: int


class _LoopThread:
    """An asyncio loop in a daemon thread: the SDK's async client lives here across a classifier's calls."""

    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self.client: genai.Client | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.submit(self.client.aio.aclose()).result(timeout=5)
            with contextlib.suppress(Exception):
                self.client.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


@dataclass(slots=True)
class _BatchState:
    results: dict[str, Any] = field(default_factory=dict)  # job_key -> valid result
    errors: dict[str, str] = field(default_factory=dict)  # job_key -> why it has no result (yet)
    final: set[str] = field(default_factory=set)  # job_keys that asking again cannot help


@dataclass(slots=True)
class _Run:
    """State shared by every request of one classifier, across its calls (all on its worker loop)."""

    client: genai.Client
    limiter: RateLimiter
    slots: asyncio.Semaphore
    stop_reason: str | None = None


class GeminiClassifier:
    """The Classifier protocol over Gemini. One instance per stage run: `usage` accumulates across its calls."""

    def __init__(self, settings: GeminiResource, taxonomy: Taxonomy):
        self.settings = settings
        self.taxonomy = taxonomy
        self.model_name = settings.model
        self.industry_prompt_version = INDUSTRY_PROMPT_VERSION
        self.function_prompt_version = FUNCTION_PROMPT_VERSION
        self.prompt_version = prompt_version_for(taxonomy)
        self.usage = AIUsage()
        self._run: _Run | None = None  # one client, limiter and quota stop for every call of this classifier
        self._worker = _LoopThread(f"gemini-{settings.model}")
        self._finalizer = weakref.finalize(self, self._worker.close)

    # -- Classifier protocol ------------------------------------------------------------------------------
    def classify_industries(self, jobs: Sequence[IndustryInput]) -> Iterator[list[Result]]:
        industries = self.taxonomy.industry_names
        descriptions = {name: self.taxonomy.industry_description(name) for name in industries}
        stage = _Stage(
            STAGE_INDUSTRY, lambda batch: build_industry_prompt(batch, industries, descriptions),
            industry_response_model(industries), industry_item_model(industries), industry_item_to_result,
            self.settings.output_tokens_per_job,
        )
        yield from self._stream(stage, jobs, self.settings.batch_size)

    def classify_functions(
        self, industry: str, functions: Sequence[str], jobs: Sequence[FunctionInput]
    ) -> Iterator[list[Result]]:
        names = require_functions(industry, functions)
        descriptions = {name: self.taxonomy.function_description(industry, name) for name in names}
        stage = _Stage(
            STAGE_FUNCTION, lambda batch: build_function_prompt(industry, names, batch, descriptions),
            function_response_model(names), function_item_model(names), function_item_to_result,
            self.settings.function_output_tokens_per_job,
        )
        yield from self._stream(stage, jobs, self.settings.function_batch_size)

    # -- sync <-> async bridge ----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP client and stop the worker loop (also done when the classifier is garbage collected)."""
        self._finalizer()

    def __enter__(self) -> GeminiClassifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stream(self, stage: _Stage, jobs: Sequence[Any], batch_size: int) -> Iterator[list[Result]]:
        """Run the batches on the worker loop; yield each finished batch as it lands."""
        if not jobs:
            return
        keys = [job.job_key for job in jobs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{stage.name} stage got duplicate job_keys; each job must appear once")
        batches = [list(batch) for batch in job_batches(jobs, batch_size)]
        finished: queue.Queue = queue.Queue()
        done = object()
        stopped = threading.Event()

        async def produce() -> None:
            try:
                await self._run_batches(stage, batches, finished)
            except BaseException as exc:  # handed to the caller's thread and raised there
                finished.put(exc)
                raise
            finally:
                finished.put(done)
                stopped.set()

        future = self._worker.submit(produce())
        try:
            while (item := finished.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # The caller may stop early: cancel what is outstanding and wait until nothing more can be sent.
            future.cancel()
            stopped.wait(timeout=30)

    async def _run_batches(self, stage: _Stage, batches: list[list[Any]], finished: queue.Queue) -> None:
        run = self._shared_run()
        tasks = [asyncio.create_task(self._batch(run, stage, batch)) for batch in batches]
        try:
            for next_done in asyncio.as_completed(tasks):
                finished.put(await next_done)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _shared_run(self) -> _Run:
        """The client, limiter and stop flag shared by all of this classifier's calls (made on the worker loop)."""
        if self._run is None:
            s = self.settings
            self._run = _Run(
                make_client(s),
                RateLimiter(s.requests_per_minute, s.tokens_per_minute, window_s=s.rate_window_s,
                            safety_margin=QUOTA_SAFETY_MARGIN, safety_margin_s=QUOTA_SAFETY_MARGIN_S),
                asyncio.Semaphore(s.max_concurrency),
            )
            self._worker.client = self._run.client
        return self._run

    # -- one batch ------------------------------------------------------------------------------------------
    async def _batch(self, run: _Run, stage: _Stage, jobs: list[Any]) -> list[Result]:
        """Every job of the batch, in order, as a validated result or a failure with its reason."""
        state = _BatchState()
        await self._ask_into(run, stage, jobs, state)
        for _ in range(self.settings.item_retries):
            pending = [job for job in jobs if job.job_key not in state.results and job.job_key not in state.final]
            if not pending or run.stop_reason:
                break
            self.usage.retries += len(pending)
            await asyncio.gather(*(self._ask_into(run, stage, [job], state) for job in pending))
        if run.stop_reason:
            for job in jobs:
                state.errors.setdefault(job.job_key, run.stop_reason)
        return [
            state.results[job.job_key] if job.job_key in state.results
            else EnrichmentFailure(job.job_key, state.errors.get(job.job_key, "no answer"))
            for job in jobs
        ]

    async def _ask_into(self, run: _Run, stage: _Stage, jobs: list[Any], state: _BatchState) -> None:
        """Ask about `jobs` once (transport retries included) and record results and per-job errors in `state`."""
        try:
            verdict = await self._ask(run, stage, jobs)
        except AnswerFormatError as exc:  # the whole answer is unusable: each job may still be asked alone
            state.errors.update({job.job_key: str(exc) for job in jobs})
            return
        except GeminiCallError as exc:  # retries exhausted, request rejected or run stopped: don't ask again
            state.errors.update({job.job_key: str(exc) for job in jobs})
            state.final.update(job.job_key for job in jobs)
            return
        state.results.update(verdict.results)
        for key, error in verdict.errors.items():
            if key not in state.results:
                state.errors[key] = error

    async def _ask(self, run: _Run, stage: _Stage, jobs: list[Any]) -> Verdict:
        prompt = stage.build(jobs)
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            temperature=0,
            response_mime_type="application/json",
            response_schema=stage.answer_model,
            thinking_config=types.ThinkingConfig(thinking_budget=0),
            max_output_tokens=stage.output_tokens_per_job * len(jobs) + 100,
        )
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=WaitServerOrBackoff(self.settings.backoff_initial_s, self.settings.backoff_max_s,
                                     self.settings.max_retry_delay_s),
            retry=retry_if_exception_type(TransientCallError),
            before_sleep=self._count_retry,
            reraise=True,
        )
        response = await retrying(self._send, run, prompt, config)
        return self._judge(response, prompt, stage)

    async def _send(self, run: _Run, prompt: Prompt, config: types.GenerateContentConfig):
        """One HTTP request, paced by the limiter; errors come back as GeminiCallError subclasses."""
        if run.stop_reason:
            raise RunStoppingError(run.stop_reason)
        async with run.slots:
            reservation = await run.limiter.acquire_async(prompt.estimated_tokens)
            if run.stop_reason:
                raise RunStoppingError(run.stop_reason)
            self.usage.calls += 1
            try:
                response = await run.client.aio.models.generate_content(
                    model=self.settings.model, contents=prompt.user, config=config)
            except genai_errors.APIError as exc:
                outcome = classify_api_error(exc, self.settings.model)
                self._after_error(run, outcome, reservation)
                raise outcome from exc
            except Exception as exc:
                if not is_transport_error(exc):
                    raise
                raise TransientCallError(
                    f"Gemini call failed in transport ({type(exc).__name__}: {exc or 'timed out'}) "
                    f"after at most {self.settings.timeout_s:g}s") from exc
        self._account(response, reservation)
        return response

    def _after_error(self, run: _Run, outcome: GeminiCallError, reservation) -> None:
        if isinstance(outcome, RunStoppingError):
            run.stop_reason = run.stop_reason or str(outcome)
            self.usage.quota_exhausted = self.usage.quota_exhausted or outcome.quota_exhausted
        if isinstance(outcome, TransientCallError) and outcome.rate_limited:
            reservation.settle(0)  # a refused request used no tokens
            if outcome.retry_after:
                run.limiter.pause(min(outcome.retry_after, self.settings.max_retry_delay_s))

    def _account(self, response: types.GenerateContentResponse, reservation) -> None:
        meta = response.usage_metadata
        prompt_tokens = int(getattr(meta, "prompt_token_count", 0) or 0)
        output_tokens = int(getattr(meta, "candidates_token_count", 0) or 0)
        output_tokens += int(getattr(meta, "thoughts_token_count", 0) or 0)
        reservation.settle(prompt_tokens or reservation.tokens)
        self.usage.input_tokens += prompt_tokens
        self.usage.output_tokens += output_tokens
        price_in, price_out = price_per_million(self.settings.prices_per_million, self.settings.model)
        self.usage.estimated_cost_usd += (prompt_tokens * price_in + output_tokens * price_out) / 1_000_000

    def _judge(self, response: types.GenerateContentResponse, prompt: Prompt, stage: _Stage) -> Verdict:
        """Validate every item; `parsed` is used when the SDK managed to build it, the raw text otherwise."""
        candidates = response.candidates or []
        if not candidates:
            feedback = getattr(response, "prompt_feedback", None)
            reason = getattr(feedback, "block_reason", None)
            raise AnswerFormatError(f"the answer has no candidates (prompt blocked: {reason or 'no reason given'})")
        finish = candidates[0].finish_reason
        if response.parsed is not None:
            payload = response.parsed.model_dump()
        else:
            try:
                payload = parse_answer_text(_text_of(response))
            except AnswerFormatError as exc:
                if finish == types.FinishReason.MAX_TOKENS:
                    raise AnswerFormatError(
                        f"the answer was cut off at max_output_tokens (finish_reason MAX_TOKENS): {exc}") from exc
                raise
        return judge_answer(payload, prompt, stage.item_model, stage.to_result)

    # -- tenacity hooks -------------------------------------------------------------------------------------
    def _count_retry(self, state: RetryCallState) -> None:
        self.usage.retries += 1


def _text_of(response: types.GenerateContentResponse) -> str | None:
    parts = response.candidates[0].content.parts if response.candidates and response.candidates[0].content else None
    texts = [p.text for p in parts or () if getattr(p, "text", None) and not getattr(p, "thought", False)]
    return "".join(texts) if texts else None
