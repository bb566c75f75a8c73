"""What we ask Gemini and how we judge its answers: prompt text (versioned), response models, item validation,
the cache keys of each stage's input and the cache's JSON form of each stage's result.

Several jobs go in one request; each job is tagged with a short id ("J1", "J2", ...) that the answer must echo,
so an item is tied to its job even when the model reorders, drops or invents items. Every item is validated on
its own: one bad item never discards its neighbours, and nothing is clamped or coerced into range.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from feed_pipeline.core.enrichment import (
    NO_FIT_FUNCTION,
    REMOTE_POLICIES,
    SENIORITY_LEVELS,
    FunctionInput,
    FunctionResult,
    IndustryInput,
    IndustryResult,
)

# Bump a version whenever its prompt text, response model or input hashing changes: cached answers then go stale.
# The taxonomy is not part of these: each input hash carries the part of the taxonomy its stage is asked about.
INDUSTRY_PROMPT_VERSION = "ind-v2"
FUNCTION_PROMPT_VERSION = "fn-v2"

DESCRIPTION_MAX_CHARS = 6000  # per job in a prompt; long postings repeat themselves
# Stage 2 sees the original posting too, but only its opening: the summary and skills carry the rest, and stage 2
# is asked about every job again per industry, so its input is kept small.
FUNCTION_TEXT_MAX_CHARS = 1500
AI_DESCRIPTION_MAX_CHARS = 600  # an answer longer than this is not the "short description" asked for
MAX_SKILLS = 20
CHARS_PER_TOKEN = 4  # rough size estimate for the client-side token limiter, refined by usageMetadata

_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(?P<body>.*?)\n?\s*```\s*$", re.DOTALL)

INDUSTRY_SYSTEM_PROMPT = """You classify job postings for a job board.
For every job in the request return exactly one item with the job's id, and nothing else.
Fields:
- industry: the employer's industry, exactly one of the allowed industries.
- confidence: your probability, between 0 and 1, that the industry is right.
- ai_title: the standardized job title: no location, pay, schedule, urgency or requisition numbers;
  abbreviations spelled out (Sr. -> Senior); title case.
- ai_description: one or two plain sentences, at most 300 characters, saying what the job is.
- skills: up to 15 skills the posting asks for, as short lowercase phrases.
- tech_stack: the technologies, tools and platforms the posting names (empty when none).
- seniority: one of {seniority}, or null when the posting does not say.
- remote_policy: one of {remote}, or null when the posting does not say.
- application_deadline: the application deadline the text states, as YYYY-MM-DD, or null.
Use only what the posting says; do not guess facts it does not state.
A "Publisher's category" line, when present, is the job board's own label: a hint, not the answer.
Allowed industries:
{industries}"""

FUNCTION_SYSTEM_PROMPT = """You classify the job function of postings that all belong to the industry "{industry}".
Each job comes with its original title, the standardized title and summary made from it, its skills and the
opening of its description.
For every job in the request return exactly one item with the job's id, and nothing else.
Fields:
- job_function: exactly one of the allowed functions, or "{none}" when none of them fits the job.
- confidence: your probability, between 0 and 1, that your answer is right.
Allowed functions:
{functions}"""


# ----------------------------------------------------------------------------------------------- prompts
@dataclass(frozen=True, slots=True)
class Prompt:
    """One request's text and the prompt id -> job_key map its answer is checked against."""

    system: str
    user: str
    ids: dict[str, str]  # prompt id ("J1") -> job_key

    @property
    def estimated_tokens(self) -> int:
        return estimate_tokens(self.system) + estimate_tokens(self.user)


def estimate_tokens(text: str) -> int:
    """A cheap upper-ish estimate of Gemini tokens for rate limiting; the API's usageMetadata is the truth."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_ids(count: int) -> list[str]:
    return [f"J{i}" for i in range(1, count + 1)]


def build_industry_prompt(
    jobs: Sequence[IndustryInput], industries: Sequence[str], descriptions: Mapping[str, str] | None = None
) -> Prompt:
    """The stage 1 request for `jobs`: the rules and allowed industries (with their descriptions, when the
    taxonomy gives them), then each job tagged with its id."""
    _require_jobs(jobs)
    ids = prompt_ids(len(jobs))
    system = INDUSTRY_SYSTEM_PROMPT.format(
        industries=_choices(industries, descriptions or {}), seniority=_quoted(SENIORITY_LEVELS),
        remote=_quoted(REMOTE_POLICIES),
    )
    blocks = []
    for pid, job in zip(ids, jobs, strict=True):
        lines = [f"Title: {job.title}", f"Company: {job.company}"]
        if job.locations:
            lines.append(f"Locations: {'; '.join(job.locations)}")
        if job.employment_type:
            lines.append(f"Employment type: {job.employment_type}")
        if job.tags:
            lines.append(f"Tags: {', '.join(job.tags)}")
        if job.category_hint:
            lines.append(f"Publisher's category: {_one_line(job.category_hint)}")
        lines.append("Description:")
        lines.append(_truncate(job.description, DESCRIPTION_MAX_CHARS))
        blocks.append(_job_block(pid, lines))
    user = f"Classify these {len(jobs)} job postings.\n\n" + "\n\n".join(blocks)
    return Prompt(system=system, user=user, ids=dict(zip(ids, (j.job_key for j in jobs), strict=True)))


def build_function_prompt(
    industry: str, functions: Sequence[str], jobs: Sequence[FunctionInput],
    descriptions: Mapping[str, str] | None = None,
) -> Prompt:
    """The stage 2 request: only `industry`'s functions are offered (with their descriptions, plus the explicit
    "none of these" answer), and each job by its original title, standardized fields and a text excerpt."""
    _require_jobs(jobs)
    if not functions:
        raise ValueError(f"industry {industry!r} has no functions: check the taxonomy")
    ids = prompt_ids(len(jobs))
    system = FUNCTION_SYSTEM_PROMPT.format(industry=industry, functions=_choices(functions, descriptions or {}),
                                           none=NO_FIT_FUNCTION)
    blocks = []
    for pid, job in zip(ids, jobs, strict=True):
        lines = [f"Title: {job.ai_title}"]
        if job.title:
            lines.append(f"Original title: {_one_line(job.title)}")
        lines.append(f"Summary: {job.ai_description}")
        if job.skills:
            lines.append(f"Skills: {', '.join(job.skills)}")
        if job.text:
            lines.append("Description:")
            lines.append(_truncate(job.text, FUNCTION_TEXT_MAX_CHARS))
        blocks.append(_job_block(pid, lines))
    user = f"Classify the job function of these {len(jobs)} {industry} jobs.\n\n" + "\n\n".join(blocks)
    return Prompt(system=system, user=user, ids=dict(zip(ids, (j.job_key for j in jobs), strict=True)))


def _job_block(pid: str, lines: list[str]) -> str:
    body = "\n".join(lines).replace("</job>", "</ job>")  # a posting cannot close its own block
    return f'<job id="{pid}">\n{body}\n</job>'


def _require_jobs(jobs: Sequence[Any]) -> None:
    if not jobs:
        raise ValueError("a prompt needs at least one job")


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def _choices(values: Sequence[str], descriptions: Mapping[str, str]) -> str:
    """One allowed value per line, quoted as the answer must spell it, with its description when there is one."""
    return "\n".join(f"- {json.dumps(v)}: {descriptions[v]}" if descriptions.get(v) else f"- {json.dumps(v)}"
                     for v in values)


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _truncate(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " [...]"


# ----------------------------------------------------------------------------------------------- response models
class _Validators(BaseModel):
    """Checks shared by the answer items; the fields themselves are declared in the item models below."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("skills", "tech_stack", check_fields=False)
    @classmethod
    def _no_blank_terms(cls, terms: list[str]) -> list[str]:
        cleaned = [t.strip() for t in terms]
        if any(not t for t in cleaned):
            raise ValueError("contains an empty term")
        return list(dict.fromkeys(cleaned))

    @field_validator("application_deadline", check_fields=False)
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a YYYY-MM-DD date") from exc


def _id_field() -> Any:
    return (str, Field(min_length=1, description="The id of the job this item answers, as given in the request."))


def _confidence_field() -> Any:
    return (float, Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Your probability in [0, 1]."))


@lru_cache(maxsize=64)
def industry_item_model(industries: tuple[str, ...]) -> type[BaseModel]:
    """One stage 1 item, with `industry` constrained to `industries` (an enum in the response schema)."""
    if not industries:
        raise ValueError("the taxonomy has no industries")
    # Field order is the answer's property_ordering: the model writes the summary of the posting first and
    # decides the industry and its confidence after it, with that summary in front of it.
    return create_model(
        "IndustryItem",
        __base__=_Validators,
        id=_id_field(),
        ai_title=(str, Field(min_length=1, max_length=200)),
        ai_description=(str, Field(min_length=1, max_length=AI_DESCRIPTION_MAX_CHARS)),
        skills=(list[str], Field(max_length=MAX_SKILLS)),
        tech_stack=(list[str], Field(max_length=MAX_SKILLS * 2)),
        seniority=(Literal[SENIORITY_LEVELS] | None, ...),  # type: ignore[valid-type]
        remote_policy=(Literal[REMOTE_POLICIES] | None, ...),  # type: ignore[valid-type]
        application_deadline=(str | None, Field(description="YYYY-MM-DD, or null")),
        industry=(Literal[industries], Field(description="One of the allowed industries.")),  # type: ignore[valid-type]
        confidence=_confidence_field(),
    )


@lru_cache(maxsize=64)
def industry_response_model(industries: tuple[str, ...]) -> type[BaseModel]:
    """The stage 1 answer: {"items": [IndustryItem, ...]}; passed to Gemini as `response_schema`."""
    return create_model("IndustryAnswer", items=(list[industry_item_model(industries)], ...))  # type: ignore[misc]


@lru_cache(maxsize=256)
def function_item_model(functions: tuple[str, ...]) -> type[BaseModel]:
    """One stage 2 item, with `job_function` constrained to one industry's functions or NO_FIT_FUNCTION."""
    if not functions:
        raise ValueError("no functions to choose from")
    choices = (*functions, NO_FIT_FUNCTION)
    return create_model(
        "FunctionItem",
        __base__=_Validators,
        id=_id_field(),
        job_function=(Literal[choices], Field(  # type: ignore[valid-type]
            description=f"One of the allowed functions, or {NO_FIT_FUNCTION} when none fits.")),
        confidence=_confidence_field(),
    )


@lru_cache(maxsize=256)
def function_response_model(functions: tuple[str, ...]) -> type[BaseModel]:
    """The stage 2 answer: {"items": [FunctionItem, ...]}."""
    return create_model("FunctionAnswer", items=(list[function_item_model(functions)], ...))  # type: ignore[misc]


# ----------------------------------------------------------------------------------------------- validation
class AnswerFormatError(ValueError):
    """The answer as a whole is unusable (not JSON, cut off, wrong shape); every job in it needs asking again."""


@dataclass(slots=True)
class Verdict:
    """A request's answer split into valid results (by job_key) and the reason each other job has none."""

    results: dict[str, IndustryResult | FunctionResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_answer_text(text: str | None) -> Any:
    """The JSON in a model's text answer, tolerating a ```json fence around it."""
    if text is None or not text.strip():
        raise AnswerFormatError("the answer has no text")
    fenced = _FENCE.match(text)
    body = fenced.group("body") if fenced else text
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise AnswerFormatError(f"the answer is not valid JSON ({exc.msg} at char {exc.pos}): {text[:80]!r}") from exc


def judge_answer(payload: Any, prompt: Prompt, item_model: type[BaseModel], to_result) -> Verdict:
    """Validate every item of `payload` ({"items": [...]}) on its own against `item_model`.

    Items must carry an id from the prompt; the first valid item per id wins, later duplicates are ignored.
    Jobs with no valid item get the reason (invalid or missing) in `errors`.
    """
    if isinstance(payload, list):
        items = payload
    elif isinstance(payload, Mapping) and isinstance(payload.get("items"), list):
        items = payload["items"]
    else:
        raise AnswerFormatError(f"the answer is not an object with an 'items' list: {str(payload)[:80]!r}")
    verdict = Verdict()
    for raw in items:
        pid = raw.get("id") if isinstance(raw, Mapping) else None
        job_key = prompt.ids.get(pid) if isinstance(pid, str) else None
        if job_key is None or job_key in verdict.results:
            continue
        try:
            item = item_model.model_validate(raw)
        except ValidationError as exc:
            verdict.errors[job_key] = f"invalid answer item {pid}: {_first_error(exc)}"
            continue
        verdict.results[job_key] = to_result(job_key, item)
        verdict.errors.pop(job_key, None)
    for pid, job_key in prompt.ids.items():
        if job_key not in verdict.results and job_key not in verdict.errors:
            verdict.errors[job_key] = f"the answer has no item for {pid}"
    return verdict


def industry_item_to_result(job_key: str, item: Any) -> IndustryResult:
    return IndustryResult(
        job_key=job_key, industry=item.industry, confidence=float(item.confidence), ai_title=item.ai_title,
        ai_description=item.ai_description, skills=tuple(item.skills), tech_stack=tuple(item.tech_stack),
        seniority=item.seniority, remote_policy=item.remote_policy, application_deadline=item.application_deadline,
    )


def function_item_to_result(job_key: str, item: Any) -> FunctionResult:
    return FunctionResult(job_key=job_key, job_function=item.job_function, confidence=float(item.confidence))


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "item"
    return f"{where}: {first.get('msg')} (got {first.get('input')!r})"[:300]


# ----------------------------------------------------------------------------------------------- cache keys
def industry_input_hash(inp: IndustryInput, *, taxonomy_key: str) -> str:
    """What a stage 1 answer depends on: the job's text and hint (not its job_key: identical postings share one
    answer) and `taxonomy_key`, the hash of the taxonomy's industries (core.taxonomy.industry_stage_hash)."""
    return _hash({
        "title": inp.title, "company": inp.company, "description": inp.description,
        "locations": list(inp.locations), "employment_type": inp.employment_type, "tags": list(inp.tags),
        "category_hint": inp.category_hint, "taxonomy": taxonomy_key,
    })


def function_input_hash(industry: str, inp: FunctionInput, *, taxonomy_key: str) -> str:
    """What a stage 2 answer depends on: the industry, `taxonomy_key` (the hash of that industry's functions,
    core.taxonomy.function_stage_hash), the job's standardized fields and its original title and text."""
    return _hash({"industry": industry, "taxonomy": taxonomy_key, "ai_title": inp.ai_title,
                  "ai_description": inp.ai_description, "skills": list(inp.skills), "title": inp.title,
                  "text": inp.text})


def _hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------------------------- cache form
def result_to_json(result: IndustryResult | FunctionResult) -> dict[str, Any]:
    """A result as a JSON-safe dict without its job_key (one cache entry serves every job with the same input)."""
    if isinstance(result, IndustryResult):
        return {
            "industry": result.industry, "confidence": result.confidence, "ai_title": result.ai_title,
            "ai_description": result.ai_description, "skills": list(result.skills),
            "tech_stack": list(result.tech_stack), "seniority": result.seniority,
            "remote_policy": result.remote_policy, "application_deadline": result.application_deadline,
        }
    if isinstance(result, FunctionResult):
        return {"job_function": result.job_function, "confidence": result.confidence}
    raise TypeError(f"cannot cache a {type(result).__name__}; only IndustryResult and FunctionResult are cached")


def industry_result_from_json(job_key: str, data: Mapping[str, Any]) -> IndustryResult:
    try:
        return IndustryResult(
            job_key=job_key, industry=str(data["industry"]), confidence=_confidence(data["confidence"]),
            ai_title=str(data["ai_title"]), ai_description=str(data["ai_description"]),
            skills=tuple(data.get("skills") or ()), tech_stack=tuple(data.get("tech_stack") or ()),
            seniority=data.get("seniority"), remote_policy=data.get("remote_policy"),
            application_deadline=data.get("application_deadline"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cached industry result for job {job_key} is malformed ({exc!r}): delete the entry") from exc


def function_result_from_json(job_key: str, data: Mapping[str, Any]) -> FunctionResult:
    try:
        return FunctionResult(job_key=job_key, job_function=str(data["job_function"]),
                              confidence=_confidence(data["confidence"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cached function result for job {job_key} is malformed ({exc!r}): delete the entry") from exc


def _confidence(value: Any) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"confidence {number} outside [0, 1]")
    return number
