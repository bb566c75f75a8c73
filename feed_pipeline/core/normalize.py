"""Turn the messy strings job feeds carry into a JobRecord: URLs, employment type, salary, remote, and the
record itself (text comes from core.text, dates from core.dates).

Pure functions, no I/O. Every parser returns None (never raises) for text it cannot read, so one odd field
never costs a record; the caller decides what a missing value means. Parsers whose inputs repeat a lot across
a feed (dates, employment types, salaries) are memoized: a million-job feed has a few thousand distinct values.

What comes out is safe to publish as is: plain text holds no markup, `description_html` only what the nh3
allowlist keeps, URLs are http(s) (see the plain-text rule in core.text and `vet_url`).
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

from feed_pipeline.core.dates import DEFAULT_DATE_ORDER, parse_date, parse_relative_date
from feed_pipeline.core.jobs import EmploymentType, JobRecord, RejectionReason
from feed_pipeline.core.places import split_location
from feed_pipeline.core.text import (
    MEMO_MAX_CHARS,
    MEMO_MAX_ENTRIES,
    MISSING,
    BoundedMemo,
    clean_text,
    description_parts,
    strip_control_chars,
)

# --------------------------------------------------------------------------------------------------- URLs

PUBLISHED_URL_SCHEMES = frozenset({"http", "https"})
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# What a browser ignores when it reads a URL: tabs and newlines anywhere (WHATWG URL parser), so
# `java\tscript:` is `javascript:`; C0 controls and spaces around it are trimmed.
_URL_IGNORED = re.compile(r"[\t\n\r]")
# `http(s)://`, optional userinfo, a host (name, IPv4 or [IPv6]), an optional numeric port, then the path.
_HTTP_URL = re.compile(r"https?://(?:[^/?#@]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^/?#:@\[\]\\]+)(?::\d{0,5})?(?:[/?#]|\Z)",
                       re.IGNORECASE)
_URL_SPACE = re.compile(r"\s")
_URL_TRIM = "".join(chr(c) for c in range(0x21)) + "\u00a0\ufeff"
# A link written without its scheme, as real feeds do: `//host/path` or `www.host.tld/path`, `host.tld/path`.
_SCHEMELESS_HOST = re.compile(r"(?://)?(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?:[/?#]|\Z)")
_SCRIPT_SCHEME = re.compile(r"(?:java|vb|live|ecma)script:|data:|mocha:", re.IGNORECASE)


def _url_text(value: object) -> str:
    """The URL as a browser would read it: entities decoded once, controls, tabs and newlines removed,
    trimmed, inner spaces percent-encoded."""
    text = value if value.__class__ is str else str(value)
    if "&" in text:
        text = html.unescape(text)
    text = _URL_IGNORED.sub("", strip_control_chars(text)).strip(_URL_TRIM)
    text = text.replace(" ", "%20")
    return _URL_SPACE.sub(lambda m: quote(m[0]), text) if _URL_SPACE.search(text) else text


def vet_url(value: object) -> tuple[str | None, str | None]:
    """(url, problem): an absolute http or https URL as published, or None and why it is refused.

    A link that names a host but not its scheme (`www.example.com/job`, `//example.com/job`) is completed
    with https, as a browser's address bar would; a relative path (`/jobs/1`) has no host and is refused.

    (None, None) for no value. The scheme is read after the browser's own clean-up (entities, tabs and
    newlines, surrounding controls) and case-folded, so `JaVaScRiPt:`, `java&#09;script:`, `\\tjavascript:`,
    `data:` and `vbscript:` are all refused. The problem names the field's scheme, never the value, so it
    can be shown anywhere.
    """
    if value is None:
        return None, None
    text = _url_text(value)
    if not text:
        return None, None
    match = _URL_SCHEME.match(text)
    if match is None and _SCHEMELESS_HOST.match(text):
        text = "https:" + text if text.startswith("//") else "https://" + text  # a host without its scheme
        match = _URL_SCHEME.match(text)
    if match is None:
        return None, "is not an absolute http(s) URL"
    scheme = match[1].lower()
    if scheme not in PUBLISHED_URL_SCHEMES:
        return None, f"has the scheme {scheme!r}; only http and https are published"
    if _HTTP_URL.match(text) is None or '"' in text or "<" in text or ">" in text:
        return None, "is not a well-formed http(s) URL"
    return text, None


def clean_url(value: object) -> str | None:
    """An http(s) URL as published (`&amp;` from CDATA decoded, no whitespace), None when empty or refused."""
    return vet_url(value)[0]


def is_script_url(value: object) -> bool:
    """True for text a browser would run or render as a document if it were a link (`javascript:`,
    `vbscript:`, `data:`...), however it is cased, spaced or entity-encoded."""
    if value is None:
        return False
    return _SCRIPT_SCHEME.match(_url_text(value)) is not None


# --------------------------------------------------------------------------------------------------- employment

_EMPLOYMENT_WORDS: dict[str, EmploymentType] = {
    "fulltime": EmploymentType.FULL_TIME,
    "full": EmploymentType.FULL_TIME,
    "ft": EmploymentType.FULL_TIME,
    "permanent": EmploymentType.FULL_TIME,
    "perm": EmploymentType.FULL_TIME,
    "regular": EmploymentType.FULL_TIME,
    "parttime": EmploymentType.PART_TIME,
    "part": EmploymentType.PART_TIME,
    "pt": EmploymentType.PART_TIME,
    "contract": EmploymentType.CONTRACT,
    "contractor": EmploymentType.CONTRACT,
    "contracttohire": EmploymentType.CONTRACT,
    "freelance": EmploymentType.CONTRACT,
    "freelancer": EmploymentType.CONTRACT,
    "fixedterm": EmploymentType.CONTRACT,
    "temporary": EmploymentType.TEMPORARY,
    "temp": EmploymentType.TEMPORARY,
    "seasonal": EmploymentType.TEMPORARY,
    "interim": EmploymentType.TEMPORARY,
    "internship": EmploymentType.INTERNSHIP,
    "intern": EmploymentType.INTERNSHIP,
    "apprenticeship": EmploymentType.INTERNSHIP,
    "apprentice": EmploymentType.INTERNSHIP,
    "trainee": EmploymentType.INTERNSHIP,
    "volunteer": EmploymentType.VOLUNTEER,
    "volunteering": EmploymentType.VOLUNTEER,
    "unpaid": EmploymentType.VOLUNTEER,
    "temptoperm": EmploymentType.TEMPORARY,
    "temptohire": EmploymentType.TEMPORARY,
    # European feeds (Adzuna, Careerjet, Jobrapido) write their own languages' words.
    "vollzeit": EmploymentType.FULL_TIME,
    "teilzeit": EmploymentType.PART_TIME,
    "minijob": EmploymentType.PART_TIME,
    "befristet": EmploymentType.CONTRACT,
    "praktikum": EmploymentType.INTERNSHIP,
    "ausbildung": EmploymentType.INTERNSHIP,
    "cdi": EmploymentType.FULL_TIME,
    "cdd": EmploymentType.CONTRACT,
    "tempsplein": EmploymentType.FULL_TIME,
    "tempspartiel": EmploymentType.PART_TIME,
    "alternance": EmploymentType.INTERNSHIP,
    "jornadacompleta": EmploymentType.FULL_TIME,
    "tiempocompleto": EmploymentType.FULL_TIME,
    "jornadaparcial": EmploymentType.PART_TIME,
    "mediajornada": EmploymentType.PART_TIME,
    "tempoindeterminato": EmploymentType.FULL_TIME,
    "tempodeterminato": EmploymentType.CONTRACT,
    "voltijd": EmploymentType.FULL_TIME,
    "deeltijd": EmploymentType.PART_TIME,
}
# Fragments recognised inside longer phrases ("Full-Time Permanent", "Contract-to-hire (6 months)").
_EMPLOYMENT_FRAGMENTS = (
    ("fulltime", EmploymentType.FULL_TIME),
    ("parttime", EmploymentType.PART_TIME),
    ("intern", EmploymentType.INTERNSHIP),
    ("apprentic", EmploymentType.INTERNSHIP),
    ("contract", EmploymentType.CONTRACT),
    ("freelanc", EmploymentType.CONTRACT),
    ("temporar", EmploymentType.TEMPORARY),
    ("volunteer", EmploymentType.VOLUNTEER),
    ("permanent", EmploymentType.FULL_TIME),
)
_LIST_SEPARATORS = re.compile(r"[,;/|]|\band\b|\bor\b", re.IGNORECASE)
_NOT_LETTERS = re.compile(r"[^a-z]+")


@lru_cache(maxsize=4096)
def parse_employment_type(value: str | None) -> str | None:
    """One EmploymentType value for `fulltime`, `Full-time`, `FULL_TIME`, `permanent`, `contractor`, ...

    A list ("fulltime, parttime") gives its first recognised entry; unknown non-empty text gives `other`.
    """
    if not value or not value.strip():
        return None
    for part in _LIST_SEPARATORS.split(value):
        key = _NOT_LETTERS.sub("", part.lower())
        if not key:
            continue
        if key in _EMPLOYMENT_WORDS:
            return _EMPLOYMENT_WORDS[key].value
        for fragment, kind in _EMPLOYMENT_FRAGMENTS:
            if fragment in key:
                return kind.value
    return EmploymentType.OTHER.value


# --------------------------------------------------------------------------------------------------- salary

SALARY_PERIODS = ("year", "month", "week", "day", "hour")


@dataclass(frozen=True, slots=True)
class Salary:
    minimum: float | None
    maximum: float | None
    currency: str | None
    period: str | None  # one of SALARY_PERIODS


_CURRENCY_SYMBOLS = (  # longest first: "CA$" before "$"
    ("US$", "USD"), ("CA$", "CAD"), ("C$", "CAD"), ("AU$", "AUD"), ("A$", "AUD"), ("NZ$", "NZD"),
    ("HK$", "HKD"), ("S$", "SGD"), ("R$", "BRL"), ("$", "USD"), ("£", "GBP"), ("€", "EUR"), ("¥", "JPY"),
    ("₹", "INR"), ("₩", "KRW"), ("₽", "RUB"), ("₺", "TRY"), ("₪", "ILS"), ("₱", "PHP"), ("zł", "PLN"),
)
CURRENCY_CODES = frozenset(
    "USD EUR GBP CAD AUD NZD CHF JPY CNY INR SGD HKD SEK NOK DKK PLN CZK HUF RON BGN ZAR BRL MXN ARS CLP COP "
    "PEN AED SAR QAR ILS TRY RUB UAH KRW TWD THB MYR IDR PHP VND NGN KES EGP PKR BDT".split()
)
_CURRENCY_CODE = re.compile(r"\b(" + "|".join(sorted(CURRENCY_CODES)) + r")\b", re.IGNORECASE)
_PERIOD_PATTERNS = (
    ("hour", re.compile(r"\b(hour|hourly|hr|hrs|ph)\b|/\s*h\b|p/h", re.IGNORECASE)),
    ("day", re.compile(r"\b(day|daily|diem|pd)\b|/\s*d\b", re.IGNORECASE)),
    ("week", re.compile(r"\b(week|weekly|wk|pw)\b", re.IGNORECASE)),
    ("month", re.compile(r"\b(month|monthly|mo|mth|pcm|pm)\b", re.IGNORECASE)),
    ("year", re.compile(r"\b(year|yearly|annum|annual|annually|yr|pa|p\.a)\b|/\s*y\b", re.IGNORECASE)),
)
# A number: grouped thousands (`20,000`, `20.000`, `20 000`) or plain, optional decimals, optional `k`.
# Indian grouping (lakh, crore: `6,00,000`, `1,20,00,000`) is tried first: read as Western it would be `6,00`.
_AMOUNT = re.compile(
    r"(?<![\w.])(\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,2})?|"
    r"\d{1,3}(?:([,. \u00a0\u202f'])\d{3})(?:\2\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"\s*([kK])?(?![\w])"
)
# A run of 2,000 digit groups reads as infinity; nothing over a trillion in any currency is a salary.
_MAX_AMOUNT = 1e12


def _plausible_amount(value: float) -> bool:
    return math.isfinite(value) and value < _MAX_AMOUNT


_RANGE_JOINER = re.compile(r"^\s*(?:-|–|—|to|bis|à|a)\s*(?:[A-Za-z]{3}\s*)?[^\d\s]{0,3}\s*$", re.IGNORECASE)


def _amount_value(number: str, thousands_sep: str | None, kilo: str | None) -> float:
    if thousands_sep is None and number.count(",") > 1:  # Indian grouping
        value = float(number.replace(",", ""))
    elif thousands_sep:
        integer_part, decimals = number, ""
        tail = number[-3:]
        if len(number) > 3 and tail[0] in ".," and tail[0] != thousands_sep:
            integer_part, decimals = number[:-3], "." + number[-2:]
        elif len(number) > 2 and number[-2] in ".," and number[-2] != thousands_sep:
            integer_part, decimals = number[:-2], "." + number[-1:]
        value = float(integer_part.replace(thousands_sep, "") + decimals)
    else:
        value = float(number.replace(",", "."))
    return value * 1000 if kilo else value


def _currency_of(text: str) -> str | None:
    for symbol, code in _CURRENCY_SYMBOLS:
        if symbol in text:
            return code
    match = _CURRENCY_CODE.search(text)
    return match[1].upper() if match else None


def _period_of(text: str) -> str | None:
    for period, pattern in _PERIOD_PATTERNS:
        if pattern.search(text):
            return period
    return None


@lru_cache(maxsize=8192)
def parse_salary(value: str | None) -> Salary | None:
    """Minimum, maximum, currency and period from salary text, or None when it names no amount.

    `$50K per year` -> 50000/50000 USD year; `£20,000 - £25,000 per annum` -> 20000/25000 GBP year;
    `€30-35k` -> 30000/35000 EUR; `$15.50/hr` -> hour; `Up to $60,000` -> max only; `From £25k` -> min only.
    A `k` on the upper bound applies to a bare lower bound (`30-35k`). Period is None when the text states none.
    """
    if not value or not any(ch.isdigit() for ch in value):
        return None
    text = value.strip()
    amounts = [(m.start(), m.end(), value, bool(m[3])) for m in _AMOUNT.finditer(text)
               if _plausible_amount(value := _amount_value(m[1], m[2], m[3]))]
    if not amounts:
        return None
    low = amounts[0]
    high = None
    if len(amounts) > 1 and _RANGE_JOINER.match(text[low[1]:amounts[1][0]]):
        high = amounts[1]
    minimum = low[2]
    maximum = high[2] if high else low[2]
    if high and high[3] and not low[3] and minimum < 1000 <= maximum:
        minimum *= 1000
    lowered = text.lower()
    if high is None:
        if re.search(r"\b(up to|max(imum)?|under|less than)\b", lowered):
            minimum = None
        elif re.search(r"\b(from|min(imum)?|starting|at least|over|\+)", lowered) or text.rstrip().endswith("+"):
            maximum = None
    if minimum is not None and maximum is not None and minimum > maximum:
        minimum, maximum = maximum, minimum
    if (minimum is not None and minimum <= 0) and (maximum is None or maximum <= 0):
        return None
    return Salary(minimum, maximum, _currency_of(text), _period_of(text))


def parse_salary_period(value: str | None) -> str | None:
    """One of SALARY_PERIODS for `annual`, `per hour`, `monthly`, `yearly`, ... (None when unknown)."""
    if not value or not value.strip():
        return None
    text = value.strip().lower()
    if text in SALARY_PERIODS:
        return text
    return _period_of(text)


def parse_amount(value: object) -> float | None:
    """A single amount (`52000`, `52,000.00`, `52k`) as a float; None when there is none or it is not positive."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value > 0 and _plausible_amount(value) else None
    match = _AMOUNT.search(str(value))
    if not match:
        return None
    amount = _amount_value(match[1], match[2], match[3])
    return amount if amount > 0 and _plausible_amount(amount) else None


def parse_currency(value: object) -> str | None:
    """An ISO 4217 code from a code or a symbol (`usd`, `£`, `CA$`); None when unknown."""
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() in CURRENCY_CODES:
        return text.upper()
    return _currency_of(text) if text else None


# --------------------------------------------------------------------------------------------------- remote

_REMOTE_FALSE = re.compile(r"\b(no|false|0|none|on[- ]?site|in[- ]office|office[- ]based|not remote|hybrid)\b",
                           re.IGNORECASE)
_REMOTE_TRUE = re.compile(
    r"\b(yes|true|1|remote|fully remote|100% remote|work from home|wfh|telecommute|telework|anywhere|"
    r"temporarily remote|covid-19)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=2048)
def parse_remote(value: str | None) -> bool | None:
    """True for a fully remote flag (`Fully remote`, `yes`, `true`, `WFH`, Indeed's `COVID-19`), False for
    on-site and hybrid (a hybrid job still needs an office; the raw text stays in the record's `extra`),
    None when the text says nothing."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if _REMOTE_FALSE.search(text):
        return False
    if _REMOTE_TRUE.search(text):
        return True
    return None


_REMOTE_LOCATION = re.compile(r"^\s*(remote|anywhere|work from home|wfh)\b", re.IGNORECASE)


def location_says_remote(location: str | None) -> bool:
    """True when a location is itself a remote marker (`Remote`, `Remote - US`, `Anywhere`)."""
    return bool(location) and _REMOTE_LOCATION.match(location) is not None


# --------------------------------------------------------------------------------------------------- status

_NOT_LETTERS_ANY_CASE = re.compile(r"[\W_]+")


def is_closed_status(value: str | None) -> bool:
    """True for an ATS status of CLOSED in any case or spacing (`closed`, ` Closed `, `C L O S E D`)."""
    if not value:
        return False
    return _NOT_LETTERS_ANY_CASE.sub("", value).lower() == "closed"


# --------------------------------------------------------------------------------------------------- records

# The names a source maps its own tags or keys onto; `job_from_fields` reads exactly these.
FIELD_NAMES = (
    "id", "title", "company", "description", "url", "location", "city", "state", "country", "postal_code",
    "date", "expires", "employment_type", "contract_type", "contract_time", "salary", "salary_min",
    "salary_max", "salary_currency", "salary_period", "remote", "requisition_id", "category", "status", "tags",
)
# Fields that are one short line; anything longer than SHORT_FIELD_MAX_CHARS there is not a real value.
SHORT_FIELDS = frozenset(FIELD_NAMES) - {"description", "tags"}


@dataclass(frozen=True, slots=True)
class FieldLimits:
    """Size caps: a value above them makes the record `invalid` (it is not read, so it costs no time)."""

    max_field_chars: int = 500_000
    max_short_field_chars: int = 8_192


DEFAULT_LIMITS = FieldLimits()


def _oversized(fields: dict[str, object], limits: FieldLimits) -> list[str]:
    problems = []
    lowest = min(limits.max_short_field_chars, limits.max_field_chars)
    for name, value in fields.items():
        if not isinstance(value, str) or len(value) <= lowest:  # the common case, decided in one test
            continue
        cap = limits.max_short_field_chars if name in SHORT_FIELDS else limits.max_field_chars
        if len(value) > cap:
            problems.append(f"field {name!r} is {len(value):,} characters (limit {cap:,})")
    return problems


def _employment(fields: dict[str, object]) -> str | None:
    stated = parse_employment_type(clean_text(fields.get("employment_type")))
    contract_type = parse_employment_type(clean_text(fields.get("contract_type")))
    contract_time = parse_employment_type(clean_text(fields.get("contract_time")))
    if stated and stated != EmploymentType.OTHER.value:
        return stated
    # Adzuna style: contract_type says permanent/contract, contract_time says full/part time.
    if contract_type in (EmploymentType.CONTRACT.value, EmploymentType.TEMPORARY.value,
                         EmploymentType.INTERNSHIP.value):
        return contract_type
    return contract_time or contract_type or stated


def _locations(city: str | None, state: str | None, country: str | None, location: str | None) -> list[str]:
    """One display location: city, state, country when given in parts, else the feed's own location text."""
    if city or state or (country and not location):
        parts: list[str] = []
        for part in (city, state, country):
            if part and part not in parts:
                parts.append(part)
        return [", ".join(parts)]
    return [location] if location else []


# An extra value under a name like these is a link (RemoteOK `apply_url`/`logo`, JSearch `employer_logo`, a
# feed's `companyurl`): it is published only as an http(s) URL.
_URL_KEY = re.compile(r"(?:url|uri|link|href|logo|image|img|src|website|homepage)$", re.IGNORECASE)
EXTRA_VALUE_MAX_CHARS = 2_000



def published_extra(extra: dict[str, object]) -> dict[str, object]:
    """The source-specific values a record keeps, held to the plain-text and URL rules of the named fields.

    Text is cleaned (`clean_text`) and cut at EXTRA_VALUE_MAX_CHARS; a value under a link-like name must be an
    http(s) URL; a value that is a script or data URL under any name is dropped, as are empty values.
    Other values (numbers, booleans) are kept as given.
    """
    kept: dict[str, object] = {}
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, str):
            if len(value) <= MEMO_MAX_CHARS:  # feeds repeat their extra values (source name, education...)
                memo_key = (key, value)
                published = _EXTRA_MEMO.get(memo_key, MISSING)
                value = _EXTRA_MEMO.keep(memo_key, _published_text(key, value)) if published is MISSING else published
            else:
                value = _published_text(key, value)
            if value is None:
                continue
        kept[key] = value
    return kept


_EXTRA_MEMO = BoundedMemo(MEMO_MAX_ENTRIES)


def _published_text(key: str, value: str) -> str | None:
    """One text value of `extra` as published (see published_extra), None when it is dropped."""
    if is_script_url(value):
        return None
    if _URL_KEY.search(key):
        url = clean_url(value)
        return None if url is not None and len(url) > EXTRA_VALUE_MAX_CHARS else url
    text = clean_text(value)
    return text[:EXTRA_VALUE_MAX_CHARS] if text else None


def job_from_fields(
    feed_id: str,
    source: str,
    fields: dict[str, object],
    *,
    now: datetime,
    date_order: str = DEFAULT_DATE_ORDER,
    limits: FieldLimits = DEFAULT_LIMITS,
    extra: dict[str, object] | None = None,
) -> JobRecord:
    """A normalized JobRecord from a source's values under the FIELD_NAMES keys, with its rejection decided.

    Rejections, in this order: `invalid` for an oversized field; `invalid` for an apply URL that is not
    http(s) (`javascript:`, `data:`, ...: it is not kept); `closed` for a CLOSED status; `expired` for an
    expiry before `now`; `invalid` for a missing title or neither id nor url. (A closure notice often
    carries only an id and a status: it is still a closure.) Identity is the caller's job
    (core.identity.assign_identity), since only the caller knows a fallback for records without one.

    Every text field comes out as plain text and `description_html` through the allowlist sanitizer (see
    the plain-text rule in core.text); `extra` goes through `published_extra`.
    """
    oversized = _oversized(fields, limits)
    if oversized:
        fields = {k: v for k, v in fields.items()
                  if not (isinstance(v, str) and len(v) > (limits.max_short_field_chars if k in SHORT_FIELDS
                                                           else limits.max_field_chars))}
    raw_description = fields.get("description")
    raw_description = raw_description if isinstance(raw_description, str) else clean_text(raw_description)
    description, description_html = description_parts(raw_description) if raw_description else ("", None)
    url, url_problem = vet_url(fields.get("url"))
    city, state, country = (clean_text(fields.get(k)) for k in ("city", "state", "country"))
    location = clean_text(fields.get("location"))
    remote_text = clean_text(fields.get("remote"))
    is_remote = parse_remote(remote_text)
    if is_remote is None and (location_says_remote(location) or location_says_remote(city)):
        is_remote = True
    locations = _locations(city, state, country, location)  # the feed's own words, before any part is inferred
    postal_code = clean_text(fields.get("postal_code"))
    if location and not (city or state) and (place := split_location(location)) is not None:
        city, state = place.city, place.state  # "Columbus, OH 43215" given as one text
        country, postal_code = country or place.country, postal_code or place.postal_code

    salary = parse_salary(clean_text(fields.get("salary")))
    salary_min = parse_amount(fields.get("salary_min"))
    salary_max = parse_amount(fields.get("salary_max"))
    currency = parse_currency(fields.get("salary_currency"))
    period = parse_salary_period(clean_text(fields.get("salary_period")))
    if salary is not None:
        salary_min = salary_min if salary_min is not None else salary.minimum
        salary_max = salary_max if salary_max is not None else salary.maximum
        currency = currency or salary.currency
        period = period or salary.period

    record_extra: dict[str, object] = published_extra(extra) if extra else {}
    date_text = clean_text(fields.get("date"))
    posted_at = parse_date(date_text, date_order) or parse_relative_date(date_text, now)
    if date_text and posted_at is None:
        record_extra["unparsed_date"] = date_text
    expires_text = clean_text(fields.get("expires"))
    expires_at = parse_date(expires_text, date_order)
    if expires_text and expires_at is None:
        record_extra["unparsed_expiry"] = expires_text
    if remote_text:
        record_extra.setdefault("remote_type", remote_text)
    tags_value = fields.get("tags")
    if isinstance(tags_value, list | tuple):
        tags = [t for t in (clean_text(v) for v in tags_value) if t]
    else:
        tags = [t for t in (clean_text(v) for v in str(tags_value or "").split(",")) if t]

    job = JobRecord(
        feed_id=feed_id,
        source=source,
        source_id=clean_text(fields.get("id")),
        title=clean_text(fields.get("title")) or "",
        company=clean_text(fields.get("company")) or "",
        description=description,
        description_html=description_html,
        url=url,
        locations=locations,
        city=city,
        state=state,
        country=country,
        postal_code=postal_code,
        employment_type=_employment(fields),
        salary_min=salary_min,
        salary_max=salary_max,
        salary_currency=currency,
        salary_period=period,
        is_remote=is_remote,
        posted_at=posted_at,
        expires_at=expires_at,
        requisition_id=clean_text(fields.get("requisition_id")),
        category=clean_text(fields.get("category")),
        status=clean_text(fields.get("status")),
        tags=tags,
        extra=record_extra,
    )
    reason, detail = rejection_of(job, now)
    if url_problem:
        reason, detail = RejectionReason.INVALID.value, f"url {url_problem}"
    if oversized:
        reason, detail = RejectionReason.INVALID.value, "; ".join(oversized)
    job.rejection_reason, job.rejection_detail = reason, detail
    return job


def rejection_of(job: JobRecord, now: datetime) -> tuple[str | None, str | None]:
    """(reason, detail) for a record that must not be published, (None, None) for one that may."""
    if is_closed_status(job.status):
        return RejectionReason.CLOSED.value, f"status is {job.status!r}"
    if job.expires_at is not None and job.expires_at < now:
        return RejectionReason.EXPIRED.value, f"expired at {job.expires_at.isoformat()}"
    if not job.title:
        return RejectionReason.INVALID.value, "missing title"
    if not job.source_id and not job.url:
        return RejectionReason.INVALID.value, "no id and no url: the job cannot be identified"
    return None, None
