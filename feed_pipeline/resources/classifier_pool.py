"""The offline classifier on more than one core: batches of a large stage run go to helper processes too.

The offline classifiers are pure CPU (a first run of a 100k-job feed spends about half its time in them) and each
batch is independent, so a stage run that classifies many jobs hands some of its batches to helper processes
while this process classifies the others and saves every batch as it lands. A helper builds the same classifier
from the same taxonomy and calibration, and a posting's answer does not depend on its batch
(`semantic_classifier.rows_times`), so the answers are the ones this process would have given, batch for batch and
in the same order.

Helpers start only when a stage run has asked for `min_jobs` jobs (small runs and reruns of a few changed jobs never
pay the start-up, about a second), and in the background: until a helper has answered once, this process never
waits for it but classifies the batch itself. A helper that dies or fails is given no more batches and its batches
are classified here: nothing is lost, the run is only slower.
"""
from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from threadpoolctl import threadpool_limits

from feed_pipeline.core.enrichment import (
    Classifier,
    EnrichmentFailure,
    FunctionInput,
    FunctionResult,
    IndustryInput,
    IndustryResult,
    job_batches,
)

log = logging.getLogger(__name__)

QUEUED_PER_HELPER = 2  # batches waiting for or in a helper: it never idles while this process saves a batch

_helper_classifier: Classifier | None = None  # the helper process's own classifier


def _start_helper(build: Callable[[], Classifier]) -> None:
    global _helper_classifier
    _helper_classifier = build()
    threadpool_limits(1, user_api="blas")  # for good, in this process: after build(), which loads the libraries


def _helper_industries(jobs: Sequence[IndustryInput]) -> list[IndustryResult | EnrichmentFailure]:
    assert _helper_classifier is not None
    return [r for batch in _helper_classifier.classify_industries(jobs) for r in batch]


def _helper_functions(industry: str, functions: Sequence[str],
                      jobs: Sequence[FunctionInput]) -> list[FunctionResult | EnrichmentFailure]:
    assert _helper_classifier is not None
    return [r for batch in _helper_classifier.classify_functions(industry, functions, jobs) for r in batch]


class PooledClassifier:
    """A Classifier that classifies this process's batches with `local` and others in `helpers` processes (none:
    this process only), each running `build()` (a picklable callable that makes the same classifier). Close it to
    stop the helpers."""

    def __init__(self, local: Classifier, build: Callable[[], Classifier], *, helpers: int, batch_size: int,
                 min_jobs: int):
        self.local = local
        self.model_name = local.model_name
        self.prompt_version = local.prompt_version
        self.industry_prompt_version = local.industry_prompt_version
        self.function_prompt_version = local.function_prompt_version
        self.usage = local.usage
        self.helpers = helpers
        self.batch_size = batch_size
        self.min_jobs = min_jobs
        self.asked = 0  # jobs asked for in this stage run
        self._build = build
        self._pool: ProcessPoolExecutor | None = None
        self._warm = False  # a helper has answered: waiting for one is worth it
        self._broken = False
        self._started = False

    def classify_industries(
        self, jobs: Sequence[IndustryInput]
    ) -> Iterator[list[IndustryResult | EnrichmentFailure]]:
        return self._spread(jobs, self.local.classify_industries, _helper_industries, ())

    def classify_functions(
        self, industry: str, functions: Sequence[str], jobs: Sequence[FunctionInput]
    ) -> Iterator[list[FunctionResult | EnrichmentFailure]]:
        return self._spread(jobs, lambda batch: self.local.classify_functions(industry, functions, batch),
                            _helper_functions, (industry, tuple(functions)))

    @property
    def started(self) -> bool:
        """Whether helper processes were started for this stage run."""
        return self._started

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _spread(self, jobs: Sequence, classify_here: Callable[[Sequence], Iterator[list]],
                helper: Callable, args: tuple) -> Iterator[list]:
        """Yield the answers of `jobs` batch by batch, in order, classifying each batch here or in a helper."""
        self.asked += len(jobs)
        pool = self._helper_pool() if len(jobs) > self.batch_size else None
        # BLAS on one thread: the products are small, and two processes (helpers, or two feeds' runs) each running
        # a BLAS pool over the same cores take about 50% longer than one thread each.
        with threadpool_limits(1, user_api="blas"):
            if pool is None:
                yield from classify_here(jobs)
            else:
                yield from self._spread_over(pool, jobs, classify_here, helper, args)

    def _spread_over(self, pool: ProcessPoolExecutor, jobs: Sequence,
                     classify_here: Callable[[Sequence], Iterator[list]], helper: Callable,
                     args: tuple) -> Iterator[list]:

        def here(batch: Sequence) -> list:
            return [r for answers in classify_here(batch) for r in answers]

        pending: deque[tuple[Sequence, Future | list]] = deque()
        limit = QUEUED_PER_HELPER * self.helpers
        for batch in job_batches(jobs, self.batch_size):
            queued = sum(1 for _, work in pending if isinstance(work, Future) and not work.done())
            work = self._submit(pool, helper, *args, batch) if queued < limit else None
            pending.append((batch, work if work is not None else here(batch)))
            while pending and not (isinstance(pending[0][1], Future) and not pending[0][1].done()):
                yield self._answers(*pending.popleft(), here)
        while pending:
            batch, work = pending.popleft()
            if isinstance(work, Future) and not work.done() and not self._warm:
                work = here(batch)  # a helper still starting: do not wait for it
            yield self._answers(batch, work, here)

    def _submit(self, pool: ProcessPoolExecutor, helper: Callable, *args) -> Future | None:
        if self._broken:
            return None
        try:
            return pool.submit(helper, *args)
        except Exception as exc:
            self._give_up(exc)
            return None

    def _give_up(self, exc: BaseException) -> None:
        if not self._broken:
            log.warning("classifier helper failed (%s: %s); classifying in this process only", type(exc).__name__, exc)
        self._broken = True

    def _answers(self, batch: Sequence, work: Future | list, here: Callable[[Sequence], list]) -> list:
        if not isinstance(work, Future):
            return work
        try:
            answers = work.result()
        except Exception as exc:
            self._give_up(exc)
            return here(batch)
        self._warm = True
        self.usage.helper_batches += 1
        return answers

    def _helper_pool(self) -> ProcessPoolExecutor | None:
        if self._broken or self.helpers < 1 or self.asked < self.min_jobs:
            return None
        if self._pool is None:
            self._started = True
            self._pool = ProcessPoolExecutor(max_workers=self.helpers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_helper, initargs=(self._build,))
        return self._pool
