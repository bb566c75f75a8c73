"""Facts read deterministically from a job's own words: a clean title, a short description, seniority,
remote policy and a stated application deadline. The offline classifier answers with these; the Gemini
path validates its answers against the same vocabularies (SENIORITY_LEVELS, REMOTE_POLICIES)."""
from __future__ import annotations

import re
from functools import lru_cache

from feed_pipeline.core.dates import TEXT_DATE_ORDER, parse_loose_date
from feed_pipeline.core.enrichment import REMOTE_POLICIES, SENIORITY_LEVELS
from feed_pipeline.core.text import plain_text

SHORT_DESCRIPTION_MAX_CHARS = 280

_SPACES = re.compile(r"\s+")
_SEGMENT_SPLIT = re.compile(r"\s+[-|–—:]\s+|\s*\|\s*")
_PARENTHETICAL = re.compile(r"\s*[(\[]([^)\]]*)[)\]]")
_MONEY_OR_NUMBER = re.compile(r"[$€£]|\b\d[\d,.]*\s*(k|/hr|/hour|/week|/yr|per)\b|#\s*\d|\b(req|job id|ref)\b", re.I)
_LOCATION = re.compile(r"^[A-Z][A-Za-z .'-]+,\s*[A-Z]{2}(\s+\d{5})?$")
_NOISE_WORDS = re.compile(
    r"\b(urgent(ly)?|hiring|immediate(ly)?|apply|now|bonus|sign[- ]on|remote|hybrid|on[- ]?site|"
    r"full[- ]?time|part[- ]?time|weekly pay|daily pay|nights?|days|weekends?|evenings?|new|asap|"
    r"openings?|positions?|needed|wanted|start|shifts?|\d+(st|nd|rd|th)|overnight|temp)\b",
    re.IGNORECASE,
)
_LEADING_NOISE = re.compile(
    r"^(?:[\W_]*(?:now(?= hir)|urgent(?:ly)?|immediate(?:ly)?(?= (?:hir|start|open))|hiring|start|opening)\b)+[\W_]*",
    re.I,
)
_ABBREVIATIONS = {
    "sr": "Senior", "jr": "Junior", "mgr": "Manager", "asst": "Assistant", "coord": "Coordinator",
    "rep": "Representative", "spec": "Specialist", "admin": "Administrative", "supv": "Supervisor",
}
_SMALL_WORDS = {"a", "an", "and", "as", "at", "for", "in", "of", "on", "or", "the", "to", "with"}
_LONG_ACRONYMS = {"HVAC", "ICU", "SDET", "HRIS", "CDL", "LPN", "CNA", "CNC", "SEO", "AWS", "PLC"}
_LABELS = re.compile(
    r"^(job (description|summary)|position (summary|overview)|about (the|this) (role|job|position)|"
    r"overview|summary|description|the role)\s*[:\-–]\s*",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")

# First match wins; roman numerals are matched case-sensitively so "Class A" or "i" never count.
_SENIORITY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("executive", re.compile(r"\b(chief|c[etofi]o|vice president|vp|svp|evp|president)\b", re.I)),
    ("director", re.compile(r"\b(director|head of)\b", re.I)),
    ("intern", re.compile(r"\b(intern|internship|co-?op)\b", re.I)),
    ("manager", re.compile(r"\b(manager|mgr)\b", re.I)),
    ("lead", re.compile(
        r"\b(lead|principal|supervisor|superintendent|foreman)\b|"
        r"\bstaff (?=((software|data|machine learning|security|platform) )?(engineer|scientist|developer|architect))",
        re.I)),
    ("senior", re.compile(r"(?i:\b(senior|sr\.?)(?=\W|$))|\b(III|IV)\b")),
    ("entry", re.compile(r"(?i:\b(junior|jr\.?|entry[- ]level|trainee|apprentice|graduate)(?=\W|$))|\bI\b")),
    ("mid", re.compile(r"(?i:\b(mid[- ]level|intermediate))\b|\bII\b")),
)

# Matched against lowercased text, each after a plain substring test that rules most postings out cheaply.
_REMOTE_RULES = (
    ("onsite", ("remote",), re.compile(r"\b(not|no)\s+(a\s+)?remote\b|\bremote\s+work\s+is\s+not\b")),
    ("hybrid", ("hybrid",), re.compile(r"\bhybrid\b")),
    ("remote", ("remote", "work from home", "wfh"),
     re.compile(r"\b(fully remote|100% remote|remote[- ]first|work from home|wfh|remote)\b")),
    ("onsite", ("site", "office", "person"), re.compile(r"\b(on[- ]?site|in[- ]office|in[- ]person)\b")),
)

_DEADLINE_WORDS = ("apply by", "applica", "deadline", "closing date")  # every cue of _DEADLINE_CUE holds one
_DEADLINE_CUE = re.compile(
    r"\b(apply by|applications? (close|closes|are due|due)( on)?|application deadline|deadline( to apply)?|"
    r"closing date|accepting applications (until|through))\b[\s:,-]*(?P<rest>.{0,40})",
    re.IGNORECASE,
)


@lru_cache(maxsize=1024)  # both classifier stages and the stage 1 facts clean the same titles
def clean_title(title: str) -> str:
    """The title without pay, locations, urgency and schedule noise, abbreviations spelled out, shouting calmed.

    "SR. SOFTWARE ENGINEER - $150K - Austin, TX (Remote)" -> "Senior Software Engineer".
    Falls back to the trimmed original when cleaning would leave nothing.
    """
    original = plain_text(title)
    text = _LEADING_NOISE.sub("", original)
    text = _PARENTHETICAL.sub(lambda m: "" if _is_noise(m.group(1)) else m.group(0), text)
    segments = [s.strip(" ,;*!") for s in _SEGMENT_SPLIT.split(text)]
    kept = [s for s in segments if s and not _is_noise(s)]
    if not kept:
        kept = [s for s in segments if s and _LOCATION.match(s) is None and not _MONEY_OR_NUMBER.search(s)]
    cleaned = " - ".join(kept) if kept else original
    cleaned = re.sub(r"[*!]+", "", cleaned)
    words = [_normalize_word(w, shouting=cleaned.upper() == cleaned) for w in cleaned.split()]
    result = _SPACES.sub(" ", " ".join(w for w in words if w)).strip(" ,;-")
    return result or original


def _is_noise(segment: str) -> bool:
    segment = segment.strip()
    if not segment:
        return True
    if _LOCATION.match(segment) or _MONEY_OR_NUMBER.search(segment):
        return True
    words = re.findall(r"[A-Za-z]+", segment)
    noisy = _NOISE_WORDS.findall(segment)
    return bool(words) and len(noisy) >= max(1, len(words) - len(noisy))


def _normalize_word(word: str, shouting: bool) -> str:
    bare = word.strip(".,").lower()
    if bare in _ABBREVIATIONS:
        return _ABBREVIATIONS[bare]
    if not shouting or not word.isupper():
        return word
    letters = re.sub(r"[^A-Za-z]", "", word)
    if (len(letters) <= 3 and bare not in _SMALL_WORDS) or letters in _LONG_ACRONYMS:
        return word
    return word.lower() if bare in _SMALL_WORDS else word.capitalize()


def short_description(description: str, max_chars: int = SHORT_DESCRIPTION_MAX_CHARS) -> str:
    """The opening sentences of the description, up to `max_chars`, never cut mid-word."""
    text = _LABELS.sub("", plain_text(description))
    if len(text) <= max_chars:
        return text
    taken = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{taken} {sentence}".strip()
        if len(candidate) > max_chars:
            break
        taken = candidate
    if taken:
        return taken
    cut = text[: max_chars - 3].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}..."


def seniority_from_title(title: str) -> str | None:
    """One of SENIORITY_LEVELS when the title states a level, else None."""
    for level, pattern in _SENIORITY_RULES:
        if pattern.search(title):
            assert level in SENIORITY_LEVELS
            return level
    return None


def remote_policy_from_text(*texts: str) -> str | None:
    """One of REMOTE_POLICIES when the text says where the work happens, else None."""
    joined = " ".join(t for t in texts if t).lower()
    for policy, cues, pattern in _REMOTE_RULES:
        if any(cue in joined for cue in cues) and pattern.search(joined):
            assert policy in REMOTE_POLICIES
            return policy
    return None


def deadline_from_text(text: str, order: str = TEXT_DATE_ORDER) -> str | None:
    """The ISO date the text names as its application deadline ("Apply by March 15, 2027"), else None.
    Numeric dates are read in `order`, the feed's day/month order (core.dates.parse_loose_date)."""
    plain = plain_text(text)
    lowered = plain.lower()
    if not any(word in lowered for word in _DEADLINE_WORDS):  # most postings name none: skip the regex scan
        return None
    for cue in _DEADLINE_CUE.finditer(plain):
        parsed = parse_loose_date(cue.group("rest"), order)
        if parsed:
            return parsed.isoformat()
    return None
