"""A recording classifier: the Classifier interface the AI stages use, answering from a script by job title and
recording every question it was asked, so an asset test can say exactly what reached the model.

`RecordingClassifierResource(answers={title: [industry, confidence, function, function_confidence]})` hands out
a `RecordingClassifier` per stage run, like `OfflineClassifierResource` and `GeminiResource`. A title absent from
the script is answered with an `EnrichmentFailure` (what a model that gives up looks like). Every question lands
in `asked` (shared by every classifier the resource hands out; Dagster copies a resource for each run, so the
record lives outside the resource, under the resource's `recording` id).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import Field

from feed_pipeline.core.enrichment import (
    AIUsage,
    EnrichmentFailure,
    FunctionInput,
    FunctionResult,
    IndustryInput,
    IndustryResult,
    Taxonomy,
)
from feed_pipeline.resources.classifier import ClassifierResource

FAKE_MODEL = "recording-fake-v1"
FAKE_INDUSTRY_PROMPT = "fake-ind-1"
FAKE_FUNCTION_PROMPT = "fake-fn-1"
UNSCRIPTED = "no scripted answer for this title"


@dataclass(frozen=True)
class Asked:
    """One question: the stage, the industry and functions offered (stage 2), and the jobs, by key and title."""

    stage: str
    job_keys: tuple[str, ...]
    titles: tuple[str, ...]
    industry: str | None = None
    functions: tuple[str, ...] = ()


@dataclass
class Recording:
    asked: list[Asked] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # "open" per classifier handed out, "close" per one closed


_RECORDINGS: dict[str, Recording] = {}


class RecordingClassifier:
    """Answers stage 1 and stage 2 from `answers` (title -> industry, confidence, function, confidence)."""

    model_name = FAKE_MODEL
    industry_prompt_version = FAKE_INDUSTRY_PROMPT
    function_prompt_version = FAKE_FUNCTION_PROMPT
    prompt_version = f"{FAKE_INDUSTRY_PROMPT}+{FAKE_FUNCTION_PROMPT}"

    def __init__(self, taxonomy: Taxonomy, answers: Mapping[str, Sequence], asked: list[Asked], events: list[str]):
        self.taxonomy = taxonomy
        self.answers = answers
        self.asked = asked
        self.events = events
        self.usage = AIUsage()
        self._titles: dict[str, str] = {}  # job_key -> the title stage 1 saw (stage 2 reads the original title)
        events.append("open")

    def classify_industries(self, jobs: Sequence[IndustryInput]) -> Iterator[list[IndustryResult | EnrichmentFailure]]:
        self.asked.append(Asked("industry", tuple(j.job_key for j in jobs), tuple(j.title for j in jobs)))
        self.usage.calls += 1
        batch: list[IndustryResult | EnrichmentFailure] = []
        for job in jobs:
            answer = self.answers.get(job.title)
            if answer is None:
                batch.append(EnrichmentFailure(job.job_key, UNSCRIPTED))
                continue
            industry, confidence = answer[0], answer[1]
            batch.append(IndustryResult(job_key=job.job_key, industry=industry, confidence=confidence,
                                        ai_title=job.title, ai_description=f"{job.title} at {job.company}",
                                        skills=("testing",)))
        yield batch

    def classify_functions(self, industry: str, functions: Sequence[str],
                           jobs: Sequence[FunctionInput]) -> Iterator[list[FunctionResult | EnrichmentFailure]]:
        self.asked.append(Asked("function", tuple(j.job_key for j in jobs), tuple(j.title for j in jobs),
                                industry=industry, functions=tuple(functions)))
        self.usage.calls += 1
        batch: list[FunctionResult | EnrichmentFailure] = []
        for job in jobs:
            answer = self.answers.get(job.title)
            if answer is None:
                batch.append(EnrichmentFailure(job.job_key, UNSCRIPTED))
            else:
                batch.append(FunctionResult(job_key=job.job_key, job_function=answer[2], confidence=answer[3]))
        yield batch

    def close(self) -> None:
        self.events.append("close")


class RecordingClassifierResource(ClassifierResource):
    """The classifier resource interface (`classifier(taxonomy)`), scripted and recording."""

    answers: dict[str, list] = Field(default_factory=dict,
                                     description="title -> [industry, confidence, function, function_confidence]")
    recording: str = Field(default_factory=lambda: uuid.uuid4().hex, description="key of this resource's record")

    def classifier(self, taxonomy: Taxonomy) -> RecordingClassifier:
        record = self.record
        return RecordingClassifier(taxonomy, self.answers, record.asked, record.events)

    @property
    def record(self) -> Recording:
        return _RECORDINGS.setdefault(self.recording, Recording())

    @property
    def asked(self) -> list[Asked]:
        return self.record.asked

    @property
    def events(self) -> list[str]:
        return self.record.events
