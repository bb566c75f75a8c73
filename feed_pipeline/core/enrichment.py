"""What the two AI stages take and give back, whichever classifier (Gemini or offline) answers."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from feed_pipeline.core.dates import TEXT_DATE_ORDER
from feed_pipeline.core.text import clean_text

# The two AI stages, as the cache and the usage reports name them.
STAGE_INDUSTRY = "industry"
STAGE_FUNCTION = "function"

# Closed vocabularies for stage 1 facts, shared by both classifiers (None when the text does not say).
SENIORITY_LEVELS = ("intern", "entry", "mid", "senior", "lead", "manager", "director", "executive")
REMOTE_POLICIES = ("remote", "hybrid", "onsite")

# Stage 2's explicit "none of these functions fits" answer: offered to the model beside the industry's functions,
# stored as function_status "no_fit" (no job_function) and routed to manual review. No taxonomy may use the name.
NO_FIT_FUNCTION = "NONE_OF_THESE"


@dataclass(slots=True, frozen=True)
class IndustryInput:
    """Stage 1 input: the job text the model classifies. `input_hash` keys the cache."""

    job_key: str
    title: str
    company: str
    description: str
    locations: tuple[str, ...] = ()
    employment_type: str | None = None
    tags: tuple[str, ...] = ()
    input_hash: str = ""
    # The publisher's own category for the job (JobRecord.category), only when the feed's params ask for it
    # (`category_hint=true`): a hint the classifier may weigh, never an answer. Empty when off or absent.
    category_hint: str = ""
    # The feed's day/month order ("dmy" or "mdy", core.dates): how the offline classifiers read a numeric
    # deadline in the text ("apply by 03/04/2027"), the same way the feed's own dates were read.
    date_order: str = TEXT_DATE_ORDER


@dataclass(slots=True, frozen=True)
class IndustryResult:
    job_key: str
    industry: str
    confidence: float
    ai_title: str
    ai_description: str
    skills: tuple[str, ...] = ()
    tech_stack: tuple[str, ...] = ()
    seniority: str | None = None
    remote_policy: str | None = None
    application_deadline: str | None = None  # ISO date when the text states one

    def __post_init__(self) -> None:
        # Published like the feed's own text: plain, so a model echoing a hostile posting publishes no markup.
        # An answer that is nothing but markup keeps its words without the brackets: pass 2 needs a title.
        title = clean_text(self.ai_title) or self.ai_title.replace("<", " ").replace(">", " ").strip()
        object.__setattr__(self, "ai_title", title)
        object.__setattr__(self, "ai_description", clean_text(self.ai_description) or "")
        for name in ("skills", "tech_stack"):
            object.__setattr__(self, name, tuple(t for t in (clean_text(v) for v in getattr(self, name)) if t))


@dataclass(slots=True, frozen=True)
class FunctionInput:
    """Stage 2 input: one job of a known industry, by its standardized stage 1 fields and its own words.

    `title` and `text` are the posting's original title and plain text (or an excerpt of it): a summary alone
    loses the words that tell one function from another.
    """

    job_key: str
    ai_title: str
    ai_description: str
    skills: tuple[str, ...] = ()
    input_hash: str = ""
    title: str = ""
    text: str = ""


@dataclass(slots=True, frozen=True)
class FunctionResult:
    job_key: str
    job_function: str
    confidence: float


@dataclass(slots=True, frozen=True)
class EnrichmentFailure:
    """The classifier could not produce a valid answer for this job after its retries."""

    job_key: str
    error: str


@dataclass(slots=True)
class AIUsage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_hits: int = 0
    retries: int = 0
    estimated_cost_usd: float = 0.0
    quota_exhausted: bool = False
    helper_batches: int = 0  # batches the offline classifier's helper processes answered (resources/classifier_pool)

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_hits": self.cache_hits,
            "retries": self.retries,
            "estimated_cost_usd": round(self.estimated_cost_usd, 6),
            "quota_exhausted": self.quota_exhausted,
            "helper_batches": self.helper_batches,
        }


_Job = TypeVar("_Job")


def job_batches(jobs: Sequence[_Job], size: int) -> Iterator[Sequence[_Job]]:
    """`jobs` in consecutive batches of at most `size`: the unit every classifier answers and the caller saves."""
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


def require_functions(industry: str, functions: Sequence[str]) -> tuple[str, ...]:
    """Stage 2 chooses among the industry's functions; none to choose from is the caller's mistake."""
    if not functions:
        raise ValueError(f"no functions given for industry {industry!r}: pass taxonomy.functions_of(industry)")
    return tuple(functions)


class Classifier(Protocol):
    """One interface for Gemini and the offline classifier; the assets cannot tell them apart.

    Both methods yield results batch by batch as they arrive so the caller can persist them at once
    (a run killed halfway keeps what it paid for). Every input job appears exactly once across the
    yielded batches, as a result or as an `EnrichmentFailure`.
    """

    model_name: str
    prompt_version: str  # both stages' versions in one string, for reports
    industry_prompt_version: str  # what the stage 1 cache entries are keyed on
    function_prompt_version: str  # what the stage 2 cache entries are keyed on
    usage: AIUsage

    def classify_industries(
        self, jobs: Sequence[IndustryInput]
    ) -> Iterator[list[IndustryResult | EnrichmentFailure]]: ...

    def classify_functions(
        self, industry: str, functions: Sequence[str], jobs: Sequence[FunctionInput]
    ) -> Iterator[list[FunctionResult | EnrichmentFailure]]: ...


@dataclass(slots=True, frozen=True)
class Taxonomy:
    """Industries, each with its functions and the keywords the offline classifier scores against."""

    industries: dict[str, tuple[str, ...]] = field(default_factory=dict)  # industry -> functions
    industry_keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    function_keywords: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    version: str = "1"  # the content hash (core.taxonomy.taxonomy_hash) when loaded from JSON
    # Vocabularies the offline classifier reports as `skills` / `tech_stack` when the text names them.
    skills: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    # One sentence per entry, when the taxonomy gives one: prompts and the semantic classifier read them.
    industry_descriptions: dict[str, str] = field(default_factory=dict)
    function_descriptions: dict[str, dict[str, str]] = field(default_factory=dict)  # industry -> function -> text

    @property
    def industry_names(self) -> tuple[str, ...]:
        return tuple(self.industries)

    def functions_of(self, industry: str) -> tuple[str, ...]:
        return self.industries.get(industry, ())

    def has_industry(self, industry: str | None) -> bool:
        return industry in self.industries

    def has_function(self, industry: str | None, function: str | None) -> bool:
        return function in self.industries.get(industry or "", ())

    def industry_description(self, industry: str) -> str:
        return self.industry_descriptions.get(industry, "")

    def function_description(self, industry: str, function: str) -> str:
        return self.function_descriptions.get(industry, {}).get(function, "")
