"""The offline classifier: scores job text against the taxonomy's keywords, no network, same answers every run.

Scoring. Each label (an industry, or a function of one industry) scores TITLE_WEIGHT for every one of its
keywords found in the title and TEXT_WEIGHT for every one found in the rest of the text. Stage 1 counts an
industry's own keywords and its functions' keywords; stage 2 counts only the function's keywords.

Confidence reflects both how much evidence the best label has and how far it is ahead of the runner-up:

    evidence   = 1 - exp(-best / scale)              (0 with no hit, -> 1 with many)
    separation = (best - runner_up) / best           (1 when nothing else matched, 0 on a tie)
    confidence = evidence * (TIE_FLOOR + (1 - TIE_FLOOR) * separation)

so a text matching nothing scores 0 (archived), a strong text split evenly between two industries lands
near TIE_FLOOR (manual review) and a strong text pointing one way only approaches 1 (approved).
When nothing matches, the label is the first in taxonomy order and the confidence is 0.

Stage 2 reads the posting's original title and text (FunctionInput.title / .text), falling back to the stage 1
summary. Skills and technologies are names: they match whole words exactly (no plural folding, no typo
tolerance) and never inside the company's name.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from feed_pipeline.core.enrichment import AIUsage, EnrichmentFailure, FunctionInput, FunctionResult, IndustryInput

# isort: split
from feed_pipeline.core.enrichment import IndustryResult, Taxonomy, job_batches, require_functions
from feed_pipeline.core.keyword_match import PhraseMatcher, tokenize
from feed_pipeline.core.posting_facts import PostingFacts
from feed_pipeline.core.text import plain_text

OFFLINE_MODEL_NAME = "offline-keyword-v1"
OFFLINE_SCORING_VERSION = "kw3"  # bump when the scoring rules change: cached offline results then go stale

TITLE_WEIGHT = 3.0
TEXT_WEIGHT = 1.0
INDUSTRY_EVIDENCE_SCALE = 4.0
FUNCTION_EVIDENCE_SCALE = 3.0
TIE_FLOOR = 0.6


@dataclass(frozen=True, slots=True)
class LabelScore:
    label: str
    score: float


def margin_confidence(best: float, runner_up: float, scale: float) -> float:
    """Confidence in [0, 1) from the best score, the runner-up's, and the score at which evidence is ~63%."""
    if best <= 0:
        return 0.0
    evidence = 1.0 - math.exp(-best / scale)
    separation = max(0.0, best - runner_up) / best
    return round(evidence * (TIE_FLOOR + (1.0 - TIE_FLOOR) * separation), 4)


def rank_labels(
    labels: Sequence[str], title_hits: set[str], text_hits: set[str], keywords: Mapping[str, Sequence[str]]
) -> list[LabelScore]:
    """Labels by score, best first; ties keep the given (taxonomy) order, so the ranking is deterministic."""
    scored = []
    for label in labels:
        words = keywords.get(label, ())
        score = TITLE_WEIGHT * sum(1 for w in words if w in title_hits)
        score += TEXT_WEIGHT * sum(1 for w in words if w in text_hits)
        scored.append(LabelScore(label, score))
    return sorted(scored, key=lambda s: -s.score)


class KeywordClassifier:
    """Implements the Classifier protocol offline; `usage.calls` stays 0 because nothing is called."""

    model_name = OFFLINE_MODEL_NAME

    def __init__(self, taxonomy: Taxonomy, batch_size: int = 200):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.taxonomy = taxonomy
        self.batch_size = batch_size
        self.industry_prompt_version = f"{OFFLINE_SCORING_VERSION}-tax{taxonomy.version}"
        self.function_prompt_version = self.industry_prompt_version
        self.prompt_version = self.industry_prompt_version
        self.usage = AIUsage()
        # Stage 1 counts an industry's own keywords plus every keyword of its functions.
        self._industry_keywords = {
            industry: tuple(dict.fromkeys(
                [*taxonomy.industry_keywords.get(industry, ()),
                 *(k for f in functions for k in taxonomy.function_keywords.get(industry, {}).get(f, ()))]
            ))
            for industry, functions in taxonomy.industries.items()
        }
        # One matcher for every vocabulary: each text is scanned once, and the hits are split by use below.
        every_keyword = {k for words in self._industry_keywords.values() for k in words}
        self._matcher = PhraseMatcher(every_keyword)
        self._facts = PostingFacts(taxonomy)
        self._function_matchers: dict[tuple[str, tuple[str, ...]], tuple[PhraseMatcher, dict]] = {}

    # -- stage 1 -------------------------------------------------------------------------------------------
    def classify_industry(self, job: IndustryInput) -> IndustryResult:
        title = plain_text(job.title)
        body = " ".join([plain_text(job.description), " ".join(job.tags)])
        title_hits = self._matcher.find_in_tokens(tokenize(title))
        body_hits = self._matcher.find_in_tokens(tokenize(body))
        ranking = rank_labels(list(self.taxonomy.industries), title_hits, body_hits, self._industry_keywords)
        best, runner_up = ranking[0], ranking[1] if len(ranking) > 1 else LabelScore("", 0.0)
        return self._facts.industry_result(
            job, best.label, margin_confidence(best.score, runner_up.score, INDUSTRY_EVIDENCE_SCALE))

    def classify_industries(
        self, jobs: Sequence[IndustryInput]
    ) -> Iterator[list[IndustryResult | EnrichmentFailure]]:
        for batch in job_batches(jobs, self.batch_size):
            yield [self.classify_industry(job) for job in batch]

    # -- stage 2 -------------------------------------------------------------------------------------------
    def classify_function(self, industry: str, functions: Sequence[str], job: FunctionInput) -> FunctionResult:
        matcher, keywords = self._function_matcher(industry, tuple(functions))
        title_hits = matcher.find(plain_text(job.title) or job.ai_title)
        text_hits = matcher.find(" ".join([plain_text(job.text) or job.ai_description, " ; ".join(job.skills)]))
        ranking = rank_labels(list(functions), title_hits, text_hits, keywords)
        best, runner_up = ranking[0], ranking[1] if len(ranking) > 1 else LabelScore("", 0.0)
        return FunctionResult(
            job_key=job.job_key,
            job_function=best.label,
            confidence=margin_confidence(best.score, runner_up.score, FUNCTION_EVIDENCE_SCALE),
        )

    def _function_matcher(
        self, industry: str, functions: tuple[str, ...]
    ) -> tuple[PhraseMatcher, dict[str, tuple[str, ...]]]:
        cached = self._function_matchers.get((industry, functions))
        if cached is None:
            keywords = {f: self.taxonomy.function_keywords.get(industry, {}).get(f, ()) for f in functions}
            cached = (PhraseMatcher({k for words in keywords.values() for k in words}), keywords)
            self._function_matchers[(industry, functions)] = cached
        return cached

    def classify_functions(
        self, industry: str, functions: Sequence[str], jobs: Sequence[FunctionInput]
    ) -> Iterator[list[FunctionResult | EnrichmentFailure]]:
        functions = require_functions(industry, functions)
        for batch in job_batches(jobs, self.batch_size):
            yield [self.classify_function(industry, functions, job) for job in batch]
